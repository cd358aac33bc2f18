"""A change of network in the sidebar never shows an error box: each setting whose range depends on the
network is kept when valid, otherwise moved to the nearest valid value with one line saying why, and the
address bar follows. These are the four crashes a lecturer met on the projector."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import SCREENSHOTS, choose_architecture, wait_until_idle

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 120_000
SWITCHES = [  # link, network switched to, the line the page must show, what the link then holds
    ("occlusion", "lenet5", "Window (px): 32 → 16 — LeNet-5 sees 32×32 pixels", "window=16"),
    (
        "occlusion?arch=inception_v3&window=149&stride=74",
        "resnet18",
        "Window (px): 149 → 112 — ResNet-18 sees 224×224 pixels",
        "window=112",
    ),
    ("localization?size=224", "inception_v3", ": 224 → 299 — Inception v3 sees 299×299 pixels", "size=299"),
    (
        "localization?arch=inception_v3&size=897",
        "resnet18",
        ": 897 → 672 — ResNet-18 sees 224×224 pixels",
        "size=672",
    ),
]


@pytest.mark.parametrize(("link", "arch", "line", "linked"), SWITCHES, ids=[s[0] for s in SWITCHES])
def test_switching_the_network_moves_the_setting_with_a_line_and_no_error(server_url, page, link, arch, line, linked):
    page.page.goto(f"{server_url}/{link}")
    page.page.locator('[data-testid="stSlider"]').first.wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(page.page)
    choose_architecture(page.page, arch)
    page.page.get_by_text(line).wait_for(timeout=TIMEOUT_MS)
    page.page.wait_for_url(re.compile(rf"[?&]{linked}(&|$)"), timeout=TIMEOUT_MS)
    wait_until_idle(page.page)
    page.page.screenshot(path=str(SCREENSHOTS / f"switch-{link.split('?')[0]}-to-{arch}.png"))
    page.assert_clean()

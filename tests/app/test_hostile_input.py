"""Hostile input against the pages: a forged upload name, bad links, an oversize upload, and the bounded
cache of decoded uploads."""

from __future__ import annotations

import hashlib
import io
import time

import numpy as np
import pytest
from PIL import Image

from tests.app.conftest import image_captions, view
from ui.pages import declared_pages
from ui.uploads import UploadCache, image_bytes

# --- isolation: the forged-name attack from the hostile-input report ---

FORGED_NONCE = 75_619_709  # found by brute force in about 30 s on one core: the old key's 24 bits are no secret


def _bmp(kind: str) -> bytes:
    """A 128×96 BMP (an uncompressed, byte-stable encoding): the victim's private photo or the attacker's."""
    y, x = np.mgrid[0:96, 0:128]
    if kind == "secret":
        rgb = np.stack([(x * 2) % 256, (y * 3) % 256, (x * y) % 256], axis=-1)
    else:
        rgb = np.stack([(255 - x * 2) % 256, (x + y) % 256, (y * 5) % 256], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buffer, "BMP")
    return buffer.getvalue()


def _upload_on_deconvnet(name: str, data: bytes):
    app = view("deconvnet", {"layer": "blocks.5.0"})
    app.radio(key="source").set_value("upload").run()
    app.file_uploader(key="upload").upload(name, data, "image/bmp").run()
    assert not app.exception, app.exception
    return app


def test_a_forged_name_and_digest_prefix_do_not_reach_another_sessions_photo():
    secret = _bmp("secret")
    forged = _bmp("attacker") + FORGED_NONCE.to_bytes(8, "big")  # BMP readers ignore trailing bytes
    # What the old pages showed of the victim's upload ("secret.bmp (700261)") the attacker matches:
    assert hashlib.sha256(forged).hexdigest()[:6] == hashlib.sha256(secret).hexdigest()[:6]
    assert secret != forged

    victim = _upload_on_deconvnet("secret.bmp", secret)
    victim.button(key="deconv_patches_run_tab").click().run()
    victim_patches = image_captions(victim)[-1]
    assert any(caption.startswith("secret.bmp · ") for caption in victim_patches), victim_patches
    assert not any("700261" in caption for captions in image_captions(victim) for caption in captions)

    attacker = _upload_on_deconvnet("secret.bmp", forged)
    assert attacker.button(key="deconv_patches_run_tab")  # nothing computed for this image set: it must search
    shown = [caption for captions in image_captions(attacker) for caption in captions]
    assert shown and not any(caption.startswith("secret.bmp · ") for caption in shown)


# --- links ---

HOSTILE_LINKS = [
    ("deconvnet", {"channel": "²"}, "channel"),
    ("deconvnet", {"channel": "9" * 5000}, "channel"),
    ("deconvnet", {"channel": "１２"}, "channel"),  # full-width digits
    ("deconvnet", {"channel": "5000"}, "channel"),  # digits, but no such channel
    ("deconvnet", {"layer": "../../etc/passwd"}, "layer"),
    ("deconvnet", {"whole": "yes"}, "whole"),
    ("occlusion", {"window": "1e3"}, "window"),
    ("occlusion", {"stride": "-4"}, "stride"),
    ("occlusion", {"window": "99999999999999999999"}, "window"),
    ("occlusion", {"fill": "<script>alert(1)</script>"}, "fill"),
    ("predict", {"arch": "resnet18; rm -rf /"}, "arch"),
    ("predict", {"lang": "xx"}, "lang"),
    ("predict", {"image": "/etc/passwd"}, "image"),
]


@pytest.mark.parametrize(("module", "query", "name"), HOSTILE_LINKS, ids=[f"{q}" for _, q, _ in HOSTILE_LINKS])
def test_a_bad_link_value_falls_back_to_the_default_with_a_notice(module, query, name):
    app = view(module, query)
    assert not app.exception
    notices = [c.value for c in app.caption if "link" in c.value]
    assert any(f"“{name}”" in notice and "default" in notice for notice in notices), notices
    assert all(value not in notice for value in query.values() for notice in notices)  # never echoed
    assert app.query_params.get(name) != query[name]


@pytest.mark.parametrize("declared", [p for p in declared_pages() if p.link], ids=lambda p: p.name)
def test_every_link_setting_of_every_page_refuses_a_hostile_value(declared):
    """Every setting a page keeps in the link (from its declaration), given 5,000 digits at once: each
    falls back with a notice naming it, and nothing is echoed."""
    hostile = "9" * 5000
    app = view(declared.name, dict.fromkeys(declared.link.fields, hostile))
    assert not app.exception
    notices = " ".join(c.value for c in app.caption if "link" in c.value)
    assert all(f"“{name}”" in notices for name in declared.link.fields), notices
    assert hostile[:20] not in notices
    assert all(app.query_params.get(name) != hostile for name in declared.link.fields)


def test_unknown_link_settings_are_dropped_with_a_notice():
    app = view("predict", {"arch": "resnet18", "debug": "1", "__proto__": "x"})
    assert not app.exception
    assert app.selectbox(key="arch").value == "resnet18"
    assert any("2 setting(s) cnnviz does not know" in c.value for c in app.caption)
    assert "debug" not in app.query_params and "__proto__" not in app.query_params


def test_a_lost_computation_is_reported_once_when_the_page_reconnects():
    app = view("occlusion", {"running": "occlusion"})
    assert not app.exception
    assert any("occlusion map started from this page did not finish" in w.value for w in app.warning)
    assert "running" not in app.query_params
    app.run()
    assert not any("did not finish" in w.value for w in app.warning)


# --- uploads ---


def test_an_oversize_upload_gets_a_message_in_the_page_and_is_let_go(coffee):
    app = view("predict")
    app.radio(key="source").set_value("upload").run()
    app.file_uploader(key="upload").upload("huge.jpg", b"\xff" * (26 * 2**20), "image/jpeg").run()
    assert not app.exception
    assert any(e.value.startswith("huge\\.jpg: ") and "the limit is 25 MB" in e.value for e in app.error), app.error
    assert app.file_uploader(key="upload1").value is None  # a fresh widget: the 26 MB are not kept
    from tests.conftest import encode

    app.file_uploader(key="upload1").upload("espresso.jpg", encode(coffee, "JPEG"), "image/jpeg").run()
    assert not app.error and any("**espresso**" in m.value for m in app.markdown)


def test_the_upload_cache_is_bounded_in_bytes_and_in_time(chelsea):
    from tests.conftest import encode

    photos = [encode(chelsea.rotate(angle), "PNG") for angle in range(6)]
    one = image_bytes(chelsea)
    cache = UploadCache(max_bytes=3 * one, ttl_s=1.0)
    for data in photos:
        entry = cache.decode(data)
        assert entry.image is not None and entry.digest == hashlib.sha256(data).hexdigest()
    assert cache.held_bytes <= 3 * one and len(cache) == 3
    assert cache.decode(photos[-1]).image is not None  # the latest are still there
    time.sleep(2.5)  # the background sweep drops expired entries without being asked
    assert cache._entries.currsize == 0
    refused = cache.decode(b"not a photo")
    assert refused.image is None and refused.error.key == "not_image"


def test_the_transfer_lab_uses_at_most_twenty_images_per_class(chelsea):
    from tests.conftest import encode

    app = view("transfer")
    app.radio(key="transfer_source").set_value("own").run()
    small = [encode(chelsea.resize((32 + n, 24)), "PNG") for n in range(25)]
    uploader = app.file_uploader(key="transfer_files_0")
    for n, data in enumerate(small):
        uploader.upload(f"cat{n}.png", data, "image/png")
    app.run()
    assert not app.exception
    assert any("Only the first 20 images of each class are used" in w.value for w in app.warning)


def test_a_file_name_is_shown_as_written_never_as_markdown():
    from ui.text import literal

    shown = literal("[click here](http://evil.example)*bold*.jpg")
    assert "](" not in shown.replace("\\]\\(", "") and "http://" not in shown
    assert shown.replace("\\", "") == "[click here](http://evil.example)*bold*.jpg"
    assert len(literal("x" * 500)) == 80


def test_an_upload_named_like_a_gallery_photo_does_not_replace_it_in_the_top9_set(coffee):
    from tests.conftest import encode

    app = _upload_on_deconvnet("chelsea", encode(coffee, "BMP"))
    assert any("in 8 images" in c.value for c in app.caption)  # the 7 gallery photos and the upload
    assert app.session_state["_uploads"] and [name for name, _ in app.session_state["_uploads"].values()] == [
        "chelsea (2)"
    ]

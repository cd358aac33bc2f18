"""The Deconvnet page in a real browser: the cat's strongest late-layer channels, each tab, a shared link."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SCREENSHOTS, choose, upload, wait_until_idle

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 120_000
IMAGES_LOADED = """(count) => {
    const images = [...document.querySelectorAll('[data-testid="stImage"] img')];
    return images.length >= count && images.every((img) => img.complete && img.naturalWidth > 0);
}"""


def test_cat_projections_and_every_tab(server_url, page):
    page.page.goto(f"{server_url}/deconvnet?image=chelsea")
    page.page.get_by_text("deconvnet and guided backpropagation").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text("Guided backpropagation (Springenberg et al. 2015)", exact=True).wait_for(timeout=TIMEOUT_MS)
    page.page.wait_for_function(IMAGES_LOADED, arg=12, timeout=TIMEOUT_MS)  # nine projections, three methods
    # the class maps' button, pressed by the LeNet-5 tests below (Lite0's maps: tests/app/test_deconvnet_view.py)
    page.page.get_by_role("button", name="Compute Grad-CAM, saliency and Integrated Gradients").wait_for()
    page.page.screenshot(path=str(SCREENSHOTS / "deconvnet-chelsea.png"), full_page=True)
    page.page.get_by_role("tab", name="Activation maps").click()
    page.page.get_by_text("Channels never active").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_role("tab", name="First-layer filters").click()
    page.page.get_by_text("32 learned kernels of conv_stem").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_role("tab", name="Top-9 patches").click()  # its search: the upload test below
    page.page.get_by_role("button", name="Search the images for channel").wait_for(timeout=TIMEOUT_MS)
    page.assert_clean()


def test_shared_link_opens_the_layer_and_channel_in_portuguese(server_url, page):
    page.page.goto(f"{server_url}/deconvnet?lang=pt&arch=lenet5&image=digit&layer=features.relu3&channel=4")
    page.page.get_by_text("Canal 4: deconvnet e retropropagação guiada").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text("canal 4 · unidade (", exact=False).first.wait_for(timeout=TIMEOUT_MS)
    assert "layer=features.relu3" in page.page.url and "channel=4" in page.page.url
    page.page.wait_for_function(IMAGES_LOADED, arg=4, timeout=TIMEOUT_MS)  # one projection, three methods
    page.page.get_by_role("button", name="Calcular Grad-CAM, saliência e Gradientes Integrados").click()
    page.page.get_by_text("Grad-CAM em features.relu3 (Selvaraju et al. 2017)").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text("Saliência por gradiente (Simonyan et al. 2014)").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text("Gradientes Integrados (Sundararajan et al. 2017), ").wait_for(timeout=TIMEOUT_MS)
    page.page.wait_for_function(IMAGES_LOADED, arg=7, timeout=TIMEOUT_MS)
    page.page.screenshot(path=str(SCREENSHOTS / "deconvnet-lenet5-pt.png"), full_page=True)
    page.assert_clean()


def test_class_maps_in_spanish(server_url, page):
    page.page.goto(f"{server_url}/deconvnet?lang=es&arch=lenet5&image=digit")
    page.page.get_by_text("Dónde está la evidencia para la clase más probable").wait_for(timeout=TIMEOUT_MS)
    page.page.wait_for_function(IMAGES_LOADED, arg=12, timeout=TIMEOUT_MS)
    page.page.get_by_role("button", name="Calcular Grad-CAM, saliencia y Gradientes Integrados").click()
    page.page.get_by_text("Dónde está la evidencia para «", exact=False).wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text("Saliencia por gradiente (Simonyan et al. 2014)").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text("Gradientes Integrados (Sundararajan et al. 2017), ").wait_for(timeout=TIMEOUT_MS)
    page.page.wait_for_function(IMAGES_LOADED, arg=15, timeout=TIMEOUT_MS)
    page.page.screenshot(path=str(SCREENSHOTS / "deconvnet-classmaps-es.png"), full_page=True)
    page.assert_clean()


def test_top9_search_includes_the_sessions_upload(server_url, page, tmp_path):
    from cnnviz.gallery import gallery_image

    photo = tmp_path / "my-coins.png"
    gallery_image("coins").rotate(90, expand=True).save(photo)  # channel 3 likes coins: 6 of its top 9 (engine)
    page.page.goto(f"{server_url}/deconvnet?layer=blocks.2.1&channel=3")
    page.page.get_by_text("deconvnet and guided backpropagation").wait_for(timeout=TIMEOUT_MS)
    # Streamlit drops a run's media when the next run starts: let this run's pictures arrive first.
    page.page.wait_for_function(IMAGES_LOADED, arg=4, timeout=TIMEOUT_MS)
    upload(page.page, photo)
    page.page.get_by_text("channel 3 · unit (").wait_for(timeout=TIMEOUT_MS)  # the link's settings survive
    page.page.wait_for_function(IMAGES_LOADED, arg=4, timeout=TIMEOUT_MS)
    page.page.get_by_role("tab", name="Top-9 patches").click()
    page.page.get_by_text("Where channel 3 fires most in 8 images").wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_role("button", name="Search the images for channel 3").click()
    page.page.get_by_text("my-coins.png · ").first.wait_for(timeout=TIMEOUT_MS)  # its name, no digest
    page.assert_clean()


@pytest.mark.parametrize(
    ("lang", "method"), [("en", "scorecam"), ("pt", "eigencam"), ("es", "layercam")]
)  # a different method per language: each computes its own map
def test_a_cam_family_method_beside_grad_cam_in_each_language(server_url, page, lang, method):
    from ui.text import t

    layer = "blocks.2.1"
    page.page.goto(f"{server_url}/deconvnet?image=chelsea&layer={layer}&lang={lang}")
    page.page.get_by_text(t("deconv.family_title", lang)).wait_for(timeout=TIMEOUT_MS)
    wait_until_idle(page.page)  # the script run has finished: the selectbox typed into is the one that stays
    name = t(f"deconv.name_{method}", lang)
    # typed, not clicked: a click failed when the list opened below the window's edge
    choose(page.page, t("deconv.family_method", lang), name, area="stMain")
    page.page.get_by_text(t(f"deconv.differs_{method}", lang)).wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_role("button", name=t("deconv.family_run", lang, method=name, layer=layer)).click()
    page.page.get_by_text(t(f"deconv.label_{method}", lang, layer=layer), exact=True).wait_for(timeout=TIMEOUT_MS)
    page.page.get_by_text(t("deconv.label_gradcam", lang, layer=layer), exact=True).last.wait_for(timeout=TIMEOUT_MS)
    page.page.wait_for_function(IMAGES_LOADED, arg=11, timeout=TIMEOUT_MS)
    page.page.get_by_text(t(f"deconv.label_{method}", lang, layer=layer), exact=True).scroll_into_view_if_needed()
    page.page.screenshot(path=str(SCREENSHOTS / f"deconvnet-{method}-{lang}.png"))
    page.assert_clean()

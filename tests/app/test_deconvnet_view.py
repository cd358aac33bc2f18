"""The Deconvnet page under the real sidebar: projections, the three methods, activation statistics,
filters, top-9 patches, and its settings in the shareable link."""

from __future__ import annotations

import re

from tests.app.conftest import image_captions, view


def test_default_view_projects_the_nine_strongest_of_the_last_stage():
    app = view("deconvnet")
    assert app.selectbox(key="deconv_layer").value == "bn2"
    assert app.query_params["layer"] == "bn2" and "channel" not in app.query_params
    captions = image_captions(app)
    projections = captions[0]
    assert len(projections) == 9 and all(c.startswith("channel ") and " · unit (" in c for c in projections)
    methods = [c[0] for c in captions[1:4]]  # the picture, deconvnet, guided backprop
    assert methods == [
        "What the network sees",
        "Deconvnet (Zeiler & Fergus 2014)",
        "Guided backpropagation (Springenberg et al. 2015)",
    ]
    assert "Where the evidence for the top class lies" in [s.value for s in app.subheader]
    # Lite0 has no switches: said plainly, and the method that depends on the photo leads
    assert any(c.value.startswith("Method: guided backpropagation") for c in app.caption)
    assert any("no max-pooling" in i.value for i in app.info)
    assert [m.label for m in app.metric] == [
        "Mean activation",
        "Largest activation",
        "Units at zero or below",
        "Channels never active",
    ]
    assert app.metric[3].value.endswith("/ 1280")
    assert any(c.value.startswith("32 learned kernels of conv_stem, 3×3, stride 2") for c in app.caption)
    assert not app.error


def test_link_opens_a_layer_channel_and_whole_map():
    app = view("deconvnet", {"layer": "blocks.2.1", "channel": "3", "whole": "1", "family": "eigencam"})
    assert app.selectbox(key="deconv_family").value == "eigencam" and app.query_params["family"] == "eigencam"
    assert app.selectbox(key="deconv_layer").value == "blocks.2.1"
    assert app.selectbox(key="deconv_channel").value == 3
    assert app.toggle(key="deconv_whole").value is True
    assert image_captions(app)[0] == [image_captions(app)[0][0]] and image_captions(app)[0][0].startswith(
        "channel 3 · max"
    )
    app.selectbox(key="deconv_channel").set_value(7).run()
    assert app.query_params["channel"] == "7" and app.query_params["whole"] == "1"
    assert not app.exception and not app.error


def test_bad_link_values_fall_back_to_the_defaults():
    app = view("deconvnet", {"layer": "blocks.99", "channel": "99999", "whole": "maybe", "family": "lime"})
    assert app.selectbox(key="deconv_family").value == "gradcampp"
    assert app.selectbox(key="deconv_layer").value == "bn2"
    assert app.selectbox(key="deconv_channel").value == -1  # the nine strongest
    assert app.toggle(key="deconv_whole").value is False
    assert not app.error


def test_a_sequential_network_uses_the_papers_procedure_and_says_weights_are_random():
    app = view("deconvnet", {"arch": "alexnet", "layer": "features.11"})
    assert any(c.value.startswith("Method: the paper's deconvnet, layer by layer") for c in app.caption)
    assert any("random" in w.value for w in app.warning)
    assert not any("no max-pooling" in i.value for i in app.info)
    assert any(c.value.startswith("64 learned kernels of features.0, 11×11, stride 4") for c in app.caption)


def test_top_patches_search_the_gallery_and_are_shared_with_the_next_session():
    query = {"layer": "blocks.2.1", "channel": "3"}
    app = view("deconvnet", query)
    app.button(key="deconv_patches_run_tab").click().run()
    patches = image_captions(app)[-1]
    assert len(patches) == 9 and all(" · " in c for c in patches)
    assert {c.split(" · ")[0] for c in patches} <= {
        "chelsea",
        "coffee",
        "astronaut",
        "rocket",
        "camera",
        "coins",
        "digit",
    }
    second = view("deconvnet", query)  # another student, same link: no button to press
    assert image_captions(second)[-1] == patches


def test_class_maps_are_computed_on_request_and_shown_side_by_side(queued_devices):
    """On LeNet-5 and the gallery's digit (real weights, shipped): Integrated Gradients' adaptive steps take
    seconds on Lite0, and its completeness on Lite0 is checked against captum in tests/test_classmaps.py."""
    app = view("deconvnet", {"arch": "lenet5", "image": "digit"})
    app.button(key="deconv_class_maps_run").click().run(timeout=120)
    assert not app.exception and not app.error
    # each map not yet shared waits in the device's queue (Integrated Gradients at least: no other test here
    # computes it)
    assert 1 <= len(queued_devices) <= 3 and set(queued_devices) == {"cpu"}
    headings = [s.value for s in app.subheader]
    assert "Where the evidence for “3” lies, by three methods" in headings
    assert "Where the evidence for the top class lies" not in headings  # the request gives way to the maps
    methods = [c[0] for c in image_captions(app)[4:7]]
    assert methods[0] == "Grad-CAM at features.s4 (Selvaraju et al. 2017)"
    assert methods[1] == "Gradient saliency (Simonyan et al. 2014)"
    steps, gap = re.fullmatch(
        r"Integrated Gradients \(Sundararajan et al\. 2017\), (\d+) steps; sum off by "
        r"([\d.]+) logits",
        methods[2],
    ).groups()
    assert int(steps) in (64, 128, 256, 512) and float(gap) < 1.0
    assert "running" not in app.query_params
    assert "Can we trust this map? Check it" in [link.value for link in app.get("page_link")]
    app.selectbox(key="deconv_layer").set_value("features.relu3").run(timeout=120)  # Grad-CAM's layer changes
    captions = [c[0] for c in image_captions(app)[4:7]]
    assert captions[0] == "Grad-CAM at features.relu3 (Selvaraju et al. 2017)" and captions[2] == methods[2]
    assert all(button.key != "deconv_class_maps_run" for button in app.button)  # no second click asked for


def test_guided_backpropagation_leads_because_it_depends_on_the_photo():
    cat = image_captions(view("deconvnet", {"channel": "3"}))[0]
    coffee = image_captions(view("deconvnet", {"channel": "3", "image": "coffee"}))[0]
    assert cat != coffee  # the strongest unit and its value follow the photo


def test_optimised_image_sits_beside_the_projection_and_the_patches_and_is_shared():
    query = {"layer": "blocks.2.1", "channel": "3"}
    app = view("deconvnet", query)
    assert any(i.value.startswith("Press the button to optimise") for i in app.info)
    app.select_slider(key="deconv_fv_steps").set_value(32).run()
    app.button(key="deconv_fv_run").click().run(timeout=120)
    assert not app.exception and not app.error
    firsts = [c[0] for c in image_captions(app)]
    optimised = next(c for c in firsts if c.startswith("Optimised from noise"))
    assert optimised.startswith("Optimised from noise for channel 3 · its mean ")
    assert firsts[firsts.index(optimised) + 1].startswith("Deconvnet projection of channel 3 on your photo")
    assert any(c.value == "32 steps in " or c.value.startswith("32 steps in ") for c in app.caption)
    assert "Channel 3 in real images: its top-9 patches" in [s.value for s in app.subheader]
    # the patches: searched here, or already by the patches tab's earlier search of the same channel
    assert any(b.key == "deconv_patches_run_featurevis" for b in app.button) or firsts.count(firsts[-1]) == 2
    assert app.query_params["steps"] == "32" and "objective" not in app.query_params  # the first objective
    second = view("deconvnet", dict(app.query_params))  # another student opening the link: the picture, no button
    assert second.select_slider(key="deconv_fv_steps").value == 32
    assert all(b.key != "deconv_fv_run" for b in second.button)
    assert optimised in [c[0] for c in image_captions(second)]


def test_a_cam_family_method_is_computed_through_the_queue_beside_grad_cam():
    app = view("deconvnet", {"layer": "blocks.2.1"})
    app.selectbox(key="deconv_family").set_value("scorecam").run()
    captions = [c.value for c in app.caption]
    assert any(c.startswith("Unlike Grad-CAM, no gradient: each channel's weight is the class score") for c in captions)
    assert "One forward pass per channel of the layer (40 channels), queued like every heavy computation." in captions
    app.button(key="deconv_family_run").click().run(timeout=120)
    assert not app.exception and not app.error
    shown = [c[0] for c in image_captions(app)]
    family = shown.index("Score-CAM at blocks.2.1 (Wang et al. 2020)")
    assert shown[family - 1] == "Grad-CAM at blocks.2.1 (Selvaraju et al. 2017)"  # side by side
    assert any(c.value.startswith("Computed in ") for c in app.caption) and "running" not in app.query_params
    assert any(c.value.startswith("All five come from pytorch-grad-cam") for c in app.caption)  # under the pair
    again = view("deconvnet", {"layer": "blocks.2.1", "lang": "es"})  # another session: shared, no button
    again.selectbox(key="deconv_family").set_value("scorecam").run()
    assert all(button.key != "deconv_family_run" for button in again.button)
    assert "Score-CAM en blocks.2.1 (Wang et al. 2020)" in [c[0] for c in image_captions(again)]

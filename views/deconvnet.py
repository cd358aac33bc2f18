"""Deconvnet page: what a layer's units respond to (Zeiler & Fergus 2014) — projections to pixel space,
guided backprop and Grad-CAM beside them, the layer's activation maps, the first layer's filters, the
top-9 patches over the gallery and the session's uploads, and the image optimised to excite a channel
(Olah et al. 2017) beside its projection and patches."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import numpy as np
import streamlit as st
from PIL import Image
from torch import nn

import cnnviz
from cnnviz.explain import CLASS_MAPS, USES_LAYER
from cnnviz.explain.activations import activation_maps, first_layer_filters
from cnnviz.explain.deconvnet import project
from cnnviz.explain.featurevis import visualize
from cnnviz.explain.keys import result_key
from cnnviz.explain.methods import METHODS
from cnnviz.explain.patches import top_patches
from cnnviz.gallery import GALLERY
from cnnviz.layers import conv_stages
from cnnviz.render import class_map_image, colourise, projection_image, tile_grid
from ui import follow, links
from ui.models import layers_with_maps, start_page
from ui.pages import link_to, page
from ui.pictures import crop_picture, encoded
from ui.results import SharedJob, compute_shared, compute_shared_all, shared_results
from ui.sidebar import gallery_digest, gallery_photo
from ui.text import class_names, current_language, error_text, labeller, t
from ui.uploads import session_uploads

STRONGEST = -1  # the channel choice "the nine strongest"
MAX_LINK_CHANNEL = 99_999
SHOWN_MAPS = 36
FILTER_ZOOM = 6  # screen px per kernel weight, the same for every architecture
PATCH_SIDE = 112  # px of each top-9 tile on screen
OBJECTIVES = METHODS["visualize"].param("objective").choices  # as on the command line
DEFAULT_STEPS = METHODS["visualize"].param("steps").default
CLASS_MAPS_SHOWN = ("gradcam", "saliency", "integrated")  # beside the projections, in this order
CAM_FAMILY = tuple(name for name, method in CLASS_MAPS.items() if method.explains_layer and name != "gradcam")
FEATUREVIS_STEPS = (32, 64, DEFAULT_STEPS, 256, 512)


LINK = links.page_settings(
    "deconvnet",
    {
        "layer": "deconv_layer",
        "channel": "_deconv_link_channel",
        "whole": "deconv_whole",
        "family": "deconv_family",
        "objective": "deconv_fv_objective",
        "steps": "deconv_fv_steps",
    },
    kept=("deconv_layer", "deconv_channel", "deconv_whole", "deconv_family", "deconv_fv_objective", "deconv_fv_steps"),
    moved={"channel": "deconv_channel"},
)  # the channel is checked against the layer once its map is known, then moved to deconv_channel


def _settings_to_link(layer: str, channel: int, whole: bool) -> None:
    LINK.write(
        {"layer": layer, "channel": None if channel == STRONGEST else str(channel), "whole": "1" if whole else None}
    )


def _cached(key: tuple, compute: Callable):
    """``compute()``, remembered for every session in the shared result cache (computed once when many
    sessions ask at the same time)."""
    return shared_results().get_or_compute(key, compute)[0]


def _prepare(opened) -> list[SharedJob]:
    """What a link to this page computes once its buttons are pressed (see :mod:`ui.prepare`), at the link's
    layer and channel (else the last conv stage and its strongest channel): the class maps beside the
    projections, the link's method of the CAM family (else its first), the top-9 patches over the gallery, and
    the optimised image (at the link's objective and steps, else the first objective and the default steps)."""
    from cnnviz.layers import spatial_layers

    net, image, digest = opened.net, opened.image, opened.digest
    side = net.preprocess.input_size
    layers, stages = spatial_layers(net.spec, side), conv_stages(net.spec, side)
    if not layers:
        return []
    layer = opened.setting("layer", links.choice(layers), stages[-1])
    maps = _cached(result_key("activations", net, digest, layer=layer), lambda: activation_maps(net, image, layer))
    linked = opened.setting("channel", links.integer(0, maps.channels - 1), STRONGEST)
    whole = opened.setting("whole", links.flag, False)
    channels = [int(c) for c in maps.order[:9]] if linked == STRONGEST else [linked]
    channel, lead = channels[0], "auto" if has_switches(net) else "guided"
    jobs = [  # drawn as soon as the page opens: light, but each a pass through the network
        SharedJob(
            _projections_key(net, digest, layer, channels, whole),
            lambda report: project(net, image, layer, channels, whole, lead),
            t("deconv.tab_projection"),
        ),
        SharedJob(
            _deconvnet_key(net, digest, layer, channel, whole),
            lambda report: project(net, image, layer, [channel], whole_map=whole),
            t("deconv.label_deconvnet"),
        ),
        SharedJob(
            _guided_key(net, digest, layer, channel, whole),
            lambda report: project(net, image, layer, [channel], whole, "guided")[0],
            t("deconv.label_guided"),
        ),
        SharedJob(
            result_key("gradcam", net, digest, layer=layer),
            lambda report: CLASS_MAPS["gradcam"](net, image, layer=layer),
            t("deconv.name_gradcam"),
        ),
    ]
    for method, (key, params) in _class_map_calls(net, digest, layer).items():
        compute = functools.partial(_class_map, net, image, method, params)
        jobs.append(SharedJob(key, compute, t(f"deconv.name_{method}")))
    method = opened.setting("family", links.choice(CAM_FAMILY), CAM_FAMILY[0])
    family = functools.partial(CLASS_MAPS[method], net, image, layer=layer)
    jobs.append(
        SharedJob(
            result_key(method, net, digest, layer=layer),
            lambda report: family(progress=report),
            t(f"deconv.name_{method}"),
        )
    )
    images = {name: gallery_photo(name) for name in GALLERY}
    digests = tuple(sorted((gallery_digest(name), name) for name in GALLERY))  # a session without uploads
    jobs.append(
        SharedJob(
            result_key("patches", net, digests, layer=layer, channel=channel),
            lambda report: top_patches(net, images, layer, channel, progress=report),
            t("task.patches"),
        )
    )
    objective = opened.setting("objective", links.choice(OBJECTIVES), OBJECTIVES[0])
    steps = opened.setting("steps", links.number_choice(FEATUREVIS_STEPS), DEFAULT_STEPS)
    fv_key = result_key("featurevis", net, "", layer=layer, channel=channel, objective=objective, steps=steps, seed=0)
    jobs.append(
        SharedJob(
            fv_key,
            lambda report: visualize(net, layer, channel, steps=steps, objective=objective, progress=report),
            t("task.featurevis"),
        )
    )
    return jobs


@page(
    url_path="deconvnet",
    icon=":material/layers:",
    group="explore",
    order=2,
    title_key="page.deconvnet",
    heading_key="deconv.header",
    link=LINK,
    tasks=("classmaps", "patches", "featurevis"),
    prepare=_prepare,
)
def deconvnet_page() -> None:
    """Draw the page for the choices of the sidebar."""
    choices, spec, net = start_page("deconv.header", "deconv.intro", link=LINK)
    if net is None:
        return

    side = net.preprocess.input_size
    layers = layers_with_maps(spec, side)
    if layers is None:
        return
    stages = conv_stages(spec, side)
    LINK.read_once(
        {
            "layer": links.choice(layers),
            "channel": links.integer(0, MAX_LINK_CHANNEL),
            "whole": links.flag,
            "family": links.choice(CAM_FAMILY),
            "objective": links.choice(OBJECTIVES),
            "steps": links.number_choice(FEATUREVIS_STEPS),
        }
    )
    why = t("follow.no_layer", arch=spec.display)
    follow.keep_choice("deconv_layer", layers, stages[-1], setting=t("deconv.layer"), why=why)
    left, middle, right = st.columns([3, 2, 1])
    stage = t("deconv.stage")
    layer = left.selectbox(
        t("deconv.layer"), layers, key="deconv_layer", format_func=lambda n: f"{n}  ·  {stage}" if n in stages else n
    )
    maps_key = result_key("activations", net, choices.image_digest, layer=layer)
    try:
        maps = _cached(
            maps_key,
            lambda: activation_maps(net, choices.image, layer),
        )
    except cnnviz.CnnvizError as exc:
        st.error(error_text(exc))
        return
    options = [STRONGEST, *range(maps.channels)]
    linked = st.session_state.pop("_deconv_link_channel", None)
    if linked is not None:
        if linked < maps.channels:
            st.session_state["deconv_channel"] = linked
        else:
            links.drop_bad("channel")
    links.show_notices()
    name = channel_labeller()
    why = t("follow.channels", layer=layer, count=maps.channels)
    follow.keep_choice("deconv_channel", options, STRONGEST, setting=t("deconv.channel"), why=why, show=name)
    channel = middle.selectbox(t("deconv.channel"), options, key="deconv_channel", format_func=name)
    whole = right.toggle(t("deconv.whole_map"), key="deconv_whole", help=t("deconv.whole_map_help"))
    _settings_to_link(layer, channel, whole)
    channels = [int(c) for c in maps.order[:9]] if channel == STRONGEST else [channel]

    tabs = st.tabs(
        [
            t("deconv.tab_projection"),
            t("deconv.tab_activations"),
            t("deconv.tab_filters"),
            t("deconv.tab_patches"),
            t("deconv.tab_featurevis"),
        ]
    )
    with tabs[0]:
        _projections(net, choices, layer, channels, whole)
        _class_maps(net, choices, layer)
        _cam_family(net, choices, layer, maps.channels)
    with tabs[1]:
        _activations(maps, maps_key)
    with tabs[2]:
        _filters(net)
    with tabs[3]:
        _patches(net, choices, layer, channels[0])
    with tabs[4]:
        _feature_visualisation(net, choices, layer, channels[0])


def channel_labeller():
    """A ``format_func`` for the channel choice: "the nine strongest" or "channel N", in this run's
    language."""
    lang = current_language()
    return lambda c: t("deconv.strongest", lang, count=9) if c == STRONGEST else t("deconv.channel_n", lang, channel=c)


def has_switches(net) -> bool:
    """Whether the network max-pools: only then does the deconvnet projection depend on the image."""
    return any(isinstance(m, nn.MaxPool2d) for m in net.model.modules())


def _projections(net, choices, layer: str, channels: list[int], whole: bool) -> None:
    """The chosen channels projected to the pixels. Without max-pooling the deconvnet does not depend on
    the image, so guided backpropagation (which does) leads, and the deconvnet stays beside it below."""
    switches = has_switches(net)
    lead = "auto" if switches else "guided"
    start = time.perf_counter()
    with st.spinner(t("deconv.computing")):
        try:
            key = _projections_key(net, choices.image_digest, layer, channels, whole)
            projections = _cached(key, lambda: project(net, choices.image, layer, channels, whole, lead))
        except cnnviz.CnnvizError as exc:
            st.error(error_text(exc))
            return
    method = projections[0].method
    st.caption(t(f"deconv.method_{method}", seconds=time.perf_counter() - start))
    if not switches:
        st.info(t("deconv.no_switches"))
    captions = [
        t("deconv.caption_map", channel=p.channel, activation=p.activation)
        if p.position is None
        else t("deconv.caption_unit", channel=p.channel, row=p.position[0], col=p.position[1], activation=p.activation)
        for p in projections
    ]
    pictures = [encoded((key, i), lambda p=p: projection_image(p.pixels), 220) for i, p in enumerate(projections)]
    st.image(pictures, caption=captions, width=220)  # drawn once for everyone who shows them

    first = projections[0]
    st.subheader(t("deconv.compare", channel=first.channel))
    crop = crop_picture(net, choices.image, choices.image_digest)
    try:
        deconvnet_key = _deconvnet_key(net, choices.image_digest, layer, first.channel, whole)
        deconvnet = _deconvnet_projection(net, choices, layer, first.channel, whole)
        key = _guided_key(net, choices.image_digest, layer, first.channel, whole)
        guided = _cached(key, lambda: project(net, choices.image, layer, [first.channel], whole, "guided")[0])
    except cnnviz.CnnvizError as exc:
        st.error(error_text(exc))
        return
    columns = st.columns(3)
    columns[0].image(crop, caption=t("deconv.input"), width="stretch")
    columns[1].image(
        encoded(deconvnet_key, lambda: projection_image(deconvnet.pixels)),
        caption=t("deconv.label_deconvnet"),
        width="stretch",
    )
    columns[2].image(
        encoded(key, lambda: projection_image(guided.pixels)), caption=t("deconv.label_guided"), width="stretch"
    )
    st.caption(t("deconv.methods_help"))


def _deconvnet_key(net, digest: str, layer: str, channel: int, whole: bool) -> tuple:
    """The shared cache's key of one channel's deconvnet projection."""
    return result_key("deconv", net, digest, layer=layer, channels=[channel], whole=whole)


def _projections_key(net, digest: str, layer: str, channels: list[int], whole: bool) -> tuple:
    """The shared cache's key of the chosen channels' projections (the deconvnet's where the network max-pools,
    else guided backpropagation's)."""
    params = {"layer": layer, "channels": channels, "whole": whole}
    return result_key("deconv" if has_switches(net) else "guided_all", net, digest, **params)


def _guided_key(net, digest: str, layer: str, channel: int, whole: bool) -> tuple:
    """The shared cache's key of one channel's guided backpropagation."""
    return result_key("guided", net, digest, layer=layer, channel=channel, whole=whole)


def _deconvnet_projection(net, choices, layer: str, channel: int, whole: bool):
    """The deconvnet projection of one channel, from the shared cache."""
    key = _deconvnet_key(net, choices.image_digest, layer, channel, whole)
    return _cached(key, lambda: project(net, choices.image, layer, [channel], whole_map=whole))[0]


def _class_map_calls(net, digest: str, layer: str) -> dict[str, tuple[tuple, dict]]:
    """Each method of :data:`CLASS_MAPS_SHOWN`: its shared cache key and its parameters at ``layer``."""
    calls = {}
    for method in CLASS_MAPS_SHOWN:
        params = {"layer": layer} if method in USES_LAYER else {}
        calls[method] = (result_key(method, net, digest, **params), params)
    return calls


def _class_map(net, image, method: str, params: dict, progress):
    """``method``'s class map of ``image`` for the top-1 class."""
    return CLASS_MAPS[method](net, image, **params, progress=progress)


def _class_maps(net, choices, layer: str) -> None:
    """The methods of :data:`CLASS_MAPS_SHOWN` for the top-1 class, side by side over the crop; computed on
    request (Integrated Gradients takes seconds on a CPU), then shown to every session that asks."""
    calls = _class_map_calls(net, choices.image_digest, layer)
    results = [shared_results().get(key) for key, _ in calls.values()]
    asked = (net.spec.name, choices.image_digest)  # once asked for this photo, a new layer needs no new click
    if any(result is None for result in results):
        if st.session_state.get("_deconv_class_maps_for") != asked:
            request = st.empty()
            with request.container():
                st.subheader(t("deconv.class_maps_title"))
                if not st.button(t("deconv.class_maps_run"), key="deconv_class_maps_run"):
                    st.caption(t("deconv.class_maps_help"))
                    return
            request.empty()
            st.session_state["_deconv_class_maps_for"] = asked
        jobs = [
            SharedJob(
                key, functools.partial(_class_map, net, choices.image, method, params), t(f"deconv.name_{method}")
            )
            for method, (key, params) in calls.items()
        ]
        results = compute_shared_all(jobs, "classmaps", str(net.device))
        if results is None:
            return
    st.subheader(t("deconv.class_maps", label=class_names(net)[results[0].target]))
    columns = st.columns(len(results))
    for column, result, (key, _) in zip(columns, results, calls.values(), strict=True):
        caption = t(f"deconv.label_{result.method}", layer=layer, error=result.error or 0.0, steps=result.steps or 0)
        column.image(_over_crop(key, net, choices, result.values), caption=caption, width="stretch")
    st.caption(t("deconv.class_maps_help"))
    link_to("trust", "trust.link")


def _cam_family(net, choices, layer: str, channels: int) -> None:
    """One method of the CAM family (pytorch-grad-cam) beside Grad-CAM, at the page's layer, for the top-1
    class: what it changes, then its map on request through the shared cache and the queue."""
    st.subheader(t("deconv.family_title"))
    method = st.selectbox(
        t("deconv.family_method"), CAM_FAMILY, format_func=labeller("deconv.name_{}"), key="deconv_family"
    )
    LINK.write({"family": method})
    st.caption(t(f"deconv.differs_{method}"))
    key = result_key(method, net, choices.image_digest, layer=layer)
    result = shared_results().get(key)
    if result is None:
        request = st.empty()
        with request.container():
            if CLASS_MAPS[method].heavy:
                st.caption(t("deconv.family_heavy", channels=channels))
            name = t(f"deconv.name_{method}")
            if not st.button(t("deconv.family_run", method=name, layer=layer), key="deconv_family_run"):
                return
        request.empty()  # the request gives way to the maps
        compute = functools.partial(CLASS_MAPS[method], net, choices.image, layer=layer)
        computed = compute_shared(
            key, lambda report: compute(progress=report), "deconv.family", task="classmaps", device=str(net.device)
        )
        if computed is None:
            return
        result = computed.value
    grad_cam_key = result_key("gradcam", net, choices.image_digest, layer=layer)
    grad_cam = _cached(grad_cam_key, functools.partial(CLASS_MAPS["gradcam"], net, choices.image, layer=layer))
    left, right = st.columns(2)
    left.image(
        _over_crop(grad_cam_key, net, choices, grad_cam.values),
        caption=t("deconv.label_gradcam", layer=layer),
        width="stretch",
    )
    right.image(
        _over_crop(key, net, choices, result.values), caption=t(f"deconv.label_{method}", layer=layer), width="stretch"
    )
    st.caption(t("deconv.family_help"))


def _over_crop(key: tuple, net, choices, values) -> bytes:
    """The class map of result ``key`` over the network's crop of the photo, drawn once per process."""
    return encoded(
        ("over_crop", *key),
        lambda: class_map_image(np.asarray(net.preprocess.crop_image(choices.image).convert("RGB")), values),
    )


def _activations(maps, key: tuple) -> None:
    cols = st.columns(4)
    cols[0].metric(t("deconv.stat_mean"), f"{maps.mean:.3g}")
    cols[1].metric(t("deconv.stat_max"), f"{maps.max:.3g}")
    cols[2].metric(t("deconv.stat_zero"), f"{maps.zero_fraction:.1%}")
    cols[3].metric(t("deconv.stat_dead"), f"{len(maps.never_active)} / {maps.channels}")
    shown = [int(c) for c in maps.order[:SHOWN_MAPS]]
    top = max(maps.max, 1e-12)

    def tile(c: int) -> np.ndarray:  # one colour scale for every map
        picture = colourise(np.clip(maps.maps[c], 0, None), "viridis", 0.0, top)
        return np.asarray(Image.fromarray(picture).resize((96, 96), Image.NEAREST))

    tiles = [encoded((key, "tile", c), lambda c=c: tile(c)) for c in shown]  # drawn once for everyone
    st.image(tiles, caption=[t("deconv.caption_map", channel=c, activation=float(maps.maps[c].max())) for c in shown])
    st.caption(t("deconv.maps_help", shown=len(shown), total=maps.channels))
    if maps.never_active:
        with st.expander(t("deconv.dead_list", count=len(maps.never_active))):
            st.write(", ".join(str(c) for c in maps.never_active))


def _filters(net) -> None:
    filters = first_layer_filters(net)

    def grid() -> np.ndarray:
        tiles = [(tile * 255).round().astype(np.uint8) for tile in filters.tiles()]
        tiles = [np.repeat(tile, 3, axis=2) if tile.shape[2] == 1 else tile for tile in tiles]
        return tile_grid(tiles, columns=16, zoom=FILTER_ZOOM)

    # The weights name the picture: drawn once for everyone who shows this network's filters.
    st.image(encoded(("filters", net.spec.name, net.weights_source.value, FILTER_ZOOM), grid))
    st.caption(
        t(
            "deconv.filters_help",
            layer=filters.layer,
            count=len(filters.weights),
            kernel=filters.kernel,
            stride=filters.stride,
            zoom=FILTER_ZOOM,
        )
    )


def _image_set() -> tuple[dict[str, Image.Image], tuple[str, ...]]:
    """The gallery and the session's uploads, by the name shown; and the full SHA-256 of each, with its
    name, for the cache key (names alone could be forged by another session)."""
    images = {name: gallery_photo(name) for name in GALLERY}
    digests = [(gallery_digest(name), name) for name in GALLERY]
    for digest, (name, image) in session_uploads().items():
        images[name] = image
        digests.append((digest, name))
    return images, tuple(sorted(digests))


def _patches(net, choices, layer: str, channel: int, place: str = "tab") -> None:
    """The top-9 patches of ``channel``, searched on request; ``place`` tells the two places that show
    them (their own tab and the feature-visualisation tab) apart."""
    images, digests = _image_set()
    st.caption(t("deconv.patches_help", channel=channel, count=len(images)))
    key = result_key("patches", net, digests, layer=layer, channel=channel)
    found = shared_results().get(key)
    if found is None:
        if not st.button(t("deconv.patches_run", channel=channel), key=f"deconv_patches_run_{place}"):
            return

        def search(progress):
            return top_patches(net, images, layer, channel, progress=progress)

        searched = compute_shared_all([SharedJob(key, search, t("task.patches"))], "patches", str(net.device))
        if searched is None:
            return
        found = searched[0]
    if not found:
        st.info(t("deconv.patches_none", channel=channel))
        return

    def pair(patch) -> np.ndarray:
        projection = Image.fromarray(projection_image(patch.projection)).resize((PATCH_SIDE, PATCH_SIDE))
        crop = Image.fromarray(patch.crop).resize((PATCH_SIDE, PATCH_SIDE))
        return tile_grid([np.asarray(projection), np.asarray(crop)], columns=2)

    pairs = [encoded((key, i), lambda patch=patch: pair(patch)) for i, patch in enumerate(found)]
    captions = [t("deconv.patch_caption", image=patch.image, activation=patch.activation) for patch in found]
    st.image(pairs, caption=captions, width=2 * PATCH_SIDE + 2)


def _feature_visualisation(net, choices, layer: str, channel: int) -> None:
    """Three answers to "what does this channel respond to?": the image optimised from noise to excite it
    (independent of the photo), its deconvnet projection on this photo, and its top-9 patches."""
    st.caption(t("deconv.fv_intro", channel=channel, layer=layer))
    left, right = st.columns(2)
    objective = left.radio(
        t("deconv.fv_objective"),
        OBJECTIVES,
        format_func=labeller("deconv.fv_objective_{}"),
        key="deconv_fv_objective",
        horizontal=True,
    )
    st.session_state.setdefault("deconv_fv_steps", DEFAULT_STEPS)
    steps = right.select_slider(t("deconv.fv_steps"), FEATUREVIS_STEPS, key="deconv_fv_steps")
    LINK.write(
        {
            "objective": None if objective == OBJECTIVES[0] else objective,
            "steps": None if steps == DEFAULT_STEPS else str(steps),
        }
    )
    key = result_key("featurevis", net, "", layer=layer, channel=channel, objective=objective, steps=steps, seed=0)
    found = shared_results().get(key)
    if found is None:
        if not st.button(t("deconv.fv_run", channel=channel), type="primary", key="deconv_fv_run"):
            st.info(t("deconv.fv_press"))
            return
        computed = compute_shared(
            key,
            lambda report: visualize(net, layer, channel, steps=steps, objective=objective, progress=report),
            "deconv.fv",
            task="featurevis",
            describe=lambda value, seconds: t("deconv.fv_done", steps=value.steps, seconds=seconds),
            device=str(net.device),
        )
        if computed is None:
            return
        found = computed.value
    try:
        projection = _deconvnet_projection(net, choices, layer, channel, whole=False)
    except cnnviz.CnnvizError as exc:
        st.error(error_text(exc))
        return
    columns = st.columns(2)
    columns[0].image(
        found.pixels,
        caption=t(f"deconv.fv_caption_{found.objective}", channel=channel, activation=found.activation),
        width="stretch",
    )
    columns[1].image(
        projection_image(projection.pixels),
        caption=t("deconv.fv_projection_caption", channel=channel, activation=projection.activation),
        width="stretch",
    )
    st.caption(t("deconv.fv_compare"))
    st.subheader(t("deconv.fv_patches", channel=channel))
    _patches(net, choices, layer, channel, place="featurevis")

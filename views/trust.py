"""Can we trust the map? page: the sanity checks of the explanations the other pages draw, on the sidebar's
network, photo and a class of its top-5 — cascading model randomisation (Adebayo et al. 2018), deletion and
insertion curves (Petsiuk et al. 2018) and the pointing game against the gallery's reference boxes. The
figures come from :mod:`cnnviz.trust`; this page lays them out."""

from __future__ import annotations

import functools

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

import cnnviz
from cnnviz.explain import CLASS_MAPS
from cnnviz.explain.detect import Box, reference_for
from cnnviz.explain.keys import result_key
from cnnviz.predict import at_most
from cnnviz.render import boxes_image, class_map_image, colourise
from cnnviz.trust.data_randomisation import (
    ARCHITECTURE,
    DIGITS,
    held_out_digit,
    mean_similarity,
    over_held_out_digits,
)
from cnnviz.trust.evidence import EVIDENCE_METHODS, OCCLUSION, RULE_METHODS, evidence_map
from cnnviz.trust.faithfulness import DEFAULT_STEPS, KINDS, perturbation_curve
from cnnviz.trust.localisation import box_in_input, localisation
from cnnviz.trust.randomisation import KEPT_SIMILARITY, cascading_randomisation
from ui import follow, links
from ui.models import shared_model, start_page
from ui.pages import page
from ui.results import SharedJob, compute_shared_all, shared_results
from ui.text import class_names, labeller, t

CHECKS = ("randomisation", "data", "deletion", "pointing")
# Every method a check can take on any device. The per-channel CAM methods (Score-CAM, Ablation-CAM: one
# forward pass per channel of the last layer) only where the network runs on a GPU: at each of two dozen
# randomised depths they take some 16 minutes on a 2-core CPU; Lite0's whole grid of all eleven methods took
# 56 s on an H200 (bench/trust.py --device cuda).
METHODS = tuple(
    m
    for m in EVIDENCE_METHODS
    if m in (*RULE_METHODS, OCCLUSION) or not (CLASS_MAPS[m].heavy and CLASS_MAPS[m].explains_layer)
)
PER_CHANNEL_METHODS = tuple(m for m in EVIDENCE_METHODS if m not in METHODS)
DEFAULT_METHODS = ("deconvnet", "guided", "saliency", "gradcam")
STEPS = (10, 20, DEFAULT_STEPS, 100)  # deletion and insertion: changes of the pixels along each curve
TILE = 64  # px of each randomised map on screen (and kept in the shared cache)
SHOWN_BOX = 224  # px of each pointing-game picture on screen
DIGIT_SHOWN = 160  # px of each 32 px digit map on screen

LINK = links.page_settings(
    "trust",
    {"check": "trust_check", "methods": "trust_methods", "steps": "trust_steps", "target": "trust_target"},
)


def _work(check: str, net, image, digest, methods: list[str], target, steps: int = DEFAULT_STEPS):
    """``check``'s results for ``methods``: each method's shared-cache key, ``compute(method, progress)`` and
    the device it runs on. ``data`` runs on ``net``, LeNet-5, whatever the photo."""
    if check == "data":
        keys = _keys("trust_data", net, "the first held-out digit of each class", methods)
        return keys, lambda method, progress: over_held_out_digits(net, (method,), progress), net.device
    if check == "randomisation":
        keys = _keys("trust_randomisation", net, digest, methods, target=target)

        def compute(method, progress):
            return cascading_randomisation(net, image, (method,), target, progress=progress).shrunk(TILE)

    elif check == "deletion":
        keys = _keys("trust_curves", net, digest, methods, target=target, steps=steps)

        def compute(method, progress):
            values = evidence_map(net, image, method, target)
            return tuple(perturbation_curve(net, image, values, kind, target, steps) for kind in KINDS)

    else:
        keys = _keys("trust_evidence", net, digest, methods, target=target)

        def compute(method, progress):
            return evidence_map(net, image, method, target)

    return keys, compute, net.device


def _prepare(opened) -> list[SharedJob]:
    """What a link to this page computes once its button is pressed (see :mod:`ui.prepare`): the link's check,
    methods and class (one of the top-5), the page's defaults otherwise (the top-1)."""
    net = opened.net
    check = opened.setting("check", links.choice(CHECKS), CHECKS[0])
    methods = opened.setting("methods", links.choices(offered(net)), list(DEFAULT_METHODS))
    steps = opened.setting("steps", links.number_choice(STEPS), DEFAULT_STEPS)
    target = opened.target()
    if check == "pointing" and reference_for(opened.photo, net.categories[target]) is None:
        return []  # the page has no box to point at for this photo and class
    if check == "data":
        net = shared_model(ARCHITECTURE, "auto", "cpu")
    keys, compute, _ = _work(check, net, opened.image, opened.digest, methods, target, steps)
    return [SharedJob(key, functools.partial(compute, method), method_name(method)) for method, key in keys.items()]


@page(
    url_path="trust",
    icon=":material/fact_check:",
    group="explore",
    order=4,
    title_key="page.trust",
    heading_key="trust.header",
    link=LINK,
    tasks=("trust",),
    prepare=_prepare,
)
def trust_page() -> None:
    """Draw the page for the choices of the sidebar."""
    choices, spec, net = start_page("trust.header", "trust.intro", markdown=True, link=LINK)
    if net is None:
        return
    clean = cnnviz.predict(net, choices.image, top=at_most(net))
    names = class_names(net)
    targets = {s.index: f"{names[s.index]} ({s.prob:.1%})" for s in clean.scores}
    LINK.read_once(
        {
            "check": links.choice(CHECKS),
            "methods": links.choices(offered(net)),
            "steps": links.number_choice(STEPS),
            "target": links.integer(0, len(net.categories) - 1),  # one of the top-5, or the top-1 (below)
        }
    )
    links.show_notices()
    why = t("follow.not_top5", arch=spec.display)
    top1 = next(iter(targets))
    follow.keep_choice(
        "trust_target", list(targets), top1, setting=t("trust.target"), why=why, show=targets.get, show_old=False
    )
    st.session_state.setdefault("trust_check", CHECKS[0])
    st.session_state.setdefault("trust_methods", list(DEFAULT_METHODS))
    st.session_state.setdefault("trust_steps", DEFAULT_STEPS)

    check = st.radio(
        t("trust.check"), CHECKS, format_func=labeller("trust.check_{}"), horizontal=True, key="trust_check"
    )
    left, right = st.columns([3, 1])
    methods = left.multiselect(t("trust.methods"), offered(net), format_func=method_name, key="trust_methods")
    target = right.selectbox(t("trust.target"), list(targets), format_func=targets.__getitem__, key="trust_target")
    steps = st.session_state["trust_steps"]
    if check == "deletion":
        steps = st.select_slider(t("trust.steps"), STEPS, key="trust_steps")
    LINK.write(
        {
            "check": check,
            "methods": links.listed(methods),
            "steps": str(steps),
            "target": str(target),
        }
    )
    st.markdown(t(f"trust.about_{check}"))
    if not methods:
        st.info(t("trust.no_methods"))
        return
    if check == "randomisation":
        _randomisation(net, choices, methods, target)
    elif check == "data":
        _data_randomisation(methods)
    elif check == "deletion":
        _deletion_and_insertion(net, choices, methods, target, steps)
    else:
        _pointing(net, choices, methods, target, net.categories[target])  # the boxes name classes in English


def offered(net) -> tuple[str, ...]:
    """The methods the page offers for ``net``: :data:`PER_CHANNEL_METHODS` too when it runs on a GPU."""
    return METHODS + PER_CHANNEL_METHODS if net.device.type == "cuda" else METHODS


def method_name(method: str) -> str:
    """The name of an evidence method in the session's language."""
    key = f"trust.name_{method}" if method in (*RULE_METHODS, OCCLUSION) else f"deconv.name_{method}"
    return t(key)


def _keys(check: str, net, image: str, methods: list[str], **params) -> dict[str, tuple]:
    """Each method's shared-cache key for ``check`` on ``image`` (a digest, or a held-out digit's name)."""
    return {method: result_key(check, net, image, explained=method, **params) for method in methods}


def _jobs_or_button(keys: dict[str, tuple], label: str, button_key: str) -> bool:
    """Whether the results of ``keys`` are all in the shared cache or were just asked for with the button
    ``label`` (drawn, with the reason, while they are not; gone once pressed)."""
    if all(shared_results().get(key) is not None for key in keys.values()):
        return True
    request = st.empty()
    with request.container():
        if not st.button(label, type="primary", key=button_key):
            st.info(t("trust.press_run"))
            return False
    request.empty()
    return True


def _computed(keys: dict[str, tuple], compute, device) -> dict | None:
    """Each method's result of ``keys``, computed (``compute(method, progress)``) through the shared cache
    and ``device``'s queue of heavy work, or None when the engine refused (the reason is drawn)."""
    jobs = [SharedJob(key, functools.partial(compute, method), method_name(method)) for method, key in keys.items()]
    values = compute_shared_all(jobs, "trust", device=str(device))
    return None if values is None else dict(zip(keys, values, strict=True))


# --- Model randomisation ---------------------------------------------------------------------------------


def _randomisation(net, choices, methods: list[str], target: int) -> None:
    keys, compute, device = _work("randomisation", net, choices.image, choices.image_digest, methods, target)
    if not _jobs_or_button(keys, t("trust.run_randomisation"), "trust_run_randomisation"):
        return
    results = _computed(keys, compute, device)
    if results is None:
        return
    layers = next(iter(results.values())).layers
    st.caption(t("trust.depths", count=len(layers) - 1, arch=net.spec.display))
    for method, result in results.items():
        st.markdown(f"**{method_name(method)}**")
        tiles = [_tile(values) for values in result.maps[method]]
        captions = [
            f"{t('trust.trained') if i == 0 else layer} · ρ {rho:.2f}"
            for i, (layer, rho) in enumerate(zip(result.layers, result.spearman[method], strict=True))
        ]
        st.image(tiles, caption=captions, width=TILE + 16)
        kept = result.keeps_its_picture(method)
        (st.warning if kept else st.success)(
            t(
                "trust.keeps" if kept else "trust.changes",
                method=method_name(method),
                rho=result.top_half_similarity(method),
                threshold=KEPT_SIMILARITY,
            )
        )
    st.altair_chart(_similarity_chart(results), width="stretch")
    st.caption(t("trust.similarity_help"))


def _tile(values: np.ndarray) -> np.ndarray:
    """One randomised map as a heat picture, its scale topping out at the 99th percentile (saliency's few
    hot pixels would darken the rest)."""
    return colourise(values, "inferno", low=0.0, high=max(float(np.percentile(values, 99)), 1e-12))


def _similarity_chart(results: dict) -> alt.Chart:
    """Spearman and SSIM against the randomised depth, one panel per method."""
    rows = []
    for method, result in results.items():
        for depth, layer in enumerate(result.layers):
            shown = t("trust.trained") if depth == 0 else layer
            for measure, values in (("Spearman", result.spearman), ("SSIM", result.ssim)):
                rows.append(
                    {
                        "method": method_name(method),
                        "depth": depth,
                        "layer": shown,
                        "measure": measure,
                        "value": values[method][depth],
                    }
                )
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("depth:Q", title=t("trust.depth_axis")),
            y=alt.Y("value:Q", title=t("trust.similarity_axis"), scale=alt.Scale(domain=[-0.2, 1.0])),
            color=alt.Color("measure:N", title=None),
            tooltip=["method", "layer", "measure", alt.Tooltip("value:Q", format=".3f")],
        )
        .properties(height=180, width=260)
        .facet(facet=alt.Facet("method:N", title=None, sort=[method_name(m) for m in results]), columns=3)
    )


# --- Data randomisation ------------------------------------------------------------------------------------


def _data_randomisation(methods: list[str]) -> None:
    """LeNet-5 trained on the true labels against the same network trained on shuffled labels, on the first
    held-out digit of each class (the sidebar's network and photo play no part: only LeNet-5 ships its
    twin). The verdict reads the mean over the ten digits; the student picks the one shown."""
    lenet = shared_model(ARCHITECTURE, "auto", "cpu")
    keys, compute, device = _work("data", lenet, None, None, methods, None)
    if not _jobs_or_button(keys, t("trust.run_data"), "trust_run_data"):
        return
    results = _computed(keys, compute, device)
    if results is None:
        return
    digit = st.select_slider(t("trust.digit"), DIGITS, key="trust_digit")
    picture = np.asarray(lenet.preprocess.crop_image(held_out_digit(digit)[0]).convert("RGB"))
    predicted = next(iter(results.values()))[digit].target
    st.caption(t("trust.data_digit", digit=digit, predicted=lenet.categories[predicted]))
    for method, pairs in results.items():
        st.markdown(f"**{method_name(method)}**")
        shown = pairs[digit]
        pictures = [class_map_image(picture, shown.trained[method]), class_map_image(picture, shown.shuffled[method])]
        captions = [t("trust.true_labels"), t("trust.shuffled_labels", rho=shown.spearman[method])]
        st.image(pictures, caption=captions, width=DIGIT_SHOWN)
        rho, ssim = mean_similarity(pairs, method)
        kept = rho >= KEPT_SIMILARITY
        (st.warning if kept else st.success)(
            t(
                "trust.data_keeps" if kept else "trust.data_changes",
                method=method_name(method),
                rho=rho,
                ssim=ssim,
                threshold=KEPT_SIMILARITY,
            )
        )


# --- Deletion and insertion ------------------------------------------------------------------------------


def _deletion_and_insertion(net, choices, methods: list[str], target: int, steps: int) -> None:
    keys, compute, device = _work("deletion", net, choices.image, choices.image_digest, methods, target, steps)
    if not _jobs_or_button(keys, t("trust.run_curves"), "trust_run_curves"):
        return
    results = _computed(keys, compute, device)
    if results is None:
        return
    columns = st.columns(len(KINDS))
    for i, (column, kind) in enumerate(zip(columns, KINDS, strict=True)):
        with column:
            st.markdown(f"**{t(f'trust.curve_{kind}')}**")
            st.altair_chart(_curve_chart({m: curves[i] for m, curves in results.items()}, kind), width="stretch")
    deletion, insertion = next(iter(results.values()))  # the random order is the same for every map
    table = pd.DataFrame(
        [
            {
                t("trust.method"): method_name(m),
                t("trust.auc_deletion"): curves[0].auc,
                t("trust.auc_insertion"): curves[1].auc,
            }
            for m, curves in results.items()
        ]
        + [
            {
                t("trust.method"): t("trust.random_order"),
                t("trust.auc_deletion"): deletion.random_auc,
                t("trust.auc_insertion"): insertion.random_auc,
            }
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={c: st.column_config.NumberColumn(format="%.3f") for c in table.columns[1:]},
    )
    st.caption(t("trust.curves_help"))


def _curve_chart(curves: dict, kind: str) -> alt.Chart:
    """The class probability against the share of pixels changed, each method's and the random order's."""
    rows = []
    for method, curve in curves.items():
        rows += [
            {"method": method_name(method), "share": float(f), "probability": float(p)}
            for f, p in zip(curve.fractions, curve.probabilities, strict=True)
        ]
    first, random = next(iter(curves.values())), t("trust.random_order")
    rows += [
        {"method": random, "share": float(f), "probability": float(p)}
        for f, p in zip(first.fractions, first.random_probabilities, strict=True)
    ]
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("share:Q", title=t(f"trust.share_{kind}"), axis=alt.Axis(format="%")),
            y=alt.Y("probability:Q", title=t("trust.probability_axis")),
            color=alt.Color("method:N", title=None),
            strokeDash=alt.condition(alt.datum.method == random, alt.value([5, 4]), alt.value([1, 0])),
            tooltip=["method", alt.Tooltip("share:Q", format=".0%"), alt.Tooltip("probability:Q", format=".3f")],
        )
        .properties(height=300)
    )


# --- Pointing game ---------------------------------------------------------------------------------------


def _pointing(net, choices, methods: list[str], target: int, label: str) -> None:
    reference = reference_for(choices.image_name, label) if choices.from_gallery else None
    if reference is None:
        st.info(t("trust.no_box"))
        return
    box = box_in_input(net.preprocess, choices.image.size, reference.box)
    keys, compute, device = _work("pointing", net, choices.image, choices.image_digest, methods, target)
    if not _jobs_or_button(keys, t("trust.run_pointing"), "trust_run_pointing"):
        return
    results = _computed(keys, compute, device)
    if results is None:
        return
    found = {m: localisation(values, box) for m, values in results.items()}
    crop = np.asarray(net.preprocess.crop_image(choices.image).convert("RGB"))
    area = next(iter(found.values())).area
    st.caption(t("trust.box", area=area))
    columns = st.columns(min(4, len(results)))
    for i, (method, values) in enumerate(results.items()):
        picture = boxes_image(Image.fromarray(class_map_image(crop, values)), [Box(*box, 1.0, -1, "")])
        verdict = t("trust.hit" if found[method].hit else "trust.miss")
        caption = f"{method_name(method)}: {verdict}, {found[method].energy:.0%} {t('trust.inside')}"
        columns[i % len(columns)].image(picture, caption=caption, width=SHOWN_BOX)
    table = pd.DataFrame(
        [
            {
                t("trust.method"): method_name(m),
                t("trust.pointing_hit"): "✓" if f.hit else "✗",
                t("trust.energy"): f.energy,
            }
            for m, f in found.items()
        ]
    )
    st.dataframe(
        table, hide_index=True, column_config={t("trust.energy"): st.column_config.NumberColumn(format="percent")}
    )
    st.caption(t("trust.pointing_help", area=area))

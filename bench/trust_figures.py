"""The trust checks' figures for the documentation, by method, on the networks and photos of the class:
cascading randomisation and deletion/insertion on EfficientNet-Lite0 (bundled ImageNet weights) and the
gallery's cat, the pointing game on the astronaut photo's reference box for Lite0's top-1, and data
randomisation on the bundled LeNet-5 and its shuffled-label twin over the ten first held-out digits.

Usage: ``python -m bench.trust_figures [--markdown]`` (about three minutes on two CPU cores).
"""

from __future__ import annotations

import argparse

from bench.report import markdown

METHODS = ("deconvnet", "guided", "saliency", "integrated", "gradcam", "gradcampp", "layercam", "eigencam", "occlusion")
LENET_METHODS = ("deconvnet", "guided", "saliency", "integrated", "gradcam")


def measure() -> list[tuple]:
    """Rows: (method, mean Spearman while the top half of the blocks is random (the page's verdict), Spearman
    and SSIM after every block is random, deletion AUC, insertion AUC, pointing
    hit and energy, LeNet-5's mean Spearman with its shuffled-label twin); the random order's AUCs last."""

    import cnnviz
    from cnnviz.explain.detect import reference_for
    from cnnviz.gallery import gallery_image
    from cnnviz.trust.data_randomisation import mean_similarity, over_held_out_digits
    from cnnviz.trust.evidence import evidence_map
    from cnnviz.trust.faithfulness import perturbation_curve
    from cnnviz.trust.localisation import box_in_input, localisation
    from cnnviz.trust.randomisation import cascading_randomisation

    net = cnnviz.load("efficientnet_lite0", device="cpu")
    cat, astronaut = gallery_image("chelsea"), gallery_image("astronaut")
    target = cnnviz.predict(net, cat).scores[0].index
    pointed = cnnviz.predict(net, astronaut).scores[0].index
    reference = reference_for("astronaut", net.categories[pointed])
    print(f"pointing: {net.categories[pointed]!r} against {reference.object!r}")
    box = box_in_input(net.preprocess, astronaut.size, reference.box)
    lenet = cnnviz.load("lenet5", device="cpu")
    rows, random_auc = [], None
    for method in METHODS:
        cascade = cascading_randomisation(net, cat, (method,), target)
        ranking = evidence_map(net, cat, method, target)
        deletion, insertion = (perturbation_curve(net, cat, ranking, k, target) for k in ("deletion", "insertion"))
        random_auc = (deletion.random_auc, insertion.random_auc)
        found = localisation(evidence_map(net, astronaut, method, pointed), box)
        data = ""
        if method in LENET_METHODS:
            data = f"{mean_similarity(over_held_out_digits(lenet, (method,)), method)[0]:.2f}"
        rows.append(
            (
                method,
                f"{cascade.top_half_similarity(method):.2f}",
                f"{cascade.spearman[method][-1]:.2f}",
                f"{cascade.ssim[method][-1]:.2f}",
                f"{deletion.auc:.3f}",
                f"{insertion.auc:.3f}",
                f"{'hit' if found.hit else 'miss'}, {found.energy:.0%}",
                data,
            )
        )
    baseline = (f"{random_auc[0]:.3f}", f"{random_auc[1]:.3f}", f"box {found.area:.0%}")
    rows.append(("random order", "", "", "", *baseline, ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    header = (
        "method",
        "Spearman, top half random (mean)",
        "Spearman, all random",
        "SSIM, all random",
        "deletion AUC",
        "insertion AUC",
        "pointing (astronaut)",
        "LeNet-5 vs shuffled labels (Spearman)",
    )
    rows = measure()
    if args.markdown:
        print(markdown(header, rows))
    else:
        for row in rows:
            print(" · ".join(row))


if __name__ == "__main__":
    main()

"""The trust checks' time on this machine, against the issue's goals: a deletion curve of 50 steps (with its
random-order baseline) within 5 s, and the cascading randomisation grid of a network (every method, every
block) within 60 s. EfficientNet-Lite0 with its bundled weights on the gallery's cat, by default.

Usage: ``python -m bench.trust [--arch NAME] [--methods M …] [--device cpu|cuda] [--markdown]``.
"""

from __future__ import annotations

import argparse
import time

from bench.report import markdown

LIGHT = ("gradcam", "gradcampp", "layercam", "eigencam", "saliency", "guided", "deconvnet")
GOALS = {"deletion": 5.0, "randomisation": 60.0}  # s


def measure(arch: str, methods: tuple[str, ...], device: str = "cpu") -> list[tuple]:
    """Rows: (check, what, seconds, goal), on ``device``."""
    import cnnviz
    from cnnviz.gallery import gallery_image
    from cnnviz.trust.evidence import evidence_map
    from cnnviz.trust.faithfulness import perturbation_curve
    from cnnviz.trust.randomisation import blocks, cascading_randomisation

    net = cnnviz.load(arch, device=device)
    image = gallery_image("chelsea")
    target = cnnviz.predict(net, image).scores[0].index
    ranking = evidence_map(net, image, "gradcam", target)
    perturbation_curve(net, image, ranking, "deletion", target, steps=5)  # warm-up
    start = time.perf_counter()
    perturbation_curve(net, image, ranking, "deletion", target, steps=50)
    rows = [("deletion", "50 steps and the random order's", time.perf_counter() - start, GOALS["deletion"])]
    depths = len(blocks(net.model)) + 1
    for method in methods:
        start = time.perf_counter()
        cascading_randomisation(net, image, (method,), target)
        rows.append(("randomisation", f"{method}, {depths} depths", time.perf_counter() - start, None))
    total = sum(row[2] for row in rows[1:])
    rows.append(("randomisation", f"all {len(methods)} methods", total, GOALS["randomisation"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="efficientnet_lite0")
    parser.add_argument("--methods", nargs="+", default=[*LIGHT, "integrated", "occlusion"])
    parser.add_argument("--device", default="cpu", help="cpu | cuda (default cpu)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = measure(args.arch, tuple(args.methods), args.device)
    table = [
        (check, what, f"{seconds:.1f}", "" if goal is None else f"{goal:.0f}") for check, what, seconds, goal in rows
    ]
    if args.markdown:
        print(markdown(("check", "what", "seconds", "goal (s)"), table))
    else:
        for row in table:
            print(" · ".join(row))


if __name__ == "__main__":
    main()

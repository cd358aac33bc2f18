"""Command-line front end: ``cnnviz {predict,occlusion,deconv,classmap,localize,visualize,patches,hardware,
archs,layers,fetch} …`` (also ``python -m cnnviz``).

Every error (bad arguments, bad input, an output that cannot be written) exits with status 2 and one line
on stderr, never a traceback (``CNNVIZ_DEBUG=1`` shows the traceback of an unexpected one). Output paths
are checked before any computation.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys

from cnnviz.errors import CnnvizError
from cnnviz.messages import message

EXIT_BAD_INPUT = 2
CLI_MAX_GMACS = 100_000.0  # occlusion work one command may ask for (the web app allows less per request)


class _Parser(argparse.ArgumentParser):
    """argparse with its errors in one line (``cnnviz: error: …``) and exit status 2."""

    def error(self, message: str):
        print(f"cnnviz: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


SEED_LIMIT = 2**63  # seeds are non-negative and below this (torch's and numpy's generators take 64 bits)
MAX_INDEX = 999_999  # class, channel: the network checks its own count; this only bounds what can be typed
MAX_PIXELS_ARG = 100_000  # px: window, stride, sizes; the network checks its own input size


def whole(low: int, high: int):
    """An argparse ``type``: a whole number from ``low`` to ``high`` (ASCII digits, optional sign), refused
    at parse time with the range in the message."""

    def parse(text: str) -> int:
        try:
            value = int(text) if len(text) <= 24 and text.isascii() else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number from {low:,} to {high:,}")
        return value

    return parse


def share(text: str) -> float:
    """An argparse ``type``: a finite number from 0 to 1."""
    try:
        value = float(text) if len(text) <= 24 else None
    except ValueError:
        value = None
    if value is None or not 0.0 <= value <= 1.0:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number from 0 to 1")
    return value


def distinct_names(names: list[str], what: str) -> list[str]:
    """``names`` in order without repeats; a note on stderr says how many repeats were dropped."""
    kept = list(dict.fromkeys(names))
    if len(kept) < len(names):
        print(f"note: {len(names) - len(kept)} repeated {what} left out", file=sys.stderr)
    return kept


def _out_path(args: argparse.Namespace, suffixes: tuple[str, ...]):
    """``--out`` as a Path (None when not given), checked before any work: it must end in one of
    ``suffixes``, its folder must exist and be writable, and it must not be a folder, device or pipe."""
    from pathlib import Path

    if not args.out:
        return None
    out = Path(args.out)
    if out.suffix.lower() not in suffixes:
        raise CnnvizError("out_suffix", suffixes=" or ".join(suffixes), suffix=out.suffix or "nothing")
    folder = out.parent
    if not folder.is_dir():
        raise CnnvizError("out_no_folder", folder=str(folder))
    if not os.access(folder, os.W_OK):
        raise CnnvizError("out_not_writable", folder=str(folder))
    if out.exists() and not stat.S_ISREG(out.stat().st_mode):
        raise CnnvizError("out_not_file", path=str(out))
    return out


def _write(out, save) -> None:
    """``save(out)``, with a failure to write reported in one line."""
    try:
        save(out)
    except OSError as exc:
        raise CnnvizError("cannot_write", path=str(out), reason=exc.strerror or str(exc)) from None
    print(f"wrote {out}")


def _save_array_or_picture(out, array, picture) -> None:
    """``array`` to a ``.npy`` file, else ``picture()`` (H×W×3 uint8, drawn only then) to an image file,
    by ``out``'s suffix."""
    import numpy as np
    from PIL import Image

    if out.suffix.lower() == ".npy":
        _write(out, lambda path: np.save(path, array))
    else:
        _write(out, Image.fromarray(picture()).save)


def _image_and_model(args: argparse.Namespace):
    """The decoded ``args.image`` and the loaded ``args.arch`` (image first: a bad file fails fast)."""
    from cnnviz.images import load_image
    from cnnviz.loading import load

    image = load_image(args.image)
    return image, load(args.arch, weights=args.weights, device=args.device).in_language(args.lang)


def _warn_if_random(net) -> None:
    if not net.meaningful:
        print(f"warning: {net.spec.display} has random weights ({net.weights_detail})", file=sys.stderr)


def _cmd_predict(args: argparse.Namespace) -> int:
    from cnnviz.images import load_image
    from cnnviz.loading import load
    from cnnviz.predict import check_top, predict
    from cnnviz.zoo import get_spec

    spec = get_spec(args.arch)
    check_top(args.top, 10 if spec.labels == "digits" else 1000)
    image = load_image(args.image)
    net = load(args.arch, weights=args.weights, device=args.device)
    english = net.categories
    net = net.in_language(args.lang)
    result = predict(net, image, top=args.top)
    _warn_if_random(net)
    if args.json:
        print(json.dumps([s.as_dict() for s in result.scores], ensure_ascii=False))
        return 0
    print(f"{net.spec.display} · weights: {net.weights_source.value} ({net.weights_detail}) · device: {net.device}")
    for score in result.scores:
        beside = "" if score.label == english[score.index] else f"{english[score.index]}, "
        print(f"{score.rank:>2}. {score.prob:7.2%}  {score.label} ({beside}class {score.index})")
    return 0


def _cmd_archs(args: argparse.Namespace) -> int:
    from cnnviz.weights import weights_status
    from cnnviz.zoo import ARCHITECTURES

    rows = [
        {
            "name": spec.name,
            "display": spec.display,
            "family": spec.family,
            "year": spec.year,
            "input_size": spec.input_size,
            "params": spec.parameter_count(),
            "weights": weights_status(spec),
        }
        for spec in ARCHITECTURES.values()
    ]
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'name':<20} {'year':>4} {'input':>5} {'parameters':>13}  weights")
    for row in rows:
        print(f"{row['name']:<20} {row['year']:>4} {row['input_size']:>5} {row['params']:>13,}  {row['weights']}")
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from cnnviz.weights import resolve, weights_status
    from cnnviz.zoo import ARCHITECTURES, get_spec

    names = list(ARCHITECTURES) if args.all else distinct_names(args.arch, "architecture name(s)")
    if not names:
        raise CnnvizError("fetch_nothing")
    specs = [get_spec(name) for name in names]
    failures = 0
    for spec in specs:
        status = weights_status(spec)
        if status in ("bundled", "cached", "none"):
            note = {"bundled": "bundled, nothing to fetch", "cached": "already cached", "none": "no published weights"}
            print(f"{spec.name}: {note[status]}")
            continue
        try:
            resolved = resolve(spec, "download")
        except CnnvizError as exc:
            failures += 1
            print(f"{spec.name}: {exc}", file=sys.stderr)
            continue
        print(f"{spec.name}: {resolved.source.value} → {resolved.detail}")
    return 1 if failures else 0


def _cmd_layers(args: argparse.Namespace) -> int:
    from cnnviz.layers import DISPLAY_COLUMNS, display_frame, layer_table

    table = layer_table(args.arch, args.input)
    if args.format == "json":
        keys = ("module", "call", *DISPLAY_COLUMNS)
        print(json.dumps([{key: row.as_dict()[key] for key in keys} for row in table.layers]))
        return 0
    frame = display_frame(table, expand=True)
    if args.format == "csv":
        print(frame.to_csv(index=False), end="")
        return 0
    shown = frame.drop(columns=["block", "weights", "act_bytes"]).astype(object)
    print(shown.where(shown.notna(), "").to_string(index=False))
    print(
        f"\n{table.arch} at {table.input_size}×{table.input_size}: {table.total_params:,} parameters, "
        f"{table.total_macs / 1e9:.3f} G multiply-accumulates (≈ {2 * table.total_macs / 1e9:.2f} GFLOPs), "
        f"{table.total_act_elems * 4 / 2**20:.1f} MiB of fp32 activations per image"
    )
    return 0


def _cmd_occlusion(args: argparse.Namespace) -> int:
    import time

    import numpy as np
    from PIL import Image

    from cnnviz.explain.occlusion import occlusion
    from cnnviz.render import overlay

    out = _out_path(args, (".npy", ".png"))
    image, net = _image_and_model(args)

    def report(done: int, total: int) -> None:
        print(f"\r{done}/{total} positions", end="", file=sys.stderr, flush=True)

    start = time.perf_counter()
    maps = occlusion(
        net,
        image,
        args.window,
        args.stride,
        args.fill,
        args.target,
        args.layer,
        progress=report,
        max_gmacs=CLI_MAX_GMACS,
        method=args.method,
    )
    seconds = time.perf_counter() - start
    print(file=sys.stderr)
    _warn_if_random(net)
    grid = maps.probability.shape[0]
    low = np.unravel_index(maps.probability.argmin(), maps.probability.shape)
    print(
        f"{net.spec.display}: {grid}×{grid} positions (window {maps.window} px, stride {maps.stride} px, "
        f"{maps.fill} fill) in {seconds:.1f} s on {net.device}, {maps.method} inference"
    )
    print(
        f"target {maps.target} ({net.categories[maps.target]}): clean {maps.clean_probability:.3f}, "
        f"occluded {maps.probability.min():.3f}–{maps.probability.max():.3f}, lowest with the window at "
        f"x={maps.positions[low[1]]} y={maps.positions[low[0]]} px"
    )
    if out is not None:
        if out.suffix.lower() == ".npy":
            _write(out, lambda path: np.save(path, maps.probability.astype(np.float32)))
        else:
            crop = np.asarray(net.preprocess.crop_image(image))
            low, high = float(maps.probability.min()), float(maps.probability.max())
            _write(out, Image.fromarray(overlay(crop, maps.overlay, cmap="inferno", low=low, high=high)).save)
    return 0


def _default_layer(arch: str, layer: str | None) -> str:
    from cnnviz.layers import conv_stages

    return layer if layer is not None else conv_stages(arch)[-1]


def _cmd_deconv(args: argparse.Namespace) -> int:

    from cnnviz.explain.deconvnet import project
    from cnnviz.render import projection_image

    out = _out_path(args, (".npy", ".png"))
    image, net = _image_and_model(args)
    layer = _default_layer(args.arch, args.layer)
    channels = None if args.channel is None else [args.channel]
    projections = project(net, image, layer, channels, whole_map=args.whole_map, method=args.method)
    projection = projections[0]  # the requested channel, or the strongest one
    _warn_if_random(net)
    where = (
        "whole map"
        if projection.position is None
        else f"unit (row {projection.position[0]}, column {projection.position[1]})"
    )
    print(
        f"{net.spec.display} · {layer} · channel {projection.channel} · {where} · activation "
        f"{projection.activation:.4g} · method {projection.method}"
    )
    if out is not None:
        _save_array_or_picture(out, projection.pixels, lambda: projection_image(projection.pixels))
    return 0


def _cmd_visualize(args: argparse.Namespace) -> int:
    import numpy as np

    from cnnviz.explain.featurevis import visualize
    from cnnviz.loading import load

    out = _out_path(args, (".npy", ".png"))
    net = load(args.arch, weights=args.weights, device=args.device)
    layer = _default_layer(args.arch, args.layer)
    result = visualize(net, layer, args.channel, steps=args.steps, objective=args.objective, seed=args.seed)
    _warn_if_random(net)
    print(
        f"{net.spec.display} · {layer} · channel {result.channel} ({result.objective}) · {result.steps} steps in "
        f"{result.seconds:.1f} s · activation {result.activation:.4g}"
    )
    if out is not None:
        _save_array_or_picture(out, result.normalised, lambda: (result.pixels * 255).round().astype(np.uint8))
    return 0


def _cmd_hardware(args: argparse.Namespace) -> int:
    from cnnviz.hardware import measure
    from cnnviz.zoo import get_spec

    names = distinct_names(args.arch, "architecture name(s)")
    for arch in names:
        get_spec(arch)  # every name checked before the first measurement
    timings = []
    for arch in names:
        timing = measure(arch, args.device, args.dtype, args.batch)
        timings.append(timing)
        if not args.json:
            memory = "n/a" if timing.peak_memory_mb is None else f"{timing.peak_memory_mb:,.0f} MB"
            print(
                f"{timing.display:<22} {timing.latency_ms:9.2f} ms at batch 1 · {timing.images_per_s:9.1f} images/s "
                f"at batch {timing.batch} · peak {memory} · {timing.gmacs:.2f} GMACs · "
                f"{timing.flops_per_byte:.0f} FLOP/byte · {timing.device} {timing.dtype}",
                flush=True,
            )
    if args.json:
        print(json.dumps([t.as_dict() for t in timings], indent=1))
    return 0


def _cmd_patches(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np
    from PIL import Image

    from cnnviz.explain.graphs import check_channel
    from cnnviz.explain.patches import MAX_IMAGES, top_patches
    from cnnviz.images import load_image
    from cnnviz.loading import load
    from cnnviz.render import projection_image, tile_grid

    folder = Path(args.folder)
    if not folder.is_dir():
        raise CnnvizError("not_folder", path=str(folder))
    out = _out_path(args, (".png",))
    net = load(args.arch, weights=args.weights, device=args.device)
    layer = _default_layer(args.arch, args.layer)
    check_channel(net, layer, args.channel)  # before any file is decoded
    images, skipped = {}, {}
    files = sorted(p for p in folder.iterdir() if p.is_file())[: MAX_IMAGES * 2]
    for path in files:
        try:
            images[path.name] = load_image(path)
        except CnnvizError as exc:
            skipped.setdefault(str(exc), []).append(path.name)
    if skipped:
        print(f"skipped {sum(map(len, skipped.values()))} of {len(files)} files: {_grouped(skipped)}", file=sys.stderr)
    patches = top_patches(net, images, layer, args.channel)
    print(f"{net.spec.display} · {layer} · channel {args.channel} · {len(images)} images")
    for rank, patch in enumerate(patches, start=1):
        print(f"{rank}. {patch.activation:10.4g}  {patch.image} unit {patch.unit} box {patch.box}")
    if out is not None and patches:
        side = 96
        pairs = []
        for patch in patches:
            crop = Image.fromarray(patch.crop).resize((side, side), Image.NEAREST)
            projection = Image.fromarray(projection_image(patch.projection)).resize((side, side), Image.NEAREST)
            pairs += [np.asarray(projection), np.asarray(crop)]
        _write(out, Image.fromarray(tile_grid(pairs, columns=6)).save)
    return 0


def _grouped(names_by_reason: dict[str, list[str]], shown: int = 3) -> str:
    """``a.jpg, b.jpg and 4 more (reason); c.txt (other reason)``: files grouped by why they were skipped."""
    parts = []
    for reason, names in names_by_reason.items():
        listed = ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
        parts.append(f"{listed} ({reason.rstrip('.')})")
    return "; ".join(parts)


def _cmd_classmap(args: argparse.Namespace) -> int:
    import numpy as np

    from cnnviz.explain import CLASS_MAPS, USES_LAYER
    from cnnviz.render import class_map_image

    out = _out_path(args, (".npy", ".png"))
    image, net = _image_and_model(args)
    params = {"layer": _default_layer(args.arch, args.layer)} if args.method in USES_LAYER else {}

    def report(done: int, total: int) -> None:
        print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

    result = CLASS_MAPS[args.method](net, image, target=args.target, progress=report, **params)
    print(file=sys.stderr)
    _warn_if_random(net)
    details = [f"layer {result.layer}"] if result.layer else []
    if result.error is not None:
        details.append(f"{result.steps} steps, attributions add up to the logit's change within {result.error:.3g}")
    print(
        " · ".join(
            [f"{net.spec.display}", args.method, f"class {result.target} ({net.categories[result.target]})", *details]
        )
    )
    if out is not None:

        def overlay() -> np.ndarray:
            return class_map_image(np.asarray(net.preprocess.crop_image(image).convert("RGB")), result.values)

        _save_array_or_picture(out, result.values.astype(np.float32), overlay)
    return 0


LOCALIZE_METHODS = ("fcn", "sliding", "cam")


def _cmd_localize(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from cnnviz.predict import predict
    from cnnviz.render import boxes_image, grid_overlay

    out = _out_path(args, (".npy", ".png"))
    image, net = _image_and_model(args)
    if args.method == "fcn":
        from cnnviz.explain.localize import one_pass_grid

        grid = one_pass_grid(net, image, args.size)
        _warn_if_random(net)
        rows, columns = grid.shape
        best = int(grid.probabilities.max(axis=(1, 2)).argmax())
        print(
            f"{net.spec.display}: {rows}×{columns} windows of {grid.window} px every {grid.stride} px over the photo "
            f"at {grid.input_size[1]}×{grid.input_size[0]} px, one forward pass in {grid.seconds * 1000:.1f} ms; "
            f"most probable anywhere: {net.categories[best]} (class {best}, {grid.probabilities[best].max():.3f})"
        )
        if out is not None and out.suffix.lower() == ".npy":
            _write(out, lambda path: np.save(path, grid.probabilities.astype(np.float32)))
        elif out is not None:
            picture = net.preprocess.whole_image(image, min(grid.input_size))
            _write(out, Image.fromarray(grid_overlay(picture, grid.probabilities[best], grid.window, grid.stride)).save)
        return 0
    if args.method == "sliding":
        from cnnviz.explain.detect import sliding_windows

        classes = [args.target] if args.target is not None else [s.index for s in predict(net, image, top=5).scores]
        found = sliding_windows(net, image, classes, threshold=args.threshold, iou=args.iou)
        _warn_if_random(net)
        boxes = found.after
        summary = (
            f"{net.spec.display}: {found.windows} windows ({found.windows} forward passes, {found.seconds:.2f} s), "
            f"{len(found.before)} boxes scored ≥ {found.threshold:g}, {len(boxes)} left after non-max suppression "
            f"at IoU {found.iou:g}"
        )
    else:
        from cnnviz.explain.detect import cam_box

        cam = cam_box(net, image, target=args.target, fraction=args.fraction)
        _warn_if_random(net)
        boxes = (cam.box,)
        summary = (
            f"{net.spec.display}: CAM of {cam.box.label} (class {cam.box.index}) above {cam.fraction:.0%} of its "
            f"maximum, largest region"
        )
    if args.json:
        print(json.dumps([box.as_dict() for box in boxes], ensure_ascii=False))
    else:
        print(summary)
        for box in boxes:
            print(
                f"  {box.label} (class {box.index}) {box.score:.3f}  "
                f"x {box.x0:.0f}–{box.x1:.0f}, y {box.y0:.0f}–{box.y1:.0f} px"
            )
    if out is not None and out.suffix.lower() == ".npy":
        rows = [[b.x0, b.y0, b.x1, b.y1, b.score, b.index] for b in boxes]
        _write(out, lambda path: np.save(path, np.asarray(rows, dtype=np.float32).reshape(-1, 6)))
    elif out is not None:
        _write(out, Image.fromarray(boxes_image(image, boxes)).save)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from cnnviz.explain import CLASS_MAPS
    from cnnviz.explain.deconvnet import METHODS
    from cnnviz.explain.detect import CAM_FRACTION, IOU, THRESHOLD
    from cnnviz.explain.featurevis import DEFAULT_STEPS, MAX_STEPS, OBJECTIVES
    from cnnviz.explain.occluders import METHODS as OCCLUSION_METHODS
    from cnnviz.explain.occlusion import FILLS
    from cnnviz.hardware import DTYPES, MAX_BATCH
    from cnnviz.layers import MAX_INPUT, MIN_INPUT, TABLE_FORMATS
    from cnnviz.texts import LANGUAGES
    from cnnviz.weights import WEIGHTS_CHOICES
    from cnnviz.zoo import ARCHITECTURES, DEFAULT_ARCH

    model = _Parser(add_help=False)  # what every command that runs a network takes
    model.add_argument("--arch", default=DEFAULT_ARCH, help=f"architecture (default {DEFAULT_ARCH}; see `archs`)")
    model.add_argument(
        "--weights", default="auto", help=f"{' | '.join(WEIGHTS_CHOICES)} | PATH of a state dict (default auto)"
    )
    model.add_argument("--device", default=None, help="cpu | cuda | cuda:N | mps (default: best available)")
    model.add_argument(
        "--lang", choices=tuple(LANGUAGES), default="en", help="language of class names and errors (default en)"
    )
    photo = _Parser(add_help=False, parents=[model])
    photo.add_argument("image", help="path of a JPEG, PNG, WebP, BMP, GIF or TIFF file")

    parser = _Parser(prog="cnnviz", description="Explore convolutional networks.")
    commands = parser.add_subparsers(dest="command", required=True)

    predict = commands.add_parser("predict", parents=[photo], help="top-k classes of an image")
    predict.add_argument("--top", type=whole(1, 1000), default=5, help="how many classes (default 5)")
    predict.add_argument("--json", action="store_true", help="print a JSON list of {rank, index, label, prob}")
    predict.set_defaults(run=_cmd_predict)

    occl = commands.add_parser("occlusion", parents=[photo], help="occlusion sensitivity maps (ZF Fig. 7)")
    occl.add_argument(
        "--window", type=whole(1, MAX_PIXELS_ARG), default=32, help="side of the grey square, input px (default 32)"
    )
    occl.add_argument(
        "--stride", type=whole(1, MAX_PIXELS_ARG), default=8, help="step between positions, input px (default 8)"
    )
    occl.add_argument("--fill", choices=FILLS, default="mean", help="what the square shows (default mean)")
    occl.add_argument("--target", type=whole(0, MAX_INDEX), default=None, help="class index (default: the clean top-1)")
    occl.add_argument("--layer", default=None, help="module name for the strongest-channel map")
    occl.add_argument("--out", default=None, help="FILE.npy (map (a), grid × grid float32) or FILE.png (overlay)")
    occl.add_argument(
        "--method",
        choices=OCCLUSION_METHODS,
        default="auto",
        help="incremental (recompute only what the square changes), full (whole images) or auto: the faster, "
        "measured on this model and device (default); the maps are the same",
    )
    occl.set_defaults(run=_cmd_occlusion)

    deconv = commands.add_parser("deconv", parents=[photo], help="deconvnet projection of a channel (ZF 2014)")
    deconv.add_argument("--layer", default=None, help="module name (default: the last conv stage)")
    deconv.add_argument(
        "--channel", type=whole(0, MAX_INDEX), default=None, help="channel (default: the strongest on this image)"
    )
    deconv.add_argument("--whole-map", action="store_true", help="project the whole map, not its strongest unit")
    deconv.add_argument("--method", choices=METHODS, default="auto", help="(default auto)")
    deconv.add_argument("--out", default=None, help="FILE.npy (raw C×H×W float32 at input size) or FILE.png")
    deconv.set_defaults(run=_cmd_deconv)

    classmap = commands.add_parser("classmap", parents=[photo], help="where the evidence for a class lies")
    classmap.add_argument("--method", choices=tuple(CLASS_MAPS), default="gradcam", help="(default gradcam)")
    classmap.add_argument("--target", type=whole(0, MAX_INDEX), default=None, help="class index (default: the top-1)")
    classmap.add_argument(
        "--layer", default=None, help="the module a CAM method explains (default: the last conv stage)"
    )
    classmap.add_argument("--out", default=None, help="FILE.npy (H×W float32 at input size) or FILE.png (overlay)")
    classmap.set_defaults(run=_cmd_classmap)

    localize = commands.add_parser(
        "localize", parents=[photo], help="where objects are: one-pass class grid, sliding windows + NMS, CAM box"
    )
    localize.add_argument("--method", choices=LOCALIZE_METHODS, default="fcn", help="(default fcn)")
    localize.add_argument(
        "--size",
        type=whole(1, MAX_PIXELS_ARG),
        default=None,
        help="fcn: the photo's short side in px, 1–3× the input (default 1×)",
    )
    localize.add_argument(
        "--target",
        type=whole(0, MAX_INDEX),
        default=None,
        help="class index (default: sliding any of the top-5, cam the top-1)",
    )
    localize.add_argument(
        "--threshold", type=share, default=THRESHOLD, help=f"sliding: lowest window score (default {THRESHOLD})"
    )
    localize.add_argument("--iou", type=share, default=IOU, help=f"sliding: suppression IoU (default {IOU})")
    localize.add_argument(
        "--fraction", type=share, default=CAM_FRACTION, help=f"cam: share of the maximum kept (default {CAM_FRACTION})"
    )
    localize.add_argument("--json", action="store_true", help="sliding / cam: print the boxes as JSON")
    localize.add_argument(
        "--out",
        default=None,
        help="FILE.npy (fcn: classes × rows × cols float32 probabilities; sliding / cam: boxes × 6 float32 "
        "x0 y0 x1 y1 score class) or FILE.png (the grid or the boxes over the photo)",
    )
    localize.set_defaults(run=_cmd_localize)

    visual = commands.add_parser(
        "visualize", parents=[model], help="the image a channel responds to most, optimised from noise (Olah 2017)"
    )
    visual.add_argument("--layer", default=None, help="module name (default: the last conv stage)")
    visual.add_argument("--channel", type=whole(0, MAX_INDEX), default=0, help="channel (default 0)")
    visual.add_argument("--objective", choices=OBJECTIVES, default="channel", help="its mean, or its centre unit")
    visual.add_argument(
        "--steps", type=whole(1, MAX_STEPS), default=DEFAULT_STEPS, help=f"1–{MAX_STEPS} (default {DEFAULT_STEPS})"
    )
    visual.add_argument(
        "--seed",
        type=whole(0, SEED_LIMIT - 1),
        default=0,
        help="seed of the starting noise and transforms, 0 to 2^63 − 1 (default 0)",
    )
    visual.add_argument(
        "--out",
        default=None,
        help="FILE.npy (the optimised input, 3×H×W float32 in the network's normalised space) or FILE.png",
    )
    visual.set_defaults(run=_cmd_visualize)

    patches = commands.add_parser(
        "patches", parents=[model], help="top-9 patches of a channel over a folder of images (ZF Fig. 2)"
    )
    patches.add_argument("folder")
    patches.add_argument("--layer", default=None, help="module name (default: the last conv stage)")
    patches.add_argument("--channel", type=whole(0, MAX_INDEX), default=0)
    patches.add_argument("--out", default=None, help="FILE.png: each projection next to its patch")
    patches.set_defaults(run=_cmd_patches)

    hardware = commands.add_parser(
        "hardware", help="latency, throughput and peak memory of architectures on this machine's CPU or GPU"
    )
    hardware.add_argument(
        "--arch",
        nargs="+",
        choices=ARCHITECTURES,
        default=[DEFAULT_ARCH],
        metavar="ARCH",
        help="architecture names (random weights; repeats are measured once)",
    )
    hardware.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | mps (default cpu)")
    hardware.add_argument("--dtype", choices=DTYPES, default="float32", help="float16 on CUDA only")
    hardware.add_argument(
        "--batch", type=whole(1, MAX_BATCH), default=None, help="throughput batch (default 8 on CPU, 64 on GPU)"
    )
    hardware.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list: per architecture latency_ms, images_per_s, batch, peak_memory_mb, device, …",
    )
    hardware.set_defaults(run=_cmd_hardware)

    archs = commands.add_parser("archs", help="list the architectures with parameters and weights status")
    archs.add_argument("--json", action="store_true")
    archs.set_defaults(run=_cmd_archs)

    layers = commands.add_parser("layers", help="layer table: shapes, parameters, MACs, memory, receptive field")
    layers.add_argument("arch", help="architecture name")
    layers.add_argument(
        "--input", type=whole(MIN_INPUT, MAX_INPUT), default=None, help="input side in pixels (default: the model's)"
    )
    layers.add_argument("--format", choices=TABLE_FORMATS, default="table")
    layers.set_defaults(run=_cmd_layers)

    fetch = commands.add_parser("fetch", help="download pretrained weights into the caches before going offline")
    fetch.add_argument("arch", nargs="*", help="architecture names")
    fetch.add_argument("--all", action="store_true", help="every architecture with published weights")
    fetch.set_defaults(run=_cmd_fetch)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CnnvizError as exc:
        print(f"cnnviz: error: {message(exc.key, getattr(args, 'lang', 'en'), **exc.values)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("cnnviz: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an environment failure: still one line, the traceback on request
        if os.environ.get("CNNVIZ_DEBUG"):
            raise
        first_line = (str(exc).splitlines() or [""])[0][:200]
        print(
            f"cnnviz: error: unexpected {type(exc).__name__}: {first_line} (CNNVIZ_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT

"""Command-line front end: ``cnnviz {predict,occlusion,deconv,classmap,localize,visualize,patches,hardware,
archs,layers,fetch} …`` (also ``python -m cnnviz``).

Every error (bad arguments, bad input, an output that cannot be written) exits with status 2 and one line
on stderr, never a traceback (``CNNVIZ_DEBUG=1`` shows the traceback of an unexpected one). Output paths
are checked before any computation.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass

from cnnviz.errors import CnnvizError
from cnnviz.messages import message

EXIT_BAD_INPUT = 2
CLI_MAX_GMACS = 100_000.0  # occlusion work one command may ask for (the web app allows less per request)


class _Parser(argparse.ArgumentParser):
    """argparse with its errors in one line (``cnnviz: error: …``) and exit status 2."""

    def error(self, message: str):
        print(f"cnnviz: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


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

    image = load_image(args.image)
    return image, _network(args).in_language(args.lang)


def _network(args: argparse.Namespace):
    """The network ``--arch`` names, with ``--weights``, ``--labels`` and (ONNX files) the preprocessing."""
    from cnnviz.models.loading import load

    return load(
        args.arch, weights=args.weights, device=args.device, labels=args.labels, preprocessing=_preprocessing(args)
    )


def _preprocessing(args: argparse.Namespace):
    """``--input-size``, ``--mean``, ``--std`` and ``--interpolation`` as a preprocessing record (None when
    none is given)."""
    from cnnviz.models.onnx_file import DEFAULT_SIZE, INTERPOLATIONS, preprocessing_for
    from cnnviz.models.preprocess import IMAGENET_MEAN, IMAGENET_STD

    given = (args.input_size, args.mean, args.std, args.interpolation)
    if all(value is None for value in given):
        return None
    return preprocessing_for(
        args.input_size or DEFAULT_SIZE,
        args.mean or IMAGENET_MEAN,
        args.std or IMAGENET_STD,
        args.interpolation or INTERPOLATIONS[0],
    )


def _comma_numbers(text: str) -> tuple[float, ...]:
    """The numbers of ``a,b,c`` (at most 80 characters); empty when it is not such a list."""
    try:
        return tuple(float(part) for part in text.split(",")) if len(text) <= 80 else ()
    except ValueError:
        return ()


def numbers(text: str) -> tuple[float, ...]:
    """An argparse ``type``: one to three finite numbers separated by commas (``0.485,0.456,0.406``)."""
    values = _comma_numbers(text)
    if not 1 <= len(values) <= 3 or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not one to three numbers separated by commas")
    return values


def _params(args: argparse.Namespace, name: str) -> dict:
    """The parameters of explanation method ``name`` as given on the command line."""
    from cnnviz.explain.methods import METHODS

    return {param.name: getattr(args, param.name) for param in METHODS[name].params}


def _run(args: argparse.Namespace, name: str, net, image, **extra):
    """Explanation method ``name`` through its record (:data:`cnnviz.explain.methods.METHODS`)."""
    from cnnviz.explain.methods import METHODS

    return METHODS[name].run(net, image, **extra, **_params(args, name))


def _warn_if_random(net) -> None:
    if not net.meaningful:
        print(f"warning: {net.spec.display} has random weights ({net.weights_detail})", file=sys.stderr)


def _cmd_predict(args: argparse.Namespace) -> int:
    from cnnviz.images import load_image
    from cnnviz.models.onnx_file import is_onnx_name
    from cnnviz.models.weights import WEIGHTS_CHOICES
    from cnnviz.models.zoo import get_spec
    from cnnviz.predict import at_most, check_top, predict

    zoo_classes = args.weights in WEIGHTS_CHOICES and not is_onnx_name(args.arch)
    if args.top is not None:  # a count the architecture cannot give is refused before any loading
        check_top(args.top, get_spec(args.arch).classes if zoo_classes else args.top)
    image = load_image(args.image)
    net = _network(args)
    english = net.categories
    net = net.in_language(args.lang)
    result = predict(net, image, top=at_most(net) if args.top is None else args.top)
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
    from cnnviz.models.weights import weights_status
    from cnnviz.models.zoo import ARCHITECTURES

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
    from cnnviz.models.weights import resolve, weights_status
    from cnnviz.models.zoo import ARCHITECTURES, get_spec

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

    from cnnviz.render import overlay

    out = _out_path(args, (".npy", ".png"))
    image, net = _image_and_model(args)

    def report(done: int, total: int) -> None:
        print(f"\r{done}/{total} positions", end="", file=sys.stderr, flush=True)

    start = time.perf_counter()
    maps = _run(args, "occlusion", net, image, progress=report, max_gmacs=CLI_MAX_GMACS)
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


def _cmd_deconv(args: argparse.Namespace) -> int:

    from cnnviz.render import projection_image

    out = _out_path(args, (".npy", ".png"))
    image, net = _image_and_model(args)
    projections = _run(args, "deconv", net, image)
    projection = projections[0]  # the requested channel, or the strongest one
    _warn_if_random(net)
    where = (
        "whole map"
        if projection.position is None
        else f"unit (row {projection.position[0]}, column {projection.position[1]})"
    )
    print(
        f"{net.spec.display} · {projection.layer} · channel {projection.channel} · {where} · activation "
        f"{projection.activation:.4g} · method {projection.method}"
    )
    if out is not None:
        _save_array_or_picture(out, projection.pixels, lambda: projection_image(projection.pixels))
    return 0


def _cmd_visualize(args: argparse.Namespace) -> int:
    import numpy as np

    out = _out_path(args, (".npy", ".png"))
    net = _network(args)
    result = _run(args, "visualize", net, None)
    _warn_if_random(net)
    print(
        f"{net.spec.display} · {result.layer} · channel {result.channel} ({result.objective}) · {result.steps} steps "
        f"in {result.seconds:.1f} s · activation {result.activation:.4g}"
    )
    if out is not None:
        _save_array_or_picture(out, result.normalised, lambda: (result.pixels * 255).round().astype(np.uint8))
    return 0


def _cmd_hardware(args: argparse.Namespace) -> int:
    from cnnviz.hardware import measure
    from cnnviz.models.zoo import get_spec

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


def _cmd_warm(args: argparse.Namespace) -> int:
    from cnnviz.warm import read_links, server_url, warm

    url, links = server_url(args.url), read_links(args.links)  # both checked before the server is asked
    warmed = warm(url, links, args.timeout, echo=lambda text: print(text, flush=True))
    return 0 if warmed.succeeded else 1


def _cmd_patches(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np
    from PIL import Image

    from cnnviz.explain.graphs import check_channel
    from cnnviz.explain.methods import default_layer
    from cnnviz.explain.patches import MAX_IMAGES
    from cnnviz.images import load_image
    from cnnviz.render import projection_image, tile_grid

    folder = Path(args.folder)
    if not folder.is_dir():
        raise CnnvizError("not_folder", path=str(folder))
    out = _out_path(args, (".png",))
    net = _network(args)
    layer = default_layer(net, args.layer)
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
    patches = _run(args, "patches", net, images)
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


def _cmd_trust(args: argparse.Namespace) -> int:
    from cnnviz.trust.evidence import evidence_map
    from cnnviz.trust.faithfulness import curve_figure, perturbation_curve
    from cnnviz.trust.localisation import POINTING
    from cnnviz.trust.randomisation import RANDOMISATION

    out = _out_path(args, (".png",))
    if args.check == POINTING and args.box is None:  # before the photo and the network are loaded
        raise CnnvizError("trust_box")
    image, net = _image_and_model(args)
    target = _target(net, image, args.target)
    _warn_if_random(net)
    if args.check == RANDOMISATION:
        return _randomisation(args, net, image, target, out)
    if args.check == POINTING:
        return _pointing(args, net, image, target)
    ranking = evidence_map(net, image, args.method, target)
    curve = perturbation_curve(net, image, ranking, args.check, target, steps=args.steps)
    if args.json:
        print(json.dumps(curve.as_dict()))
    else:
        name = net.categories[target]
        print(f"{net.spec.display} · {args.method} · {args.check} of class {target} ({name}), {args.steps} steps")
        print(f"area under the curve {curve.auc:.4f}; a random order of the pixels {curve.random_auc:.4f}")
    if out is not None:
        _write(out, lambda path: curve_figure(curve, args.method, path))
    return 0


def _pointing(args: argparse.Namespace, net, image, target: int) -> int:
    """``trust --check pointing``: the map's largest value inside ``--box``, and its share of the map there."""
    from cnnviz.trust.evidence import evidence_map
    from cnnviz.trust.localisation import box_in_input, localisation

    values = evidence_map(net, image, args.method, target)
    found = localisation(values, box_in_input(net.preprocess, image.size, args.box))
    if args.json:
        print(json.dumps({"method": args.method, "target": target, **found.as_dict()}))
        return 0
    where = "inside" if found.hit else "outside"
    print(f"{net.spec.display} · {args.method} · class {target} ({net.categories[target]})")
    print(
        f"the map's peak is {where} the box; {found.energy:.1%} of the map lies in it ({found.area:.1%} of the input)"
    )
    return 0


def box(text: str) -> tuple[float, float, float, float]:
    """An argparse ``type``: ``x0,y0,x1,y1`` in photo px, x0 < x1 and y0 < y1, each from 0 to 100,000."""
    values = _comma_numbers(text)
    fine = len(values) == 4 and all(0 <= v <= 100_000 for v in values)
    if not fine or values[0] >= values[2] or values[1] >= values[3]:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a box x0,y0,x1,y1 (photo px, x0 < x1, y0 < y1)")
    return values


def _randomisation(args: argparse.Namespace, net, image, target: int, out) -> int:
    """``trust --check randomisation``: the method's similarity to its trained map at each depth."""
    from cnnviz.trust.randomisation import cascading_randomisation, similarity_figure

    def report(done: int, total: int) -> None:
        print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

    result = cascading_randomisation(net, image, (args.method,), target, progress=report)
    print(file=sys.stderr)
    if args.json:
        print(json.dumps(result.as_dict(args.method)))
    else:
        name = net.categories[target]
        print(f"{net.spec.display} · {args.method} · class {target} ({name}), blocks re-drawn from the logits down")
        similarity = zip(result.layers, result.spearman[args.method], result.ssim[args.method], strict=True)
        for layer, rank, ssim in similarity:
            print(f"{layer:<28} Spearman {rank:6.3f}  SSIM {ssim:6.3f}")
    if out is not None:
        _write(out, lambda path: similarity_figure(result, args.method, path))
    return 0


def _target(net, image, target: int | None) -> int:
    """``target``, checked against the network's classes, or its top-1 class on ``image``."""
    import torch

    from cnnviz.explain.classmap import checked_target

    with torch.inference_mode():
        logits = net.model(net.to_input(net.preprocess(image)))
    return checked_target(logits, target)


def _grouped(names_by_reason: dict[str, list[str]], shown: int = 3) -> str:
    """``a.jpg, b.jpg and 4 more (reason); c.txt (other reason)``: files grouped by why they were skipped."""
    parts = []
    for reason, names in names_by_reason.items():
        listed = ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
        parts.append(f"{listed} ({reason.rstrip('.')})")
    return "; ".join(parts)


def _cmd_classmap(args: argparse.Namespace) -> int:
    import numpy as np

    from cnnviz.render import class_map_image

    out = _out_path(args, (".npy", ".png"))
    image, net = _image_and_model(args)

    def report(done: int, total: int) -> None:
        print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

    result = _run(args, "classmap", net, image, progress=report)
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


def _cmd_localize(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from cnnviz.render import boxes_image, grid_overlay

    out = _out_path(args, (".npy", ".png"))
    image, net = _image_and_model(args)
    found = _run(args, "localize", net, image)
    _warn_if_random(net)
    if args.method == "fcn":
        grid = found
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
        boxes = found.after
        summary = (
            f"{net.spec.display}: {found.windows} windows ({found.windows} forward passes, {found.seconds:.2f} s), "
            f"{len(found.before)} boxes scored ≥ {found.threshold:g}, {len(boxes)} left after non-max suppression "
            f"at IoU {found.iou:g}"
        )
    else:
        cam = found
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


def _cmd_conv(args: argparse.Namespace) -> int:
    """``conv``: a kernel slid over the photo at its own size (then ReLU and pooling if asked), or the deck's
    worked example."""
    from cnnviz import blocks
    from cnnviz.render import signed_picture

    if args.deck_example:
        example = blocks.worked_example()
        if args.json:
            print(json.dumps(example.as_dict()))
            return 0
        print(f"input {example.input} ⋆ kernel {example.kernel} (cross-correlation, stride 1, no padding)")
        for cell in example.cells:
            print(f"  output[{cell.row}][{cell.column}] = {cell.sum_text()}")
        print(f"output {example.output}; after ReLU {example.after_relu}")
        return 0
    if args.image is None:
        raise CnnvizError("conv_image")
    out = _out_path(args, (".npy", ".png"))
    weights = blocks.kernel(args.kernel)
    from cnnviz.images import load_image

    x = blocks.photo_input(load_image(args.image), grey=args.grey)
    y = blocks.convolve(x, weights, args.stride, args.padding, args.dilation)

    def shape(array) -> str:
        return "×".join(map(str, array.shape))

    sides = [
        blocks.output_side(n, k, args.stride, args.padding, args.dilation)
        for n, k in zip(x.shape[1:], weights.shape, strict=True)
    ]
    steps = [
        f"input {shape(x)}",
        f"{weights.shape[0]}×{weights.shape[1]} kernel, stride {args.stride}, padding {args.padding}, dilation "
        f"{args.dilation} → {shape(y)} (formula: {sides[0]}×{sides[1]})",
    ]
    if args.relu:
        y = blocks.relu(y)
        steps.append(f"ReLU → {float((y == 0).mean()):.0%} of units at zero")
    if args.pool:
        y = blocks.pool(y, args.pool, args.pool_size, args.pool_stride)
        stride = args.pool_size if args.pool_stride is None else args.pool_stride
        steps.append(f"{args.pool} pooling {args.pool_size}×{args.pool_size}, stride {stride} → {shape(y)}")
    print(" · ".join(steps))
    if out is not None:
        _save_array_or_picture(out, y, lambda: signed_picture(y))
    return 0


def _cmd_activations(args: argparse.Namespace) -> int:
    import numpy as np

    from cnnviz.render import colourise, tile_grid

    out = _out_path(args, (".npy", ".png"))
    image, net = _image_and_model(args)
    maps = _run(args, "activations", net, image)
    _warn_if_random(net)
    channels, height, width = maps.maps.shape
    strongest = ", ".join(str(int(c)) for c in maps.order[:5])
    print(
        f"{net.spec.display} · {maps.layer} · {channels} maps of {height}×{width} · mean {maps.mean:.4g}, max "
        f"{maps.max:.4g} · {maps.zero_fraction:.0%} of units at or below zero · {len(maps.never_active)} channels "
        f"never active · strongest: {strongest}"
    )
    if out is not None:

        def strongest_maps() -> np.ndarray:
            return tile_grid([colourise(maps.maps[c]) for c in maps.order[:16]], columns=4, zoom=max(1, 64 // width))

        _save_array_or_picture(out, maps.maps, strongest_maps)
    return 0


@dataclass(frozen=True)
class Presenter:
    """How the CLI shows an explanation method's record: ``show(args)`` runs it and prints or writes the
    result; ``out`` is the help of ``--out``, ``json`` that of ``--json`` where it prints JSON."""

    show: Callable[[argparse.Namespace], int]
    out: str
    json: str | None = None


PRESENTERS = {  # one per record of cnnviz.explain.methods.METHODS (tests/test_cli.py checks it)
    "occlusion": Presenter(_cmd_occlusion, "FILE.npy (map (a), grid × grid float32) or FILE.png (overlay)"),
    "deconv": Presenter(_cmd_deconv, "FILE.npy (raw C×H×W float32 at input size) or FILE.png"),
    "classmap": Presenter(_cmd_classmap, "FILE.npy (H×W float32 at input size) or FILE.png (overlay)"),
    "localize": Presenter(
        _cmd_localize,
        "FILE.npy (fcn: classes × rows × cols float32 probabilities; sliding / cam: boxes × 6 float32 "
        "x0 y0 x1 y1 score class) or FILE.png (the grid or the boxes over the photo)",
        json="sliding / cam: print the boxes as JSON",
    ),
    "visualize": Presenter(
        _cmd_visualize, "FILE.npy (the optimised input, 3×H×W float32 in the network's normalised space) or FILE.png"
    ),
    "patches": Presenter(_cmd_patches, "FILE.png: each projection next to its patch"),
    "activations": Presenter(_cmd_activations, "FILE.npy (C×H×W float32) or FILE.png (the 16 strongest maps)"),
}


def _argparse_options(param) -> dict:
    """``add_argument``'s options for an explanation method's parameter."""
    if param.kind == "flag":
        return {"action": "store_true", "help": param.help}
    options = {"default": param.default, "help": param.help}
    if param.kind == "whole":
        options["type"] = whole(param.low, param.high)
    elif param.kind == "share":
        options["type"] = share
    elif param.kind == "choice":
        options["choices"] = param.choices
    return options


def build_parser() -> argparse.ArgumentParser:
    from cnnviz.blocks import KERNELS, MAX_DILATION, MAX_PADDING, MAX_STRIDE, POOLS
    from cnnviz.explain.methods import METHODS
    from cnnviz.hardware import DTYPES, MAX_BATCH
    from cnnviz.layers import MAX_INPUT, MIN_INPUT, TABLE_FORMATS
    from cnnviz.models.weights import WEIGHTS_CHOICES
    from cnnviz.models.zoo import ARCHITECTURES, DEFAULT_ARCH
    from cnnviz.texts import LANGUAGES
    from cnnviz.trust.evidence import EVIDENCE_METHODS
    from cnnviz.trust.faithfulness import DEFAULT_STEPS, KINDS, STEPS_RANGE
    from cnnviz.trust.localisation import POINTING
    from cnnviz.trust.randomisation import RANDOMISATION

    model = _Parser(add_help=False)  # what every command that runs a network takes
    model.add_argument(
        "--arch",
        default=DEFAULT_ARCH,
        help=f"a zoo architecture (default {DEFAULT_ARCH}; see `archs`), torchvision:NAME, timm:NAME or onnx:FILE",
    )
    model.add_argument(
        "--weights",
        default="auto",
        help=f"{' | '.join(WEIGHTS_CHOICES)} | PATH of a checkpoint (.pt, .pth, .safetensors; any class count)"
        " (default auto)",
    )
    model.add_argument(
        "--labels", default=None, metavar="FILE", help="the checkpoint's class names, one a line (default: class 0 …)"
    )
    onnx = "ONNX files (--arch onnx:FILE) only"
    model.add_argument(
        "--input-size", type=whole(32, 1024), default=None, metavar="PX", help=f"input side in px; {onnx} (default 224)"
    )
    model.add_argument(
        "--mean", type=numbers, default=None, help=f"per-channel mean, 0–1 scale; {onnx} (default ImageNet's)"
    )
    model.add_argument(
        "--std", type=numbers, default=None, help=f"per-channel std, 0–1 scale; {onnx} (default ImageNet's)"
    )
    model.add_argument(
        "--interpolation",
        choices=("bilinear", "bicubic"),
        default=None,
        help=f"how the photo is resized; {onnx} (default bilinear; timm's EfficientNets use bicubic)",
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
    predict.add_argument(
        "--top", type=whole(1, 1000), default=None, help="how many classes (default 5, or all when fewer)"
    )
    predict.add_argument("--json", action="store_true", help="print a JSON list of {rank, index, label, prob}")
    predict.set_defaults(run=_cmd_predict)

    for method in METHODS.values():  # one subcommand per explanation method, its flags from the record
        shown = PRESENTERS[method.name]
        parents = [photo] if method.images == "one" else [model]
        command = commands.add_parser(method.name, parents=parents, help=method.summary)
        if method.images == "set":
            command.add_argument("folder", help="a folder of images to search (what is not an image is skipped)")
        for param in method.params:
            command.add_argument(f"--{param.name.replace('_', '-')}", **_argparse_options(param))
        if shown.json:
            command.add_argument("--json", action="store_true", help=shown.json)
        command.add_argument("--out", default=None, help=shown.out)
        command.set_defaults(run=shown.show)

    warm = commands.add_parser(
        "warm", help="before class: compute on the server every heavy result a lecture's links need"
    )
    warm.add_argument("links", help="a text file of the lecture's links, one per line ('-': standard input)")
    warm.add_argument("--url", required=True, help="the server, as the class opens it: http://host:port")
    warm.add_argument(
        "--timeout", type=whole(10, 86_400), default=3600, help="seconds to wait for the server (default 3600)"
    )
    warm.set_defaults(run=_cmd_warm)

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

    trust = commands.add_parser(
        "trust", parents=[photo], help="can we trust the map? deletion and insertion curves of a method's map"
    )
    trust.add_argument("--method", choices=EVIDENCE_METHODS, default="gradcam", help="the map to check")
    trust.add_argument(
        "--check", choices=(RANDOMISATION, *KINDS, POINTING), default="deletion", help="the check (default deletion)"
    )
    trust.add_argument("--box", type=box, default=None, help="for pointing: the object's box x0,y0,x1,y1 in photo px")
    trust.add_argument("--target", type=whole(0, 999_999), default=None, help="class index (default: the top-1)")
    trust.add_argument(
        "--steps",
        type=whole(*STEPS_RANGE),
        default=DEFAULT_STEPS,
        help=f"points of the curve (default {DEFAULT_STEPS})",
    )
    trust.add_argument("--json", action="store_true", help="print {fractions, probabilities, auc, random_auc, …}")
    trust.add_argument("--out", default=None, help="draw the curves to a .png file")
    trust.set_defaults(run=_cmd_trust)

    conv = commands.add_parser(
        "conv", help="a kernel slid over a photo (stride, padding, dilation, ReLU, pooling), or the deck's example"
    )
    conv.add_argument("image", nargs="?", default=None, help="path of a photo (at its own size, up to 1.2 megapixels)")
    conv.add_argument(
        "--kernel",
        default="sobel-x",
        help=f'{" | ".join(KERNELS)} | rows of numbers, "a,b,c;d,e,f;g,h,i" (a minus first: --kernel=-1,0,1;…)'
        " (default sobel-x)",
    )
    conv.add_argument("--stride", type=whole(1, MAX_STRIDE), default=1, help="px between kernel positions (default 1)")
    conv.add_argument("--padding", type=whole(0, MAX_PADDING), default=0, help="px of zeros on every side (default 0)")
    conv.add_argument("--dilation", type=whole(1, MAX_DILATION), default=1, help="px between kernel taps (default 1)")
    conv.add_argument("--relu", action="store_true", help="ReLU after the convolution")
    conv.add_argument("--pool", choices=POOLS, default=None, help="pooling after the convolution (and ReLU)")
    conv.add_argument("--pool-size", type=whole(1, MAX_STRIDE), default=2, help="pooling window side, px (default 2)")
    conv.add_argument(
        "--pool-stride", type=whole(1, MAX_STRIDE), default=None, help="px between windows (default: the size)"
    )
    conv.add_argument("--grey", action="store_true", help="convolve the luminance instead of each colour channel")
    conv.add_argument("--deck-example", action="store_true", help="print deck 001's convolution worked by hand")
    conv.add_argument("--json", action="store_true", help="with --deck-example: {input, kernel, output, relu}")
    conv.add_argument(
        "--out",
        default=None,
        help="FILE.npy (C×H×W float32) or FILE.png (0 mid grey, the largest magnitude black/white)",
    )
    conv.add_argument("--lang", choices=tuple(LANGUAGES), default="en", help="language of errors (default en)")
    conv.set_defaults(run=_cmd_conv)

    archs = commands.add_parser("archs", help="list the architectures with parameters and weights status")
    archs.add_argument("--json", action="store_true")
    archs.set_defaults(run=_cmd_archs)

    layers = commands.add_parser("layers", help="layer table: shapes, parameters, MACs, memory, receptive field")
    layers.add_argument("arch", help="a zoo architecture, torchvision:NAME, timm:NAME or onnx:FILE")
    layers.add_argument(
        "--input", type=whole(MIN_INPUT, MAX_INPUT), default=None, help="input side in pixels (default: the model's)"
    )
    layers.add_argument("--format", choices=TABLE_FORMATS, default="table")
    layers.set_defaults(run=_cmd_layers)

    fetch = commands.add_parser("fetch", help="download pretrained weights into the caches before going offline")
    fetch.add_argument("arch", nargs="*", help="zoo architectures, or torchvision:NAME or timm:NAME")
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

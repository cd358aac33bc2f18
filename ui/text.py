"""User-interface text, one catalogue per language; pages look strings up with :func:`t`.

Only English exists so far; every key a page uses must be here, with ``{placeholders}`` for values.
"""

from __future__ import annotations

EN = {
    "app.title": "cnnviz",
    "app.tagline": "Explore convolutional networks, from LeNet-5 to EfficientNet.",
    "page.predict": "Predict",
    "sidebar.arch": "Architecture",
    "sidebar.arch_help": (
        "The network to explore. EfficientNet-Lite0 ships with real ImageNet weights and works offline."
    ),
    "sidebar.image": "Image",
    "sidebar.source": "Source",
    "source.gallery": "Gallery",
    "source.upload": "Upload",
    "source.camera": "Camera",
    "sidebar.gallery_pick": "Gallery photo",
    "sidebar.upload": "Upload a photo (JPEG, PNG, WebP, BMP, GIF, TIFF)",
    "sidebar.camera": "Take a photo",
    "sidebar.device": "Device",
    "sidebar.device_auto": "best available",
    "predict.header": "What does {arch} see?",
    "predict.no_image": "Choose a gallery photo, upload one, or take one with the camera (sidebar).",
    "predict.input": "Your image",
    "predict.crop": "What the network sees: {size}×{size} px",
    "predict.crop_help": "Preprocessing: {steps}",
    "predict.top5": "Top-5 predictions",
    "predict.prob": "Probability",
    "predict.class": "Class",
    "predict.weights": "Weights: **{source}** — {detail}",
    "predict.device": "Device: **{device}**",
    "predict.random_warning": (
        "{arch} has **random weights** here, so its predictions are meaningless: use it for its structure. "
        "({detail})"
    ),
    "predict.fetch_hint": "For its trained weights, run `python -m cnnviz fetch {name}` on a machine with a network.",
    "predict.paper": "{paper}.",
    "predict.loading": "Loading {arch}…",
    "about.title": "About {arch}",
    "about.family": (
        "**Family:** {family} · **Year:** {year} · **Input:** {size}×{size} px · **Parameters:** {params:,}"
    ),
    "about.ilsvrc": "**ImageNet challenge:** {ilsvrc}",
    "about.top5": "**Top-5 error in the lectures:** {error}% ({source})",
    "about.keras": "**Keras Applications table:** top-1 {top1}%, top-5 {top5}%, {params} M parameters",
    "error.image": "{message}",
    "error.weights": "The weights for {arch} cannot be loaded: {message}",
    "error.device": "{message}",
    "weights.bundled": "bundled",
    "weights.cached": "cached",
    "weights.downloaded": "downloaded",
    "weights.random": "random",
    "weights.file": "from a file",
}

CATALOGUES = {"en": EN}


def t(key: str, lang: str = "en", **values) -> str:
    """The text for ``key`` in ``lang`` with ``values`` filled in (English when the language lacks it)."""
    catalogue = CATALOGUES.get(lang, EN)
    return catalogue.get(key, EN[key]).format(**values)

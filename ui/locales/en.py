"""English user-interface text (the reference catalogue: every other language has these keys)."""

CATALOGUE = {
    "app.title": "cnnviz",
    "page.predict": "Predict",
    "page.layers": "Layers",
    "page.compare": "Compare",
    "page.arithmetic": "Conv arithmetic",
    "page.occlusion": "Occlusion",
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
    "sidebar.language": "Language",
    "gallery.chelsea": "a tabby cat (Chelsea)",
    "gallery.coffee": "a cup of espresso",
    "gallery.astronaut": "astronaut Eileen Collins",
    "gallery.rocket": "a rocket on its launch pad",
    "gallery.camera": "a cameraman (grey scale)",
    "gallery.coins": "Greek coins (grey scale)",
    "gallery.digit": "a handwritten 3, dark ink on paper (for LeNet-5)",
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
    "layers.header": "Inside {arch}",
    "layers.input": "Input size (px)",
    "layers.input_help": "Side of the square input image; the table is recomputed for it.",
    "layers.params": "Parameters",
    "layers.macs": "Multiply-accumulates",
    "layers.memory": "Activations (fp32)",
    "layers.count": "Layers",
    "layers.convention": (
        "Counting conventions: **MACs** are multiply-accumulates from `torch.utils.flop_counter` (1 MAC = "
        "2 FLOPs; bias additions not counted; the slides' “flops” are MACs with the bias). **Parameters** "
        "include biases (**weights** exclude them, as the slides do). **Activations** are output elements "
        "per image, 4 bytes each in fp32; in-place layers reuse their input. **RF** is the receptive field "
        "in input pixels and **jump** the input-pixel distance between neighbouring outputs; “global” means "
        "the whole image."
    ),
    "layers.slides": "Lecture table vs cnnviz",
    "layers.slides_source": "Source: {source}. Slide numbers are rounded as printed.",
    "layers.slides_agree": "Every row of the slide agrees with cnnviz.",
    "layers.slides_differ": "{count} row(s) differ from the slide; cnnviz follows the paper:",
    "layers.expand_all": "Expand every block",
    "layers.expand": "Expand blocks",
    "layers.expand_help": "Residual, Inception and dense blocks are collapsed to one row; pick some to see inside.",
    "layers.table": "Layer table",
    "layers.download": "Download CSV (every layer)",
    "layers.params_chart": "Parameters per layer",
    "layers.memory_chart": "Activation memory per layer (MiB)",
    "layers.diagram": "Block diagram",
    "layers.diagram_network": "Whole network",
    "layers.diagram_block": "Inside a block",
    "layers.block_pick": "Block",
    "layers.no_blocks": "{arch} is a plain chain of layers: it has no blocks.",
    "layers.untraceable": "This block cannot be drawn (its forward pass depends on the data).",
    "compare.header": "Architectures compared",
    "compare.metric": "Accuracy",
    "compare.chart_caption": (
        "ImageNet accuracy from each model's published weights metadata (torchvision), against "
        "multiply-accumulates per image counted by cnnviz; bubble area = parameters. Models whose weights "
        "carry no accuracy metadata ({missing}) are listed in the table only."
    ),
    "compare.table": "Every architecture in cnnviz",
    "compare.ilsvrc": "ILSVRC classification results (top-5 error, %) from the lectures",
    "compare.timeline": "Timeline",
    "compare.vgg": "VGG configurations of the paper (Table 2): parameters in millions",
    "compare.computing": "Counting every architecture…",
    "arith.header": "Convolution arithmetic",
    "arith.layer": "One convolution layer",
    "arith.n": "Input size N (px)",
    "arith.f": "Filter size F",
    "arith.p": "Padding P",
    "arith.s": "Stride S",
    "arith.c_in": "Input channels",
    "arith.c_out": "Filters (output channels)",
    "arith.groups": "Groups",
    "arith.output": "Output size",
    "arith.params": "Parameters (F·F·C_in/groups + 1)·C_out",
    "arith.macs": "Multiply-accumulates",
    "arith.bottleneck": "1×1 bottleneck",
    "arith.bottleneck_text": (
        "{f}×{f} convolution from {c_in} to {c_out} channels on {n}×{n}: directly, or after a 1×1 reduction to "
        "{c_mid} channels."
    ),
    "arith.c_mid": "Channels after the 1×1 reduction",
    "arith.direct": "Direct",
    "arith.factored": "With 1×1 first",
    "arith.ratio": "{weights:.1f}× fewer weights, {macs:.1f}× fewer MACs with the bottleneck.",
    "arith.stacked": "Stacked 3×3 vs one large filter",
    "arith.layers": "Stacked 3×3 layers",
    "arith.channels": "Channels C",
    "arith.stacked_text": (
        "{layers} stacked 3×3 layers see a {field}×{field} region, like one {field}×{field} filter: "
        "{factored:,} weights ({layers}·9·C² = {coef_f}C²) instead of {direct:,} ({coef_d}C²), with a ReLU "
        "between each."
    ),
    "occl.header": "Where does {arch} look?",
    "occl.intro": (
        "A square slides over the picture the network sees (Zeiler & Fergus 2014, Fig. 7). For every position: "
        "(a) the probability of the target class, (b) the most probable class, (c) the total activation of the "
        "strongest channel of a layer. If the network looks at the object, covering it hurts most."
    ),
    "occl.window": "Window (px)",
    "occl.stride": "Stride (px)",
    "occl.fill": "Fill",
    "occl.fill_mean": "dataset mean (grey)",
    "occl.fill_black": "black",
    "occl.fill_blur": "blurred image",
    "occl.target": "Target class",
    "occl.layer": "Layer for map (c)",
    "occl.positions": "{count:,} positions ({grid}×{grid}).",
    "occl.run": "Compute the maps",
    "occl.progress": "{done} of {total} positions",
    "occl.done": "{count:,} positions in {seconds:.1f} s on {device}, {batch} copies per forward pass.",
    "occl.cached": "Already computed for this image and these settings (shared by everyone on this server).",
    "occl.cpu_fallback": "The GPU ran out of memory even one image at a time ({message}); computing on the CPU instead, which is slower.",
    "occl.press_run": "Press **Compute the maps**.",
    "occl.map_a": "(a) Probability of “{label}”",
    "occl.map_a_help": "Clean image: {clean:.1%}. Dark = covering that square lowers the probability most.",
    "occl.overlay_help": "Same colours as (a); each pixel is the mean over the windows that cover it.",
    "occl.map_b": "(b) Most probable class",
    "occl.map_c": "(c) Strongest channel of {layer} (channel {channel})",
    "occl.overlay": "Map (a) over the picture the network sees",
    "occl.legend_prob": "probability",
    "occl.legend_class": "class",
    "occl.legend_activation": "total activation",
    "weights.bundled": "bundled",
    "weights.cached": "cached",
    "weights.downloaded": "downloaded",
    "weights.random": "random",
    "weights.file": "from a file",
}

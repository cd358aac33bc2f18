"""Texto de la interfaz en español (las mismas claves que el catálogo en inglés)."""

CATALOGUE = {
    "app.title": "cnnviz",
    "page.predict": "Predicción",
    "page.layers": "Capas",
    "page.compare": "Comparar",
    "page.arithmetic": "Aritmética de la convolución",
    "page.occlusion": "Oclusión",
    "sidebar.arch": "Arquitectura",
    "sidebar.arch_help": (
        "La red a explorar. EfficientNet-Lite0 incluye pesos reales de ImageNet y funciona sin conexión."
    ),
    "sidebar.image": "Imagen",
    "sidebar.source": "Origen",
    "source.gallery": "Galería",
    "source.upload": "Subir",
    "source.camera": "Cámara",
    "sidebar.gallery_pick": "Foto de la galería",
    "sidebar.upload": "Sube una foto (JPEG, PNG, WebP, BMP, GIF, TIFF)",
    "sidebar.camera": "Toma una foto",
    "sidebar.device": "Dispositivo",
    "sidebar.device_auto": "el mejor disponible",
    "sidebar.language": "Idioma",
    "gallery.chelsea": "un gato atigrado (Chelsea)",
    "gallery.coffee": "una taza de espresso",
    "gallery.astronaut": "la astronauta Eileen Collins",
    "gallery.rocket": "un cohete en su plataforma de lanzamiento",
    "gallery.camera": "un camarógrafo (escala de grises)",
    "gallery.coins": "monedas griegas (escala de grises)",
    "gallery.digit": "un 3 manuscrito, tinta oscura sobre papel (para LeNet-5)",
    "predict.header": "¿Qué ve {arch}?",
    "predict.no_image": "Elige una foto de la galería, sube una o toma una con la cámara (barra lateral).",
    "predict.input": "Tu imagen",
    "predict.crop": "Lo que ve la red: {size}×{size} px",
    "predict.crop_help": "Preprocesamiento: {steps}",
    "predict.top5": "Las 5 clases más probables",
    "predict.prob": "Probabilidad",
    "predict.class": "Clase",
    "predict.weights": "Pesos: **{source}** — {detail}",
    "predict.device": "Dispositivo: **{device}**",
    "predict.random_warning": (
        "{arch} tiene **pesos aleatorios** aquí, así que sus predicciones no significan nada: úsala para "
        "estudiar su estructura. ({detail})"
    ),
    "predict.fetch_hint": "Para obtener los pesos entrenados, ejecuta `python -m cnnviz fetch {name}` en una máquina con red.",
    "predict.paper": "{paper}.",
    "predict.loading": "Cargando {arch}…",
    "about.title": "Acerca de {arch}",
    "about.family": (
        "**Familia:** {family} · **Año:** {year} · **Entrada:** {size}×{size} px · **Parámetros:** {params:,}"
    ),
    "about.ilsvrc": "**Desafío ImageNet:** {ilsvrc}",
    "about.top5": "**Error top-5 en las clases:** {error}% ({source})",
    "about.keras": "**Tabla de Keras Applications:** top-1 {top1}%, top-5 {top5}%, {params} M de parámetros",
    "error.image": "{message}",
    "error.weights": "No se pueden cargar los pesos de {arch}: {message}",
    "error.device": "{message}",
    "layers.header": "Dentro de {arch}",
    "layers.input": "Tamaño de la entrada (px)",
    "layers.input_help": "Lado de la imagen cuadrada de entrada; la tabla se recalcula para ese tamaño.",
    "layers.params": "Parámetros",
    "layers.macs": "Multiplicaciones-acumulaciones",
    "layers.memory": "Activaciones (fp32)",
    "layers.count": "Capas",
    "layers.convention": (
        "Convenciones de conteo: **MACs** son multiplicaciones-acumulaciones contadas por "
        "`torch.utils.flop_counter` (1 MAC = 2 FLOPs; las sumas del bias no se cuentan; los “flops” de las "
        "diapositivas son MACs con el bias). **Parámetros** incluyen los bias (**pesos** no, como en las "
        "diapositivas). **Activaciones** son los elementos de salida por imagen, 4 bytes cada uno en fp32; las "
        "capas in-place reutilizan su entrada. **RF** es el campo receptivo en píxeles de entrada y **jump** la "
        "distancia, en píxeles de entrada, entre salidas vecinas; “global” significa la imagen entera."
    ),
    "layers.slides": "Tabla de la clase vs cnnviz",
    "layers.slides_source": "Fuente: {source}. Los números de las diapositivas están redondeados como se imprimieron.",
    "layers.slides_agree": "Todas las filas de la diapositiva coinciden con cnnviz.",
    "layers.slides_differ": "{count} fila(s) difieren de la diapositiva; cnnviz sigue el artículo:",
    "layers.expand_all": "Expandir todos los bloques",
    "layers.expand": "Expandir bloques",
    "layers.expand_help": (
        "Los bloques residuales, Inception y densos se muestran en una sola fila; elige algunos para verlos por dentro."
    ),
    "layers.table": "Tabla de capas",
    "layers.download": "Descargar CSV (todas las capas)",
    "layers.params_chart": "Parámetros por capa",
    "layers.memory_chart": "Memoria de activaciones por capa (MiB)",
    "layers.diagram": "Diagrama de bloques",
    "layers.diagram_network": "Red completa",
    "layers.diagram_block": "Dentro de un bloque",
    "layers.block_pick": "Bloque",
    "layers.no_blocks": "{arch} es una cadena simple de capas: no tiene bloques.",
    "layers.untraceable": "Este bloque no se puede dibujar (su forward depende de los datos).",
    "compare.header": "Arquitecturas comparadas",
    "compare.metric": "Exactitud",
    "compare.chart_caption": (
        "Exactitud en ImageNet tomada de los metadatos de los pesos publicados de cada modelo (torchvision), "
        "frente a las multiplicaciones-acumulaciones por imagen contadas por cnnviz; área de la burbuja = "
        "parámetros. Los modelos cuyos pesos no traen exactitud en sus metadatos ({missing}) solo aparecen en "
        "la tabla."
    ),
    "compare.table": "Todas las arquitecturas de cnnviz",
    "compare.ilsvrc": "Resultados de clasificación de ILSVRC (error top-5, %) de las clases",
    "compare.timeline": "Línea de tiempo",
    "compare.vgg": "Configuraciones de VGG en el artículo (Tabla 2): parámetros en millones",
    "compare.computing": "Contando todas las arquitecturas…",
    "arith.header": "Aritmética de la convolución",
    "arith.layer": "Una capa de convolución",
    "arith.n": "Tamaño de la entrada N (px)",
    "arith.f": "Tamaño del filtro F",
    "arith.p": "Padding P",
    "arith.s": "Stride S",
    "arith.c_in": "Canales de entrada",
    "arith.c_out": "Filtros (canales de salida)",
    "arith.groups": "Grupos",
    "arith.output": "Tamaño de la salida",
    "arith.params": "Parámetros (F·F·C_in/grupos + 1)·C_out",
    "arith.macs": "Multiplicaciones-acumulaciones",
    "arith.bottleneck": "Cuello de botella 1×1",
    "arith.bottleneck_text": (
        "Convolución {f}×{f} de {c_in} a {c_out} canales sobre {n}×{n}: directa, o tras una reducción 1×1 a "
        "{c_mid} canales."
    ),
    "arith.c_mid": "Canales tras la reducción 1×1",
    "arith.direct": "Directa",
    "arith.factored": "Con 1×1 antes",
    "arith.ratio": "{weights:.1f}× menos pesos y {macs:.1f}× menos MACs con el cuello de botella.",
    "arith.stacked": "3×3 apiladas vs un filtro grande",
    "arith.layers": "Capas 3×3 apiladas",
    "arith.channels": "Canales C",
    "arith.stacked_text": (
        "{layers} capas 3×3 apiladas ven una región de {field}×{field}, como un filtro de {field}×{field}: "
        "{factored:,} pesos ({layers}·9·C² = {coef_f}C²) en lugar de {direct:,} ({coef_d}C²), con una ReLU "
        "entre cada una."
    ),
    "occl.header": "¿Hacia dónde mira {arch}?",
    "occl.intro": (
        "Un cuadrado se desliza sobre la imagen que ve la red (Zeiler & Fergus 2014, Fig. 7). Para cada "
        "posición: (a) la probabilidad de la clase objetivo, (b) la clase más probable, (c) la activación total "
        "del canal más fuerte de una capa. Si la red mira al objeto, taparlo es lo que más la afecta."
    ),
    "occl.window": "Ventana (px)",
    "occl.stride": "Paso (px)",
    "occl.fill": "Relleno",
    "occl.fill_mean": "media del conjunto de datos (gris)",
    "occl.fill_black": "negro",
    "occl.fill_blur": "imagen desenfocada",
    "occl.target": "Clase objetivo",
    "occl.layer": "Capa del mapa (c)",
    "occl.positions": "{count:,} posiciones ({grid}×{grid}).",
    "occl.run": "Calcular los mapas",
    "occl.progress": "{done} de {total} posiciones",
    "occl.done": "{count:,} posiciones en {seconds:.1f} s en {device}, {batch} copias por pasada.",
    "occl.cached": "Ya calculado para esta imagen y estos ajustes (compartido por todos en este servidor).",
    "occl.cpu_fallback": "La GPU se quedó sin memoria incluso con una imagen a la vez ({message}); se calcula en la CPU, que es más lenta.",
    "occl.press_run": "Pulsa **Calcular los mapas**.",
    "occl.map_a": "(a) Probabilidad de “{label}”",
    "occl.map_a_help": "Imagen limpia: {clean:.1%}. Oscuro = tapar ese cuadrado es lo que más baja la probabilidad.",
    "occl.overlay_help": "Mismos colores que (a); cada píxel es la media de las ventanas que lo cubren.",
    "occl.map_b": "(b) Clase más probable",
    "occl.map_c": "(c) Canal más fuerte de {layer} (canal {channel})",
    "occl.overlay": "Mapa (a) sobre la imagen que ve la red",
    "occl.legend_prob": "probabilidad",
    "occl.legend_class": "clase",
    "occl.legend_activation": "activación total",
    "weights.bundled": "incluidos",
    "weights.cached": "en caché",
    "weights.downloaded": "descargados",
    "weights.random": "aleatorios",
    "weights.file": "de un archivo",
}

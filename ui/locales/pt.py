"""Texto da interface em português do Brasil (mesmas chaves do catálogo em inglês)."""

CATALOGUE = {
    "app.title": "cnnviz",
    "page.predict": "Predição",
    "page.layers": "Camadas",
    "page.compare": "Comparar",
    "page.arithmetic": "Aritmética da convolução",
    "page.occlusion": "Oclusão",
    "sidebar.arch": "Arquitetura",
    "sidebar.arch_help": (
        "A rede a explorar. A EfficientNet-Lite0 já vem com pesos reais da ImageNet e funciona sem internet."
    ),
    "sidebar.image": "Imagem",
    "sidebar.source": "Origem",
    "source.gallery": "Galeria",
    "source.upload": "Enviar",
    "source.camera": "Câmera",
    "sidebar.gallery_pick": "Foto da galeria",
    "sidebar.upload": "Envie uma foto (JPEG, PNG, WebP, BMP, GIF, TIFF)",
    "sidebar.camera": "Tire uma foto",
    "sidebar.device": "Dispositivo",
    "sidebar.device_auto": "o melhor disponível",
    "sidebar.language": "Idioma",
    "gallery.chelsea": "um gato malhado (Chelsea)",
    "gallery.coffee": "uma xícara de espresso",
    "gallery.astronaut": "a astronauta Eileen Collins",
    "gallery.rocket": "um foguete na plataforma de lançamento",
    "gallery.camera": "um cinegrafista (tons de cinza)",
    "gallery.coins": "moedas gregas (tons de cinza)",
    "gallery.digit": "um 3 manuscrito, tinta escura no papel (para a LeNet-5)",
    "predict.header": "O que a {arch} vê?",
    "predict.no_image": "Escolha uma foto da galeria, envie uma ou tire uma com a câmera (barra lateral).",
    "predict.input": "Sua imagem",
    "predict.crop": "O que a rede vê: {size}×{size} px",
    "predict.crop_help": "Pré-processamento: {steps}",
    "predict.top5": "As 5 classes mais prováveis",
    "predict.prob": "Probabilidade",
    "predict.class": "Classe",
    "predict.weights": "Pesos: **{source}** — {detail}",
    "predict.device": "Dispositivo: **{device}**",
    "predict.random_warning": (
        "A {arch} está com **pesos aleatórios** aqui, então suas predições não têm significado: use-a para "
        "estudar a estrutura. ({detail})"
    ),
    "predict.fetch_hint": "Para obter os pesos treinados, rode `python -m cnnviz fetch {name}` numa máquina com internet.",
    "predict.paper": "{paper}.",
    "predict.loading": "Carregando a {arch}…",
    "about.title": "Sobre a {arch}",
    "about.family": (
        "**Família:** {family} · **Ano:** {year} · **Entrada:** {size}×{size} px · **Parâmetros:** {params:,}"
    ),
    "about.ilsvrc": "**Desafio ImageNet:** {ilsvrc}",
    "about.top5": "**Erro top-5 nas aulas:** {error}% ({source})",
    "about.keras": "**Tabela Keras Applications:** top-1 {top1}%, top-5 {top5}%, {params} M de parâmetros",
    "error.image": "{message}",
    "error.weights": "Não foi possível carregar os pesos da {arch}: {message}",
    "error.device": "{message}",
    "layers.header": "Por dentro da {arch}",
    "layers.input": "Tamanho da entrada (px)",
    "layers.input_help": "Lado da imagem quadrada de entrada; a tabela é recalculada para ele.",
    "layers.params": "Parâmetros",
    "layers.macs": "Multiplicações-acumulações",
    "layers.memory": "Ativações (fp32)",
    "layers.count": "Camadas",
    "layers.convention": (
        "Convenções de contagem: **MACs** são multiplicações-acumulações contadas por `torch.utils.flop_counter` "
        "(1 MAC = 2 FLOPs; as somas do bias não entram; os “flops” dos slides são MACs com o bias). "
        "**Parâmetros** incluem os bias (**pesos** não, como nos slides). **Ativações** são os elementos de "
        "saída por imagem, 4 bytes cada em fp32; camadas in-place reutilizam a entrada. **RF** é o campo "
        "receptivo em pixels da entrada e **jump** a distância, em pixels da entrada, entre saídas vizinhas; "
        "“global” significa a imagem inteira."
    ),
    "layers.slides": "Tabela da aula vs cnnviz",
    "layers.slides_source": "Fonte: {source}. Os números dos slides estão arredondados como impressos.",
    "layers.slides_agree": "Todas as linhas do slide concordam com o cnnviz.",
    "layers.slides_differ": "{count} linha(s) diferem do slide; o cnnviz segue o artigo:",
    "layers.expand_all": "Expandir todos os blocos",
    "layers.expand": "Expandir blocos",
    "layers.expand_help": (
        "Blocos residuais, Inception e densos aparecem como uma linha só; escolha alguns para ver por dentro."
    ),
    "layers.table": "Tabela de camadas",
    "layers.download": "Baixar CSV (todas as camadas)",
    "layers.params_chart": "Parâmetros por camada",
    "layers.memory_chart": "Memória de ativações por camada (MiB)",
    "layers.diagram": "Diagrama de blocos",
    "layers.diagram_network": "Rede inteira",
    "layers.diagram_block": "Dentro de um bloco",
    "layers.block_pick": "Bloco",
    "layers.no_blocks": "A {arch} é uma cadeia simples de camadas: não tem blocos.",
    "layers.untraceable": "Este bloco não pode ser desenhado (o seu forward depende dos dados).",
    "compare.header": "Arquiteturas comparadas",
    "compare.metric": "Acurácia",
    "compare.chart_caption": (
        "Acurácia na ImageNet tirada dos metadados dos pesos publicados de cada modelo (torchvision), contra as "
        "multiplicações-acumulações por imagem contadas pelo cnnviz; área da bolha = parâmetros. Modelos cujos "
        "pesos não trazem acurácia nos metadados ({missing}) aparecem só na tabela."
    ),
    "compare.table": "Todas as arquiteturas do cnnviz",
    "compare.ilsvrc": "Resultados de classificação do ILSVRC (erro top-5, %) das aulas",
    "compare.timeline": "Linha do tempo",
    "compare.vgg": "Configurações da VGG no artigo (Tabela 2): parâmetros em milhões",
    "compare.computing": "Contando todas as arquiteturas…",
    "arith.header": "Aritmética da convolução",
    "arith.layer": "Uma camada de convolução",
    "arith.n": "Tamanho da entrada N (px)",
    "arith.f": "Tamanho do filtro F",
    "arith.p": "Padding P",
    "arith.s": "Stride S",
    "arith.c_in": "Canais de entrada",
    "arith.c_out": "Filtros (canais de saída)",
    "arith.groups": "Grupos",
    "arith.output": "Tamanho da saída",
    "arith.params": "Parâmetros (F·F·C_in/grupos + 1)·C_out",
    "arith.macs": "Multiplicações-acumulações",
    "arith.bottleneck": "Gargalo 1×1",
    "arith.bottleneck_text": (
        "Convolução {f}×{f} de {c_in} para {c_out} canais em {n}×{n}: direta, ou depois de uma redução 1×1 "
        "para {c_mid} canais."
    ),
    "arith.c_mid": "Canais depois da redução 1×1",
    "arith.direct": "Direta",
    "arith.factored": "Com 1×1 antes",
    "arith.ratio": "{weights:.1f}× menos pesos e {macs:.1f}× menos MACs com o gargalo.",
    "arith.stacked": "3×3 empilhados vs um filtro grande",
    "arith.layers": "Camadas 3×3 empilhadas",
    "arith.channels": "Canais C",
    "arith.stacked_text": (
        "{layers} camadas 3×3 empilhadas veem uma região de {field}×{field}, como um filtro {field}×{field}: "
        "{factored:,} pesos ({layers}·9·C² = {coef_f}C²) em vez de {direct:,} ({coef_d}C²), com uma ReLU "
        "entre cada uma."
    ),
    "occl.header": "Para onde a {arch} olha?",
    "occl.intro": (
        "Um quadrado desliza sobre a imagem que a rede vê (Zeiler & Fergus 2014, Fig. 7). Para cada posição: "
        "(a) a probabilidade da classe-alvo, (b) a classe mais provável, (c) a ativação total do canal mais "
        "forte de uma camada. Se a rede olha para o objeto, cobri-lo é o que mais prejudica."
    ),
    "occl.window": "Janela (px)",
    "occl.stride": "Passo (px)",
    "occl.fill": "Preenchimento",
    "occl.fill_mean": "média do conjunto de dados (cinza)",
    "occl.fill_black": "preto",
    "occl.fill_blur": "imagem desfocada",
    "occl.target": "Classe-alvo",
    "occl.layer": "Camada do mapa (c)",
    "occl.positions": "{count:,} posições ({grid}×{grid}).",
    "occl.run": "Calcular os mapas",
    "occl.progress": "{done} de {total} posições",
    "occl.done": "{count:,} posições em {seconds:.1f} s em {device}, {batch} cópias por passada.",
    "occl.cached": "Já calculado para esta imagem e estes ajustes (compartilhado por todos neste servidor).",
    "occl.cpu_fallback": "A GPU ficou sem memória mesmo com uma imagem por vez ({message}); calculando na CPU, que é mais lenta.",
    "occl.press_run": "Clique em **Calcular os mapas**.",
    "occl.map_a": "(a) Probabilidade de “{label}”",
    "occl.map_a_help": (
        "Imagem limpa: {clean:.1%}. Escuro = cobrir aquele quadrado é o que mais reduz a probabilidade."
    ),
    "occl.overlay_help": "Mesmas cores de (a); cada pixel é a média das janelas que o cobrem.",
    "occl.map_b": "(b) Classe mais provável",
    "occl.map_c": "(c) Canal mais forte de {layer} (canal {channel})",
    "occl.overlay": "Mapa (a) sobre a imagem que a rede vê",
    "occl.legend_prob": "probabilidade",
    "occl.legend_class": "classe",
    "occl.legend_activation": "ativação total",
    "weights.bundled": "incluídos",
    "weights.cached": "em cache",
    "weights.downloaded": "baixados",
    "weights.random": "aleatórios",
    "weights.file": "de um arquivo",
}

"""The teaching labs' engines: each answers a question students ask at the end of the lectures.

:mod:`~cnnviz.labs.drawing` (a drawn digit through the bundled LeNet-5), :mod:`~cnnviz.labs.depth`
(vanishing gradients, plain vs residual), :mod:`~cnnviz.labs.transfer` (a frozen ImageNet backbone on new
classes) and :mod:`~cnnviz.labs.dropblock` (DropBlock vs dropout on one layer). They take the same
``progress`` callback as the explanation methods (:mod:`cnnviz.explain.progress`).
"""

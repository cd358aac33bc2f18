"""Where networks come from: the zoo's records (:mod:`.zoo`, with the project's own LeNet-5, ZFNet and
AlexNet-2012 in :mod:`.classic`), any torchvision or timm classifier by name (:mod:`.library`), the weights
chain (:mod:`.weights`: bundled → cached → downloaded → random, with :mod:`.bundled`'s files and
:mod:`.checkpoints`' measured loading of a user's file), preprocessing records (:mod:`.preprocess`) and
``load`` (:mod:`.loading`), which puts them together on a device."""

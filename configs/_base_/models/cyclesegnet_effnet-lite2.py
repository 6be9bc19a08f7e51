# CycleSegNet on ImageNet EfficientNet-Lite2: the Lite0 model of
# cyclesegnet_effnet-lite0.py with Lite2's wider stages (24/48/120/352
# channels at strides 4/8/16/32), as docs_effnet-lite2.py does for DOCS.
_base_ = ['./cyclesegnet_effnet-lite0.py']
model = dict(
    backbone=dict(arch='lite2'),
    decode_head=dict(in_channels=(24, 48, 120, 352)))

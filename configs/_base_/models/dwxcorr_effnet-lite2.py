# Depth-wise cross-correlation on ImageNet EfficientNet-Lite2: the Lite0 model
# of dwxcorr_effnet-lite0.py with Lite2's wider stages (24/48/120/352
# channels at strides 4/8/16/32), as docs_effnet-lite2.py does for DOCS.
_base_ = ['./dwxcorr_effnet-lite0.py']
model = dict(
    backbone=dict(arch='lite2'),
    decode_head=dict(
        in_channels=352,
        skips=[
            dict(in_index=2, in_channels=120, stage=0),
            dict(in_index=1, in_channels=48, stage=1),
            dict(in_index=0, in_channels=24, stage=2),
        ]))

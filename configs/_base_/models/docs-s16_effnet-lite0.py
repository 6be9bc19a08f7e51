# DOCS on EfficientNet-Lite0 with the mutual correlation at stride 16 (level
# 3, 112 channels) instead of 32: a 14x14 map for a 224 crop, offsets up to 7.
# The decoder goes from stride 16 to 4 with skips from strides 8 and 4.
_base_ = ['./docs_effnet-lite0.py']
model = dict(
    backbone=dict(out_indices=(1, 2, 3)),
    decode_head=dict(
        in_channels=112,
        in_index=2,
        max_displacement=7,
        decoder_channels=(96, 64),
        skips=[
            dict(in_index=1, in_channels=40, stage=0),
            dict(in_index=0, in_channels=24, stage=1),
        ]))

# Depth-wise cross-correlation head on the CPU backbone and decoder shared by
# the comparison in the main README (ImageNet EfficientNet-Lite0, stride-32
# matching, decoder to stride 4 with skips from strides 16/8/4); the decoder
# upsamples bilinearly as in the paper.
_base_ = ['./docs_effnet-lite0.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='DepthwiseXCorrHead',
        in_channels=320,
        kernel_sizes=(1, 3, 5),
        fuse_channels=256,
        decoder_channels=(128, 96, 64),
        upsample='bilinear',
        norm_cfg=norm_cfg,
        skips=[
            dict(in_index=2, in_channels=112, stage=0),
            dict(in_index=1, in_channels=40, stage=1),
            dict(in_index=0, in_channels=24, stage=2),
        ],
        skip_channels=32,
        num_classes=2,
        loss_decode=dict(
            type='CrossEntropyLoss', avg_non_ignore=True, loss_weight=1.0)))

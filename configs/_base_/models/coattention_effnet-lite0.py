# Unsupervised co-attention co-segmentation on CPU: generator g = ImageNet
# EfficientNet-Lite0 + a bilinear-upsampling decoder with skips (sigmoid map),
# frozen extractor f = ImageNet EfficientNet-Lite0 to its 1280-channel head
# conv, average-pooled (the input of its classifier, c = 1280).
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
    type='CoAttentionSegmentor',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='EfficientNetLite',
        arch='lite0',
        pretrained=True,
        frozen_stages=2,
        out_indices=(1, 2, 3, 4)),
    decode_head=dict(
        type='AttentionMapHead',
        in_channels=320,
        decoder_channels=(128, 96, 64),
        upsample='bilinear',
        skips=[
            dict(in_index=2, in_channels=112, stage=0),
            dict(in_index=1, in_channels=40, stage=1),
            dict(in_index=0, in_channels=24, stage=2),
        ],
        skip_channels=32,
        norm_cfg=norm_cfg,
        num_classes=1,
        threshold=0.5),
    extractor=dict(
        type='EfficientNetLite',
        arch='lite0',
        pretrained=True,
        with_head_conv=True,
        out_indices=(4, )),
    # both terms of eq. 1 summed, as the paper writes it: the co-attention
    # loss over the ordered pairs of a group, lambda (9) times the mask loss
    # over its images
    loss_coattention=dict(type='CoAttentionLoss', reduction='sum'),
    loss_mask=dict(
        type='BootstrappedMaskLoss', beta=0.95, loss_weight=9.0,
        reduction='sum'),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

# The paper's best setting: ResNet-34 encoder, cycle refinement of the last
# three stages (strides 8/16/32, 128/256/512 channels, used as is), 7 steps,
# 2x2 regions, channel-attention fusion in a decoder of five stages of
# bilinear upsampling + convs, Lovasz-Softmax loss.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='CoSegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=32)
model = dict(
    type='CoSegmentor',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNet',
        depth=34,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        # ImageNet ResNet-34, e.g. torchvision's resnet34-b627a593.pth,
        # saved here (its fc layer is ignored)
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/resnet34_imagenet.pth')),
    decode_head=dict(
        type='CycleSegHead',
        in_channels=(64, 128, 256, 512),
        refine_indices=(1, 2, 3),
        channels=(128, 256, 512),
        key_channels=64,
        region_size=2,
        num_steps=7,
        decoder_channels=(256, 128, 64, 32, 16),
        skips=[dict(in_index=2, stage=0),
               dict(in_index=1, stage=1)],
        norm_cfg=norm_cfg,
        num_classes=2,
        loss_decode=dict(
            type='LovaszLoss',
            loss_type='multi_class',
            per_image=False,
            reduction='none',
            loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

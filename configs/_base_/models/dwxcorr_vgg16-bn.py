# The paper's setting: Siamese VGG16-BN encoder (its 13 convs), depth-wise
# cross-correlation on the pool5 features (stride 32; 16x16 for a 512
# input), decoder of five stages of bilinear upsampling + convs, CE(A)+CE(B).
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
        type='VGG16',
        with_bn=True,
        out_indices=(4, ),
        # ImageNet VGG16-BN, e.g. torchvision's vgg16_bn-6c64b313.pth or an
        # mmpretrain VGG16-BN checkpoint, saved here
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/vgg16_bn_imagenet.pth')),
    decode_head=dict(
        type='DepthwiseXCorrHead',
        in_channels=512,
        kernel_sizes=(1, 3, 5),
        fuse_channels=512,
        decoder_channels=(512, 256, 128, 64, 32),
        upsample='bilinear',
        norm_cfg=norm_cfg,
        num_classes=2,
        loss_decode=dict(
            type='CrossEntropyLoss', avg_non_ignore=True, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

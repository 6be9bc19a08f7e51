# DOCS (Li et al., ACCV 2018): VGG16 to pool5 + conv6 (2x 3x3, 1024),
# mutual correlation (D=15, 961 channels), no skips, 2-class softmax CE.
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
        with_bn=False,
        with_conv6=True,
        out_indices=(5, ),
        # ImageNet VGG16, e.g. torchvision's vgg16-397923af.pth or an
        # mmpretrain VGG16 checkpoint, saved here (conv6 is new: it starts
        # from its initialisation)
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/vgg16_imagenet.pth')),
    decode_head=dict(
        type='DOCSHead',
        in_channels=1024,
        reduce_channels=512,
        max_displacement=15,
        fuse_channels=1024,
        decoder_channels=(512, 512, 256, 128, 64),
        norm_cfg=None,
        num_classes=2,
        loss_decode=dict(
            type='CrossEntropyLoss', avg_non_ignore=True, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

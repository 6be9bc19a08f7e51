# The paper's network: VGG16 encoder (13 convs, 5 max-pools: 7x7x512 for a
# 224 input), decoder of 5 nearest-neighbour interpolations and 13
# transposed convs (512/512/256/128/64, the last one being the output layer),
# decision gate on the GAP of cT9 (256 channels, stride 4): metric FC 128 ->
# FC 64 (triplet, margin 1), decision FC 32 -> FC 1 (sigmoid, BCE).
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
        out_indices=(4, ),
        # ImageNet VGG16, e.g. torchvision's vgg16-397923af.pth or an
        # mmpretrain VGG16 checkpoint, saved here
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/vgg16_imagenet.pth')),
    decode_head=dict(
        type='CoSegNetHead',
        in_channels=512,
        decoder_channels=(512, 512, 256, 128, 64),
        num_convs=(3, 3, 3, 2, 1),
        metric_stage=2,
        norm_cfg=None,
        decision_gate=dict(
            type='DecisionGate',
            metric_channels=(128, 64),
            decision_channels=32,
            margin=1.0,
            threshold=0.5,
            loss_weights=dict(positive=0.33, negative=0.5)),
        num_classes=1,
        threshold=0.5,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

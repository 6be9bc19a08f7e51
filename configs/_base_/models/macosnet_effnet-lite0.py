# MaCoSNet on CPUs: encoder E = ImageNet EfficientNet-Lite0 to its stride-16
# level (112 channels, 15x15 at 240x240, where the paper takes ResNet-101
# conv4_23), transformation predictor G (affine + TPS regressors, the paper's
# widths), decoder D of four [deconv + 2 convs] stages with additive skips
# from strides 8, 4 and 2, frozen F = ImageNet EfficientNet-Lite0 to its
# 1280-channel head conv, average-pooled (the paper: ResNet-50, c = 2048).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='CoSegDataPreProcessor',
    mean=[127.0, 127.0, 127.0],
    std=[128.0, 128.0, 128.0],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=16)
model = dict(
    type='MaCoSNet',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='EfficientNetLite',
        arch='lite0',
        pretrained=True,
        frozen_stages=1,
        out_indices=(0, 1, 2, 3)),
    decode_head=dict(
        type='MaCoSNetHead',
        in_index=3,
        in_channels=112,
        feat_size=(15, 15),
        decoder_channels=(96, 64, 32, 16),
        skips=[
            dict(in_index=2, in_channels=40, stage=0),
            dict(in_index=1, in_channels=24, stage=1),
            dict(in_index=0, in_channels=16, stage=2),
        ],
        norm_cfg=norm_cfg,
        num_classes=1,
        threshold=0.5),
    regressor=dict(
        type='GeometricRegressor',
        feat_size=(15, 15),
        with_tps=True,
        channels=(128, 64),
        norm_cfg=norm_cfg),
    extractor=dict(
        type='EfficientNetLite',
        arch='lite0',
        pretrained=True,
        with_head_conv=True,
        out_indices=(4, )),
    # eq. 1 with the paper's TSS weights (lambda_cycle = lambda_trans = 5,
    # lambda_contrast = lambda_task = 10); margin m = 2 (eq. 10)
    loss_matching=dict(type='ForegroundMatchingLoss', phi=1.0),
    loss_cycle=dict(type='CycleConsistencyLoss', loss_weight=5.0),
    loss_trans=dict(type='TransitivityConsistencyLoss', loss_weight=5.0),
    loss_contrast=dict(
        type='CoAttentionLoss',
        margin=2.0,
        loss_weight=10.0,
        loss_name='loss_contrast'),
    loss_task=dict(type='CrossNetworkConsistencyLoss', loss_weight=10.0),
    loss_warp=dict(type='WarpRegressionLoss'),
    train_cfg=dict(pretrain_iters=0),
    test_cfg=dict(mode='whole'))

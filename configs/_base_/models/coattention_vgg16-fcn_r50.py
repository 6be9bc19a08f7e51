# The paper's networks: generator g = VGG16 FCN (here: VGG16 with a decoder
# of bilinear upsampling + convs and FCN-8s-style skips from pool4 and
# pool3, sigmoid output); extractor f = ImageNet ResNet-50, its pooled
# 2048-channel output (c = 2048). Nothing can be downloaded here: point the
# two init_cfg entries at ImageNet checkpoints you have.
data_preprocessor = dict(
    type='CoSegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=32)
model = dict(
    type='CoAttentionSegmentor',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='VGG16',
        with_bn=False,
        out_indices=(2, 3, 4),
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/vgg16_imagenet.pth')),
    decode_head=dict(
        type='AttentionMapHead',
        in_channels=512,
        decoder_channels=(512, 256, 128, 64, 32),
        upsample='bilinear',
        skips=[
            dict(in_index=1, in_channels=512, stage=0),
            dict(in_index=0, in_channels=256, stage=1),
        ],
        skip_channels=64,
        num_classes=1,
        threshold=0.5),
    extractor=dict(
        type='ResNet',
        depth=50,
        out_indices=(3, ),
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/resnet50_imagenet.pth')),
    loss_coattention=dict(type='CoAttentionLoss', reduction='sum'),
    loss_mask=dict(type='BootstrappedMaskLoss', beta=0.95, loss_weight=9.0),
    train_cfg=dict(),
    test_cfg=dict(mode='whole', postprocess='crf'))

# MaCoSNet with the paper's settings (Chen et al., TPAMI 2020, Sec. 3.4):
# encoder E = ImageNet ResNet-101 to conv4_23 (layer3, 1024 channels, 15x15 at
# 240x240), frozen F = ImageNet ResNet-50 (pooled, c = 2048), Adam at lr
# 5e-8, the lambdas of its co-segmentation experiment (Internet: cycle 5,
# trans 5, contrast 20, task 10; the README lists each dataset's), margin 2,
# horizontal flips and random crops, GrabCut on the soft masks. The paper
# initialises E and G from a model trained on synthetic warps; here stage one
# (pretrain_iters) trains them so from ImageNet at lr 1e-4 (the paper's 5e-8
# fine-tunes an already trained model), and the lr drops to 5e-8 for stage
# two. Not trained here (GPU sized,
# batch and length not given by the paper: 16 triplets and 20k + 20k
# iterations are this config's choice). Nothing can be downloaded: point the
# init_cfg checkpoints at ImageNet weights you have.
_base_ = [
    '../_base_/models/macosnet_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_weak_240x240.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_1k_adamw.py'
]
data_preprocessor = dict(
    type='CoSegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=16)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=101,
        num_stages=3,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(0, 1, 2),
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/resnet101_imagenet.pth')),
    decode_head=dict(
        in_index=2,
        in_channels=1024,
        decoder_channels=(512, 256, 128, 64),
        skips=[
            dict(in_index=1, in_channels=512, stage=0),
            dict(in_index=0, in_channels=256, stage=1),
        ]),
    extractor=dict(
        _delete_=True,
        type='ResNet',
        depth=50,
        out_indices=(3, ),
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/resnet50_imagenet.pth')),
    train_cfg=dict(
        pretrain_iters=20000,
        synthetic_warp=dict(
            affine_scale=0.2, rotation=0.3, translation=0.2, tps_jitter=0.1),
        seed=0),
    loss_contrast=dict(loss_weight=20.0),
    test_cfg=dict(mode='whole', postprocess='grabcut'))
train_dataloader = dict(batch_size=16, num_workers=4)
max_iters = 40000
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
# 1e-4 * 5e-4 = 5e-8 from the start of stage two
param_scheduler = [
    dict(
        type='MultiStepLR',
        milestones=[20000],
        gamma=5e-4,
        by_epoch=False,
        begin=0,
        end=max_iters)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000))
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)

# The paper's training setting (GPU): VGG16-BN, 513x513 crops (512 here, a
# multiple of 32), batch 5 pairs, Adam with a fixed lr of 1e-5, about 335k
# steps, random scale/crop/rotation. ImageNet VGG16-BN weights are loaded
# from checkpoints/vgg16_bn_imagenet.pth (torchvision or mmpretrain format;
# nothing can be downloaded here); without it training stops naming the file.
_base_ = [
    '../_base_/models/dwxcorr_vgg16-bn.py',
    '../_base_/datasets/voc_coseg_pair.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_100k_adam.py'
]
crop_size = (512, 512)
train_pipeline = [
    dict(
        type='TransformBroadcaster',
        share_random_params=False,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadCoSegMask'),
            dict(
                type='RandomResize',
                scale=(512, 512),
                ratio_range=(0.5, 2.0),
                keep_ratio=True),
            dict(type='RandomRotate', prob=0.5, degree=10, seg_pad_val=255),
            dict(type='RandomCrop', crop_size=crop_size),
            dict(type='RandomFlip', prob=0.5),
        ]),
    dict(type='PackCoSegInputs'),
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadCoSegMask'),
        ]),
    dict(type='PackCoSegInputs'),
]
model = dict(data_preprocessor=dict(size=crop_size, size_divisor=None))
train_dataloader = dict(batch_size=5, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-5, weight_decay=0))
train_cfg = dict(max_iters=335000, val_interval=10000)
default_hooks = dict(checkpoint=dict(interval=10000))

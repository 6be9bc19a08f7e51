# DOCS in the paper's setting (for GPUs): VGG16 + conv6, 512x512, Adam 1e-5,
# batch 10, 100k iterations. It loads ImageNet VGG16 weights from
# checkpoints/vgg16_imagenet.pth (torchvision or mmpretrain format; none can
# be downloaded on the project's CPU machines): without that file training
# stops with an error naming it.
_base_ = [
    '../_base_/models/docs_vgg16.py', '../_base_/datasets/voc_coseg_pair.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_100k_adam.py'
]
train_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadCoSegMask'),
            dict(type='Resize', scale=(512, 512), keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
        ]),
    dict(type='PackCoSegInputs'),
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(512, 512), keep_ratio=True),
            dict(type='LoadCoSegMask'),
        ]),
    dict(type='PackCoSegInputs'),
]
crop_size = (512, 512)
model = dict(data_preprocessor=dict(size=crop_size, size_divisor=None))
train_dataloader = dict(batch_size=10, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

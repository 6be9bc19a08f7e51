# The paper's training setting (GPU): 224x224 inputs, batch 3 pairs (positive
# or negative), SGD lr 1e-5 momentum 0.9 weight decay 4e-4 (fixed). The paper
# gives no iteration count; 100k here. ImageNet VGG16 weights are loaded
# from checkpoints/vgg16_imagenet.pth (torchvision or mmpretrain format);
# without that file training stops with an error naming it.
_base_ = [
    '../_base_/models/cosegnet_vgg16.py',
    '../_base_/datasets/voc_coseg_pair.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_100k_adam.py'
]
train_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadCoSegMask'),
            dict(type='Resize', scale=(224, 224), keep_ratio=False),
        ]),
    dict(type='PackCoSegInputs'),
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(224, 224), keep_ratio=False),
            dict(type='LoadCoSegMask'),
        ]),
    dict(type='PackCoSegInputs'),
]
train_dataloader = dict(
    batch_size=3,
    sampler=dict(neg_ratio=0.5),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='SGD', lr=1e-5, momentum=0.9, weight_decay=4e-4))
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)

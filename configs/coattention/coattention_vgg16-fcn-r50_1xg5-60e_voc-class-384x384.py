# The paper's setting (GPU): VGG16-FCN generator, ResNet-50 extractor (bring
# both ImageNet checkpoints), images resized to 384x384, Adam with a fixed lr
# of 1e-6, 20 + 40 epochs, dense CRF on the maps (needs the optional
# pydensecrf2).
_base_ = [
    '../_base_/models/coattention_vgg16-fcn_r50.py',
    '../_base_/datasets/voc_coseg_class.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_coattention_60e.py'
]
img_scale = (384, 384)
train_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=img_scale, keep_ratio=False),
            dict(
                type='LoadObjectProposals',
                generator=dict(type='MergeProposalGenerator')),
        ]),
    dict(type='PackCoSegInputs'),
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=img_scale, keep_ratio=False),
            dict(type='LoadCoSegMask'),
        ]),
    dict(type='PackCoSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(optimizer=dict(lr=1e-6))

# The fast CPU setting of co-attention co-segmentation: 128x128 images and
# 200 iterations per class (70 of the co-attention loss alone, then the mask
# loss with targets refined every 10 iterations), Adam lr 1e-4; maps
# stretched to [0, 1] before they are matched to proposals; the object side
# of the maps chosen with the boundary prior.
_base_ = ['./coattention_effnet-lite0_1xg5-600_voc-class-224x224.py']
img_scale = (128, 128)
train_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=img_scale, keep_ratio=False),
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
max_iters = 200
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
custom_hooks = [
    dict(
        type='CoAttentionMaskHook',
        stage_one_iters=70,
        update_interval=10,
        proposal_generator=dict(type='MergeProposalGenerator'),
        map_scaling='minmax',
        polarity_prior='border')
]

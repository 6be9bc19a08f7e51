# The fast CPU setting of co-attention co-segmentation: 128x128 images and 20
# epochs per collection (7 of the co-attention loss alone, then the mask loss
# with targets refined every epoch; 200 iterations for a class of 50
# images), Adam lr 1e-4; maps stretched to [0, 1] before they are matched to
# proposals; the object side of the maps chosen with the boundary prior.
_base_ = ['./coattention_effnet-lite0_1xg5-60e_voc-class-224x224.py']
img_scale = (128, 128)
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
train_cfg = dict(max_epochs=20, stage_one_epochs=7)

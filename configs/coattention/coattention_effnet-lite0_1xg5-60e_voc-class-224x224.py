# Unsupervised co-attention co-segmentation (Hsu et al., IJCAI 2018) of one
# PASCAL-VOC class on a CPU: EfficientNet-Lite0 generator and extractor,
# 224x224 images, Adam lr 1e-4. No mask is read for training; the test set is
# the same images, with their masks, for scoring.
_base_ = [
    '../_base_/models/coattention_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_class.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_coattention_60e.py'
]
# The training pipeline also loads each image's object proposals (cached
# under <work_dir>/proposals by the tools).
img_scale = (224, 224)
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# The maps of the briefly trained CPU generator have low contrast: they are
# stretched to [0, 1] before they are matched to the proposals (the paper
# matches raw maps). The co-attention loss does not say which side of a map
# is the object; the boundary prior decides it (the paper has no such step;
# chosen on the val split, see the README).
model = dict(train_cfg=dict(map_scaling='minmax', polarity_prior='border'))

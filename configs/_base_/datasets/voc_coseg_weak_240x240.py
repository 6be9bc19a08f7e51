# PASCAL-VOC co-segmentation set (fixed 3:1:1 split) for weakly supervised
# training: the training groups are images of one class, and no mask is read
# (the pipeline has no LoadCoSegMask). Every image is resized to 240x240 as a
# whole (MaCoSNet's fixed input; the correlation has one channel per position
# of the partner); val and test read the masks to score the predictions.
dataset_type = 'CoSegClassFolderDataset'
data_root = 'data/pascal_voc_coseg'
img_scale = (240, 240)
train_pipeline = [
    dict(
        type='TransformBroadcaster',
        share_random_params=False,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(272, 272), keep_ratio=False),
            dict(type='RandomCrop', crop_size=img_scale),
            dict(type='RandomFlip', prob=0.5),
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
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    # triplets of one class: every directed pair for the pairwise losses,
    # the cycles a -> b -> c -> a for the transitivity loss
    sampler=dict(type='CoSegPairSampler', group_size=3, neg_ratio=0.0),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='splits/train.txt',
        with_masks=False,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='CoSegGroupSampler', group_size=2),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='splits/val.txt',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], split_file='splits/test.txt'))
val_evaluator = dict(type='CoSegMetric')
test_evaluator = val_evaluator

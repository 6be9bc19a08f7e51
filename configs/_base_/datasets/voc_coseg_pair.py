# PASCAL-VOC object co-segmentation set (1037 images, 20 classes) with the
# project's fixed 3:1:1 split. Point data_root at your copy, e.g.
#   ln -s /path/to/pascal_voc_coseg data/pascal_voc_coseg
dataset_type = 'CoSegClassFolderDataset'
data_root = 'data/pascal_voc_coseg'
crop_size = (224, 224)
test_scale = (256, 256)
train_pipeline = [
    dict(
        type='TransformBroadcaster',
        share_random_params=False,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadCoSegMask'),
            dict(
                type='RandomResize',
                scale=(320, 320),
                ratio_range=(0.5, 1.5),
                keep_ratio=True),
            dict(type='RandomCrop', crop_size=crop_size),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PhotoMetricDistortion'),
        ]),
    dict(type='PackCoSegInputs'),
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            # fit the longer side to test_scale; masks stay at full size
            dict(type='Resize', scale=test_scale, keep_ratio=True),
            dict(type='LoadCoSegMask'),
        ]),
    dict(type='PackCoSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='CoSegPairSampler', group_size=2, neg_ratio=0.0),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='splits/train.txt',
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

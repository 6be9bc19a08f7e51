# Built-in synthetic co-segmentation scenes (no files needed): train, val and
# test sets are drawn from different seeds.
dataset_type = 'SyntheticCoSegDataset'
img_size = (128, 128)
crop_size = img_size
train_pipeline = [
    dict(
        type='TransformBroadcaster',
        share_random_params=False,
        transforms=[dict(type='RandomFlip', prob=0.5)]),
    dict(type='PackCoSegInputs'),
]
test_pipeline = [dict(type='PackCoSegInputs')]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='CoSegPairSampler', group_size=2, neg_ratio=0.0),
    dataset=dict(
        type=dataset_type,
        num_classes=8,
        images_per_class=32,
        img_size=img_size,
        seed=0,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='CoSegGroupSampler', group_size=2),
    dataset=dict(
        type=dataset_type,
        num_classes=8,
        images_per_class=8,
        img_size=img_size,
        seed=1,
        test_mode=True,
        pipeline=test_pipeline))
# the test set: as val, drawn from another seed
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], seed=2))
val_evaluator = dict(type='CoSegMetric')
test_evaluator = val_evaluator

# One class of the PASCAL-VOC co-segmentation set, all its images: the
# collection an unsupervised method fits and is evaluated on. tools/coseg_folder.py
# --batch sets the class of both dataloaders, one class after the other.
dataset_type = 'CoSegClassFolderDataset'
data_root = 'data/pascal_voc_coseg'
class_name = 'Aero'
img_scale = (224, 224)
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
train_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='CoSegPairSampler', group_size=5, neg_ratio=0.0),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        classes=[class_name],
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='CoSegGroupSampler', group_size=None),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        classes=[class_name],
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(type='CoSegMetric')

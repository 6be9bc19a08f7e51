# The PASCAL-VOC pairs of voc_coseg_pair.py with every image size times 9/7
# (issue 11, resolution lever): crops of 288 instead of 224, random resize
# around 416 instead of 320, testing with the longer side at 320 instead of
# 256. At stride 32 the correlation map grows from 7x7 to 9x9 while the
# objects keep their share of the crop; a training step costs about
# (288/224)^2 = 1.65 times as much.
_base_ = ['./voc_coseg_pair.py']
crop_size = (288, 288)
test_scale = (320, 320)
train_pipeline = [
    dict(
        type='TransformBroadcaster',
        share_random_params=False,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadCoSegMask'),
            dict(
                type='RandomResize',
                scale=(416, 416),
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

# The PASCAL-VOC pairs of voc_coseg_pair.py with every image size about 10/7
# (issue 11, resolution lever, one step above voc_coseg_pair-288x288.py):
# crops of 320 instead of 224, random resize around 464 instead of 320,
# testing with the longer side at 352 instead of 256 (11 x 32, so the
# stride-32 feature map is 11x11). A training step costs about
# (320/224)^2 = 2.0 times as much as at 224.
_base_ = ['./voc_coseg_pair.py']
crop_size = (320, 320)
test_scale = (352, 352)
train_pipeline = [
    dict(
        type='TransformBroadcaster',
        share_random_params=False,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadCoSegMask'),
            dict(
                type='RandomResize',
                scale=(464, 464),
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

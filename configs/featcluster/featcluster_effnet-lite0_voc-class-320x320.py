# Training-free co-segmentation by jointly clustering ImageNet
# EfficientNet-Lite0 features of a collection (stride 16 + 32, at 320x320:
# a 20x20 grid per image); foreground = the clusters common to most images
# that avoid the image border (k, the border and the share thresholds chosen
# on the val split: configs/featcluster/README.md). Run with
# tools/coseg_folder.py (no fitting: seconds per collection).
default_scope = 'cosegtools'
model = dict(
    type='FeatureClusterCoSegmentor',
    backbone=dict(
        type='EfficientNetLite',
        arch='lite0',
        pretrained=True,
        out_indices=(3, 4)),
    in_index=(0, 1),
    img_scale=(320, 320),
    num_clusters=6,
    min_share=0.02,
    min_images=0.3,
    max_border_ratio=0.8)
# GrabCut started from the clusters with nothing fixed as foreground (the
# coarse cells overflow the object; GrabCut may shrink them) and the map's
# background within 10% of the border fixed (the centred-box prior); chosen
# on the val split (configs/featcluster/README.md)
postprocessors = dict(grabcut=dict(sure_fg=None, sure_bg=None, border=0.1))
# no training: the folder tool predicts each collection through this test
# dataloader (one group = the whole collection, the images as loaded; the
# model resizes them) and scores it with the metric when masks exist
train_cfg = None
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadCoSegMask'),
        ]),
    dict(type='PackCoSegInputs'),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='CoSegGroupSampler', group_size=None),
    dataset=dict(
        type='CoSegClassFolderDataset',
        data_root='data/pascal_voc_coseg',
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(type='CoSegMetric')
work_dir = None
log_level = 'INFO'

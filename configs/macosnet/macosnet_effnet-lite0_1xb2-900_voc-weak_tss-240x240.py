# The VOC-trained CPU MaCoSNet on the TSS pairs: PCK from the ground-truth
# flow and co-segmentation P/J (tools/test.py CONFIG CKPT).
_base_ = ['./macosnet_effnet-lite0_1xb2-900_voc-weak-240x240.py']
# The TSS benchmark (Taniai et al., CVPR 2016) for joint matching and
# co-segmentation, each image resized to 240x240 as a whole: PCK of the
# keypoints sampled from the ground-truth flow, and P/J of the masks (any
# non-zero mask value is foreground, as in the TSS kit). Point data_root at
# the folder of pair folders (<pair>/image1.png, mask1.png, flow1.flo, ...).
test_data_root = 'data/tss'
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(240, 240), keep_ratio=False),
            dict(type='LoadCoSegMask', nonzero_foreground=True),
        ]),
    dict(type='PackCoSegInputs'),
]
test_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=0,
    sampler=dict(type='CoSegPairListSampler'),
    dataset=dict(
        type='TSSDataset', data_root=test_data_root, pipeline=test_pipeline))
test_evaluator = [dict(type='CoSegMetric'), dict(type='PCKMetric')]

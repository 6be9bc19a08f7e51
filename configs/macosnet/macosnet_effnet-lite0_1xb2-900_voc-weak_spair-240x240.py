# The VOC-trained CPU MaCoSNet evaluated on SPair-71k (tools/test.py CONFIG CKPT).
_base_ = ['./macosnet_effnet-lite0_1xb2-900_voc-weak-240x240.py']
# SPair-71k (Min et al.) test pairs from PairAnnotation/test/*.json for semantic matching: PCK of the transferred keypoints, each image
# resized to 240x240 as a whole. The data is not shipped: point data_root at
# your copy (the layout is in cosegtools/datasets/keypoint_pairs.py).
test_data_root = 'data/spair71k'
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(240, 240), keep_ratio=False),
        ]),
    dict(type='PackCoSegInputs'),
]
test_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=0,
    sampler=dict(type='CoSegPairListSampler'),
    dataset=dict(type='SPairDataset', data_root=test_data_root, pipeline=test_pipeline))
test_evaluator = dict(type='PCKMetric')

# The CPU MaCoSNet with a mask signal that reads no ground truth: in stage
# two D's logits also learn the masks of the training-free feature clustering
# (configs/featcluster, GrabCut) of the train split, next to eq. 1. The
# masks are written once by
#   tools/coseg_folder.py data/pascal_voc_coseg --batch \
#       --config configs/featcluster/featcluster_effnet-lite0_voc-class-320x320.py \
#       --split-file splits/train.txt --work-dir work_dirs/featcluster_train \
#       --out work_dirs/featcluster_train/masks --postprocess grabcut
# (no mask read: the scores it prints use the ground truth only to score).
# 300 iterations of stage one (synthetic warps) + 300 of stage two.
_base_ = ['./macosnet_effnet-lite0_1xb2-900_voc-weak-240x240.py']
pseudo_mask_root = 'work_dirs/featcluster_train/masks/grabcut'
model = dict(
    loss_matching=dict(mask_gradient='none'),
    loss_mask=dict(
        type='mmseg.CrossEntropyLoss',
        use_sigmoid=True,
        avg_non_ignore=True,
        loss_weight=50.0,
        loss_name='loss_pseudo_mask'))
img_scale = (240, 240)
train_pipeline = [
    dict(
        type='TransformBroadcaster',
        share_random_params=False,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadCoSegMask'),
            dict(type='Resize', scale=(272, 272), keep_ratio=False),
            dict(type='RandomCrop', crop_size=img_scale),
            dict(type='RandomFlip', prob=0.5),
        ]),
    dict(type='PackCoSegInputs'),
]
train_dataloader = dict(
    dataset=dict(
        with_masks=True,
        mask_root=pseudo_mask_root,
        pipeline=train_pipeline))
max_iters = 600
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=100, by_epoch=False),
    dict(
        type='PolyLR',
        eta_min=1e-6,
        power=0.9,
        begin=100,
        end=max_iters,
        by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=150)
default_hooks = dict(checkpoint=dict(interval=150))

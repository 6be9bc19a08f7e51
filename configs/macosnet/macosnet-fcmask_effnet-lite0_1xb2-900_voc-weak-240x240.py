# MaCoSNet CPU config plus a mask loss against the masks of the training-free
# feature clustering (configs/featcluster), an extension of the paper: with
# EfficientNet-Lite0 features eq. 1 alone lets the masks collapse to the
# whole image (configs/macosnet/README.md). No ground-truth mask is read in
# training: the clustering reads none, and the dataset reads its masks from
# `pseudo_mask_root`, which this command writes first (about 10 minutes on 2
# cores for the 622 training images):
#   python tools/coseg_folder.py data/pascal_voc_coseg --batch \
#       --config configs/featcluster/featcluster_effnet-lite0_voc-class-320x320.py \
#       --split-file splits/train.txt --work-dir work_dirs/featcluster_train \
#       --out work_dirs/featcluster_train/masks --postprocess grabcut
_base_ = ['./macosnet_effnet-lite0_1xb2-900_voc-weak-240x240.py']
pseudo_mask_root = 'work_dirs/featcluster_train/masks/grabcut'
model = dict(
    loss_mask=dict(
        type='mmseg.CrossEntropyLoss',
        use_sigmoid=True,
        avg_non_ignore=True,
        # the weight of eq. 1's other mask terms (contrastive, cross-network)
        loss_weight=10.0,
        loss_name='loss_pseudo_mask'))
train_pipeline = [
    dict(
        type='TransformBroadcaster',
        share_random_params=False,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadCoSegMask'),
            dict(type='Resize', scale=(272, 272), keep_ratio=False),
            dict(type='RandomCrop', crop_size=(240, 240)),
            dict(type='RandomFlip', prob=0.5),
        ]),
    dict(type='PackCoSegInputs'),
]
train_dataloader = dict(
    dataset=dict(
        with_masks=True,
        mask_root=pseudo_mask_root,
        pipeline=train_pipeline))

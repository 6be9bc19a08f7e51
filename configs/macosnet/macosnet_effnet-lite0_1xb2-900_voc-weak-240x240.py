# MaCoSNet on a 2-core CPU: EfficientNet-Lite0, triplets of one PASCAL-VOC
# class (batch of 2 triplets = 12 directed pairs), no masks in training.
# Stage one regresses synthetic warps for the first 300 of 900 iterations
# (the paper starts from such a transformation predictor); stage two trains
# eq. 1. About 35 minutes on 2 cores (configs/macosnet/README.md).
_base_ = [
    '../_base_/models/macosnet_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_weak_240x240.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_1k_adamw.py'
]
# The paper's losses and weights. Two variants were tried from the same
# stage-one checkpoint (configs/macosnet/README.md): a margin fitted to these
# features (m = 0.17, EfficientNet-Lite0's figure-ground distance of the val
# masks; m = 2 suits ResNet-50) with the matching loss teaching the masks
# nothing ('none') or only its centred score ('centered'). All three grew the
# masks towards all-foreground alike (val mJ 16.6 after 100 iterations), so
# the paper's setting is kept.
model = dict(
    train_cfg=dict(
        pretrain_iters=300,
        synthetic_warp=dict(
            affine_scale=0.2, rotation=0.3, translation=0.2, tps_jitter=0.1),
        seed=0))
train_dataloader = dict(batch_size=2)
# lr 1e-3 (the other CPU configs) made the synthetic warp loss rise above
# the identity's; 1e-4 lowers it (checked over 60 iterations on the train
# split)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
max_iters = 900
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
train_cfg = dict(max_iters=max_iters, val_interval=300)
default_hooks = dict(checkpoint=dict(interval=300))
# stage one leaves the decoder without gradients
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)

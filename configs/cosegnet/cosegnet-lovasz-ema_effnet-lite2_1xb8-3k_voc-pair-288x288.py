# cosegnet-lovasz-ema_effnet-lite2_1xb8-4k on the 288x288 pairs of
# ../_base_/datasets/voc_coseg_pair-288x288.py (crops 288 instead of 224,
# random resize around 416, testing with the longer side at 320), the
# resolution that lifted DOCS and CycleSegNet (issue 11). The 224 run peaked
# on val at 3000 of its 4000 iterations, so this schedule ends there; a step
# costs about (288/224)^2 = 1.65 times as much. Model, gate and loss as in
# the 224 config.
_base_ = [
    '../_base_/models/cosegnet_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_pair-288x288.py',
    '../_base_/default_runtime.py', '../_base_/losses/ce_lovasz.py',
    '../_base_/schedules/schedule_2500_adamw_ema.py'
]
max_iters = 3000
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=100, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=100, end=max_iters,
         by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
model = dict(
    backbone=dict(arch='lite2'),
    decode_head=dict(
        in_channels=352,
        metric_stage=0,
        skips=[
            dict(in_index=2, in_channels=120, stage=0),
            dict(in_index=1, in_channels=48, stage=1),
            dict(in_index=0, in_channels=24, stage=2),
        ],
        decision_gate=dict(pair_features='symmetric'),
        num_classes=2,
        loss_decode={{_base_.ce_lovasz_loss}}))
train_dataloader = dict(sampler=dict(neg_ratio=0.5))
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)

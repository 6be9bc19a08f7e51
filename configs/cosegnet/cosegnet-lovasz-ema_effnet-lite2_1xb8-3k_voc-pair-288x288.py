# cosegnet-lovasz-ema_effnet-lite2_1xb8-4k on the 288x288 pairs of
# ../_base_/datasets/voc_coseg_pair-288x288.py (crops 288 instead of 224,
# random resize around 416, testing with the longer side at 320), the
# resolution that lifted DOCS and CycleSegNet (issue 11). The 224 run peaked
# on val at 3000 of its 4000 iterations, so this schedule ends there; a step
# costs about (288/224)^2 = 1.65 times as much. Model, gate, loss and the
# half of negative pairs as in the 224 config.
_base_ = [
    '../_base_/models/cosegnet-lovasz_effnet-lite2.py',
    '../_base_/datasets/voc_coseg_pair-288x288.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_2500_adamw_ema.py'
]
max_iters = 3000
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=100, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=100, end=max_iters,
         by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
train_dataloader = dict(sampler=dict(neg_ratio=0.5))

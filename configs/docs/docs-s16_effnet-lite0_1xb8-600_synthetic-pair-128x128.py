# The built-in default: DOCS on EfficientNet-Lite0 trained on procedurally
# drawn scenes (no data files needed), a few minutes on a laptop CPU.
_base_ = [
    '../_base_/models/docs-s16_effnet-lite0.py',
    '../_base_/datasets/synthetic_coseg_pair.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_2k_adamw.py'
]
max_iters = 600
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=50, by_epoch=False),
    dict(
        type='PolyLR',
        eta_min=1e-6,
        power=0.9,
        begin=50,
        end=max_iters,
        by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=200)
default_hooks = dict(checkpoint=dict(interval=200))

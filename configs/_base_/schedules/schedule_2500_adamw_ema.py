# The 2k CPU schedule stretched to 2500 iterations, with an exponential
# moving average of the weights (mmengine's EMAHook) used for validation,
# testing and in the checkpoints; momentum 0.002 averages over about the
# last 500 iterations (so validation at 500 and 1000 still sees mostly the
# initial weights). The schedule of the best CPU models (issue 11).
_base_ = ['./schedule_2k_adamw.py']
max_iters = 2500
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
train_cfg = dict(max_iters=max_iters)
custom_hooks = [
    dict(type='EMAHook', momentum=0.002, priority='ABOVE_NORMAL'),
]

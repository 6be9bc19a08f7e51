# The 2k CPU schedule stretched to 3k iterations.
_base_ = ['./schedule_2k_adamw.py']
max_iters = 3000
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

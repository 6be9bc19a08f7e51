# The clustering-mask MaCoSNet of macosnet-fcmask_..._1xb2-600 with a longer
# stage two: 300 iterations of stage one (synthetic warps) + 600 of stage
# two, the poly decay ending at 900. The same clustering masks of the train
# split are needed first (the command in the 600-iteration config).
_base_ = ['./macosnet-fcmask_effnet-lite0_1xb2-600_voc-weak-240x240.py']
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
train_cfg = dict(max_iters=max_iters, val_interval=150)

# DOCS' published schedule: Adam, lr 1e-5, weight decay 5e-4, fixed LR.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-5, weight_decay=5e-4))
param_scheduler = []
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=100000, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    runtime_info=dict(type='CoSegRuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(
        type='CoSegLoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=5000,
        max_keep_ckpts=2,
        save_best='mJ',
        rule='greater',
        # write to a temporary file, then rename: a killed run never leaves
        # a truncated checkpoint
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'))

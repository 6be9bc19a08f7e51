# Two-stage schedule of co-attention co-segmentation, per collection: 600
# iterations of one group of 5 images (about 60 epochs of the paper for a
# class of 50 images); the co-attention loss alone for the first 200, then
# with the mask loss, its proposal targets refined every 10 iterations.
max_iters = 600
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=5e-4))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
test_cfg = dict(type='TestLoop')
val_dataloader = None
val_cfg = None
val_evaluator = None
default_hooks = dict(
    runtime_info=dict(type='CoSegRuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(
        type='CoSegLoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=max_iters,
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'))
custom_hooks = [
    dict(
        type='CoAttentionMaskHook',
        stage_one_iters=200,
        update_interval=10,
        proposal_generator=dict(type='MergeProposalGenerator'))
]

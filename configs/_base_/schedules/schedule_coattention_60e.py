# Two-stage schedule of co-attention co-segmentation, per collection, as the
# paper's: 20 epochs of the co-attention loss alone, then 40 with the mask
# loss, its proposal targets refined every epoch. An epoch is one pass over
# the collection: ceil(images / 5) iterations of one group of 5 images (10
# for a class of 50 images, 600 iterations in all).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=5e-4))
param_scheduler = []
train_cfg = dict(
    type='CollectionFitLoop',
    max_epochs=60,
    stage_one_epochs=20,
    target_interval=1)
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
    # the fitted model at the end (interval -1: no other checkpoint)
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=-1,
        save_last=True,
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'))

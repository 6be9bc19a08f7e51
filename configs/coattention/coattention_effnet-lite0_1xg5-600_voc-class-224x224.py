# Unsupervised co-attention co-segmentation (Hsu et al., IJCAI 2018) of one
# PASCAL-VOC class on a CPU: groups of 5 images of the class, 600 iterations
# (about 60 of the paper's epochs for a class of 50 images): the co-attention
# loss alone for 200, then with the mask loss (lambda 9, beta 0.95), whose
# proposal targets are refined every 10 iterations. No mask is read for
# training; the test set is the same images, with their masks, for scoring.
_base_ = [
    '../_base_/models/coattention_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_class.py', '../_base_/default_runtime.py'
]
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
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
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

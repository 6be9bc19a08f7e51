# CoSegNet with the recipe of the best DOCS model (issue 11): ImageNet
# EfficientNet-Lite2, two-class output with cross-entropy + per-image
# Lovasz-Softmax, EMA of the weights. Half of the training pairs are
# negative (the decision network needs both kinds); only the positive ones
# train the decoder after the gate's stage (CoSegNet's conditional
# training), so the schedule is 4000 iterations instead of DOCS's 2500: about
# as many positive pairs as DOCS sees with 30 % negatives. A step cost 1.12 s
# on average on 2 cores (no correlation; negatives skip most of the decoder),
# against about 2.1 s for the Lite2 DOCS model.
# Two changes to the gate against the Lite0 1k config, both for a decision
# that tells classes apart rather than images:
# - it embeds the first decoder stage (stride 16, after the stride-32
#   features and the stride-16 skip), not the stride-8 one: more semantic;
# - the decision network sees |a - b| and a * b of the two embeddings
#   (pair_features='symmetric'), not their concatenation.
_base_ = [
    '../_base_/models/cosegnet_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_pair.py', '../_base_/default_runtime.py',
    '../_base_/losses/ce_lovasz.py',
    '../_base_/schedules/schedule_2500_adamw_ema.py'
]
max_iters = 4000
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
# a batch may hold negative pairs only: the conditional decoder is then unused
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)

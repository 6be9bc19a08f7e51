# CoSegNet with the recipe of the best DOCS model (issue 11): ImageNet
# EfficientNet-Lite2, two-class output with cross-entropy + per-image
# Lovasz-Softmax, EMA of the weights; the gate on the stride-16 decoder
# stage with a symmetric decision (../_base_/models/cosegnet-lovasz_effnet-lite2.py).
# Half of the training pairs are negative (the decision network needs both
# kinds); only the positive ones train the decoder after the gate's stage
# (CoSegNet's conditional training), so the schedule is 4000 iterations
# instead of DOCS's 2500: about as many positive pairs as DOCS sees with
# 30 % negatives. A step cost 1.12 s on average on 2 cores (no correlation;
# negatives skip most of the decoder), against about 2.1 s for the Lite2
# DOCS model.
_base_ = [
    '../_base_/models/cosegnet-lovasz_effnet-lite2.py',
    '../_base_/datasets/voc_coseg_pair.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_2500_adamw_ema.py'
]
max_iters = 4000
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=100, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=100, end=max_iters,
         by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
train_dataloader = dict(sampler=dict(neg_ratio=0.5))

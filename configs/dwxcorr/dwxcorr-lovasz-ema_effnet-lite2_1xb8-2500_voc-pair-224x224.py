# Depth-wise cross-correlation with the recipe of DOCS's best CPU model
# (configs/docs/docs-lovasz-ema_effnet-lite2_1xb8-2500_voc-pair-224x224.py):
# ImageNet EfficientNet-Lite2, 30% negative training pairs, a per-image
# Lovasz-Softmax term next to the cross-entropy, an exponential moving
# average of the weights (EMAHook) and 2500 iterations. Only the head
# differs from that DOCS model.
_base_ = [
    '../_base_/models/dwxcorr_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_pair.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_3k_adamw.py'
]
max_iters = 2500
model = dict(
    backbone=dict(arch='lite2'),
    decode_head=dict(
        in_channels=352,
        skips=[
            dict(in_index=2, in_channels=120, stage=0),
            dict(in_index=1, in_channels=48, stage=1),
            dict(in_index=0, in_channels=24, stage=2),
        ],
        loss_decode=[
            dict(
                type='CrossEntropyLoss', avg_non_ignore=True,
                loss_weight=1.0),
            dict(
                type='LovaszLoss',
                loss_type='multi_class',
                classes='present',
                per_image=True,
                reduction='mean',
                loss_weight=1.0),
        ]))
train_dataloader = dict(sampler=dict(neg_ratio=0.3))
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

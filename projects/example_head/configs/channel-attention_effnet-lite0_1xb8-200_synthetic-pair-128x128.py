# A head from outside the package, found through custom_imports. Run from the
# repository root:
#   python tools/train.py projects/example_head/configs/<this file>
_base_ = [
    '../../../configs/docs/docs-s16_effnet-lite0_1xb8-600_synthetic-pair-128x128.py'
]
custom_imports = dict(
    imports=['projects.example_head.example_head'], allow_failed_imports=False)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='GroupChannelAttentionHead',
        in_channels=112,
        channels=64,
        in_index=-1,
        num_classes=2,
        loss_decode=dict(
            type='CrossEntropyLoss', avg_non_ignore=True, loss_weight=1.0)))
max_iters = 200
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-6,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=200)

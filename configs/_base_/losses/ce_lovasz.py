# Cross-entropy plus a per-image Lovasz-Softmax term (mmseg's LovaszLoss):
# the second optimises the Jaccard index the benchmark reports. For heads
# with a two-class (background / object) output; a config uses it as
# model = dict(decode_head=dict(loss_decode={{_base_.ce_lovasz_loss}})).
ce_lovasz_loss = [
    dict(type='CrossEntropyLoss', avg_non_ignore=True, loss_weight=1.0),
    dict(
        type='LovaszLoss',
        loss_type='multi_class',
        classes='present',
        per_image=True,
        reduction='mean',
        loss_weight=1.0),
]

# CoSegNet with the recipe of the best DOCS model (issue 11): the Lite0
# CoSegNet of cosegnet_effnet-lite0.py on ImageNet EfficientNet-Lite2, a
# two-class output trained with cross-entropy + per-image Lovasz-Softmax.
# Two changes to the gate, both for a decision that tells classes apart
# rather than images:
# - it embeds the first decoder stage (stride 16, after the stride-32
#   features and the stride-16 skip), not the stride-8 one: more semantic;
# - the decision network sees |a - b| and a * b of the two embeddings
#   (pair_features='symmetric'), not their concatenation.
_base_ = ['./cosegnet_effnet-lite0.py', '../losses/ce_lovasz.py']
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
# a batch may hold negative pairs only: the conditional decoder is then unused
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)

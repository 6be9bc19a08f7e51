# Depth-wise cross-correlation with the recipe of DOCS's best CPU model
# (configs/docs/docs-lovasz-ema_effnet-lite2_1xb8-2500_voc-pair-224x224.py):
# ImageNet EfficientNet-Lite2, 30% negative training pairs, a per-image
# Lovasz-Softmax term next to the cross-entropy, an exponential moving
# average of the weights (EMAHook) and 2500 iterations. Only the head
# differs from that DOCS model.
_base_ = [
    '../_base_/models/dwxcorr_effnet-lite2.py',
    '../_base_/datasets/voc_coseg_pair.py', '../_base_/default_runtime.py',
    '../_base_/losses/ce_lovasz.py',
    '../_base_/schedules/schedule_2500_adamw_ema.py'
]
model = dict(decode_head=dict(loss_decode={{_base_.ce_lovasz_loss}}))
train_dataloader = dict(sampler=dict(neg_ratio=0.3))

# cyclesegnet-lovasz-ema_effnet-lite2_1xb8-2500 on the 288x288 pairs of
# ../_base_/datasets/voc_coseg_pair-288x288.py: the recipe and resolution of
# DOCS's best CPU model
# (configs/docs/docs-lovasz-ema_effnet-lite2_1xb8-2500_voc-pair-288x288.py),
# only the head differs from that DOCS model.
_base_ = [
    '../_base_/models/cyclesegnet_effnet-lite2.py',
    '../_base_/datasets/voc_coseg_pair-288x288.py',
    '../_base_/default_runtime.py', '../_base_/losses/ce_lovasz.py',
    '../_base_/schedules/schedule_2500_adamw_ema.py'
]
model = dict(decode_head=dict(loss_decode={{_base_.ce_lovasz_loss}}))
train_dataloader = dict(sampler=dict(neg_ratio=0.3))

# The Lovasz + EMA DOCS model at a higher resolution (issue 11, resolution
# lever): docs-lovasz-ema_effnet-lite2_1xb8-2500 on the 288x288 pairs of
# ../_base_/datasets/voc_coseg_pair-288x288.py (crops 288 instead of 224,
# random resize around 416 instead of 320, testing with the longer side at
# 320 instead of 256), so the stride-32 correlation map grows from 7x7 to
# 9x9. Lite2 was pretrained at 260 pixels. A training step costs about
# (288/224)^2 = 1.65 times as much.
_base_ = [
    '../_base_/models/docs_effnet-lite2.py',
    '../_base_/datasets/voc_coseg_pair-288x288.py',
    '../_base_/default_runtime.py', '../_base_/losses/ce_lovasz.py',
    '../_base_/schedules/schedule_2500_adamw_ema.py'
]
model = dict(decode_head=dict(loss_decode={{_base_.ce_lovasz_loss}}))
train_dataloader = dict(sampler=dict(neg_ratio=0.3))

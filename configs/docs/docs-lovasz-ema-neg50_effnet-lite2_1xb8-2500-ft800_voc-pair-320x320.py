# The warm restart at 320x320 of the best CPU DOCS model
# (docs-lovasz-ema_effnet-lite2_1xb8-2500-ft800_voc-pair-320x320.py) with
# half of the fine-tune's training pairs negative instead of 30 % (issue 11,
# unrelated images left empty: the 0.3 fine-tunes left 90.30 % and 86.57 %
# of the negative test images empty, the issue asks for 90 %). Only the
# negative ratio differs; load the 288x288 model with
# --cfg-options load_from=...
_base_ = ['./docs-lovasz-ema_effnet-lite2_1xb8-2500-ft800_voc-pair-320x320.py']
train_dataloader = dict(sampler=dict(neg_ratio=0.5))

# DOCS on ImageNet EfficientNet-Lite2, 3k iterations on a 2-core CPU. 30% of
# the training pairs are negative (two classes, both masks empty), so the
# model learns to leave an image empty when it shares nothing with its
# partner instead of segmenting its salient object.
_base_ = [
    '../_base_/models/docs_effnet-lite2.py',
    '../_base_/datasets/voc_coseg_pair.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_3k_adamw.py'
]
train_dataloader = dict(sampler=dict(neg_ratio=0.3))

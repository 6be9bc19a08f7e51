# DOCS on ImageNet EfficientNet-Lite0 with the 1k schedule shared by every
# method of the comparison table in the main README.
_base_ = [
    '../_base_/models/docs_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_pair.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k_adamw.py'
]

# DOCS head on ImageNet EfficientNet-Lite0, trains on a 2-core CPU.
_base_ = [
    '../_base_/models/docs_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_pair.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_2k_adamw.py'
]

# DOCS head on ImageNet EfficientNet-Lite0, correlation at stride 16; trains
# on a 2-core CPU.
_base_ = [
    '../_base_/models/docs-s16_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_pair.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_2k_adamw.py'
]

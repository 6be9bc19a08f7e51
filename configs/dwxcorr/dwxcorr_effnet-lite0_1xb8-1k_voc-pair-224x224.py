# Depth-wise cross-correlation on ImageNet EfficientNet-Lite0, the 1k CPU
# schedule of the comparison table.
_base_ = [
    '../_base_/models/dwxcorr_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_pair.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k_adamw.py'
]

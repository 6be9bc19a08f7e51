# Unsupervised co-attention co-segmentation (Hsu et al., IJCAI 2018) of one
# PASCAL-VOC class on a CPU: EfficientNet-Lite0 generator and extractor,
# 224x224 images, Adam lr 1e-4. No mask is read for training; the test set is
# the same images, with their masks, for scoring.
_base_ = [
    '../_base_/models/coattention_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_class.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_coattention_600it.py'
]

# CoSegNet on ImageNet EfficientNet-Lite0, the 1k CPU schedule of the
# comparison table. Training pairs are positive or negative with equal
# probability (the decision network needs both); evaluation as for the other
# methods (pairs of one class); decision accuracy on mixed pairs: see the
# method README.
_base_ = [
    '../_base_/models/cosegnet_effnet-lite0.py',
    '../_base_/datasets/voc_coseg_pair.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k_adamw.py'
]
train_dataloader = dict(sampler=dict(neg_ratio=0.5))
# a batch may hold negative pairs only: the conditional decoder is then unused
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)

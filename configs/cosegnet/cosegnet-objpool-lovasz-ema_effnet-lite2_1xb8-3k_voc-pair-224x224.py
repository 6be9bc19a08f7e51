# The CoSegNet Lovasz + EMA model with a decision gate that pools the
# stride-16 decoder features over the image's predicted object
# (DecisionGate(pool='object'), not in the paper) instead of over the whole
# image: whether two images share an object is a question about their
# objects, and on frozen features pooling inside the object raised the best
# balanced accuracy of a same-class probe by about 8 points
# (configs/cosegnet/README.md). To give the gate a foreground, the negative
# pairs are decoded too, without gradient and with the conditional decoder
# in eval mode, so they still train nothing after the gate's stage.
# 3000 iterations instead of 4000 (the 4k run's best on val was at 3000;
# the session's time allowed no more), so the LR decays by 3000.
_base_ = ['./cosegnet-lovasz-ema_effnet-lite2_1xb8-4k_voc-pair-224x224.py']
max_iters = 3000
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=100, by_epoch=False),
    dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=100, end=max_iters,
         by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
model = dict(decode_head=dict(decision_gate=dict(pool='object')))

# CoSegNet head on the CPU backbone shared by the comparison in the main
# README (ImageNet EfficientNet-Lite0): decoder of nearest-neighbour
# upsampling + stride-1 transposed convs from stride 32 to stride 4 with
# skips from strides 16/8/4; the decision gate embeds the stride-8 decoder
# stage (CoSegNet's cT9 is the stage two before its output); one sigmoid
# channel, BCE.
_base_ = ['./docs_effnet-lite0.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='CoSegNetHead',
        in_channels=320,
        decoder_channels=(128, 96, 64),
        num_convs=2,
        metric_stage=1,
        skips=[
            dict(in_index=2, in_channels=112, stage=0),
            dict(in_index=1, in_channels=40, stage=1),
            dict(in_index=0, in_channels=24, stage=2),
        ],
        skip_channels=32,
        norm_cfg=norm_cfg,
        decision_gate=dict(
            type='DecisionGate',
            metric_channels=(128, 64),
            decision_channels=32,
            margin=1.0,
            threshold=0.5,
            loss_weights=dict(positive=0.33, negative=0.5)),
        num_classes=1,
        threshold=0.5,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)))

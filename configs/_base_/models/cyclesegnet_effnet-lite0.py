# Multi-level CycleSegNet head on the CPU backbone shared by the comparison in
# the main README (ImageNet EfficientNet-Lite0): cycle refinement (7 steps,
# 2x2 regions) of the stride-8/16/32 features, projected to 32/64/128
# channels, decoded from stride 32 to stride 4 with channel-attention fusion
# of the refined stride-16/8 states and of the stride-4 feature. Lovasz loss.
_base_ = ['./docs_effnet-lite0.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='CycleSegHead',
        in_channels=(24, 40, 112, 320),
        refine_indices=(1, 2, 3),
        channels=(32, 64, 128),
        key_channels=32,
        region_size=2,
        num_steps=7,
        decoder_channels=(128, 96, 64),
        skips=[
            dict(in_index=2, stage=0),
            dict(in_index=1, stage=1),
            dict(in_index=0, stage=2),
        ],
        norm_cfg=norm_cfg,
        num_classes=2,
        loss_decode=dict(
            type='LovaszLoss',
            loss_type='multi_class',
            per_image=False,
            reduction='none',
            loss_weight=1.0)))

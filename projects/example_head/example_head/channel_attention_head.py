"""An example co-segmentation head that lives outside the cosegtools package.

It registers itself into cosegtools' MODELS registry and is pulled into a
config with ``custom_imports``; nothing in cosegtools knows about it.
"""
import torch.nn as nn
from mmcv.cnn import ConvModule

from cosegtools.models.heads import BaseCoSegHead
from cosegtools.registry import MODELS


@MODELS.register_module()
class GroupChannelAttentionHead(BaseCoSegHead):
    """Cross channel attention (after Chen et al., 2018).

    Each image's features are gated by a channel attention vector computed
    from the mean of the *other* images' pooled features, then decoded by a
    3x3 conv to logits at the feature resolution.

    Shapes:
        inputs[in_index] (Tensor): (N*G, C, h, w).
        output (Tensor): (N*G, num_classes, h, w).
    """

    def __init__(self, in_channels: int, channels: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.attention = nn.Sequential(
            nn.Linear(in_channels, channels), nn.Tanh(),
            nn.Linear(channels, in_channels), nn.Sigmoid())
        self.conv = ConvModule(
            in_channels, channels, 3, padding=1, norm_cfg=dict(type='BN'))
        self.conv_seg = nn.Conv2d(channels, self.num_classes, 1)

    def forward(self, inputs, group_size):
        feats = inputs[self.in_index]
        batch = feats.shape[0] // group_size
        pooled = feats.mean(dim=(2, 3)).view(batch, group_size, -1)
        others = (pooled.sum(1, keepdim=True) - pooled) / (group_size - 1)
        gate = self.attention(others).flatten(0, 1)[..., None, None]
        return self.conv_seg(self.conv(feats * gate))

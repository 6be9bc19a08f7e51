from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize
from torch import Tensor

from cosegtools.registry import MODELS
from ..utils.correlation import windowed_correlation
from .base_coseg_head import BaseCoSegHead


def group_pairs(batch_size: int, group_size: int, device):
    """Row indices (a, b) of every ordered pair of distinct images of a group.

    Returns:
        tuple[Tensor, Tensor]: each (N * G * (G - 1), ), ordered by group,
        then by ``a``, then by ``b``.
    """
    g = torch.arange(group_size, device=device)
    a, b = torch.meshgrid(g, g, indexing='ij')
    keep = a != b
    offsets = torch.arange(batch_size, device=device)[:, None] * group_size
    a = (offsets + a[keep][None]).flatten()
    b = (offsets + b[keep][None]).flatten()
    return a, b


@MODELS.register_module()
class DOCSHead(BaseCoSegHead):
    """The DOCS mutual-correlation decoder (Li et al., ACCV 2018).

    For each image, the correlation of its features with each other image of
    the group (kernel 1, offsets up to ``max_displacement``, then ReLU) is
    concatenated with a 1x1 reduction of its own features, fused by a 3x3
    conv and decoded by stages of [4x4 stride-2 transposed conv + two 3x3
    convs]. In a pair this is exactly DOCS (A->B for A, B->A for B); in a
    larger group an image's correlation is the mean over the others.

    DOCS has no skip connections. ``skips`` optionally adds them (an
    extension, off by default): each ``dict(in_index, in_channels, stage)``
    takes that backbone output, reduces it by a 1x1 conv to
    ``skip_channels`` and concatenates it after the transposed conv of decoder
    stage ``stage`` (resized to it if the sizes differ by rounding).

    Args:
        in_channels (int): channels of the correlated feature (DOCS conv6:
            1024).
        reduce_channels (int): 1x1 reduction (DOCS: 512).
        max_displacement (int): correlation window D (DOCS: 15, 961 channels).
        fuse_channels (int): the 3x3 fusion conv (DOCS: 1024).
        decoder_channels (Sequence[int]): width of each upsampling stage
            (DOCS: 512, 512, 256, 128, 64); each stage doubles the size.
        norm_cfg (dict, optional): norm after convs (DOCS: none).
        skips (Sequence[dict]): optional skip connections, see above.
        skip_channels (int): width of each reduced skip.
        **kwargs: see :class:`BaseCoSegHead`.

    Shapes:
        inputs (tuple[Tensor]): backbone outputs, (N*G, C_i, h_i, w_i).
        output (Tensor): (N*G, num_classes, h * 2**S, w * 2**S), S stages.
    """

    def __init__(self,
                 in_channels: int = 1024,
                 reduce_channels: int = 512,
                 max_displacement: int = 15,
                 fuse_channels: int = 1024,
                 decoder_channels: Sequence[int] = (512, 512, 256, 128, 64),
                 norm_cfg: Optional[dict] = None,
                 skips: Sequence[dict] = (),
                 skip_channels: int = 32,
                 **kwargs):
        super().__init__(**kwargs)
        self.max_displacement = max_displacement
        corr_channels = (2 * max_displacement + 1)**2
        self.reduce = ConvModule(
            in_channels, reduce_channels, 1, norm_cfg=norm_cfg)
        self.fuse = ConvModule(
            reduce_channels + corr_channels,
            fuse_channels,
            3,
            padding=1,
            norm_cfg=norm_cfg)
        self.skips = [dict(s) for s in skips]
        for skip in self.skips:
            if not 0 <= skip['stage'] < len(decoder_channels):
                raise ValueError(f'skip {skip}: stage must be in 0..'
                                 f'{len(decoder_channels) - 1}')
        self.skip_reduce = nn.ModuleList(
            ConvModule(s['in_channels'], skip_channels, 1, norm_cfg=norm_cfg)
            for s in self.skips)
        skip_stages = [s['stage'] for s in self.skips]
        self.up = nn.ModuleList()
        self.stage_convs = nn.ModuleList()
        prev = fuse_channels
        for stage, width in enumerate(decoder_channels):
            self.up.append(
                ConvModule(
                    prev,
                    width,
                    4,
                    stride=2,
                    padding=1,
                    conv_cfg=dict(type='deconv'),
                    norm_cfg=norm_cfg))
            first_in = width + skip_channels * skip_stages.count(stage)
            self.stage_convs.append(
                nn.Sequential(
                    ConvModule(
                        first_in, width, 3, padding=1, norm_cfg=norm_cfg),
                    ConvModule(width, width, 3, padding=1, norm_cfg=norm_cfg)))
            prev = width
        self.conv_seg = nn.Conv2d(prev, self.num_classes, 3, padding=1)

    def mutual_correlation(self, feats: Tensor, group_size: int) -> Tensor:
        """(N*G, (2D+1)**2, h, w): each image against the rest of its group,
        averaged over the others."""
        batch = feats.shape[0] // group_size
        a, b = group_pairs(batch, group_size, feats.device)
        corr = windowed_correlation(feats[a], feats[b], self.max_displacement)
        corr = corr.view(batch * group_size, group_size - 1, *corr.shape[1:])
        return corr.mean(dim=1).relu()

    def forward(self, inputs: Tuple[Tensor], group_size: int) -> Tensor:
        feats = inputs[self.in_index]
        x = torch.cat(
            [self.reduce(feats),
             self.mutual_correlation(feats, group_size)],
            dim=1)
        x = self.fuse(x)
        for stage, (up, convs) in enumerate(zip(self.up, self.stage_convs)):
            x = up(x)
            joined = [x]
            for skip, reduce in zip(self.skips, self.skip_reduce):
                if skip['stage'] == stage:
                    feat = reduce(inputs[skip['in_index']])
                    joined.append(
                        resize(
                            feat,
                            size=x.shape[-2:],
                            mode='bilinear',
                            align_corners=self.align_corners))
            x = convs(torch.cat(joined, dim=1))
        return self.conv_seg(x)

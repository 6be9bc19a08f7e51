"""The upsampling decoder shared by the co-segmentation heads."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize
from torch import Tensor

UPSAMPLE_MODES = ('deconv', 'bilinear', 'nearest')
FUSION_MODES = ('concat', 'attention', 'add')


class ChannelAttentionFusion(nn.Module):
    """Fuses a skip feature into the decoder by channel attention.

    The channel attention block of DFN (Yu et al., CVPR 2018), used by
    CycleSegNet's multi-level variant: the concatenation of both features is
    pooled globally, two 1x1 convs and a sigmoid give one weight per channel
    of the skip feature, and ``out = decoder + weight * skip``.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.attention = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(2 * channels, channels, 1),
            nn.ReLU(inplace=True), nn.Conv2d(channels, channels, 1),
            nn.Sigmoid())

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        weight = self.attention(torch.cat([x, skip], dim=1))
        return x + weight * skip


class UpConvDecoder(nn.Module):
    """Stages of [2x upsampling, optional skip fusion, convs].

    Args:
        in_channels (int): channels of the decoder input.
        channels (Sequence[int]): width of each stage; each stage doubles the
            spatial size.
        upsample (str): ``'deconv'`` (4x4 stride-2 transposed conv, DOCS),
            ``'bilinear'`` or ``'nearest'`` interpolation followed by the
            stage's convs (CycleSegNet, depth-wise cross-correlation,
            CoSegNet's nearest-neighbour interpolation).
        num_convs (int | Sequence[int]): 3x3 convs after the upsampling of
            each stage (one number for all stages, or one per stage).
        skips (Sequence[dict]): each ``dict(in_channels, stage)``: a feature
            fused after the upsampling of decoder stage ``stage`` (resized to
            it if the sizes differ by rounding). The skip features are passed
            to :meth:`forward` in the same order.
        skip_channels (int): width of a skip after its 1x1 reduction, for
            ``fusion='concat'`` (with ``'attention'`` it is the stage width).
        fusion (str): ``'concat'`` (concatenate, then the stage's convs),
            ``'attention'`` (:class:`ChannelAttentionFusion`) or ``'add'``
            (the skip, reduced to the stage width, is added: MaCoSNet).
        conv_cfg (dict, optional): conv type of the stage convs (e.g.
            ``dict(type='deconv')`` for CoSegNet's stride-1 transposed convs).
        norm_cfg (dict, optional): norm after every conv.
        align_corners (bool): for interpolation.

    Shapes:
        x (Tensor): (B, in_channels, h, w) -> (B, channels[-1], h * 2**S,
        w * 2**S). :meth:`forward` can also return every stage's output.
    """

    def __init__(self,
                 in_channels: int,
                 channels: Sequence[int],
                 upsample: str = 'deconv',
                 num_convs=2,
                 skips: Sequence[dict] = (),
                 skip_channels: int = 32,
                 fusion: str = 'concat',
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 align_corners: bool = False):
        super().__init__()
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f'upsample must be one of {UPSAMPLE_MODES}, got '
                             f'{upsample!r}')
        if fusion not in FUSION_MODES:
            raise ValueError(f'fusion must be one of {FUSION_MODES}, got '
                             f'{fusion!r}')
        if isinstance(num_convs, int):
            num_convs = [num_convs] * len(channels)
        if len(num_convs) != len(channels) or min(num_convs) < 1:
            raise ValueError(f'num_convs {num_convs} must give at least one '
                             f'conv for each of the {len(channels)} stages')
        self.upsample = upsample
        self.fusion = fusion
        self.align_corners = align_corners
        self.skips = [dict(s) for s in skips]
        for skip in self.skips:
            if not 0 <= skip['stage'] < len(channels):
                raise ValueError(f'skip {skip}: stage must be in 0..'
                                 f'{len(channels) - 1}')
        self.skip_reduce = nn.ModuleList()
        self.skip_fuse = nn.ModuleList()
        for skip in self.skips:
            width = channels[skip['stage']]
            out = skip_channels if fusion == 'concat' else width
            self.skip_reduce.append(
                ConvModule(skip['in_channels'], out, 1, norm_cfg=norm_cfg))
            if fusion == 'attention':
                self.skip_fuse.append(ChannelAttentionFusion(width))
        skip_stages = [s['stage'] for s in self.skips]
        self.up = nn.ModuleList()
        self.stage_convs = nn.ModuleList()
        prev = in_channels
        for stage, width in enumerate(channels):
            if upsample == 'deconv':
                self.up.append(
                    ConvModule(
                        prev,
                        width,
                        4,
                        stride=2,
                        padding=1,
                        conv_cfg=dict(type='deconv'),
                        norm_cfg=norm_cfg))
                first_in = width
            else:
                self.up.append(nn.Identity())
                first_in = prev
            if fusion == 'concat':
                first_in += skip_channels * skip_stages.count(stage)
            elif upsample != 'deconv' and stage in skip_stages:
                # attention and additive fusion need the stage width first
                self.up[-1] = ConvModule(
                    prev, width, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
                first_in = width
            convs = [
                ConvModule(
                    first_in if i == 0 else width,
                    width,
                    3,
                    padding=1,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg) for i in range(num_convs[stage])
            ]
            self.stage_convs.append(nn.Sequential(*convs))
            prev = width
        self.out_channels = prev

    def forward(self,
                x: Tensor,
                skip_feats: Sequence[Tensor] = (),
                return_stages: bool = False):
        if len(skip_feats) != len(self.skips):
            raise ValueError(f'expected {len(self.skips)} skip features, got '
                             f'{len(skip_feats)}')
        stages: List[Tensor] = []
        for stage, (up, convs) in enumerate(zip(self.up, self.stage_convs)):
            if self.upsample != 'deconv':
                x = resize(
                    x,
                    scale_factor=2,
                    mode=self.upsample,
                    align_corners=self.align_corners
                    if self.upsample == 'bilinear' else None)
            x = up(x)
            joined = [x]
            for k, skip in enumerate(self.skips):
                if skip['stage'] != stage:
                    continue
                feat = resize(
                    self.skip_reduce[k](skip_feats[k]),
                    size=x.shape[-2:],
                    mode='bilinear',
                    align_corners=self.align_corners)
                if self.fusion == 'concat':
                    joined.append(feat)
                elif self.fusion == 'add':
                    x = x + feat
                    joined = [x]
                else:
                    x = self.skip_fuse[k](x, feat)
                    joined = [x]
            x = convs(torch.cat(joined, dim=1))
            stages.append(x)
        return stages if return_stages else x

from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import ConvModule
from torch import Tensor

from cosegtools.registry import MODELS
from ..utils.cycle_modules import ConvLSTMCell, RegionCorrespondence
from ..utils.decoder import UpConvDecoder
from .base_coseg_head import BaseCoSegHead


class CycleRefinement(nn.Module):
    """Cycle Refinement Module (CRM) of one feature level, eq. 1-8.

    The ConvLSTM states of every image start from its (projected) encoder
    features; at each of ``num_steps`` steps the input of an image's cell is
    the RCM of its cell state against the cell states of the rest of its
    group, and the cell (shared by all images) updates the states.

    Args:
        in_channels (int): channels of the encoder feature.
        channels (int): channels of the states. If it differs from
            ``in_channels`` a 1x1 conv projects the feature first (an
            addition for small backbones; the paper uses the features as is).
        key_channels (int): RCM projection width.
        region_size (int): RCM grid.
        num_steps (int): refinement steps N (paper: 7).
        norm_cfg (dict, optional): norm of the projection.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 key_channels: int,
                 region_size: int = 2,
                 num_steps: int = 7,
                 norm_cfg: Optional[dict] = None):
        super().__init__()
        if num_steps < 1:
            raise ValueError(f'num_steps must be >= 1, got {num_steps}')
        self.num_steps = num_steps
        self.project = (
            ConvModule(in_channels, channels, 1, norm_cfg=norm_cfg)
            if in_channels != channels else nn.Identity())
        self.rcm = RegionCorrespondence(channels, key_channels, region_size)
        self.cell = ConvLSTMCell(channels, channels)

    def forward(self, feats: Tensor, group_size: int) -> List[Tensor]:
        """(N*G, C_in, h, w) -> the hidden state after each step, each
        (N*G, channels, h, w)."""
        h = c = self.project(feats)
        hidden = []
        for _ in range(self.num_steps):
            h, c = self.cell(self.rcm(c, group_size), (h, c))
            hidden.append(h)
        return hidden


@MODELS.register_module()
class CycleSegHead(BaseCoSegHead):
    """CycleSegNet head: cycle refinement of one or several feature levels.

    Each level in ``refine_indices`` gets its own :class:`CycleRefinement`
    (parameters shared by all images of a group and all steps). The last
    hidden state of the deepest level is decoded by stages of [bilinear
    upsampling + convs]; the refined shallower levels (and any other backbone
    output named in ``skips``) are fused into the decoder by channel
    attention (the multi-level variant). A group of any size is handled
    one-vs-rest with the same parameters as a pair.

    Args:
        in_channels (Sequence[int]): channels of every backbone output.
        refine_indices (Sequence[int]): backbone outputs to refine, deepest
            last (paper: the last three stages; one index = single level).
        channels (Sequence[int]): state channels of each refined level.
        key_channels (int): RCM projection width.
        region_size (int): RCM grid side (paper: 2).
        num_steps (int): refinement steps (paper: 7).
        decoder_channels (Sequence[int]): width of each upsampling stage.
        skips (Sequence[dict]): ``dict(in_index, stage)``: fuse backbone
            output ``in_index`` (its refined state if it is refined) after the
            upsampling of decoder stage ``stage``.
        norm_cfg (dict, optional): norm of the convs.
        **kwargs: see :class:`BaseCoSegHead`.

    Shapes:
        inputs (tuple[Tensor]): backbone outputs, (N*G, C_i, h_i, w_i).
        output (Tensor): (N*G, num_classes, h * 2**S, w * 2**S) for the
        deepest level's (h, w); ``forward(..., all_steps=True)`` returns the
        list of the logits of every step.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 refine_indices: Sequence[int] = (-1, ),
                 channels: Sequence[int] = (512, ),
                 key_channels: int = 64,
                 region_size: int = 2,
                 num_steps: int = 7,
                 decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
                 skips: Sequence[dict] = (),
                 norm_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(**kwargs)
        num_inputs = len(in_channels)
        self.refine_indices = [i % num_inputs for i in refine_indices]
        if len(channels) != len(self.refine_indices):
            raise ValueError(f'channels {tuple(channels)} must give one width '
                             f'per refined level {tuple(refine_indices)}')
        self.refiners = nn.ModuleList(
            CycleRefinement(in_channels[i], width, key_channels, region_size,
                            num_steps, norm_cfg)
            for i, width in zip(self.refine_indices, channels))
        width_of = dict(zip(self.refine_indices, channels))
        self.skip_indices = [s['in_index'] % num_inputs for s in skips]
        self.decoder = UpConvDecoder(
            channels[-1],
            decoder_channels,
            upsample='bilinear',
            skips=[
                dict(
                    in_channels=width_of.get(i, in_channels[i]),
                    stage=s['stage']) for i, s in zip(self.skip_indices, skips)
            ],
            fusion='attention',
            norm_cfg=norm_cfg,
            align_corners=self.align_corners)
        self.conv_seg = nn.Conv2d(
            self.decoder.out_channels, self.num_classes, 3, padding=1)

    def decode(self, inputs: Sequence[Tensor], refined: dict) -> Tensor:
        skips = [refined.get(i, inputs[i]) for i in self.skip_indices]
        x = self.decoder(refined[self.refine_indices[-1]], skips)
        return self.conv_seg(x)

    def forward(self,
                inputs: Tuple[Tensor],
                group_size: int,
                all_steps: bool = False):
        hidden = {
            i: refiner(inputs[i], group_size)
            for i, refiner in zip(self.refine_indices, self.refiners)
        }
        num_steps = self.refiners[0].num_steps
        if not all_steps:
            return self.decode(inputs, {i: h[-1] for i, h in hidden.items()})
        return [
            self.decode(inputs, {
                i: h[t]
                for i, h in hidden.items()
            }) for t in range(num_steps)
        ]

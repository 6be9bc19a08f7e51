from typing import Optional, Sequence, Tuple

import torch.nn as nn
from torch import Tensor

from cosegtools.registry import MODELS
from ..utils.decoder import UpConvDecoder
from .base_coseg_head import BaseCoSegHead


@MODELS.register_module()
class AttentionMapHead(BaseCoSegHead):
    """A per-image fully convolutional decoder (no relation between the
    images): the co-attention generator of :class:`CoAttentionSegmentor`.

    Args:
        in_channels (int): channels of backbone output ``in_index``.
        decoder_channels (Sequence[int]): width of each x2 upsampling stage.
        upsample (str): see :class:`UpConvDecoder`.
        skips (Sequence[dict]): ``dict(in_index, in_channels, stage)``.
        skip_channels (int): width of each reduced skip.
        norm_cfg (dict, optional): norm after convs.
        **kwargs: see :class:`BaseCoSegHead`; ``num_classes=1`` (a sigmoid
            map) and no ``loss_decode`` (the segmentor computes its losses).
    """

    def __init__(self,
                 in_channels: int,
                 decoder_channels: Sequence[int] = (128, 64),
                 upsample: str = 'bilinear',
                 skips: Sequence[dict] = (),
                 skip_channels: int = 32,
                 norm_cfg: Optional[dict] = None,
                 **kwargs):
        kwargs.setdefault('num_classes', 1)
        kwargs.setdefault('loss_decode', [])
        super().__init__(**kwargs)
        self.decoder = UpConvDecoder(
            in_channels,
            decoder_channels,
            upsample=upsample,
            skips=[
                dict(in_channels=s['in_channels'], stage=s['stage'])
                for s in skips
            ],
            skip_channels=skip_channels,
            norm_cfg=norm_cfg,
            align_corners=self.align_corners)
        self.skip_indices = [s['in_index'] for s in skips]
        self.conv_seg = nn.Conv2d(
            self.decoder.out_channels, self.num_classes, 3, padding=1)

    def forward(self, inputs: Tuple[Tensor], group_size: int = 1) -> Tensor:
        x = self.decoder(inputs[self.in_index],
                         [inputs[i] for i in self.skip_indices])
        return self.conv_seg(x)

from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch import Tensor

from cosegtools.registry import MODELS
from ..utils.correlation import windowed_correlation
from ..utils.decoder import UpConvDecoder
from ..utils.groups import mean_of_others
from .base_coseg_head import BaseCoSegHead


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
        self.decoder = UpConvDecoder(
            fuse_channels,
            decoder_channels,
            upsample='deconv',
            skips=[
                dict(in_channels=s['in_channels'], stage=s['stage'])
                for s in skips
            ],
            skip_channels=skip_channels,
            norm_cfg=norm_cfg,
            align_corners=self.align_corners)
        self.skip_indices = [s['in_index'] for s in skips]
        prev = self.decoder.out_channels
        self.conv_seg = nn.Conv2d(prev, self.num_classes, 3, padding=1)

    def mutual_correlation(self, feats: Tensor, group_size: int) -> Tensor:
        """(N*G, (2D+1)**2, h, w): each image against the rest of its group,
        averaged over the others."""
        # the correlation is linear in B: correlating with the mean of the
        # others is the mean of the correlations, at O(G) instead of O(G^2)
        others = mean_of_others(feats, group_size)
        return windowed_correlation(feats, others,
                                    self.max_displacement).relu()

    def forward(self, inputs: Tuple[Tensor], group_size: int) -> Tensor:
        feats = inputs[self.in_index]
        x = torch.cat(
            [self.reduce(feats),
             self.mutual_correlation(feats, group_size)],
            dim=1)
        x = self.fuse(x)
        x = self.decoder(x, [inputs[i] for i in self.skip_indices])
        return self.conv_seg(x)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # checkpoints written before the decoder became a shared module keep
        # its layers directly on the head
        for key in list(state_dict):
            for old in ('up.', 'stage_convs.', 'skip_reduce.'):
                if key.startswith(prefix + old):
                    new = prefix + 'decoder.' + key[len(prefix):]
                    state_dict[new] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

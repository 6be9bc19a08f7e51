from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import Tensor

from cosegtools.registry import MODELS
from ..utils.correlation import depthwise_cross_correlation
from ..utils.decoder import UpConvDecoder
from ..utils.groups import mean_of_others
from .base_coseg_head import BaseCoSegHead


@MODELS.register_module()
class DepthwiseXCorrHead(BaseCoSegHead):
    """Depth-wise cross-correlation co-segmentation head.

    For a pair (A, B), B's features are average-pooled to each size in
    ``kernel_sizes`` (a feature pyramid); each pooled map is a depth-wise
    kernel slid over A's features, channel by channel
    (:func:`depthwise_cross_correlation`; no learned parameters in the
    matching). The responses of all scales are concatenated, fused by a 3x3
    conv and decoded by stages of [upsampling + convs]; B's mask comes from
    the same operation with the roles swapped. In a group of more than two,
    an image's responses are averaged over the others. Any input size works:
    the kernels are pooled to fixed sizes.

    Args:
        in_channels (int): channels of the correlated feature.
        kernel_sizes (Sequence[int]): odd sizes of the pooled kernels.
        fuse_channels (int): the 3x3 conv after the correlation.
        decoder_channels (Sequence[int]): width of each upsampling stage.
        upsample (str): see :class:`UpConvDecoder` (paper: bilinear).
        skips (Sequence[dict]): optional ``dict(in_index, in_channels,
            stage)`` skip connections (an extension, as in :class:`DOCSHead`).
        skip_channels (int): width of each reduced skip.
        norm_cfg (dict, optional): norm after convs (the paper's VGG16-BN
            uses BN throughout).
        **kwargs: see :class:`BaseCoSegHead`.

    Shapes:
        inputs (tuple[Tensor]): backbone outputs, (N*G, C_i, h_i, w_i).
        output (Tensor): (N*G, num_classes, h * 2**S, w * 2**S).
    """

    def __init__(self,
                 in_channels: int = 512,
                 kernel_sizes: Sequence[int] = (1, 3, 5),
                 fuse_channels: int = 512,
                 decoder_channels: Sequence[int] = (512, 256, 128, 64),
                 upsample: str = 'bilinear',
                 skips: Sequence[dict] = (),
                 skip_channels: int = 32,
                 norm_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(**kwargs)
        for k in kernel_sizes:
            if k < 1 or k % 2 == 0:
                raise ValueError(f'kernel_sizes must be odd and positive, got '
                                 f'{tuple(kernel_sizes)}')
        self.kernel_sizes = tuple(kernel_sizes)
        self.fuse = ConvModule(
            in_channels * len(self.kernel_sizes),
            fuse_channels,
            3,
            padding=1,
            norm_cfg=norm_cfg)
        self.decoder = UpConvDecoder(
            fuse_channels,
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

    def cross_correlation(self, feats: Tensor, group_size: int) -> Tensor:
        """(N*G, C * len(kernel_sizes), h, w): each image's responses to the
        pooled kernels of the others, averaged over the others."""
        # pooling and sliding are linear in the kernel image: the response
        # to the others' mean kernel is the mean of the responses, at O(G)
        # instead of O(G^2)
        others = mean_of_others(feats, group_size)
        responses = [
            depthwise_cross_correlation(feats,
                                        F.adaptive_avg_pool2d(others, size))
            for size in self.kernel_sizes
        ]
        return torch.cat(responses, dim=1)

    def forward(self, inputs: Tuple[Tensor], group_size: int) -> Tensor:
        feats = inputs[self.in_index]
        x = self.fuse(self.cross_correlation(feats, group_size))
        x = self.decoder(x, [inputs[i] for i in self.skip_indices])
        return self.conv_seg(x)

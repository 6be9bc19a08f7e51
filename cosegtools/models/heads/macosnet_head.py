from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from cosegtools.registry import MODELS
from ..utils.correlation import global_correlation
from ..utils.decoder import UpConvDecoder
from ..utils.groups import group_pairs, mean_over_others
from .base_coseg_head import BaseCoSegHead


@MODELS.register_module()
class MaCoSNetHead(BaseCoSegHead):
    """The co-segmentation decoder D of MaCoSNet (Chen et al., TPAMI 2020).

    An image's features f_X are concatenated with their correlation with
    its partner, S_XY (every position of X against every position of Y: an
    'l2' :func:`global_correlation`, h*w channels), and decoded by stages of
    [4x4 stride-2 transposed conv + two 3x3 convs] with additive skips from
    the encoder, to one logit map. In a group larger than a pair an image's
    correlation is the mean over its partners (with 2 images, the paper).

    The correlation has one channel per position of the partner, so every
    image must have the size the head was built for (``feat_size``).

    Args:
        in_channels (int): channels of the correlated feature (paper:
            ResNet-101 conv4_23, 1024).
        feat_size (Sequence[int]): (h, w) of that feature (paper: 15 x 15).
        decoder_channels (Sequence[int]): width of each stage (paper: 4
            stages).
        skips (Sequence[dict]): ``dict(in_index, in_channels, stage)``
            encoder features added after the upsampling of a stage.
        norm_cfg (dict, optional): norm after the convs.
        **kwargs: see :class:`BaseCoSegHead` (``num_classes=1``).
    """

    def __init__(self,
                 in_channels: int = 1024,
                 feat_size: Sequence[int] = (15, 15),
                 decoder_channels: Sequence[int] = (512, 256, 128, 64),
                 skips: Sequence[dict] = (),
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 **kwargs):
        kwargs.setdefault('num_classes', 1)
        kwargs.setdefault('loss_decode', [])
        super().__init__(**kwargs)
        self.feat_size = tuple(feat_size)
        corr_channels = self.feat_size[0] * self.feat_size[1]
        self.decoder = UpConvDecoder(
            in_channels + corr_channels,
            decoder_channels,
            upsample='deconv',
            skips=[
                dict(in_channels=s['in_channels'], stage=s['stage'])
                for s in skips
            ],
            fusion='add',
            norm_cfg=norm_cfg,
            align_corners=self.align_corners)
        self.skip_indices = [s['in_index'] for s in skips]
        self.conv_seg = nn.Conv2d(
            self.decoder.out_channels, self.num_classes, 3, padding=1)

    def pair_correlation(self, feats: Tensor, group_size: int):
        """Correlations of every directed pair of a group.

        Returns:
            tuple: the pairs' rows (x, y) (:func:`group_pairs`) and
            S_XY (P, h*w, h, w).
        """
        if tuple(feats.shape[-2:]) != self.feat_size:
            raise ValueError(
                f'{type(self).__name__} was built for '
                f'{self.feat_size[0]}x{self.feat_size[1]} features, got '
                f'{tuple(feats.shape[-2:])}: resize every image to the size '
                'of the config')
        x, y = group_pairs(feats.shape[0] // group_size, group_size,
                           feats.device)
        return x, y, global_correlation(feats[x], feats[y], 'l2')

    def decode(self, inputs: Tuple[Tensor], corr: Tensor) -> Tensor:
        """Logits (N*G, 1, H, W) from the features and each image's
        correlation (N*G, h*w, h, w)."""
        x = torch.cat([inputs[self.in_index], corr], dim=1)
        x = self.decoder(x, [inputs[i] for i in self.skip_indices])
        return self.conv_seg(x)

    def forward(self, inputs: Tuple[Tensor], group_size: int) -> Tensor:
        _, _, corr = self.pair_correlation(inputs[self.in_index], group_size)
        return self.decode(inputs, mean_over_others(corr, group_size))

    def loss_by_feat(self, seg_logits, batch_data_samples):
        raise NotImplementedError(
            'MaCoSNetHead is trained without masks by the MaCoSNet '
            "segmentor; use model=dict(type='MaCoSNet', ...)")


__all__ = ['MaCoSNetHead']

"""The transformation predictor G of CNNGeometric / MaCoSNet: an affine
regressor, then a TPS regressor on the affinely aligned features."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from cosegtools.registry import MODELS
from .correlation import global_correlation
from .warps import Warp, control_grid, identity_affine


class TransformRegression(nn.Module):
    """conv 7x7 -> conv 5x5 (no padding) -> FC on a correlation map.

    The FC is zero-initialised with the identity as its bias, so an
    untrained regressor predicts the identity transform.

    Args:
        in_channels (int): correlation channels (source positions).
        feat_size (Sequence[int]): (h, w) of the correlation map.
        identity (Tensor): the parameters of the identity transform.
        channels (Sequence[int]): widths of the two convs (paper: 128, 64).
        norm_cfg (dict): norm after each conv.
    """

    def __init__(self,
                 in_channels: int,
                 feat_size: Sequence[int],
                 identity: Tensor,
                 channels: Sequence[int] = (128, 64),
                 norm_cfg: Optional[dict] = dict(type='BN')):
        super().__init__()
        h, w = feat_size
        if h < 11 or w < 11:
            raise ValueError(f'the 7x7 and 5x5 convs need a correlation map '
                             f'of at least 11x11, got {h}x{w}')
        self.feat_size = (h, w)
        self.convs = nn.Sequential(
            ConvModule(in_channels, channels[0], 7, norm_cfg=norm_cfg),
            ConvModule(channels[0], channels[1], 5, norm_cfg=norm_cfg))
        self.fc = nn.Linear(channels[1] * (h - 10) * (w - 10),
                            identity.numel())
        nn.init.zeros_(self.fc.weight)
        with torch.no_grad():
            self.fc.bias.copy_(identity.flatten())

    def forward(self, corr: Tensor) -> Tensor:
        if tuple(corr.shape[-2:]) != self.feat_size:
            raise ValueError(
                f'the transformation predictor was built for '
                f'{self.feat_size[0]}x{self.feat_size[1]} feature maps, got '
                f'{tuple(corr.shape[-2:])}: resize every image to the size '
                'of the config (the FC layer fixes it)')
        return self.fc(self.convs(corr).flatten(1))


@MODELS.register_module()
class GeometricRegressor(BaseModule):
    """Affine (6 parameters), then TPS on a 3x3 control grid (18), composed.

    For a target X and a source Y with features f_X, f_Y (N, C, h, w): the
    affine stage regresses the warp from the correlation of f_X with f_Y;
    f_Y is warped by it into X's frame, and the TPS stage regresses the
    residual warp from the correlation of f_X with the warped f_Y. The
    result maps X's points to Y's (see :class:`Warp`).

    MaCoSNet warps the *image* of Y by the affine transform and encodes it
    again; warping its features is cheaper (no second encoder pass) and is
    what this module does.

    Args:
        feat_size (Sequence[int]): (h, w) of the encoder features (paper:
            15 x 15 at 240 x 240).
        with_tps (bool): add the TPS stage.
        channels (Sequence[int]): conv widths of each regressor.
        norm_cfg (dict): norm after the convs.
    """

    def __init__(self,
                 feat_size: Sequence[int] = (15, 15),
                 with_tps: bool = True,
                 channels: Sequence[int] = (128, 64),
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.feat_size = tuple(feat_size)
        positions = self.feat_size[0] * self.feat_size[1]
        self.affine = TransformRegression(positions, self.feat_size,
                                          identity_affine(1)[0], channels,
                                          norm_cfg)
        self.tps = (
            TransformRegression(positions, self.feat_size, control_grid(3),
                                channels, norm_cfg) if with_tps else None)

    def forward(self,
                feat_x: Tensor,
                feat_y: Tensor,
                corr: Optional[Tensor] = None) -> Warp:
        """
        Args:
            feat_x (Tensor): (N, C, h, w) target features.
            feat_y (Tensor): (N, C, h, w) source features.
            corr (Tensor, optional): their 'l2' :func:`global_correlation`
                if already computed.
        """
        if corr is None:
            corr = global_correlation(feat_x, feat_y, normalization='l2')
        n = feat_x.shape[0]
        affine = Warp(self.affine(corr).view(n, 2, 3))
        if self.tps is None:
            return affine
        aligned = affine.apply(feat_y, feat_x.shape[-2:])
        corr = global_correlation(feat_x, aligned, normalization='l2')
        return Warp(affine.affine, self.tps(corr).view(n, 9, 2))

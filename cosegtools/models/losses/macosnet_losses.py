"""Losses of MaCoSNet (Chen et al., "Show, Match and Segment", TPAMI 2020).

Every loss works on directed pairs (X, Y) of images of one class: a
:class:`~cosegtools.models.utils.warps.Warp` of the pair maps points of X
(the target) to points of Y (the source), so ``warp.apply(y_map)`` brings a
map of Y into X's frame. The perceptual contrastive loss (eq. 8-10) is
:class:`CoAttentionLoss` with ``margin``.
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from cosegtools.registry import MODELS
from ..utils.warps import Warp, compose_points, regular_points

MASK_GRADIENTS = ('raw', 'none', 'centered')


class _NamedLoss(nn.Module):

    def __init__(self, loss_weight: float, loss_name: str):
        super().__init__()
        if not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must start with 'loss_' (mmengine "
                             f'sums those keys), got {loss_name!r}')
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name


@MODELS.register_module()
class ForegroundMatchingLoss(_NamedLoss):
    """Foreground-guided matching loss, eq. 2-4.

    For each position p of X, the matching score s(p) (eq. 3) sums the
    correlation S(p, q) over the positions q of Y that the warp sends p
    near; the loss is -sum_p s(p) M(p), M the predicted foreground of X at
    the feature resolution (eq. 4; the reverse direction is the reversed
    pair).

    The paper's correspondence mask (eq. 2) is 1 where |T(p) - q| <= phi and
    has no gradient with respect to T; here it is the tent
    max(0, 1 - |dx| / phi) * max(0, 1 - |dy| / phi) in feature cells, which
    has one (with phi = 1, s(p) is S(p, .) read bilinearly at T(p)).
    As in eq. 4 the scores are summed over the positions p; the pairs of a
    batch are averaged.

    Eq. 4 is a function of the decoder too: its gradient raises M wherever
    the matching score is positive, i.e. everywhere, which pulls the masks
    towards all-foreground. ``mask_gradient`` says what the loss teaches M:

    - ``'raw'`` (eq. 4): d loss / d M(p) = -s(p);
    - ``'none'``: nothing; M only guides the matching (the role the paper's
      text gives the loss: it "encourages the transformation predictor G");
    - ``'centered'``: -(s(p) - mean_p s(p)): M is raised where the matching
      is better than the image's average and lowered where it is worse.

    The warp always gets eq. 4's gradient; the value is eq. 4's.

    Args:
        phi (float): radius of the correspondence mask in feature cells
            (paper: 1).
        mask_gradient (str): 'raw', 'none' or 'centered'.
        loss_weight (float): weight (eq. 1 has none: 1).
        loss_name (str): key in the loss dict.
    """

    def __init__(self,
                 phi: float = 1.0,
                 mask_gradient: str = 'raw',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_matching'):
        super().__init__(loss_weight, loss_name)
        if phi <= 0:
            raise ValueError(f'phi must be positive, got {phi}')
        self.phi = phi
        if mask_gradient not in MASK_GRADIENTS:
            raise ValueError(f'mask_gradient must be one of '
                             f'{MASK_GRADIENTS}, got {mask_gradient!r}')
        self.mask_gradient = mask_gradient

    def matching_scores(self,
                        corr: Tensor,
                        warp: Warp,
                        source_size=None) -> Tensor:
        """s(p), (N, Hx * Wx).

        Args:
            corr (Tensor): (N, Hy * Wy, Hx, Wx), channel q of position p is
                S(p, q) (:func:`global_correlation` of X's features with
                Y's).
            warp (Warp): X -> Y points.
            source_size (tuple, optional): (Hy, Wy); default square.
        """
        n, channels, hx, wx = corr.shape
        if source_size is None:
            side = int(round(channels**0.5))
            source_size = (side, side)
        hy, wy = source_size
        if hy * wy != channels:
            raise ValueError(f'source size {tuple(source_size)} does not '
                             f'match the {channels} correlation channels')
        mapped = warp.points(
            regular_points(hx, wx, n, corr.device, corr.dtype))
        grid = regular_points(hy, wy, 1, corr.device, corr.dtype)[0]
        cells = mapped.new_tensor([wy / 2, hy / 2])
        offset = (mapped[:, :, None, :] - grid[None, None]) * cells
        weight = (1 - offset.abs() / self.phi).clamp_min(0).prod(-1)
        return (weight * corr.flatten(2).transpose(1, 2)).sum(-1)

    def forward(self,
                corr: Tensor,
                warp: Warp,
                foreground: Tensor,
                source_size=None) -> Tensor:
        """
        Args:
            corr (Tensor): (N, Hy * Wy, Hx, Wx), see
                :meth:`matching_scores`.
            warp (Warp): X -> Y.
            foreground (Tensor): (N, 1, Hx, Wx) foreground probability of X.
            source_size (tuple, optional): (Hy, Wy); default square.
        """
        scores = self.matching_scores(corr, warp, source_size)
        mask = foreground.flatten(1)
        if self.mask_gradient == 'raw':
            loss = (scores * mask).sum(1)
        else:
            loss = (scores * mask.detach()).sum(1)
            if self.mask_gradient == 'centered':
                fixed = scores.detach()
                centred = fixed - fixed.mean(1, keepdim=True)
                # zero in value, -(s - mean s) in gradient
                loss = loss + (centred * (mask - mask.detach())).sum(1)
        return -self.loss_weight * loss.mean()


def reprojection_error(warps: Sequence[Warp], num_points: int) -> Tensor:
    """Mean distance between the points of a regular ``num_points`` x
    ``num_points`` grid and their images through the chain of warps."""
    points = regular_points(num_points, num_points, len(warps[0]),
                            warps[0].affine.device, warps[0].affine.dtype)
    back = compose_points(warps, points)
    return (back - points).pow(2).sum(-1).add(1e-12).sqrt().mean()


@MODELS.register_module()
class CycleConsistencyLoss(_NamedLoss):
    """Forward-backward consistency, eq. 5: T_YX(T_XY(p)) ~ p.

    Called with the warps of a pair and of its reverse, ``[X -> Y, Y -> X]``
    (the reversed pair gives the other half of eq. 5). The error is in
    normalised coordinates (the image spans [-1, 1]), on a grid of
    ``num_points`` x ``num_points`` points (paper: 10 x 10).

    Args:
        num_points (int): points per side of the sampled grid.
        loss_weight (float): lambda_cycle (paper: 5 on TSS).
        loss_name (str): key in the loss dict.
    """
    chain_length = 2

    def __init__(self,
                 num_points: int = 10,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_cycle'):
        super().__init__(loss_weight, loss_name)
        self.num_points = num_points

    def forward(self, warps: Sequence[Warp]) -> Tensor:
        if len(warps) != self.chain_length:
            raise ValueError(f'{type(self).__name__} takes a chain of '
                             f'{self.chain_length} warps, got {len(warps)}')
        return self.loss_weight * reprojection_error(warps, self.num_points)


@MODELS.register_module()
class TransitivityConsistencyLoss(CycleConsistencyLoss):
    """Transitivity consistency, eq. 6: T_CA(T_BC(T_AB(p))) ~ p for three
    images of one class; called with ``[A -> B, B -> C, C -> A]``.

    Args: as :class:`CycleConsistencyLoss` (lambda_trans, paper: 5 on TSS).
    """
    chain_length = 3

    def __init__(self,
                 num_points: int = 10,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_trans'):
        super().__init__(num_points, loss_weight, loss_name)


@MODELS.register_module()
class CrossNetworkConsistencyLoss(_NamedLoss):
    """Cross-network (task) consistency, eq. 11-12.

    The mask of Y warped into X's frame is the target of X's mask:
    BCE(warp(M_Y), M_X), both directions through the reversed pair. Pixels
    that the warp maps outside Y have no target and are left out (the paper
    does not say; zeros there would push every border towards background).
    The gradient reaches both masks and the warp.

    Args:
        loss_weight (float): lambda_task (paper: 10 on TSS).
        loss_name (str): key in the loss dict.
    """

    def __init__(self, loss_weight: float = 1.0, loss_name: str = 'loss_task'):
        super().__init__(loss_weight, loss_name)

    def forward(self, logits_x: Tensor, probs_y: Tensor, warp: Warp) -> Tensor:
        """
        Args:
            logits_x (Tensor): (N, 1, H, W) mask logits of X.
            probs_y (Tensor): (N, 1, H', W') mask probabilities of Y.
            warp (Warp): X -> Y.
        """
        size = logits_x.shape[-2:]
        ones = torch.ones_like(probs_y[:, :1])
        warped = warp.apply(torch.cat([probs_y, ones], dim=1), size)
        target, valid = warped[:, :1], (warped[:, 1:] > 0.999).float()
        loss = F.binary_cross_entropy_with_logits(
            logits_x, target.clamp(0, 1), reduction='none')
        return self.loss_weight * (loss *
                                   valid).sum() / valid.sum().clamp_min(1.0)


@MODELS.register_module()
class WarpRegressionLoss(_NamedLoss):
    """Grid loss of CNNGeometric (Rocco et al. 2017) for the synthetic
    pretraining of the transformation predictor: the mean distance between
    a grid of points mapped by the predicted and by the true warp.

    Args:
        num_points (int): points per side of the grid.
        loss_weight (float): weight.
        loss_name (str): key in the loss dict.
    """

    def __init__(self,
                 num_points: int = 10,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_warp'):
        super().__init__(loss_weight, loss_name)
        self.num_points = num_points

    def forward(self, predicted: Warp, true: Warp) -> Tensor:
        points = regular_points(self.num_points, self.num_points,
                                len(predicted), predicted.affine.device,
                                predicted.affine.dtype)
        error = predicted.points(points) - true.points(points)
        return self.loss_weight * error.pow(2).sum(-1).add(1e-12).sqrt().mean()


__all__ = [
    'ForegroundMatchingLoss', 'CycleConsistencyLoss',
    'TransitivityConsistencyLoss', 'CrossNetworkConsistencyLoss',
    'WarpRegressionLoss'
]

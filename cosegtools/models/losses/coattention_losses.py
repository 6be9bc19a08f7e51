"""Losses of unsupervised co-attention co-segmentation (Hsu et al., IJCAI
2018)."""
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from cosegtools.registry import MODELS
from ..utils.groups import group_pairs


@MODELS.register_module()
class CoAttentionLoss(nn.Module):
    """Co-attention loss, eq. 3-6.

    For every ordered pair (i, j) of distinct images of a group, with object
    features ``o = f(S * I)`` and background features ``b = f((1 - S) * I)``
    of dimension c:

    - d+ = ||o_i - o_j||^2 / c (inter-image object distance, eq. 5);
    - d- = (||o_i - b_i||^2 + ||o_j - b_j||^2) / (2c) (figure-ground
      discrepancy, eq. 6);
    - p = exp(-d+) / (exp(-d+) + exp(-d-)) (eq. 4), loss = -log p (eq. 3),
      computed as softplus(d+ - d-).

    With ``margin`` m it is instead MaCoSNet's perceptual contrastive loss
    (Chen et al., TPAMI 2020, eq. 8-10): d+ + max(0, m - d-). The
    figure-ground term stops pushing once it exceeds m, so the loss cannot be
    lowered by only separating each object from its own background (the
    degenerate optimum the paper describes for the co-attention loss).

    The paper sums over the ordered pairs (``reduction='sum'``, the
    co-attention configs); ``'mean'`` makes the loss's weight independent of
    the group size.

    Args:
        margin (float, optional): m of MaCoSNet (paper: 2); None gives the
            co-attention loss of Hsu et al.
        loss_weight (float): weight of the loss.
        reduction (str): 'mean' or 'sum' over the pairs.
        loss_name (str): key in the loss dict.
    """

    def __init__(self,
                 margin: Optional[float] = None,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 loss_name: str = 'loss_coattention'):
        super().__init__()
        if margin is not None and margin <= 0:
            raise ValueError(f'margin must be positive or None, got {margin}')
        self.margin = margin
        if reduction not in ('mean', 'sum'):
            raise ValueError(f"reduction must be 'mean' or 'sum', got "
                             f'{reduction!r}')
        self.loss_weight = loss_weight
        self.reduction = reduction
        self._loss_name = loss_name

    @property
    def loss_name(self):
        return self._loss_name

    @staticmethod
    def distances(object_feats: Tensor, background_feats: Tensor,
                  group_size: int):
        """d+ and d- (eq. 5, 6) of every ordered pair of distinct images of a
        group, two (P,) tensors. Arguments as in :meth:`forward`."""
        c = object_feats.shape[1]
        batch = object_feats.shape[0] // group_size
        i, j = group_pairs(batch, group_size, object_feats.device)
        figure_ground = (object_feats - background_feats).pow(2).sum(1)
        d_pos = (object_feats[i] - object_feats[j]).pow(2).sum(1) / c
        d_neg = (figure_ground[i] + figure_ground[j]) / (2 * c)
        return d_pos, d_neg

    def forward(self, object_feats: Tensor, background_feats: Tensor,
                group_size: int) -> Tensor:
        """
        Args:
            object_feats (Tensor): (N*G, c), groups flattened.
            background_feats (Tensor): (N*G, c).
            group_size (int): G >= 2.
        """
        d_pos, d_neg = self.distances(object_feats, background_feats,
                                      group_size)
        if self.margin is None:
            loss = F.softplus(d_pos - d_neg)
        else:
            loss = d_pos + (self.margin - d_neg).clamp_min(0)
        loss = loss.mean() if self.reduction == 'mean' else loss.sum()
        return self.loss_weight * loss


@MODELS.register_module()
class BootstrappedMaskLoss(nn.Module):
    """Mask loss, eq. 7: cross-entropy of the co-attention map against
    ``beta * M~ + (1 - beta) * M``, where M~ is the proposal mask picked at
    the end of stage one and M the currently best-matching (refined) one.

    Each image's loss is the mean over its pixels (eq. 7). Eq. 1 sums them
    over the images, and the co-attention loss over the ordered pairs: with
    ``reduction='sum'`` here and in :class:`CoAttentionLoss`, lambda weighs
    the two terms as the paper does (with both averaged instead, a group of
    5 images gives the mask term 4 times the weight it has in the paper:
    lambda / 5 per image against 1 / 20 per pair).

    Args:
        beta (float): weight of M~ (paper: 0.95, after Reed et al. 2015).
        loss_weight (float): lambda of eq. 1 (paper: 9).
        reduction (str): 'sum' (eq. 1) or 'mean' over the images.
        loss_name (str): key in the loss dict.
    """

    def __init__(self,
                 beta: float = 0.95,
                 loss_weight: float = 9.0,
                 reduction: str = 'sum',
                 loss_name: str = 'loss_mask'):
        super().__init__()
        if reduction not in ('mean', 'sum'):
            raise ValueError(f"reduction must be 'mean' or 'sum', got "
                             f'{reduction!r}')
        self.reduction = reduction
        self.beta = beta
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self):
        return self._loss_name

    def forward(self, logits: Tensor, first_mask: Tensor,
                current_mask: Tensor) -> Tensor:
        """
        Args:
            logits (Tensor): (B, 1, H, W) co-attention logits (S = sigmoid).
            first_mask (Tensor): (B, 1, H, W) M~ in {0, 1}.
            current_mask (Tensor): (B, 1, H, W) M in {0, 1}.
        """
        target = (
            self.beta * first_mask.float() +
            (1 - self.beta) * current_mask.float())
        per_image = F.binary_cross_entropy_with_logits(
            logits, target, reduction='none').flatten(1).mean(1)
        loss = per_image.sum() if self.reduction == 'sum' else (
            per_image.mean())
        return self.loss_weight * loss


__all__ = ['CoAttentionLoss', 'BootstrappedMaskLoss']

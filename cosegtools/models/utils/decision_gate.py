"""A learned decision on whether the images of a group share an object.

CoSegNet's siamese metric-learning network and decision network (Banerjee
et al., IJCAI 2019), as a module any head can use through the
``decision_gate`` argument of :class:`BaseCoSegHead`.
"""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from cosegtools.registry import MODELS
from .groups import group_pairs, mean_over_others


@MODELS.register_module()
class DecisionGate(BaseModule):
    """Metric embedding + pairwise decision, and the gating of the masks.

    - metric network: pooling (``pool``), FC ``metric_channels[0]`` +
      ReLU, FC ``metric_channels[1]`` (CoSegNet: 128, 64), trained with the
      triplet loss on squared distances (margin 1). ``pool='mean'`` is
      CoSegNet's global average; ``pool='object'`` averages the feature
      map weighted by the image's predicted foreground probability (given
      by the head, without gradient), so that the embedding describes the
      object the head segments rather than the whole scene (not in the
      paper);
    - decision network on the two embeddings of a pair: FC
      ``decision_channels`` + ReLU, FC 1, sigmoid (CoSegNet: 32), trained
      with binary cross-entropy against ``has_common``. It sees the pair as
      ``pair_features`` says: ``'concat'`` (CoSegNet: the two embeddings one
      after the other, so the network must learn that the order does not
      matter) or ``'symmetric'`` (``|a - b|`` and ``a * b``: the same for
      both orders, and built from what the triplet loss shapes, the
      distance);
    - ``train_pairs`` says which pairs train both networks: ``'groups'``
      (CoSegNet) the pairs the sampler made, one triplet each (see
      :meth:`loss`); ``'batch'`` every pair of images in the batch,
      labelled "shares an object" when the two images are of one class (16
      images give 120 pairs instead of 8), the decision loss the mean of
      the cross-entropy over the same-class pairs and over the others (each
      kind counts half, however rare), the triplet loss over every
      (anchor, positive, negative) of the batch (not in the paper);
    - at test time an image's score is the mean decision probability over
      the other images of its group, and its mask is emptied when the score
      is below ``threshold``.

    Args:
        in_channels (int): channels of the feature map it embeds.
        metric_channels (tuple[int, int]): the two FC widths.
        decision_channels (int): hidden width of the decision network.
        margin (float): triplet margin.
        threshold (float): decision threshold on the probability.
        pair_features (str): ``'concat'`` or ``'symmetric'``, see above.
        pool (str): ``'mean'`` or ``'object'``, see above.
        train_pairs (str): ``'groups'`` or ``'batch'``, see above.
        loss_weights (dict): weights of ``loss_triplet`` and
            ``loss_decision`` for positive and negative groups (CoSegNet:
            0.33 and 0.5). With ``train_pairs='batch'`` both losses are
            scaled by the mean weight of the batch's groups, so that the
            gate weighs as much against the mask loss as with ``'groups'``.
    """

    def __init__(self,
                 in_channels: int,
                 metric_channels=(128, 64),
                 decision_channels: int = 32,
                 margin: float = 1.0,
                 threshold: float = 0.5,
                 loss_weights: dict = dict(positive=0.33, negative=0.5),
                 pair_features: str = 'concat',
                 pool: str = 'mean',
                 train_pairs: str = 'groups',
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if pair_features not in ('concat', 'symmetric'):
            raise ValueError('DecisionGate: pair_features must be '
                             f"'concat' or 'symmetric', got {pair_features!r}")
        if pool not in ('mean', 'object'):
            raise ValueError("DecisionGate: pool must be 'mean' or "
                             f"'object', got {pool!r}")
        if train_pairs not in ('groups', 'batch'):
            raise ValueError("DecisionGate: train_pairs must be 'groups' or "
                             f"'batch', got {train_pairs!r}")
        self.train_pairs = train_pairs
        self.pair_features = pair_features
        self.pool = pool
        self.margin = margin
        self.threshold = threshold
        self.loss_weights = dict(loss_weights)
        self.metric = nn.Sequential(
            nn.Linear(in_channels, metric_channels[0]), nn.ReLU(inplace=True),
            nn.Linear(metric_channels[0], metric_channels[1]))
        self.decision = nn.Sequential(
            nn.Linear(2 * metric_channels[1], decision_channels),
            nn.ReLU(inplace=True), nn.Linear(decision_channels, 1))

    def embed(self,
              feats: Tensor,
              foreground: Optional[Tensor] = None) -> Tensor:
        """(B, C, h, w) -> (B, metric_channels[1]); ``foreground`` (B, 1, H,
        W), the predicted foreground probability, is needed with
        ``pool='object'`` (a small constant is added to it, so that an
        empty prediction gives the global average)."""
        if self.pool == 'mean':
            return self.metric(feats.mean(dim=(2, 3)))
        if foreground is None:
            raise ValueError("DecisionGate(pool='object') needs the "
                             'predicted foreground of the images')
        weight = F.interpolate(
            foreground.detach().to(feats.dtype),
            size=feats.shape[2:],
            mode='bilinear',
            align_corners=False) + 1e-3
        pooled = (feats * weight).sum(dim=(2, 3)) / weight.sum(dim=(2, 3))
        return self.metric(pooled)

    def pair_logits(self, embeddings: Tensor, group_size: int) -> Tensor:
        """Decision logits of every ordered pair (:func:`group_pairs`
        order): (N*G*(G-1), )."""
        batch = embeddings.shape[0] // group_size
        a, b = group_pairs(batch, group_size, embeddings.device)
        first, second = embeddings[a], embeddings[b]
        if self.pair_features == 'symmetric':
            first, second = (first - second).abs(), first * second
        return self.decision(torch.cat([first, second], dim=1)).squeeze(1)

    def scores(self,
               feats: Tensor,
               group_size: int,
               foreground: Optional[Tensor] = None) -> Tensor:
        """Per-image probability that it shares an object with the rest of
        its group: (N*G, )."""
        logits = self.pair_logits(self.embed(feats, foreground), group_size)
        return mean_over_others(torch.sigmoid(logits), group_size)

    def gate(self, seg_logits: Tensor, scores: Tensor) -> Tensor:
        """Empties the masks of the images whose score is below threshold.

        With one class the logit is set to -1e4 (sigmoid 0); with several,
        every class but the background (index 0) is.
        """
        keep = (scores >= self.threshold).view(-1, 1, 1, 1)
        empty = seg_logits.clone()
        if seg_logits.shape[1] == 1:
            empty[:] = -1e4
        else:
            empty[:, 1:] = -1e4
        return torch.where(keep, seg_logits, empty)

    def loss(self,
             feats: Tensor,
             has_common: List[int],
             class_idx: Optional[List[int]],
             foreground: Optional[Tensor] = None) -> dict:
        """Triplet and decision losses on a batch of pairs.

        With ``train_pairs='batch'``, see :meth:`batch_losses`; otherwise
        group ``n`` is rows (2n, 2n+1). A positive pair gives the triplet
        (anchor 2n, positive 2n+1, negative: the next image of the batch of
        another class); a negative pair gives (anchor 2n, positive: the next
        image of the anchor's class, negative 2n+1). Triplets without a
        partner in the batch are skipped.

        Args:
            feats (Tensor): (2N, C, h, w).
            has_common (list[int]): per group.
            class_idx (list[int], optional): per image; without it no
                triplets are formed.
            foreground (Tensor, optional): (2N, 1, H, W), for
                ``pool='object'``.
        """
        embeddings = self.embed(feats, foreground)
        num_groups = len(has_common)
        if embeddings.shape[0] != 2 * num_groups:
            raise ValueError('DecisionGate.loss trains on pairs; got '
                             f'{embeddings.shape[0]} images for '
                             f'{num_groups} groups')
        target = torch.tensor(
            has_common, dtype=embeddings.dtype, device=embeddings.device)
        weights = torch.where(target > 0,
                              target.new_tensor(self.loss_weights['positive']),
                              target.new_tensor(self.loss_weights['negative']))
        if self.train_pairs == 'batch':
            return self.batch_losses(embeddings, class_idx, weights.mean())
        # the two directions of a pair share its label and weight
        logits = self.pair_logits(embeddings, 2)
        decision = F.binary_cross_entropy_with_logits(
            logits, target.repeat_interleave(2), reduction='none')
        losses = dict(
            loss_decision=(decision * weights.repeat_interleave(2)).mean())
        triplets = self.triplets(has_common, class_idx)
        if triplets:
            anchor, positive, negative = (
                torch.tensor(t, device=embeddings.device)
                for t in zip(*[t[:3] for t in triplets]))
            d_pos = (embeddings[anchor] - embeddings[positive]).pow(2).sum(1)
            d_neg = (embeddings[anchor] - embeddings[negative]).pow(2).sum(1)
            w = weights[torch.tensor([t[3] for t in triplets],
                                     device=embeddings.device)]
            losses['loss_triplet'] = (
                w * F.relu(d_pos - d_neg + self.margin)).mean()
        else:
            losses['loss_triplet'] = embeddings.sum() * 0
        with torch.no_grad():
            losses['acc_decision'] = 100 * (
                (logits
                 > 0).float() == target.repeat_interleave(2)).float().mean()
        return losses

    def batch_losses(self, embeddings: Tensor, class_idx: Optional[List[int]],
                     scale: Tensor) -> dict:
        """Losses of ``train_pairs='batch'`` over every pair of the B
        images: the decision on the B*(B-1) ordered pairs, class-balanced;
        the triplet loss over every (a, p, n) with p of a's class (p != a)
        and n of another class, averaged over them."""
        if class_idx is None:
            raise ValueError("DecisionGate(train_pairs='batch') needs the "
                             'class of every training image (class_idx in '
                             "the data samples' metainfo)")
        rows = embeddings.shape[0]
        labels = torch.tensor(class_idx, device=embeddings.device)
        a, b = group_pairs(1, rows, embeddings.device)
        same = labels[a] == labels[b]
        logits = self.pair_logits(embeddings, rows)
        decision = F.binary_cross_entropy_with_logits(
            logits, same.to(logits.dtype), reduction='none')
        kinds = [kind for kind in (same, ~same) if kind.any()]
        losses = dict(loss_decision=scale *
                      sum(decision[kind].mean() for kind in kinds) / len(kinds))
        sq_dist = torch.cdist(embeddings, embeddings).pow(2)
        same_class = labels[:, None] == labels[None, :]
        positive = same_class & ~torch.eye(
            rows, dtype=torch.bool, device=embeddings.device)
        # (anchor, positive, negative): d(a, p) - d(a, n) + margin
        hinge = F.relu(sq_dist[:, :, None] - sq_dist[:, None, :] +
                       self.margin)
        valid = positive[:, :, None] & ~same_class[:, None, :]
        losses['loss_triplet'] = (
            scale * hinge[valid].mean() if valid.any() else embeddings.sum() *
            0)
        with torch.no_grad():
            right = (logits > 0) == same
            losses['acc_decision'] = 100 * sum(
                right[kind].float().mean() for kind in kinds) / len(kinds)
        return losses

    @staticmethod
    def triplets(has_common: List[int], class_idx: Optional[List[int]]):
        """(anchor, positive, negative, group) rows, see :meth:`loss`."""
        if class_idx is None:
            return []
        rows = len(class_idx)
        found = []
        for n, common in enumerate(has_common):
            anchor, partner = 2 * n, 2 * n + 1
            own = class_idx[anchor]
            order = [(partner + k) % rows for k in range(1, rows)]
            if common:
                match = [r for r in order if class_idx[r] != own]
                if match:
                    found.append((anchor, partner, match[0], n))
            else:
                match = [
                    r for r in order if class_idx[r] == own and r != anchor
                ]
                if match:
                    found.append((anchor, match[0], partner, n))
        return found

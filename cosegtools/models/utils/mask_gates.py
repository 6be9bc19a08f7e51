"""Training-free tests of whether an image's predicted mask should stand.

The segmentor has already said *where* each image's object is (its
foreground probability). A mask gate scores every image from that and
empties the masks scored below its threshold: the image is taken to share
nothing with its group, where a co-segmentation model would otherwise be
left segmenting the salient object of an unrelated image.

- :class:`MaskConfidenceGate`: the mean foreground probability inside the
  predicted mask. A model trained with negative pairs is less sure of the
  objects it finds in an image that shares none.
- :class:`ObjectSimilarityGate`: how much the predicted object looks like
  those of the other images of the group (backbone features pooled over the
  foreground). On the PASCAL-VOC val pairs, features pooled over the
  ground-truth object separate same-class from other-class pairs far better
  than whole-image features (``tools/analysis_tools/
  pair_similarity_probe.py``).

Both are chosen by the same sweep of their threshold on val mixed pairs
(``tools/analysis_tools/sweep_mask_gate.py``); configs/docs/README.md has
what each gave.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from cosegtools.registry import TASK_UTILS
from .groups import group_pairs, mean_of_others, mean_over_others


def object_descriptors(feats: Sequence[Tensor],
                       weights: Optional[Tensor] = None) -> Tensor:
    """L2-normalised descriptors (n, C1 + C2 + ...) of n images.

    Every feature map (n, Ci, hi, wi) is L2-normalised at each position
    and brought to the size of the first (bilinear); the concatenated maps
    are averaged over the positions weighted by ``weights`` (n, H, W) in
    [0, 1] (area-resized to the feature size; e.g. a foreground
    probability), or uniformly without them.
    """
    size = feats[0].shape[-2:]
    maps = [
        F.normalize(
            F.interpolate(
                f.float(), size=size, mode='bilinear', align_corners=False)
            if f.shape[-2:] != size else f.float(),
            dim=1) for f in feats
    ]
    stacked = torch.cat(maps, dim=1)
    if weights is None:
        pooled = stacked.mean(dim=(2, 3))
    else:
        w = F.interpolate(weights[:, None].float(), size=size, mode='area')
        pooled = (stacked * w).sum(dim=(2, 3)) / w.sum(dim=(2,
                                                            3)).clamp(min=1e-6)
    return F.normalize(pooled, dim=1)


class MaskGate:
    """Empties the masks of images scored below ``threshold``.

    Subclasses define :meth:`scores` (per image, from the foreground
    probabilities and, where ``needs_features``, the encoder's features of
    the plain view) and the range ``score_range`` of their scores.

    Args:
        threshold (float, optional): score below which a mask is emptied;
            None scores the images (``gate_score`` on each image sample)
            and empties nothing.
    """
    needs_features = False
    score_range = (0.0, 1.0)

    def __init__(self, threshold: Optional[float] = None):
        low, high = self.score_range
        if threshold is not None and (
                isinstance(threshold, bool)
                or not isinstance(threshold, (int, float))
                or not low <= threshold <= high):
            raise ValueError(
                f'test_cfg.mask_gate.threshold of {type(self).__name__} '
                f'must be a score in [{low:g}, {high:g}] or None, got '
                f'{threshold!r}')
        self.threshold = threshold

    def scores(self,
               foreground: Tensor,
               group_size: int,
               feats: Optional[Sequence[Tensor]] = None) -> Tensor:
        """Per-image scores (N*G, ) of groups of ``group_size``
        consecutive images from their foreground probabilities
        (N*G, H, W)."""
        raise NotImplementedError

    def keep(self, scores: Tensor) -> Tensor:
        """Which images keep their masks (bool, like ``scores``)."""
        if self.threshold is None:
            return torch.ones_like(scores, dtype=torch.bool)
        return scores >= self.threshold


@TASK_UTILS.register_module()
class MaskConfidenceGate(MaskGate):
    """Empties the mask of an image where the model is not sure of it: its
    score is the mean foreground probability over the pixels of its
    predicted mask (probability above ``mask_threshold``), 0 for an empty
    mask. The threshold is a property of the trained model: choose it on
    val mixed pairs with ``tools/analysis_tools/sweep_mask_gate.py``.

    Args:
        threshold (float, optional): mean probability (in [0, 1]) below
            which a mask is emptied; None only scores.
        mask_threshold (float): the probability above which a pixel is in
            the mask (the model's own, 0.5 for the shipped heads).
        pool (str): ``'image'`` scores each image on its own; ``'pair'``
            scores it by the mean over the pairs it forms with the other
            images of its group of the two images' confidences (own score
            + mean of the others' scores, halved): in a pair both images
            get the pair's mean, so a pair is kept or emptied as one. It
            helped one model on val but not on test
            (configs/dwxcorr/README.md).
    """

    def __init__(self,
                 threshold: Optional[float] = None,
                 mask_threshold: float = 0.5,
                 pool: str = 'image'):
        super().__init__(threshold)
        if not 0 <= mask_threshold < 1:
            raise ValueError('test_cfg.mask_gate.mask_threshold must be in '
                             f'[0, 1), got {mask_threshold!r}')
        if pool not in ('image', 'pair'):
            raise ValueError("test_cfg.mask_gate.pool must be 'image' or "
                             f"'pair', got {pool!r}")
        self.mask_threshold = mask_threshold
        self.pool = pool

    def scores(self,
               foreground: Tensor,
               group_size: int,
               feats: Optional[Sequence[Tensor]] = None) -> Tensor:
        prob = foreground.flatten(1).float()
        inside = (prob > self.mask_threshold).float()
        own = (prob * inside).sum(1) / inside.sum(1).clamp(min=1)
        if self.pool == 'image' or group_size < 2:
            return own
        return (own + mean_of_others(own, group_size)) / 2


@TASK_UTILS.register_module()
class ObjectSimilarityGate(MaskGate):
    """Empties the mask of an image whose predicted object does not look
    like the predicted objects of the other images of its group.

    An image's score is the mean cosine similarity of its
    :func:`object_descriptors` (the ``levels`` of the encoder's features
    pooled over its predicted foreground probability) to those of the
    other images of its group; its mask is emptied where the score is
    below ``threshold``. The threshold is a property of the trained model:
    choose it on val mixed pairs with
    ``tools/analysis_tools/sweep_mask_gate.py``.

    Args:
        threshold (float, optional): cosine similarity (in [-1, 1]) below
            which a mask is emptied; None only scores.
        levels (sequence[int]): indices of the encoder's feature maps that
            are pooled (default the two deepest).
    """
    needs_features = True
    score_range = (-1.0, 1.0)

    def __init__(self,
                 threshold: Optional[float] = None,
                 levels: Sequence[int] = (-2, -1)):
        super().__init__(threshold)
        if not levels:
            raise ValueError('test_cfg.mask_gate.levels names no feature map')
        self.levels = tuple(levels)

    def scores(self,
               foreground: Tensor,
               group_size: int,
               feats: Optional[Sequence[Tensor]] = None) -> Tensor:
        if feats is None:
            raise ValueError('ObjectSimilarityGate scores need the '
                             'encoder\'s features')
        if group_size < 2:
            raise ValueError('the similarity gate compares the images of '
                             f'a group; got groups of {group_size}')
        try:
            chosen = [feats[i] for i in self.levels]
        except IndexError:
            raise ValueError(
                f'test_cfg.mask_gate.levels {list(self.levels)} '
                f'do not index the encoder\'s {len(feats)} feature '
                'maps') from None
        if any(f.dim() != 4 for f in chosen):
            raise ValueError('the similarity gate pools feature maps '
                             '(n, C, h, w); this model\'s encodings at '
                             f'levels {list(self.levels)} have shapes '
                             f'{[tuple(f.shape) for f in chosen]}')
        desc = object_descriptors(chosen, foreground)
        a, b = group_pairs(desc.shape[0] // group_size, group_size,
                           desc.device)
        return mean_over_others((desc[a] * desc[b]).sum(1), group_size)

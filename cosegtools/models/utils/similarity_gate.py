"""A training-free test of whether an image shares its object with its group.

The segmentor has already said *where* each image's object is (its
foreground probability); this gate asks whether those objects look alike.
Each image is described by the backbone features pooled over its predicted
foreground, and an image whose description is far from those of the other
images of its group has its mask emptied: a co-segmentation model left
segmenting the salient object of an unrelated image.

On the PASCAL-VOC val pairs, the cosine similarity of features pooled over
the ground-truth object separates same-class from other-class pairs far
better than whole-image features (``tools/analysis_tools/
pair_similarity_probe.py``; configs/docs/README.md has the table), which is
why the gate pools over the object rather than the image.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from cosegtools.registry import TASK_UTILS
from .groups import group_pairs, mean_over_others


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


@TASK_UTILS.register_module()
class ObjectSimilarityGate:
    """Empties the mask of an image whose predicted object does not look
    like the predicted objects of the other images of its group.

    An image's score is the mean cosine similarity of its
    :func:`object_descriptors` (the ``levels`` of the encoder's features
    pooled over its predicted foreground probability) to those of the
    other images of its group; its mask is emptied where the score is
    below ``threshold``. The threshold is a property of the trained model:
    choose it on val mixed pairs with
    ``tools/analysis_tools/sweep_similarity_gate.py``.

    Args:
        threshold (float, optional): cosine similarity below which a mask
            is emptied; None scores the images (``similarity_score`` on
            each image sample) and empties nothing.
        levels (sequence[int]): indices of the encoder's feature maps that
            are pooled (default the two deepest).
    """

    def __init__(self,
                 threshold: Optional[float] = None,
                 levels: Sequence[int] = (-2, -1)):
        if threshold is not None and (not isinstance(threshold, (int, float))
                                      or not -1 <= threshold <= 1):
            raise ValueError('test_cfg.similarity_gate.threshold must be a '
                             'cosine similarity in [-1, 1] or None, got '
                             f'{threshold!r}')
        if not levels:
            raise ValueError('test_cfg.similarity_gate.levels names no '
                             'feature map')
        self.threshold = threshold
        self.levels = tuple(levels)

    def scores(self, feats: Sequence[Tensor], foreground: Tensor,
               group_size: int) -> Tensor:
        """Per-image scores (N*G, ) of groups of ``group_size``
        consecutive images from the encoder's features and the foreground
        probabilities (N*G, H, W)."""
        if group_size < 2:
            raise ValueError('the similarity gate compares the images of '
                             f'a group; got groups of {group_size}')
        try:
            chosen = [feats[i] for i in self.levels]
        except IndexError:
            raise ValueError(
                f'test_cfg.similarity_gate.levels {list(self.levels)} '
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

    def keep(self, scores: Tensor) -> Tensor:
        """Which images keep their masks (bool, like ``scores``)."""
        if self.threshold is None:
            return torch.ones_like(scores, dtype=torch.bool)
        return scores >= self.threshold

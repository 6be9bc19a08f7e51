"""Samplers that yield groups of image indices of a co-segmentation dataset.

Both shard their groups over distributed ranks (``groups[rank::world]``).
"""
import math
from typing import Iterator, List, Optional, Tuple

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from cosegtools.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class CoSegPairSampler(Sampler):
    """Training groups: every image of the dataset anchors one group per epoch.

    A positive group is the anchor plus ``group_size - 1`` other images of its
    class. With probability ``neg_ratio`` the group is negative instead: the
    anchor, one image of another class and random images to fill the group.
    The anchors are shuffled and the partners re-drawn every epoch, from
    ``seed + epoch``, so a run is reproducible. With several ranks the epoch
    is padded to a multiple of the world size and split between ranks.

    Args:
        dataset: a :class:`BaseCoSegDataset`.
        group_size (int): images per group (2 = pairs).
        neg_ratio (float): fraction of negative groups, in [0, 1].
        seed (int, optional): random seed; None draws one shared by all ranks.
    """

    def __init__(self,
                 dataset,
                 group_size: int = 2,
                 neg_ratio: float = 0.0,
                 seed: Optional[int] = None):
        if group_size < 2:
            raise ValueError(f'group_size must be >= 2, got {group_size}')
        if not 0.0 <= neg_ratio <= 1.0:
            raise ValueError(f'neg_ratio must be in [0, 1], got {neg_ratio}')
        self.dataset = dataset
        self.group_size = group_size
        self.neg_ratio = neg_ratio
        self.seed = sync_random_seed() if seed is None else seed
        self.rank, self.world_size = get_dist_info()
        self.epoch = 0
        self.class_indices = [c for c in dataset.get_class_indices() if c]
        if neg_ratio > 0 and len(self.class_indices) < 2:
            raise ValueError('negative groups need at least 2 classes')
        self.class_of = {
            idx: k
            for k, members in enumerate(self.class_indices)
            for idx in members
        }
        self.num_images = len(self.class_of)
        self.num_samples = math.ceil(self.num_images / self.world_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _draw_group(self, rng, anchor) -> Tuple[int, ...]:
        own = self.class_indices[self.class_of[anchor]]
        others = [i for i in own if i != anchor]
        if rng.random() < self.neg_ratio:
            other_classes = [
                k for k in range(len(self.class_indices))
                if k != self.class_of[anchor]
            ]
            k = other_classes[rng.integers(len(other_classes))]
            members = [anchor, int(rng.choice(self.class_indices[k]))]
            pool = [i for i in self.class_of if i not in members]
        else:
            members = [anchor]
            pool = others
        need = self.group_size - len(members)
        members += [
            int(i)
            for i in rng.choice(pool, size=need, replace=len(pool) < need)
        ]
        return tuple(members)

    def epoch_groups(self) -> List[Tuple[int, ...]]:
        """All groups of the current epoch, before sharding over ranks."""
        rng = np.random.default_rng([self.seed, self.epoch])
        anchors = rng.permutation(sorted(self.class_of))
        return [self._draw_group(rng, int(a)) for a in anchors]

    def __iter__(self) -> Iterator[Tuple[int, ...]]:
        groups = self.epoch_groups()
        total = self.num_samples * self.world_size
        groups = (groups * math.ceil(total / len(groups)))[:total]
        return iter(groups[self.rank:total:self.world_size])

    def __len__(self) -> int:
        return self.num_samples


def partition_class(members: List[int], group_size: Optional[int]):
    """Split one class into consecutive groups of ``group_size`` images.

    A last group smaller than 2 is merged into the previous one, so every
    image is in exactly one group. ``group_size=None`` keeps the class whole.
    """
    if group_size is None or group_size >= len(members):
        return [tuple(members)]
    groups = [
        tuple(members[i:i + group_size])
        for i in range(0, len(members), group_size)
    ]
    if len(groups[-1]) < 2:
        last = groups.pop()
        groups[-1] = groups[-1] + last
    return groups


def balanced_parts(num_items: int, max_size: Optional[int] = None):
    """``(start, end)`` ranges that split ``num_items`` consecutive items
    into as few parts of at most ``max_size`` items as that allows, their
    sizes differing by at most one (``max_size=None``: one part). E.g. 23
    items, at most 10 a part: 8, 8 and 7."""
    if max_size is None or num_items <= max_size:
        return [(0, num_items)]
    num_parts = -(-num_items // max_size)
    base, extra = divmod(num_items, num_parts)
    parts, start = [], 0
    for i in range(num_parts):
        end = start + base + (i < extra)
        parts.append((start, end))
        start = end
    return parts


@DATA_SAMPLERS.register_module()
class CoSegGroupSampler(Sampler):
    """Evaluation groups: each class split into groups, each image once.

    Deterministic and not padded, so the metric scores every image exactly
    once, on one rank or many.

    Args:
        dataset: a :class:`BaseCoSegDataset`.
        group_size (int, optional): images per group; None puts each whole
            class in one group. The last group of a class absorbs a single
            left-over image (so 2 gives pairs and at most one triple).
        seed (int, optional): unused (the groups are not random); accepted
            because the Runner passes its seed to every sampler.
    """

    def __init__(self,
                 dataset,
                 group_size: Optional[int] = 2,
                 seed: Optional[int] = None):
        if group_size is not None and group_size < 2:
            raise ValueError(f'group_size must be >= 2 or None, got '
                             f'{group_size}')
        self.dataset = dataset
        self.group_size = group_size
        self.rank, self.world_size = get_dist_info()
        self.groups = [
            group for members in dataset.get_class_indices() if members
            for group in partition_class(members, group_size)
        ]

    def set_epoch(self, epoch: int) -> None:
        pass

    def __iter__(self) -> Iterator[Tuple[int, ...]]:
        return iter(self.groups[self.rank::self.world_size])

    def __len__(self) -> int:
        return len(self.groups[self.rank::self.world_size])


@DATA_SAMPLERS.register_module()
class CoSegPairListSampler(Sampler):
    """The pairs a benchmark lists (``dataset.pairs``, e.g. the keypoint
    pairs of :class:`KeypointPairDataset`), in order, each once, sharded
    over ranks.

    Args:
        dataset: a dataset with a ``pairs`` attribute.
        seed (int, optional): unused (accepted because the Runner passes
            its seed to every sampler).
    """

    def __init__(self, dataset, seed: Optional[int] = None):
        if not hasattr(dataset, 'pairs'):
            raise TypeError(f'{type(dataset).__name__} lists no pairs; '
                            'CoSegPairListSampler needs a keypoint pair '
                            'dataset (TSSDataset, PFPascalDataset, ...)')
        self.dataset = dataset
        self.rank, self.world_size = get_dist_info()
        self.groups = [tuple(p) for p in dataset.pairs]

    def set_epoch(self, epoch: int) -> None:
        pass

    def __iter__(self) -> Iterator[Tuple[int, ...]]:
        return iter(self.groups[self.rank::self.world_size])

    def __len__(self) -> int:
        return len(self.groups[self.rank::self.world_size])

"""Co-segmentation of a group of any size with a model trained on k-tuples.

Strategies (CycleSegNet, Table 5), for a group of n images and tuples of k:

- ``'all_tuples'`` (a): every k-subset of the group; each image's confidence
  map is the mean over all tuples it is in;
- ``'random_partition'`` (b): a random partition of the group into tuples of
  k (a last tuple of one image joins the previous one);
- ``'random_groups'`` (c): for each target, ``num_groups`` tuples of the
  target and k - 1 random others; only the target's map is kept;
- ``'uniform_groups'`` (d): for each target, the others (shuffled) split
  into consecutive runs of k - 1, so each other image is used once;
- ``'one_vs_rest'``: one tuple of the whole group (heads that relate an image
  to all others at once: DOCS, CycleSegNet, ...).

The backbone runs once per image of the group (``cache_features=True``):
the tuples index the cached features, so its cost grows linearly with n
whatever the strategy; ``cache_features=False`` recomputes the features of
every tuple (for comparison in the benchmark). Random choices come from
``seed`` and the group's first image path, so a run is reproducible and
independent of the order of the groups.
"""
import itertools
import zlib
from collections import defaultdict
from typing import List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from cosegtools.registry import TASK_UTILS

STRATEGIES = ('one_vs_rest', 'all_tuples', 'random_partition', 'random_groups',
              'uniform_groups')


def make_tuples(
    strategy: str,
    num_images: int,
    k: int = 2,
    num_groups: int = 5,
    rng: Optional[np.random.Generator] = None
) -> List[Tuple[Tuple[int, ...], Tuple[int, ...]]]:
    """The tuples of a strategy.

    Returns:
        list of (members, targets): the image indices of a tuple, in the
        order they are fed to the model, and those whose maps are kept.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f'unknown group inference strategy {strategy!r}; '
                         f'choose from {STRATEGIES}')
    n = num_images
    if n < 2:
        raise ValueError(f'a group needs at least 2 images, got {n}')
    if strategy != 'one_vs_rest' and k < 2:
        raise ValueError(f'tuples need k >= 2, got {k}')
    rng = rng or np.random.default_rng(0)
    k = min(k, n)
    if strategy == 'one_vs_rest':
        everyone = tuple(range(n))
        return [(everyone, everyone)]
    if strategy == 'all_tuples':
        return [(t, t) for t in itertools.combinations(range(n), k)]
    if strategy == 'random_partition':
        order = [int(i) for i in rng.permutation(n)]
        tuples = [tuple(order[i:i + k]) for i in range(0, n, k)]
        if len(tuples[-1]) < 2:
            last = tuples.pop()
            tuples[-1] = tuples[-1] + last
        return [(t, t) for t in tuples]
    result = []
    for target in range(n):
        others = [i for i in range(n) if i != target]
        if strategy == 'random_groups':
            for _ in range(num_groups):
                chosen = rng.choice(others, size=k - 1, replace=False)
                result.append(((target, *map(int, chosen)), (target, )))
        else:  # uniform_groups
            others = [others[i] for i in rng.permutation(len(others))]
            for i in range(0, len(others), k - 1):
                result.append(((target, *others[i:i + k - 1]), (target, )))
    return result


def group_seed(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


@TASK_UTILS.register_module()
class GroupInference:
    """Runs a co-segmentor (:class:`BaseCoSegmentor`: its ``encode`` once
    per image, its ``relate`` per tuple) on one group with a strategy.

    Args:
        strategy (str): see the module docstring.
        k (int): tuple size (the model's training group size).
        num_groups (int): tuples per target for ``'random_groups'``.
        seed (int): random seed.
        tuple_batch (int): tuples of the same size run together.
        cache_features (bool): encode each image once (default) or once per
            tuple.
    """

    def __init__(self,
                 strategy: str = 'one_vs_rest',
                 k: int = 2,
                 num_groups: int = 5,
                 seed: int = 0,
                 tuple_batch: int = 8,
                 cache_features: bool = True):
        if strategy not in STRATEGIES:
            raise ValueError(f'unknown group inference strategy '
                             f'{strategy!r}; choose from {STRATEGIES}')
        self.strategy = strategy
        self.k = k
        self.num_groups = num_groups
        self.seed = seed
        self.tuple_batch = tuple_batch
        self.cache_features = cache_features

    def __call__(self,
                 model,
                 images: Tensor,
                 key: str = '') -> Tuple[Tensor, Optional[Tensor]]:
        """Mean confidence maps of a group.

        Args:
            model (BaseCoSegmentor): the model, in eval mode.
            images (Tensor): (n, 3, H, W), one group, preprocessed.
            key (str): identifies the group for the random choices (e.g. its
                first image path).

        Returns:
            tuple: probabilities (n, K, H, W) (softmax, or sigmoid for one
            class) and the mean decision scores (n, ) of a gated head, else
            None.
        """
        n = images.shape[0]
        tuples = make_tuples(self.strategy, n, self.k, self.num_groups,
                             group_seed(self.seed, key))
        size = images.shape[-2:]
        feats = model.encode(images) if self.cache_features else None
        prob_sum = None
        score_sum = images.new_zeros(n)
        scored = False
        count = images.new_zeros(n)
        by_size = defaultdict(list)
        for members, targets in tuples:
            by_size[len(members)].append((members, targets))
        for g, same_size in by_size.items():
            for start in range(0, len(same_size), self.tuple_batch):
                chunk = same_size[start:start + self.tuple_batch]
                rows = torch.tensor([i for m, _ in chunk for i in m],
                                    device=images.device)
                inputs = ([f[rows] for f in feats] if self.cache_features else
                          model.encode(images[rows]))
                probs, scores = model.relate(inputs, g, size)
                if prob_sum is None:
                    prob_sum = probs.new_zeros(n, *probs.shape[1:])
                keep = [
                    t * g + m.index(i) for t, (m, targets) in enumerate(chunk)
                    for i in targets
                ]
                keep = torch.tensor(keep, device=images.device)
                kept_rows = rows[keep]
                prob_sum.index_add_(0, kept_rows, probs[keep])
                count.index_add_(0, kept_rows,
                                 torch.ones_like(kept_rows, dtype=count.dtype))
                if scores is not None:
                    scored = True
                    score_sum.index_add_(0, kept_rows, scores[keep])
        if bool((count == 0).any()):
            raise RuntimeError(f'strategy {self.strategy!r} left images '
                               'without a prediction')
        probs = prob_sum / count.view(-1, 1, 1, 1)
        return probs, (score_sum / count if scored else None)

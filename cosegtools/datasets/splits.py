"""Reproducible train/val/test split files for class-folder datasets.

Per class, the image stems sorted by name are permuted with
``numpy.random.RandomState(seed)``; the first ``round(r_train * n)`` go to
train, the next ``round(r_val * n)`` to val and the rest to test. With
ratios 3:1:1 and seed 0 this reproduces the PASCAL-VOC co-seg split files.
"""
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np

from .class_folder_dataset import list_class_folder

SPLIT_NAMES = ('train', 'val', 'test')


def make_splits(data_root: str,
                ratios: Sequence[float] = (3, 1, 1),
                seed: int = 0,
                img_dir: str = 'images') -> Dict[str, List[str]]:
    """Return ``{'train': [...], 'val': [...], 'test': [...]}`` of
    ``<Class>/<stem>`` lines, sorted by name within each class."""
    if len(ratios) != 3 or min(ratios) < 0 or sum(ratios) <= 0:
        raise ValueError(f'ratios must be 3 non-negative numbers, got '
                         f'{list(ratios)}')
    fractions = np.asarray(ratios, np.float64) / float(sum(ratios))
    splits = {name: [] for name in SPLIT_NAMES}
    for class_name, entries in list_class_folder(data_root, img_dir).items():
        stems = sorted(stem for stem, _ in entries)
        order = np.random.RandomState(seed).permutation(len(stems))
        n_train = int(round(fractions[0] * len(stems)))
        n_val = int(round(fractions[1] * len(stems)))
        parts = (order[:n_train], order[n_train:n_train + n_val],
                 order[n_train + n_val:])
        for name, part in zip(SPLIT_NAMES, parts):
            splits[name] += [f'{class_name}/{stems[i]}' for i in sorted(part)]
    return splits


def write_splits(splits: Dict[str, List[str]], out_dir: str) -> List[str]:
    """Write ``<out_dir>/{train,val,test}.txt``; returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name in SPLIT_NAMES:
        path = osp.join(out_dir, f'{name}.txt')
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            f.writelines(line + '\n' for line in splits[name])
        os.replace(tmp, path)
        paths.append(path)
    return paths

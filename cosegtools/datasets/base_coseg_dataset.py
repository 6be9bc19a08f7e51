from collections.abc import Sequence
from typing import Dict, List

import numpy as np
from mmengine.dataset import BaseDataset


class BaseCoSegDataset(BaseDataset):
    """Base class of co-segmentation datasets.

    The dataset indexes *images*: ``len(dataset)`` is the number of images and
    each entry of ``data_list`` describes one image and its object class
    (``class_idx``, ``class_name``). *Groups* are chosen by a sampler
    (:class:`CoSegPairSampler` for training, :class:`CoSegGroupSampler` for
    evaluation), which yields tuples of image indices; ``dataset[indices]``
    returns the processed group.

    The pipeline receives one dict for the whole group in which every key
    holds a list with one entry per image (so mmcv's ``TransformBroadcaster``
    can apply stock transforms per image), including ``has_common``:
    1 when all images are of one class, else 0.
    """

    def __getitem__(self, indices) -> Dict:
        if not self._fully_initialized:
            self.full_init()
        if isinstance(indices,
                      (int, np.integer)) or not isinstance(indices, Sequence):
            raise TypeError(
                f'{type(self).__name__} is indexed by a group of image '
                f'indices, got {indices!r}. Use a co-segmentation sampler '
                "in the dataloader, e.g. sampler=dict(type='CoSegPairSampler')"
                " for training or dict(type='CoSegGroupSampler') for testing.")
        if len(indices) < 2:
            raise ValueError(
                f'a co-segmentation group needs at least 2 images, got '
                f'{list(indices)}')
        results = self.pipeline(self.get_group_info(list(indices)))
        if results is None:
            raise RuntimeError(
                f'the pipeline returned None for group {list(indices)}')
        return results

    def get_group_info(self, indices: List[int]) -> Dict[str, list]:
        """Collect the image infos of a group into a dict of lists."""
        infos = [self.get_data_info(i) for i in indices]
        has_common = int(len({info['class_idx'] for info in infos}) == 1)
        group = {key: [info[key] for info in infos] for key in infos[0]}
        group['has_common'] = [has_common] * len(infos)
        # TransformBroadcaster collates the keys of the first image's output:
        # keys that a transform adds to some images only (RandomFlip adds
        # ``swap_seg_labels`` to flipped ones) must exist from the start.
        group['swap_seg_labels'] = [None] * len(infos)
        return group

    def get_class_indices(self) -> List[List[int]]:
        """Image indices of each class, in class order (may be empty)."""
        if not self._fully_initialized:
            self.full_init()
        per_class = [[] for _ in self.metainfo['classes']]
        for idx in range(len(self)):
            per_class[self.get_data_info(idx)['class_idx']].append(idx)
        return per_class

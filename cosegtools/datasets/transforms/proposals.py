import hashlib
import os
import os.path as osp
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from cosegtools.registry import TASK_UTILS, TRANSFORMS


@TRANSFORMS.register_module()
class LoadObjectProposals(BaseTransform):
    """Object proposals of one image, computed once and cached on disk.

    Use it inside ``TransformBroadcaster`` after the image is loaded and
    resized: the proposals are made from ``img`` as the model sees it. A
    proposal set is stored in ``cache_dir`` as one ``.npz`` per image, keyed
    by the image's pixels and the generator's settings, so it is computed
    once per image across epochs, runs and collections, and a changed image
    or generator never reuses a stale entry. Entries are written atomically
    (a killed run leaves no half-written file).

    Args:
        generator (dict): a proposal generator config (``TASK_UTILS``), e.g.
            :class:`MergeProposalGenerator`.
        cache_dir (str, optional): where proposals are cached. The tools
            set an unset one to ``<work_dir>/proposals``; None here computes
            them on every call.

    Required keys: ``img``.
    Added keys: ``proposals`` ((P, h, w) bool, the generator's size).
    """

    def __init__(self,
                 generator: dict = dict(type='MergeProposalGenerator'),
                 cache_dir: Optional[str] = None):
        self.generator_cfg = dict(generator)
        self.generator = TASK_UTILS.build(generator)
        self.cache_dir = cache_dir

    def cache_path(self, image: np.ndarray) -> str:
        key = hashlib.sha1(image.tobytes() + repr(image.shape).encode() +
                           repr(sorted(self.generator_cfg.items())).encode())
        return osp.join(self.cache_dir, f'{key.hexdigest()}.npz')

    def proposals(self, image: np.ndarray) -> np.ndarray:
        if self.cache_dir is None:
            return self.generator(image)
        path = self.cache_path(image)
        if osp.exists(path):
            with np.load(path) as data:
                shape = tuple(data['shape'])
                flat = np.unpackbits(data['bits'])[:int(np.prod(shape))]
                return flat.reshape(shape).astype(bool)
        proposals = self.generator(image)
        os.makedirs(self.cache_dir, exist_ok=True)
        tmp = f'{path[:-len(".npz")]}.{os.getpid()}.tmp.npz'
        np.savez_compressed(
            tmp, bits=np.packbits(proposals), shape=np.array(proposals.shape))
        os.replace(tmp, path)
        return proposals

    def transform(self, results: dict) -> dict:
        image = np.ascontiguousarray(results['img'])
        results['proposals'] = self.proposals(image)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(generator={self.generator_cfg}, '
                f'cache_dir={self.cache_dir!r})')

import numpy as np
from mmcv.transforms import BaseTransform

from cosegtools.registry import TRANSFORMS
from ..mask_io import read_binary_mask


@TRANSFORMS.register_module()
class LoadCoSegMask(BaseTransform):
    """Load one image's co-segmentation mask as ``gt_seg_map`` {0, 1}.

    Use it inside ``TransformBroadcaster`` (one image at a time). Masks of
    0/255 or 0/1 are read as 0/1 (see :mod:`cosegtools.datasets.mask_io`).
    In a group without a common object (``has_common == 0``) the target is
    empty, whatever the image's own mask says.

    Args:
        nonzero_foreground (bool): any non-zero value is foreground (the TSS
            kit's rule: its masks carry a few stray grey values); by default
            masks must be 0/255 or 0/1.

    Required keys: ``seg_map_path``, ``has_common``.
    Added keys: ``gt_seg_map`` (H, W) uint8; ``'gt_seg_map'`` in
    ``seg_fields``.
    """

    def __init__(self, nonzero_foreground: bool = False):
        self.nonzero_foreground = nonzero_foreground

    def transform(self, results: dict) -> dict:
        path = results.get('seg_map_path')
        if path is None:
            raise ValueError(
                f"{results.get('img_path')}: LoadCoSegMask needs a mask, but "
                'the dataset has none (with_masks=False); remove '
                'LoadCoSegMask from this pipeline')
        mask = read_binary_mask(path, self.nonzero_foreground)
        if not results.get('has_common', 1):
            mask = np.zeros_like(mask)
        results['gt_seg_map'] = mask
        results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in results['seg_fields']:
            results['seg_fields'].append('gt_seg_map')
        return results

from typing import Any, Dict

import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.utils import stack_batch

from cosegtools.registry import MODELS


@MODELS.register_module()
class CoSegDataPreProcessor(SegDataPreProcessor):
    """Normalise, pad and stack a batch of groups.

    Input: ``inputs`` is a list of N uint8 tensors (G, 3, H_n, W_n), one per
    group (all groups of a batch have the same G); ``data_samples`` the N
    :obj:`CoSegDataSample`.

    Output: ``inputs`` (N, G, 3, H, W) float, BGR->RGB if ``bgr_to_rgb``,
    normalised with ``mean``/``std`` and padded bottom/right to ``size`` or to
    the largest image rounded up to ``size_divisor`` (in training and
    testing); in training ``gt_sem_seg`` is padded too (by the packing's
    padding and the batch's), with ``seg_pad_val``; test masks stay at the
    original image size, where predictions are scored. Each image's
    ``padding_size`` counts all padding (from packing and from batching), so
    predictions can be cropped back to the image.

    Args: as mmseg's :class:`SegDataPreProcessor`.
    """

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        data = self.cast_data(data)
        groups = data['inputs']
        group_samples = data['data_samples']
        group_sizes = {g.shape[0] for g in groups}
        if len(group_sizes) != 1:
            raise ValueError('all groups of a batch must have the same number '
                             f'of images, got sizes {sorted(group_sizes)}')
        group_size = group_sizes.pop()
        inputs = [img for group in groups for img in group]
        samples = [s for group in group_samples for s in group.image_samples]
        if self.channel_conversion and inputs[0].size(0) == 3:
            inputs = [img[[2, 1, 0], ...] for img in inputs]
        inputs = [img.float() for img in inputs]
        if self._enable_normalize:
            inputs = [(img - self.mean) / self.std for img in inputs]
        packed_padding = [
            s.metainfo.get('padding_size', (0, 0, 0, 0)) for s in samples
        ]
        packed_shapes = [s.metainfo.get('img_shape') for s in samples]
        size_divisor = self.size_divisor
        if self.size is None and size_divisor is None:
            size_divisor = 1
        if training:
            # a training mask follows its image: padded like it by the
            # packing, then by the batching
            for sample, pad in zip(samples, packed_padding):
                if any(pad) and 'gt_sem_seg' in sample:
                    sample.gt_sem_seg = PixelData(
                        data=F.pad(
                            sample.gt_sem_seg.data,
                            tuple(pad),
                            value=self.seg_pad_val))
            inputs, samples = stack_batch(
                inputs=inputs,
                data_samples=samples,
                size=self.size,
                size_divisor=size_divisor,
                pad_val=self.pad_val,
                seg_pad_val=self.seg_pad_val)
            added = [s.metainfo['padding_size'] for s in samples]
        else:
            # test-time masks keep the original size: pad the images only
            inputs, pad_infos = stack_batch(
                inputs=inputs,
                size=self.size,
                size_divisor=size_divisor,
                pad_val=self.pad_val)
            added = [info['img_padding_size'] for info in pad_infos]
        for sample, before, after, shape in zip(samples, packed_padding, added,
                                                packed_shapes):
            meta = dict(
                padding_size=tuple(a + b for a, b in zip(before, after)))
            if shape is not None:
                meta['img_shape'] = tuple(shape)
            sample.set_metainfo(meta)
        if training and self.batch_augments is not None:
            inputs, samples = self.batch_augments(inputs, samples)
        inputs = inputs.view(len(groups), group_size, *inputs.shape[1:])
        return dict(inputs=inputs, data_samples=group_samples)

from typing import List

from mmengine.structures import BaseDataElement
from mmseg.structures import SegDataSample


class CoSegDataSample(BaseDataElement):
    """The data sample of one co-segmentation group (a pair is a group of 2).

    It holds one :obj:`SegDataSample` per image, in the order of the images in
    ``inputs`` (G, 3, H, W), each with that image's metainfo (``img_path``,
    ``ori_shape``, ``img_shape``, ``class_name``, ...), ``gt_sem_seg``
    (the common-object mask: 1 on the shared object, 0 elsewhere) and, after
    prediction, ``seg_logits`` and ``pred_sem_seg``.

    Group metainfo:
        - ``has_common`` (int): 1 when all images share an object class,
          else 0 (and every ``gt_sem_seg`` is empty).

    Examples:
        >>> group = CoSegDataSample(metainfo=dict(has_common=1))
        >>> group.image_samples = [SegDataSample(), SegDataSample()]
        >>> len(group)
        2
    """

    @property
    def image_samples(self) -> List[SegDataSample]:
        return self._image_samples

    @image_samples.setter
    def image_samples(self, value: List[SegDataSample]):
        if not all(isinstance(s, SegDataSample) for s in value):
            raise TypeError('image_samples must be a list of SegDataSample')
        self.set_field(list(value), '_image_samples', dtype=list)

    @image_samples.deleter
    def image_samples(self):
        del self._image_samples

    def __len__(self) -> int:
        return len(self.image_samples) if 'image_samples' in self else 0

    def _map_images(self, method, *args, **kwargs):
        new_data = self.new()
        if 'image_samples' in self:
            new_data.image_samples = [
                getattr(sample, method)(*args, **kwargs)
                for sample in self.image_samples
            ]
        return new_data

    def to(self, *args, **kwargs) -> 'CoSegDataSample':
        return self._map_images('to', *args, **kwargs)

    def cpu(self) -> 'CoSegDataSample':
        return self._map_images('cpu')

    def cuda(self) -> 'CoSegDataSample':
        return self._map_images('cuda')

    def detach(self) -> 'CoSegDataSample':
        return self._map_images('detach')

    def numpy(self) -> 'CoSegDataSample':
        return self._map_images('numpy')

    def to_dict(self) -> dict:
        """Plain dict; ``image_samples`` becomes a list of dicts."""
        result = dict(self.metainfo)
        if 'image_samples' in self:
            result['image_samples'] = [s.to_dict() for s in self.image_samples]
        return result

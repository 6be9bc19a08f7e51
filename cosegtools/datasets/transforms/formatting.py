import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmseg.datasets.transforms import PackSegInputs

from cosegtools.registry import TRANSFORMS
from cosegtools.structures import CoSegDataSample

IMAGE_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                   'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                   'reduce_zero_label', 'img_id', 'class_name', 'class_idx',
                   'keypoints', 'pck_size')


@TRANSFORMS.register_module()
class PackCoSegInputs(BaseTransform):
    """Pack a processed group into model inputs and a CoSegDataSample.

    The input dict holds one list entry per image under every key (the
    output of ``TransformBroadcaster``). Each image is packed by mmseg's
    ``PackSegInputs``; images of different sizes are padded bottom/right to
    the largest one and the padding is recorded in each image's
    ``padding_size``, so predictions can be cropped back. Masks are not
    padded here: a test mask is scored at its image's size, and
    :class:`CoSegDataPreProcessor` pads training masks (it knows which is
    which).

    Returns:
        dict:
            - ``inputs`` (Tensor): (G, 3, H, W) uint8 images.
            - ``data_samples`` (CoSegDataSample): one SegDataSample per image
              and the group's ``has_common``; an image's object proposals
              (:class:`LoadObjectProposals`), when loaded, as its sample's
              ``proposals`` field ((P, h, w) bool tensor).
    """

    def __init__(self, meta_keys=IMAGE_META_KEYS):
        self.packer = PackSegInputs(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        num_images = len(results['img'])
        packed = [
            self.packer.transform({
                k: v[i]
                for k, v in results.items()
            }) for i in range(num_images)
        ]
        height = max(p['inputs'].shape[1] for p in packed)
        width = max(p['inputs'].shape[2] for p in packed)
        images, samples = [], []
        for i, p in enumerate(packed):
            img, sample = p['inputs'], p['data_samples']
            if 'proposals' in results:
                sample.proposals = torch.from_numpy(results['proposals'][i])
            pad = (0, width - img.shape[2], 0, height - img.shape[1])
            sample.set_metainfo(dict(padding_size=pad))
            if any(pad):
                img = F.pad(img, pad, value=0)
            images.append(img)
            samples.append(sample)
        group = CoSegDataSample(
            metainfo=dict(has_common=int(results['has_common'][0])))
        group.image_samples = samples
        return dict(inputs=torch.stack(images), data_samples=group)

"""Training-free co-segmentation by clustering deep features.

The recipe of Amir et al. (2021, "Deep ViT Features as Dense Visual
Descriptors"), here with the CNN features of an ImageNet backbone: the dense
features of every image of a collection are clustered jointly, and the
clusters that (a) occur in most images of the collection and (b) avoid the
image borders are the common foreground. Nothing is fitted and no mask is
read; the post-processors (GrabCut, dense CRF) refine the result.
"""
from typing import List, Sequence

import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.structures import PixelData

from cosegtools.registry import MODELS


@MODELS.register_module()
class FeatureClusterCoSegmentor(BaseModule):
    """Clusters the dense features of a collection; foreground = common,
    border-avoiding clusters.

    Args:
        backbone (dict): an ImageNet backbone (its weights are only read).
        in_index (Sequence[int]): backbone outputs to describe each position
            with; each is L2-normalised, upsampled to the finest one and
            concatenated (then normalised again).
        img_scale (tuple): (h, w) every image is resized to.
        mean, std (Sequence[float]): input normalisation (RGB order after
            ``bgr_to_rgb``), as the backbone was trained.
        num_clusters (int): k of the joint k-means over all positions of
            all images of a collection.
        min_share (float): a cluster occurs in an image when it holds at
            least this fraction of the image's positions.
        min_images (float): a foreground cluster occurs in at least this
            fraction of the collection's images.
        max_border_ratio (float): a foreground cluster's share of border
            positions (the outer ring of cells), divided by the share of
            border positions among all positions, is below this (1 = as
            often on the border as a uniform cluster would be).
        seed (int): k-means seed.
    """

    def __init__(self,
                 backbone: dict,
                 in_index: Sequence[int] = (0, 1),
                 img_scale=(320, 320),
                 mean=(127.0, 127.0, 127.0),
                 std=(128.0, 128.0, 128.0),
                 bgr_to_rgb: bool = True,
                 num_clusters: int = 8,
                 min_share: float = 0.02,
                 min_images: float = 0.5,
                 max_border_ratio: float = 0.8,
                 seed: int = 0,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.in_index = tuple(in_index)
        self.img_scale = tuple(img_scale)
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1),
                             False)
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1), False)
        self.bgr_to_rgb = bgr_to_rgb
        if num_clusters < 2:
            raise ValueError(f'num_clusters must be >= 2, got {num_clusters}')
        self.num_clusters = num_clusters
        self.min_share = min_share
        self.min_images = min_images
        self.max_border_ratio = max_border_ratio
        self.seed = seed

    @torch.no_grad()
    def describe(self, image: np.ndarray) -> torch.Tensor:
        """(h, w, C) unit descriptors of a BGR image (H, W, 3)."""
        resized = mmcv.imresize(image, self.img_scale[::-1])
        if self.bgr_to_rgb:
            resized = resized[..., ::-1]
        x = torch.from_numpy(np.ascontiguousarray(resized)).permute(
            2, 0, 1)[None].float()
        x = (x - self.mean) / self.std
        outs = self.backbone(x)
        levels = [F.normalize(outs[i], dim=1) for i in self.in_index]
        size = max((f.shape[-2:] for f in levels), key=lambda s: s[0] * s[1])
        levels = [
            F.interpolate(f, size=size, mode='bilinear', align_corners=False)
            if f.shape[-2:] != size else f for f in levels
        ]
        return F.normalize(torch.cat(levels, 1), dim=1)[0].permute(1, 2, 0)

    def cluster(self, descriptors: List[torch.Tensor]) -> List[np.ndarray]:
        """Joint k-means labels, one (h, w) array per image."""
        from sklearn.cluster import KMeans
        flat = torch.cat([d.reshape(-1, d.shape[-1]) for d in descriptors])
        kmeans = KMeans(
            n_clusters=min(self.num_clusters, len(flat)),
            n_init=3,
            random_state=self.seed)
        labels = kmeans.fit_predict(flat.numpy().astype(np.float32))
        out, start = [], 0
        for d in descriptors:
            n = d.shape[0] * d.shape[1]
            out.append(labels[start:start + n].reshape(d.shape[:2]))
            start += n
        return out

    def foreground_clusters(self, labels: List[np.ndarray]) -> List[int]:
        """Clusters that occur in at least ``min_images`` of the images and
        avoid the border; if none does, the common cluster that avoids the
        border most."""
        k = self.num_clusters
        h, w = labels[0].shape
        border = np.ones((h, w), bool)
        border[1:-1, 1:-1] = False
        occurs = np.zeros(k)
        on_border = np.zeros(k)
        total = np.zeros(k)
        for lab in labels:
            counts = np.bincount(lab.ravel(), minlength=k)
            occurs += counts >= self.min_share * lab.size
            on_border += np.bincount(lab[border], minlength=k)
            total += counts
        common = occurs >= self.min_images * len(labels)
        ratio = (on_border / np.maximum(total, 1)) / border.mean()
        chosen = [c for c in range(k)
                  if common[c] and ratio[c] < self.max_border_ratio]
        if not chosen:
            candidates = [c for c in range(k) if common[c]] or list(range(k))
            chosen = [min(candidates, key=lambda c: ratio[c])]
        return chosen

    def collection_probabilities(self, images: List[np.ndarray]
                                 ) -> List[np.ndarray]:
        """Foreground probability (H, W) in [0, 1] of each BGR image of a
        collection, at the image's size: 1 on the cells of foreground
        clusters, 0 elsewhere, bilinearly upsampled."""
        if len(images) < 2:
            raise ValueError('co-segmentation needs at least 2 images, got '
                             f'{len(images)}')
        self.eval()
        descriptors = [self.describe(image) for image in images]
        return self.probabilities_of(descriptors,
                                     [image.shape[:2] for image in images])

    @torch.no_grad()
    def test_step(self, data: dict) -> list:
        """Predicts data batches of whole collections (each group of the
        batch is one collection): every image sample gets ``seg_logits``
        (its foreground probability, as a one-class segmentor stores it)
        and ``pred_sem_seg`` (probability >= 0.5), at the image's original
        size.

        The packed inputs are the images as loaded (BGR uint8, padded to
        the largest of the group; each is cropped back to its
        ``img_shape``), so a test pipeline of ``LoadImageFromFile`` (and
        ``LoadCoSegMask`` for scoring) gives the same probabilities as
        :meth:`collection_probabilities` of the image files.
        """
        for images, group in zip(data['inputs'], data['data_samples']):
            samples = group.image_samples
            arrays = []
            for image, sample in zip(images, samples):
                h, w = sample.img_shape[:2]
                if tuple(sample.ori_shape[:2]) != (h, w):
                    raise ValueError(
                        f'{sample.img_path}: FeatureClusterCoSegmentor '
                        'resizes the images itself (img_scale); leave Resize '
                        'out of the test pipeline')
                arrays.append(
                    np.ascontiguousarray(
                        image[:, :h, :w].permute(1, 2, 0).cpu().numpy()))
            for sample, prob in zip(samples,
                                    self.collection_probabilities(arrays)):
                prob = torch.from_numpy(prob)[None]
                sample.seg_logits = PixelData(data=prob)
                sample.pred_sem_seg = PixelData(data=(prob >= 0.5).long())
        return data['data_samples']

    def probabilities_of(self, descriptors: List[torch.Tensor],
                         shapes: List[tuple]) -> List[np.ndarray]:
        """:meth:`collection_probabilities` from the images' descriptors
        (:meth:`describe`) and their (H, W); the features of a collection can
        then be computed once for several settings."""
        labels = self.cluster(descriptors)
        chosen = self.foreground_clusters(labels)
        probs = []
        for shape, lab in zip(shapes, labels):
            cells = torch.from_numpy(np.isin(lab, chosen).astype(np.float32))
            prob = F.interpolate(
                cells[None, None],
                size=tuple(shape),
                mode='bilinear',
                align_corners=False)[0, 0]
            probs.append(prob.clamp(0, 1).numpy())
        return probs

from typing import List, Optional, Sequence

import torch
from torch import Tensor

from cosegtools.registry import MODELS
from .base import (BaseCoSegmentor, apply_postprocessor, clear_small_masks,
                   foreground_of_probs, foreground_probability,
                   to_probabilities)

__all__ = [
    'CoSegmentor', 'apply_postprocessor', 'clear_small_masks',
    'foreground_of_probs', 'foreground_probability'
]


@MODELS.register_module()
class CoSegmentor(BaseCoSegmentor):
    """Co-segmentation meta-architecture: shared backbone + co-seg head.

    The backbone (and optional neck) runs once per image, on all N*G images of
    a batch together; the head relates the images of each group.

    ``forward(inputs, data_samples, mode)``:
        - inputs (Tensor): (N, G, 3, H, W), normalised and padded by
          :class:`CoSegDataPreProcessor`.
        - data_samples (list[CoSegDataSample]): N groups of G image samples.
        - mode: ``'loss'`` -> dict of losses; ``'predict'`` -> the N groups
          with ``seg_logits`` (class probabilities) and ``pred_sem_seg``
          set on every image sample, resized to the image's original shape; ``'tensor'`` -> logits
          (N, G, K, h, w).

    Args:
        backbone (dict): backbone config (cosegtools', mmseg's or mmengine's).
        decode_head (dict): a co-seg head (:class:`BaseCoSegHead`).
        neck (dict, optional): neck applied to the backbone outputs.
        data_preprocessor (dict, optional): usually
            :class:`CoSegDataPreProcessor`.
        train_cfg, test_cfg (dict, optional): passed to the head;
            ``test_cfg`` also holds the prediction options of
            :class:`BaseCoSegmentor` (``group_inference``, ``flip``,
            ``scales``, ``postprocess``, ``min_foreground``).
        channels_last (bool): feed the backbone channels-last (NHWC)
            images; convolutions then run in that layout, which on a 2-core
            CPU made a DOCS training step about 30% faster (the profile in
            configs/docs/README.md). The results are the same up to float
            rounding.
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 neck: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 channels_last: bool = True,
                 init_cfg=None):
        super().__init__(
            data_preprocessor=data_preprocessor,
            test_cfg=test_cfg,
            init_cfg=init_cfg)
        self.channels_last = channels_last
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        self.decode_head = MODELS.build(decode_head)
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.out_channels = self.decode_head.out_channels
        self.train_cfg = train_cfg

    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        """Features of (N*G, 3, H, W) images."""
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        x = self.backbone(inputs)
        if self.with_neck:
            x = self.neck(x)
        return x

    def encode_decode(self, inputs: Tensor, batch_img_metas=None) -> Tensor:
        """(N, G, 3, H, W) -> logits (N*G, K, H, W) at the input size."""
        flat, group_size, _ = self.flatten(inputs)
        return self.decode_head.predict(
            self.extract_feat(flat), group_size, flat.shape[-2:],
            self.test_cfg)

    def loss(self, inputs: Tensor, data_samples) -> dict:
        flat, group_size, samples = self.flatten(inputs, data_samples)
        losses = self.decode_head.loss(
            self.extract_feat(flat), group_size, samples, self.train_cfg)
        return {f'decode.{k}': v for k, v in losses.items()}

    def encode(self, images: Tensor) -> Sequence[Tensor]:
        """The backbone's (and neck's) features of each image."""
        return self.extract_feat(images)

    def relate(self, encodings, group_size: int, size):
        """The head on groups of features: its probabilities at ``size``
        and its decision gate's scores (or None)."""
        logits, scores = self.decode_head.predict_with_scores(
            encodings, group_size, size, self.test_cfg)
        return to_probabilities(logits), scores

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        flat, group_size, _ = self.flatten(inputs)
        logits = self.decode_head(self.extract_feat(flat), group_size)
        return logits.view(inputs.shape[0], group_size, *logits.shape[1:])

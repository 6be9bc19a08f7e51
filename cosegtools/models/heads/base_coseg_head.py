from abc import ABCMeta, abstractmethod
from typing import List, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.models.losses import accuracy
from mmseg.models.utils import resize
from torch import Tensor

from cosegtools.registry import MODELS


class BaseCoSegHead(BaseModule, metaclass=ABCMeta):
    """Base class of co-segmentation heads.

    A head sees the features of every image of every group at once, flattened
    group by group: image ``g`` of group ``n`` is row ``n * G + g``. It
    returns one logit map per image.

    Contract (as mmseg's ``BaseDecodeHead``):
        - ``forward(inputs, group_size)`` -> logits (N*G, K, h, w);
        - ``loss()`` = forward -> ``loss_by_feat``;
        - ``predict()`` = forward -> ``predict_by_feat``.

    Args:
        num_classes (int): 2 (background, common object) for softmax losses.
        in_index (int | Sequence[int]): which backbone outputs to use.
        loss_decode (dict | list[dict]): mmseg loss configs; each loss module
            has a ``loss_name`` starting with ``loss_``.
        ignore_index (int): label ignored by the losses (padding).
        align_corners (bool): for the resizing of logits.
        threshold (float): foreground threshold when ``num_classes == 1``.
    """

    def __init__(self,
                 num_classes: int = 2,
                 in_index=-1,
                 loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0),
                 ignore_index: int = 255,
                 align_corners: bool = False,
                 threshold: float = 0.5,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.out_channels = num_classes
        self.in_index = in_index
        self.ignore_index = ignore_index
        self.align_corners = align_corners
        self.threshold = threshold
        losses = loss_decode if isinstance(loss_decode,
                                           (list, tuple)) else [loss_decode]
        self.loss_decode = nn.ModuleList(MODELS.build(cfg) for cfg in losses)

    def select_inputs(self, inputs: Tuple[Tensor]):
        if isinstance(self.in_index, (list, tuple)):
            return [inputs[i] for i in self.in_index]
        return inputs[self.in_index]

    @abstractmethod
    def forward(self, inputs: Tuple[Tensor], group_size: int) -> Tensor:
        """
        Args:
            inputs (tuple[Tensor]): backbone outputs, each (N*G, C, h, w).
            group_size (int): G.

        Returns:
            Tensor: logits (N*G, K, h', w').
        """

    def loss(self,
             inputs: Tuple[Tensor],
             group_size: int,
             batch_data_samples: List,
             train_cfg=None) -> dict:
        seg_logits = self.forward(inputs, group_size)
        return self.loss_by_feat(seg_logits, batch_data_samples)

    def predict(self,
                inputs: Tuple[Tensor],
                group_size: int,
                size: Tuple[int, int],
                test_cfg=None) -> Tensor:
        """Logits (N*G, K, H, W) resized to the padded input size."""
        seg_logits = self.forward(inputs, group_size)
        return self.predict_by_feat(seg_logits, size)

    def predict_by_feat(self, seg_logits: Tensor, size) -> Tensor:
        return resize(
            seg_logits,
            size=size,
            mode='bilinear',
            align_corners=self.align_corners)

    def loss_by_feat(self, seg_logits: Tensor, batch_data_samples) -> dict:
        """
        Args:
            seg_logits (Tensor): (N*G, K, h, w).
            batch_data_samples (list[SegDataSample]): N*G samples with
                ``gt_sem_seg`` (1, H, W).
        """
        seg_label = torch.stack(
            [s.gt_sem_seg.data for s in batch_data_samples])
        seg_logits = resize(
            seg_logits,
            size=seg_label.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        seg_label = seg_label.squeeze(1)
        losses = dict()
        for loss_module in self.loss_decode:
            name = loss_module.loss_name
            value = loss_module(
                seg_logits, seg_label, ignore_index=self.ignore_index)
            losses[name] = losses.get(name, 0) + value
        if self.num_classes > 1:
            losses['acc_seg'] = accuracy(
                seg_logits, seg_label, ignore_index=self.ignore_index)
        return losses

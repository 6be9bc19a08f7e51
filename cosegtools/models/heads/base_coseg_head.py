from abc import ABCMeta, abstractmethod
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.models.losses import accuracy
from mmseg.models.utils import resize
from torch import Tensor

from cosegtools.registry import MODELS


def group_labels(image_samples: List, group_size: int):
    """``has_common`` per group and ``class_idx`` per image (None when a
    sample has no class) of flattened image samples."""
    has_common = [
        int(image_samples[i].metainfo.get('has_common', 1))
        for i in range(0, len(image_samples), group_size)
    ]
    class_idx = [s.metainfo.get('class_idx') for s in image_samples]
    if any(c is None for c in class_idx):
        class_idx = None
    return has_common, class_idx


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
        decision_gate (dict, optional): a :class:`DecisionGate` config: the
            head then also learns whether a pair shares an object (trained on
            batches of positive and negative pairs) and empties the masks of
            images judged to share nothing at test time.
        gate_in_index (int): backbone output the gate embeds, unless the
            head overrides :meth:`forward_with_gate_feats`.
    """

    def __init__(self,
                 num_classes: int = 2,
                 in_index=-1,
                 loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0),
                 ignore_index: int = 255,
                 align_corners: bool = False,
                 threshold: float = 0.5,
                 decision_gate: Optional[dict] = None,
                 gate_in_index: int = -1,
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
        self.gate_in_index = gate_in_index
        self.decision_gate = (
            MODELS.build(decision_gate) if decision_gate else None)

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

    def forward_with_gate_feats(self, inputs: Tuple[Tensor], group_size: int):
        """Logits and the feature map the decision gate embeds."""
        return (self.forward(inputs, group_size), inputs[self.gate_in_index])

    def gate_foreground(self, seg_logits: Tensor) -> Optional[Tensor]:
        """(B, 1, h, w) foreground probability of the logits, without
        gradient, for a decision gate that pools over the predicted object
        (``DecisionGate(pool='object')``); None for any other gate."""
        if self.decision_gate is None or self.decision_gate.pool != 'object':
            return None
        with torch.no_grad():
            if seg_logits.shape[1] == 1:
                return seg_logits.sigmoid()
            return seg_logits.softmax(dim=1)[:, 1:2]

    def loss(self,
             inputs: Tuple[Tensor],
             group_size: int,
             batch_data_samples: List,
             train_cfg=None) -> dict:
        if self.decision_gate is None:
            seg_logits = self.forward(inputs, group_size)
            return self.loss_by_feat(seg_logits, batch_data_samples)
        seg_logits, gate_feats = self.forward_with_gate_feats(
            inputs, group_size)
        losses = self.loss_by_feat(seg_logits, batch_data_samples)
        losses.update(
            self.decision_gate.loss(
                gate_feats, *group_labels(batch_data_samples, group_size),
                self.gate_foreground(seg_logits)))
        return losses

    def predict(self,
                inputs: Tuple[Tensor],
                group_size: int,
                size: Tuple[int, int],
                test_cfg=None) -> Tensor:
        """Logits (N*G, K, H, W) resized to the padded input size."""
        return self.predict_with_scores(inputs, group_size, size, test_cfg)[0]

    def predict_with_scores(self, inputs, group_size, size, test_cfg=None):
        """Logits as :meth:`predict` and, with a decision gate, each image's
        probability of sharing an object with its group (else None); the
        logits of images below the gate's threshold are emptied."""
        if self.decision_gate is None:
            seg_logits = self.forward(inputs, group_size)
            return self.predict_by_feat(seg_logits, size), None
        seg_logits, gate_feats = self.forward_with_gate_feats(
            inputs, group_size)
        scores = self.decision_gate.scores(gate_feats, group_size,
                                           self.gate_foreground(seg_logits))
        seg_logits = self.decision_gate.gate(seg_logits, scores)
        return self.predict_by_feat(seg_logits, size), scores

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

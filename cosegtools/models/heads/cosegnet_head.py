from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from cosegtools.registry import MODELS
from ..utils.decoder import UpConvDecoder
from .base_coseg_head import BaseCoSegHead, group_labels


@MODELS.register_module()
class CoSegNetHead(BaseCoSegHead):
    """CoSegNet: conditional siamese decoder gated by a learned decision.

    Each image is decoded on its own (shared weights) by stages of
    [nearest-neighbour upsampling + stride-1 transposed convs]. The global
    average of the output of decoder stage ``metric_stage`` (CoSegNet: layer
    cT9, 256 channels at stride 4) feeds the :class:`DecisionGate`: the
    metric network (triplet loss) and the decision network (BCE) that tells
    whether a pair shares an object; at test time the masks are gated by the
    thresholded decision (an image's score is its mean over the others of
    its group).

    Conditional training (Sec. 3.5): positive pairs train everything (mask,
    triplet and decision losses weighted 0.33); negative pairs train only the
    triplet and decision losses (0.5) and never reach the decoder layers
    after ``metric_stage``, which therefore get no gradient (nor BN
    statistics) from them.

    Args:
        in_channels (int): channels of the encoder feature.
        decoder_channels (Sequence[int]): width of each stage (CoSegNet:
            512, 512, 256, 128, 64).
        num_convs (int | Sequence[int]): transposed convs per stage
            (CoSegNet: 3, 3, 3, 2, 2; its last one is ``conv_seg`` here).
        metric_stage (int): stage whose output the gate embeds.
        skips (Sequence[dict]): optional ``dict(in_index, in_channels,
            stage)`` skip connections (an extension, as in
            :class:`DOCSHead`).
        skip_channels (int): width of each reduced skip.
        norm_cfg (dict, optional): norm after the convs (CoSegNet: none).
        decision_gate (dict): the :class:`DecisionGate` config; its
            ``in_channels`` is set to the width of ``metric_stage``.
        **kwargs: see :class:`BaseCoSegHead` (CoSegNet: ``num_classes=1``
            with a sigmoid binary cross-entropy).
    """

    def __init__(self,
                 in_channels: int = 512,
                 decoder_channels: Sequence[int] = (512, 512, 256, 128, 64),
                 num_convs=(3, 3, 3, 2, 1),
                 metric_stage: int = 2,
                 skips: Sequence[dict] = (),
                 skip_channels: int = 32,
                 norm_cfg: Optional[dict] = None,
                 decision_gate: dict = dict(type='DecisionGate'),
                 **kwargs):
        if not 0 <= metric_stage < len(decoder_channels) - 1:
            raise ValueError(f'metric_stage must be in 0..'
                             f'{len(decoder_channels) - 2} (a stage must '
                             f'follow it), got {metric_stage}')
        decision_gate = dict(
            decision_gate, in_channels=decoder_channels[metric_stage])
        super().__init__(decision_gate=decision_gate, **kwargs)
        if isinstance(num_convs, int):
            num_convs = [num_convs] * len(decoder_channels)
        split = metric_stage + 1
        common = dict(
            upsample='nearest',
            skip_channels=skip_channels,
            conv_cfg=dict(type='deconv'),
            norm_cfg=norm_cfg)
        self.pre_skip_indices = [
            s['in_index'] for s in skips if s['stage'] < split
        ]
        self.post_skip_indices = [
            s['in_index'] for s in skips if s['stage'] >= split
        ]
        self.decoder = UpConvDecoder(
            in_channels,
            decoder_channels[:split],
            num_convs=num_convs[:split],
            skips=[
                dict(in_channels=s['in_channels'], stage=s['stage'])
                for s in skips if s['stage'] < split
            ],
            **common)
        self.conditional_decoder = UpConvDecoder(
            decoder_channels[metric_stage],
            decoder_channels[split:],
            num_convs=num_convs[split:],
            skips=[
                dict(in_channels=s['in_channels'], stage=s['stage'] - split)
                for s in skips if s['stage'] >= split
            ],
            **common)
        self.conv_seg = nn.Conv2d(
            self.conditional_decoder.out_channels,
            self.num_classes,
            3,
            padding=1)

    def decode_metric_stage(self, inputs: Sequence[Tensor]) -> Tensor:
        """Decoder up to ``metric_stage`` (CoSegNet's cT9)."""
        return self.decoder(inputs[self.in_index],
                            [inputs[i] for i in self.pre_skip_indices])

    def decode_rest(self,
                    mid: Tensor,
                    inputs: Sequence[Tensor],
                    rows: Optional[Tensor] = None) -> Tensor:
        """The conditional part of the decoder, for the images ``rows``."""
        skips = [inputs[i] for i in self.post_skip_indices]
        if rows is not None:
            mid = mid[rows]
            skips = [s[rows] for s in skips]
        return self.conv_seg(self.conditional_decoder(mid, skips))

    def forward_with_gate_feats(self, inputs: Tuple[Tensor], group_size: int):
        mid = self.decode_metric_stage(inputs)
        return self.decode_rest(mid, inputs), mid

    def forward(self, inputs: Tuple[Tensor], group_size: int) -> Tensor:
        return self.forward_with_gate_feats(inputs, group_size)[0]

    def loss(self,
             inputs: Tuple[Tensor],
             group_size: int,
             batch_data_samples: List,
             train_cfg=None) -> dict:
        has_common, class_idx = group_labels(batch_data_samples, group_size)
        mid = self.decode_metric_stage(inputs)
        rows = [
            n * group_size + g for n, common in enumerate(has_common) if common
            for g in range(group_size)
        ]
        seg_logits = None
        if rows:
            seg_logits = self.decode_rest(
                mid, inputs, torch.tensor(rows, device=mid.device))
        losses = self.decision_gate.loss(
            mid, has_common, class_idx,
            self.predicted_foreground(mid, inputs, rows, seg_logits))
        if rows:
            weight = self.decision_gate.loss_weights['positive']
            mask_losses = self.loss_by_feat(
                seg_logits, [batch_data_samples[r] for r in rows])
            for name, value in mask_losses.items():
                losses[name] = value * weight if name.startswith(
                    'loss') else value
        return losses

    def predicted_foreground(self, mid: Tensor, inputs: Sequence[Tensor],
                             rows: List[int],
                             seg_logits: Optional[Tensor]) -> Optional[Tensor]:
        """Foreground of every image of the batch for a gate that pools over
        the predicted object (else None). The positive ``rows`` have their
        logits already; the others are decoded without gradient and with
        the conditional decoder in eval mode, so that, as in conditional
        training, negative pairs neither train it nor move its BN
        statistics."""
        if self.decision_gate.pool != 'object':
            return None
        positive = set(rows)
        others = [r for r in range(mid.shape[0]) if r not in positive]
        parts = {}
        if rows:
            parts.update(zip(rows, seg_logits.detach()))
        if others:
            modules = (self.conditional_decoder, self.conv_seg)
            modes = [m.training for m in modules]
            try:
                for m in modules:
                    m.eval()
                with torch.no_grad():
                    decoded = self.decode_rest(
                        mid, inputs, torch.tensor(others, device=mid.device))
            finally:
                for m, mode in zip(modules, modes):
                    m.train(mode)
            parts.update(zip(others, decoded))
        logits = torch.stack([parts[r] for r in range(mid.shape[0])])
        return self.gate_foreground(logits)

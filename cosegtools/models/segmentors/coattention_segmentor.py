"""Unsupervised co-attention co-segmentation (Hsu et al., IJCAI 2018)."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.models.utils import resize
from torch import Tensor

from cosegtools.registry import MODELS
from ..postprocessors import build_postprocessor
from ..utils.masked_embedding import masked_images, pooled_embedding
from .coseg_segmentor import CoSegmentor, apply_postprocessor


@MODELS.register_module()
class CoAttentionSegmentor(BaseSegmentor):
    """Generator g + frozen feature extractor f, trained without masks.

    g (``backbone`` + a one-class ``decode_head``) gives each image a
    co-attention map S = sigmoid(g(I)). The frozen ImageNet extractor f
    (``extractor``, any registered backbone; its last output is globally
    average-pooled, the input of a classifier's last FC layer) embeds the
    object image S * I and the background image (1 - S) * I (in pixel
    space: the images are un-normalised, masked and normalised again). The
    co-attention loss (eq. 3-6) pulls the objects of a group together and
    pushes each object away from its own background. In stage two the mask
    loss (eq. 7) also pulls S towards object proposals: the targets are set
    per image by :class:`CoAttentionMaskHook` (``mask_targets``: image path
    -> (M~, M) masks).

    The method fits the collection it segments: train and test sets are the
    same images, and no mask is read for training.

    ``polarity`` (a buffer, +1 or -1, saved in checkpoints) says which side
    of S is the object: +1 (the paper) S, -1 the complement 1 - S. The
    co-attention loss always uses S as the paper does; the mask loss and the
    predictions use the object side. :class:`CoAttentionMaskHook` sets it
    at the end of stage one when its ``polarity_prior`` is 'border'.

    Args:
        backbone (dict): generator encoder.
        decode_head (dict): a one-class co-seg head (per-image decoding).
        extractor (dict): feature extractor f; its parameters are frozen
            and it always runs in eval mode. Its own ``init_cfg`` loads
            weights (e.g. a ``Pretrained`` checkpoint you supply);
            EfficientNetLite loads its ImageNet weights itself.
        loss_coattention (dict): :class:`CoAttentionLoss`.
        loss_mask (dict): :class:`BootstrappedMaskLoss`.
        data_preprocessor (dict): :class:`CoSegDataPreProcessor`; its
            mean/std must be the normalisation f expects.
        test_cfg (dict, optional): ``postprocess`` as in
            :class:`CoSegmentor` (the paper: dense CRF).
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 extractor: dict,
                 loss_coattention: dict = dict(type='CoAttentionLoss'),
                 loss_mask: dict = dict(type='BootstrappedMaskLoss'),
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.decode_head = MODELS.build(decode_head)
        if self.decode_head.num_classes != 1:
            raise ValueError('the co-attention generator predicts one map '
                             'per image: decode_head.num_classes must be 1')
        self.extractor = MODELS.build(extractor)
        self.extractor.requires_grad_(False)
        self.loss_coattention = MODELS.build(loss_coattention)
        self.loss_mask = MODELS.build(loss_mask)
        self.align_corners = self.decode_head.align_corners
        self.num_classes = 1
        self.out_channels = 1
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        post_cfg = (test_cfg or {}).get('postprocess')
        self.postprocessor = (
            build_postprocessor(post_cfg) if post_cfg else None)
        #: image path -> (M~, M), (h, w) bool tensors; set in stage two
        self.mask_targets: Dict[str, Tuple[Tensor, Tensor]] = {}
        self.register_buffer('polarity', torch.ones(()))

    def train(self, mode: bool = True):
        super().train(mode)
        self.extractor.eval()  # frozen, BN statistics included
        return self

    def attention_logits(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) normalised -> co-attention logits (B, 1, H, W)."""
        logits = self.decode_head.forward(self.backbone(images), 1)
        return resize(
            logits,
            size=images.shape[-2:],
            mode='bilinear',
            align_corners=self.align_corners)

    def object_logits(self, images: Tensor) -> Tensor:
        """Logits of the object side of the map (``polarity`` applied)."""
        return self.polarity * self.attention_logits(images)

    def embed(self, images: Tensor) -> Tensor:
        """f's pooled last feature, (B, c)."""
        return pooled_embedding(self.extractor, images)

    def masked_images(self, images: Tensor, attention: Tensor):
        """Object and background images, (B, 3, H, W) each, normalised."""
        return masked_images(images, attention, self.data_preprocessor.mean,
                             self.data_preprocessor.std)

    def loss(self, inputs: Tensor, data_samples) -> dict:
        flat, group_size, samples = CoSegmentor.flatten(inputs, data_samples)
        logits = self.attention_logits(flat)
        attention = logits.sigmoid()
        objects, backgrounds = self.masked_images(flat, attention)
        feats = self.embed(torch.cat([objects, backgrounds]))
        object_feats, background_feats = feats.chunk(2)
        losses = {
            self.loss_coattention.loss_name:
            self.loss_coattention(object_feats, background_feats, group_size),
            # logged, not optimised: the mean co-attention value shows a
            # collapse to all-object (1) or all-background (0) without masks
            'attention_mean':
            attention.detach().mean(),
        }
        targets = self.targets_for(samples, flat.shape[-2:])
        if targets is not None:
            rows, first, current = targets
            losses[self.loss_mask.loss_name] = self.loss_mask(
                self.polarity * logits[rows], first, current)
        return losses

    def targets_for(self, samples: List, size) -> Optional[tuple]:
        """Proposal masks of the samples that have them, at ``size``."""
        rows, first, current = [], [], []
        for row, sample in enumerate(samples):
            target = self.mask_targets.get(sample.metainfo.get('img_path'))
            if target is None:
                continue
            if sample.metainfo.get('flip', False):
                raise ValueError('co-attention mask targets do not follow '
                                 'flips: remove RandomFlip from the '
                                 'training pipeline')
            rows.append(row)
            first.append(target[0])
            current.append(target[1])
        if not rows:
            return None

        def stack(masks):
            masks = torch.stack(masks)[:, None].float().to(
                self.data_preprocessor.mean.device)
            return (F.interpolate(masks, size=size, mode='bilinear')
                    > 0.5).float()

        return rows, stack(first), stack(current)

    def encode_decode(self, inputs: Tensor, batch_img_metas=None) -> Tensor:
        flat = inputs.flatten(0, 1) if inputs.dim() == 5 else inputs
        return self.object_logits(flat)

    def predict(self, inputs: Tensor, data_samples=None):
        if data_samples is None:
            raise ValueError('predict needs the data samples (image shapes)')
        flat, _, samples = CoSegmentor.flatten(inputs, data_samples)
        self.postprocess_result(self.object_logits(flat), samples)
        apply_postprocessor(self.postprocessor, samples)
        return data_samples

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        flat = inputs.flatten(0, 1)
        logits = self.object_logits(flat)
        return logits.view(*inputs.shape[:2], *logits.shape[1:])

    def extract_feat(self, inputs: Tensor):
        return self.backbone(inputs)

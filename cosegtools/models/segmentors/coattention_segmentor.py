"""Unsupervised co-attention co-segmentation (Hsu et al., IJCAI 2018)."""
from typing import Dict, Iterable, List, Optional, Tuple

import cv2
import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmseg.models.utils import resize
from torch import Tensor

from cosegtools.registry import MODELS
from ..utils.proposals import best_proposal, refine_object_mask
from ..utils.masked_embedding import masked_images, pooled_embedding
from .base import BaseCoSegmentor


@MODELS.register_module()
class CoAttentionSegmentor(BaseCoSegmentor):
    """Generator g + frozen feature extractor f, trained without masks.

    g (``backbone`` + a one-class ``decode_head``) gives each image a
    co-attention map S = sigmoid(g(I)). The frozen ImageNet extractor f
    (``extractor``, any registered backbone; its last output is globally
    average-pooled, the input of a classifier's last FC layer) embeds the
    object image S * I and the background image (1 - S) * I (in pixel
    space: the images are un-normalised, masked and normalised again). The
    co-attention loss (eq. 3-6) pulls the objects of a group together and
    pushes each object away from its own background. In stage two the mask
    loss (eq. 7) also pulls S towards object proposals. The method fits the
    collection it segments (train and test sets are the same images, no mask
    is read for training), run by :class:`CollectionFitLoop`, which calls
    :meth:`update_targets` at the end of stage one and every epoch of stage
    two; the training pipeline loads each image's object proposals
    (:class:`LoadObjectProposals`).

    The targets (``mask_targets``: image path -> (M~, M) masks) are part of
    the state dict (packed bits, as extra state), so a checkpoint and a
    resumed run carry them. ``polarity`` (a buffer, +1 or -1) says which
    side of S is the object: +1 (the paper) S, -1 the complement 1 - S. The
    co-attention loss always uses S as the paper does; the mask loss and the
    predictions use the object side.

    ``train_cfg`` options of the targets:

    - ``map_scaling``: 'none' (the paper matches the raw map) or 'minmax'
      (each map stretched to [0, 1] before it is matched to the proposals).
      A generator trained briefly gives maps of low contrast, e.g. values in
      [0.45, 0.6]: matched raw, every pixel above 0.5 counts as object, and
      when most of the map is above 0.5 the largest proposal wins.
    - ``first_targets`` (dict, optional; not in the paper): a training-free
      co-segmentor config (e.g. :class:`FeatureClusterCoSegmentor`) whose
      maps of the collection replace S when the first targets are picked:
      M~ and the first M are the proposals that match its maps, so stage two
      starts from proposals of the common object rather than from the maps
      of stage one. The object side of S is then the one that agrees with
      those maps (``polarity_prior`` is not used).
    - ``prior_weight`` (float in [0, 1], default 0; with ``first_targets``
      only): at every later update the proposals are matched to
      ``w * prior + (1 - w) * S`` (S on its object side, scaled) instead of
      S alone: 0 is the paper's refinement from g's own maps, 1 keeps the
      prior's choice of proposals throughout stage two. The prior's maps
      are computed once per collection (again after a resume).
    - ``polarity_prior``: 'none' (the paper: S is the object) or 'border':
      at the first update, if the maps of the collection are higher outside
      the central half-box of each image (the middle half of each side) than
      inside it, the object is 1 - S (the boundary prior of saliency
      detection: backgrounds touch the border). The co-attention loss is
      blind to which side is which: with a small ImageNet extractor it often
      settles on the shared background (sky behind aeroplanes, water under
      boats).

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
        train_cfg (dict, optional): ``map_scaling`` and
            ``polarity_prior`` (see above).
        test_cfg (dict, optional): the prediction options of
            :class:`BaseCoSegmentor` (the paper post-processes with a dense
            CRF: ``postprocess='crf'``).
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
            data_preprocessor=data_preprocessor,
            test_cfg=test_cfg,
            init_cfg=init_cfg)
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
        self.train_cfg = dict(train_cfg or {})
        self.map_scaling = self.train_cfg.get('map_scaling', 'none')
        self.polarity_prior = self.train_cfg.get('polarity_prior', 'none')
        self.first_targets = self.train_cfg.get('first_targets')
        if self.first_targets is not None and (
                not isinstance(self.first_targets, dict)
                or MODELS.get(self.first_targets.get('type')) is None):
            raise ValueError(
                'train_cfg.first_targets must be the config of a registered '
                f'training-free co-segmentor, got {self.first_targets!r}')
        self.prior_weight = self.train_cfg.get('prior_weight', 0.0)
        if not (isinstance(self.prior_weight, (int, float))
                and 0 <= self.prior_weight <= 1):
            raise ValueError('train_cfg.prior_weight must be a number in '
                             f'[0, 1], got {self.prior_weight!r}')
        if self.prior_weight > 0 and self.first_targets is None:
            raise ValueError('train_cfg.prior_weight needs '
                             'train_cfg.first_targets (the prior it weighs)')
        #: image path -> the prior's map, kept from the first update
        self._prior_maps: Dict[str, np.ndarray] = {}
        if self.map_scaling not in ('none', 'minmax'):
            raise ValueError("train_cfg.map_scaling must be 'none' or "
                             f"'minmax', got {self.map_scaling!r}")
        if self.polarity_prior not in ('none', 'border'):
            raise ValueError("train_cfg.polarity_prior must be 'none' or "
                             f"'border', got {self.polarity_prior!r}")
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
        flat, group_size, samples = self.flatten(inputs, data_samples)
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

    def encode(self, images: Tensor):
        """Each image's co-attention logits (its map does not depend on the
        other images)."""
        return (self.attention_logits(images), )

    def relate(self, encodings, group_size: int, size):
        """The object side's probability at ``size``; no decision."""
        probs = (self.polarity * encodings[0]).sigmoid()
        if tuple(probs.shape[-2:]) != tuple(size):
            probs = resize(
                probs,
                size=size,
                mode='bilinear',
                align_corners=self.align_corners)
        return probs, None

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        flat = inputs.flatten(0, 1)
        logits = self.object_logits(flat)
        return logits.view(*inputs.shape[:2], *logits.shape[1:])

    def extract_feat(self, inputs: Tensor):
        return self.backbone(inputs)

    # ------------------------------------------------------------ targets
    def scale(self, attention: np.ndarray) -> np.ndarray:
        """The map as it is matched to the proposals (``map_scaling``)."""
        if self.map_scaling == 'none':
            return attention
        low, high = attention.min(), attention.max()
        return (attention - low) / max(high - low, 1e-6)

    @staticmethod
    def border_polarity(maps) -> int:
        """-1 if the maps are on average higher outside the central
        half-box of their images than inside it, else +1."""
        centre, border = [], []
        for image_map in maps:
            h, w = image_map.shape
            inner = np.zeros((h, w), bool)
            inner[h // 4:h - h // 4, w // 4:w - w // 4] = True
            centre.append(image_map[inner].mean())
            border.append(image_map[~inner].mean())
        return -1 if np.mean(border) > np.mean(centre) else 1

    @torch.no_grad()
    def attention_maps(self, batches: Iterable[dict]) -> Dict[str, tuple]:
        """Image path -> (co-attention map S at proposal size, proposals),
        for every image of ``batches`` (data batches whose samples carry
        ``proposals``)."""
        was_training = self.training
        self.eval()
        maps = {}
        for batch in batches:
            data = self.data_preprocessor(batch, False)
            flat, _, samples = self.flatten(data['inputs'],
                                                   data['data_samples'])
            attention = self.attention_logits(flat).sigmoid()
            for sample, image_map in zip(samples, attention[:, 0]):
                if 'proposals' not in sample:
                    raise KeyError(
                        f'{sample.img_path}: no object proposals; add '
                        'LoadObjectProposals to the training pipeline')
                proposals = sample.proposals.cpu().numpy()
                image_map = F.interpolate(
                    image_map[None, None],
                    size=proposals.shape[1:],
                    mode='bilinear')[0, 0]
                maps[sample.img_path] = (image_map.cpu().numpy(), proposals)
        self.train(was_training)
        return maps

    def update_targets(self, batches: Iterable[dict], first: bool) -> None:
        """Sets (``first``: at the end of stage one) or refines the mask
        targets of every image of ``batches`` from the current maps.

        First: with ``polarity_prior='border'`` the object side is chosen,
        then per image the best-matching proposal M~ is fixed. Every time:
        M is the refined mask (several non-overlapping proposals, Sec. 3.3).
        With ``first_targets``, the first M~ and M are matched to the
        prior's maps instead of S, and the object side of S is the one
        positively correlated with them. An image without proposals gets no
        target.
        """
        maps = self.attention_maps(batches)
        prior = None
        if first and self.first_targets is not None:
            prior = self.prior_maps(maps)
            self._prior_maps = prior if self.prior_weight > 0 else {}
            # the object side of S is the one that agrees with the prior
            agreement = np.mean([
                np.corrcoef(maps[p][0].ravel(), prior[p].ravel())[0, 1]
                for p in maps
                if maps[p][0].std() > 0 and prior[p].std() > 0
            ] or [0.0])
            polarity = 1 if agreement >= 0 else -1
            self.polarity.fill_(polarity)
            print_log(
                'co-attention polarity: the object is '
                f'{"S" if polarity > 0 else "1 - S"} (mean correlation '
                f'{agreement:.2f} with the first targets\' maps)',
                logger='current')
        elif first and self.polarity_prior == 'border':
            polarity = self.border_polarity(
                self.scale(m) for m, _ in maps.values())
            self.polarity.fill_(polarity)
            print_log(
                'co-attention polarity: the object is '
                f'{"S" if polarity > 0 else "1 - S"} (boundary prior)',
                logger='current')
        elif self.prior_weight > 0:
            missing = [p for p in maps if p not in self._prior_maps]
            if missing:  # e.g. resumed in stage two
                self._prior_maps.update(
                    self.prior_maps({p: maps[p] for p in missing}))
        for path, (attention, proposals) in maps.items():
            if len(proposals) == 0:
                continue
            if prior is not None:
                attention = prior[path]
            else:
                if self.polarity < 0:
                    attention = 1 - attention
                # (min-max scaling commutes with 1 - S)
                attention = self.scale(attention)
                if self.prior_weight > 0:
                    attention = (self.prior_weight * self._prior_maps[path]
                                 + (1 - self.prior_weight) * attention)
            refined = torch.from_numpy(
                refine_object_mask(attention, proposals))
            if first or path not in self.mask_targets:
                fixed = torch.from_numpy(proposals[best_proposal(
                    attention, proposals)])
            else:
                fixed = self.mask_targets[path][0]
            self.mask_targets[path] = (fixed, refined)
        print_log(
            f'co-attention mask targets {"set" if first else "updated"} '
            f'for {len(self.mask_targets)} images',
            logger='current')

    def prior_maps(self, maps: Dict[str, tuple]) -> Dict[str, np.ndarray]:
        """The foreground probabilities of ``first_targets`` (a training-free
        co-segmentor with ``collection_probabilities``, run on the whole
        collection's image files), at each image's proposal size."""
        prior = MODELS.build(self.first_targets)
        prior.init_weights()
        paths = list(maps)
        probs = prior.collection_probabilities(
            [mmcv.imread(p) for p in paths])
        return {
            path: cv2.resize(prob, maps[path][1].shape[1:][::-1],
                             interpolation=cv2.INTER_LINEAR)
            for path, prob in zip(paths, probs)
        }

    def get_extra_state(self) -> dict:
        # packed bits in uint8 tensors: small, and loadable with
        # torch.load(weights_only=True)
        return {
            path: (torch.from_numpy(np.packbits(a.numpy())),
                   torch.from_numpy(np.packbits(b.numpy())), list(a.shape))
            for path, (a, b) in self.mask_targets.items()
        }

    def set_extra_state(self, state: dict) -> None:
        self.mask_targets = {}
        for path, (a, b, shape) in state.items():
            n = int(np.prod(shape))
            self.mask_targets[path] = tuple(
                torch.from_numpy(
                    np.unpackbits(bits.cpu().numpy())[:n].reshape(
                        shape).astype(bool)) for bits in (a, b))

"""MaCoSNet: joint semantic matching and weakly supervised co-segmentation
(Chen, Lin, Yang, Huang, "Show, Match and Segment", TPAMI 2020)."""
from typing import List, Optional

import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmseg.models.utils import resize
from torch import Tensor

from cosegtools.registry import MODELS
from ..utils.groups import mean_over_others
from ..utils.masked_embedding import masked_images, pooled_embedding
from ..utils.warps import Warp, random_warp, to_normalised, to_pixels
from .coseg_segmentor import CoSegmentor


def pair_index(group: int, a: int, b: int, group_size: int) -> int:
    """Row of the directed pair (a, b) of group ``group`` in the order of
    :func:`group_pairs`."""
    return group * group_size * (group_size - 1) + a * (group_size - 1) + (
        b if b < a else b - 1)


def reversed_pairs(batch: int, group_size: int) -> List[int]:
    """For each directed pair (a, b), the row of (b, a)."""
    return [
        pair_index(n, b, a, group_size) for n in range(batch)
        for a in range(group_size) for b in range(group_size) if a != b
    ]


def triplet_chains(batch: int, group_size: int):
    """Rows of the pairs (a, a+1), (a+1, a+2), (a+2, a) (indices mod G) for
    every image a of every group of G >= 3: the chains of eq. 6."""
    chains = ([], [], [])
    for n in range(batch):
        for a in range(group_size):
            b, c = (a + 1) % group_size, (a + 2) % group_size
            for chain, (s, t) in zip(chains, ((a, b), (b, c), (c, a))):
                chain.append(pair_index(n, s, t, group_size))
    return chains


@MODELS.register_module()
class MaCoSNet(CoSegmentor):
    """Encoder E, transformation predictor G, decoder D and frozen feature
    extractor F, trained from groups of images of one class (no masks).

    Training groups of G images of a class (the pair sampler with
    ``group_size`` 2, or 3 for the transitivity loss) give every directed
    pair (X, Y): the correlation S_XY, the warp T_XY of G (X's points to
    Y's) and D's masks. The loss is eq. 1:

    L = L_matching + l_cycle L_cycle + l_trans L_trans + l_contrast L_contrast
    + l_task L_task (the lambdas are the losses' ``loss_weight``).

    Stage one (``train_cfg.pretrain_iters`` iterations, 0 to skip) trains G
    on synthetic warps instead: each image is warped by a random affine +
    TPS transform (drawn from ``train_cfg.seed`` and the iteration, so a
    resumed run draws the same ones) and G regresses it (CNNGeometric's
    grid loss); the paper starts from a G trained that way. The stage is
    chosen by the iteration the runner reports, so resuming in either stage
    continues it.

    Prediction is the co-segmentation of :class:`CoSegmentor` (group
    inference strategies included); :meth:`match` gives the warps, and
    groups whose first image carries ``keypoints`` get ``pred_keypoints``
    (see :class:`PCKMetric`): its keypoints transferred into the second
    image.

    Args:
        backbone (dict): encoder E.
        decode_head (dict): :class:`MaCoSNetHead` (decoder D).
        regressor (dict): :class:`GeometricRegressor` (G).
        extractor (dict): frozen F (the co-attention segmentor's masked-image
            embedding: its last output, average-pooled).
        loss_matching, loss_cycle, loss_trans, loss_contrast, loss_task,
            loss_warp (dict): the losses; ``loss_trans`` needs groups of at
            least 3 (it is skipped for pairs).
        loss_mask (dict, optional): an mmseg loss of D's logits against the
            masks the training pipeline loads (``LoadCoSegMask``), added to
            eq. 1 in stage two. None (the paper) reads no mask. An extension
            for features whose eq. 1 lets the masks collapse: the dataset's
            ``mask_root`` pointed at the masks of a mask-free method (the
            feature clustering's, written by ``tools/coseg_folder.py``)
            keeps the model free of ground truth.
        train_cfg (dict): ``pretrain_iters`` (int), ``synthetic_warp`` (dict
            of :func:`random_warp` ranges), ``seed`` (int).
        Other arguments as :class:`CoSegmentor`.
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 regressor: dict,
                 extractor: dict,
                 loss_matching: dict = dict(type='ForegroundMatchingLoss'),
                 loss_cycle: dict = dict(
                     type='CycleConsistencyLoss', loss_weight=5.0),
                 loss_trans: dict = dict(
                     type='TransitivityConsistencyLoss', loss_weight=5.0),
                 loss_contrast: dict = dict(
                     type='CoAttentionLoss',
                     margin=2.0,
                     loss_weight=10.0,
                     loss_name='loss_contrast'),
                 loss_task: dict = dict(
                     type='CrossNetworkConsistencyLoss', loss_weight=10.0),
                 loss_warp: dict = dict(type='WarpRegressionLoss'),
                 loss_mask: Optional[dict] = None,
                 neck: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 channels_last: bool = True,
                 init_cfg=None):
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            neck=neck,
            data_preprocessor=data_preprocessor,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            channels_last=channels_last,
            init_cfg=init_cfg)
        if self.num_classes != 1:
            raise ValueError('MaCoSNet predicts one mask logit per image: '
                             'decode_head.num_classes must be 1')
        self.regressor = MODELS.build(regressor)
        self.extractor = MODELS.build(extractor)
        self.extractor.requires_grad_(False)
        self.loss_matching = MODELS.build(loss_matching)
        self.loss_cycle = MODELS.build(loss_cycle)
        self.loss_trans = MODELS.build(loss_trans)
        self.loss_contrast = MODELS.build(loss_contrast)
        self.loss_task = MODELS.build(loss_task)
        self.loss_warp = MODELS.build(loss_warp)
        self.loss_mask = None if loss_mask is None else MODELS.build(
            loss_mask)
        cfg = dict(train_cfg or {})
        unknown = set(cfg) - {'pretrain_iters', 'synthetic_warp', 'seed'}
        if unknown:
            raise ValueError(f'unknown MaCoSNet train_cfg keys '
                             f'{sorted(unknown)}; expected pretrain_iters, '
                             'synthetic_warp, seed')
        self.pretrain_iters = int(cfg.get('pretrain_iters', 0))
        self.synthetic_warp = dict(cfg.get('synthetic_warp', {}))
        self.seed = int(cfg.get('seed', 0))

    def train(self, mode: bool = True):
        super().train(mode)
        self.extractor.eval()  # frozen, BN statistics included
        return self

    @staticmethod
    def current_iter() -> int:
        """The runner's iteration (0 outside a runner)."""
        return int(MessageHub.get_current_instance().get_info('iter', 0))

    def correlated(self, feats) -> Tensor:
        return feats[self.decode_head.in_index]

    def loss(self, inputs: Tensor, data_samples) -> dict:
        flat, group_size, samples = self.flatten(inputs, data_samples)
        step = self.current_iter()
        if step < self.pretrain_iters:
            return self.synthetic_warp_loss(flat, step)
        losses, logits = self.weak_loss(flat, group_size)
        if self.loss_mask is not None:
            losses[self.loss_mask.loss_name] = self.loss_mask(
                logits, self.mask_labels(samples), ignore_index=255)
        return losses

    @staticmethod
    def mask_labels(samples) -> Tensor:
        """(n, H, W) masks of the image samples, for ``loss_mask``."""
        missing = [
            s.metainfo.get('img_path', f'image {i} of the batch')
            for i, s in enumerate(samples) if 'gt_sem_seg' not in s
        ]
        if missing:
            raise ValueError(
                f'{missing[0]}: MaCoSNet loss_mask needs a mask for every '
                'training image; add LoadCoSegMask to the train pipeline '
                '(and with_masks=True, or mask_root, to the dataset)')
        return torch.stack([s.gt_sem_seg.data for s in samples]).squeeze(1)

    def synthetic_warp_loss(self, flat: Tensor, step: int) -> dict:
        """Stage one: regress random known warps of the images."""
        generator = torch.Generator().manual_seed(self.seed * 1000003 + step)
        true = random_warp(
            flat.shape[0],
            generator,
            device=flat.device,
            **self.synthetic_warp)
        warped = true.apply(flat)  # warped(q) = image(true(q))
        feats = self.correlated(self.extract_feat(torch.cat([flat, warped])))
        source, target = feats.chunk(2)
        predicted = self.regressor(target, source)
        return {self.loss_warp.loss_name: self.loss_warp(predicted, true)}

    def weak_loss(self, flat: Tensor, group_size: int):
        """Stage two: eq. 1 on every directed pair of every group; the
        losses and D's mask logits (n, 1, H, W)."""
        head = self.decode_head
        feats = self.extract_feat(flat)
        f = self.correlated(feats)
        x, y, corr = head.pair_correlation(f, group_size)
        logits = resize(
            head.decode(feats, mean_over_others(corr, group_size)),
            size=flat.shape[-2:],
            mode='bilinear',
            align_corners=self.align_corners)
        probs = logits.sigmoid()
        warps = self.regressor(f[x], f[y], corr)
        batch = flat.shape[0] // group_size
        losses = {}
        small = F.adaptive_avg_pool2d(probs, f.shape[-2:])
        losses[self.loss_matching.loss_name] = self.loss_matching(
            corr, warps, small[x], tuple(f.shape[-2:]))
        losses[self.loss_cycle.loss_name] = self.loss_cycle(
            [warps, warps.index(reversed_pairs(batch, group_size))])
        if group_size >= 3:
            losses[self.loss_trans.loss_name] = self.loss_trans([
                warps.index(rows)
                for rows in triplet_chains(batch, group_size)
            ])
        objects, backgrounds = masked_images(flat, probs,
                                             self.data_preprocessor.mean,
                                             self.data_preprocessor.std)
        embedded = pooled_embedding(self.extractor,
                                    torch.cat([objects, backgrounds]))
        losses[self.loss_contrast.loss_name] = self.loss_contrast(
            *embedded.chunk(2), group_size)
        losses[self.loss_task.loss_name] = self.loss_task(
            logits[x], probs[y], warps)
        # logged, not optimised: a collapse of the masks to all-object (1)
        # or all-background (0) shows here
        losses['mask_mean'] = probs.detach().mean()
        return losses, logits

    @torch.no_grad()
    def match(self, targets: Tensor, sources: Tensor) -> Warp:
        """Warps from target to source images, both (N, 3, H, W)
        preprocessed: target points -> source points. With
        ``test_cfg.identity_matching`` the identity (the baseline every
        matcher must beat)."""
        if (self.test_cfg or {}).get('identity_matching', False):
            return Warp.identity(targets.shape[0], targets.device)
        feats = self.correlated(
            self.extract_feat(torch.cat([targets, sources])))
        target, source = feats.chunk(2)
        return self.regressor(target, source)

    def predict(self, inputs: Tensor, data_samples=None):
        data_samples = super().predict(inputs, data_samples)
        for images, group in zip(inputs, data_samples):
            first, second = group.image_samples[:2]
            if 'keypoints' not in first.metainfo:
                continue
            if any(first.metainfo.get('padding_size', ())) or any(
                    second.metainfo.get('padding_size', ())):
                raise ValueError(
                    f'{first.img_path}: matching needs unpadded images; '
                    'resize every image to the network size (a multiple '
                    "of the preprocessor's size_divisor)")
            warp = self.match(images[:1], images[1:2])
            group.image_samples[0].set_field(
                self.transfer_points(warp, first, second), 'pred_keypoints')
        return data_samples

    @staticmethod
    def transfer_points(warp: Warp, first, second) -> Tensor:
        """``first``'s keypoints (K, 2) in original pixels, mapped by
        ``warp`` into ``second``'s original pixels.

        Every image is resized to the network size as a whole, so normalised
        coordinates (the image spanning [-1, 1]) are the same in the
        original and in the resized image.
        """
        points = torch.as_tensor(
            first.metainfo['keypoints'],
            dtype=torch.float32,
            device=warp.affine.device)
        h1, w1 = first.metainfo['ori_shape'][:2]
        h2, w2 = second.metainfo['ori_shape'][:2]
        mapped = warp.points(to_normalised(points, h1, w1)[None])[0]
        return to_pixels(mapped, h2, w2)

from typing import List, Optional, Tuple

import mmcv
import torch
import torch.nn.functional as F

from mmseg.models.segmentors.base import BaseSegmentor
from torch import Tensor

from cosegtools.registry import MODELS
from ..postprocessors import build_postprocessor
from .group_inference import GroupInference, probs_to_logits


def foreground_probability(sample) -> torch.Tensor:
    """(H, W) foreground probability of a predicted image sample.

    mmseg's ``postprocess_result`` stores softmax-ready logits for C >= 2
    classes, but for a one-class model it has already applied the sigmoid:
    ``seg_logits`` then holds the probability itself.
    """
    return foreground_of_logits(sample.seg_logits.data)


def foreground_of_logits(logits: torch.Tensor) -> torch.Tensor:
    """(H, W) foreground probability of stored ``seg_logits`` (K, H, W)."""
    return logits[0] if logits.shape[0] == 1 else logits.softmax(0)[1]


def apply_postprocessor(postprocessor, samples):
    """Replaces ``pred_sem_seg`` of predicted image samples by the mask the
    post-processor makes of their foreground probability (no-op for None)."""
    if postprocessor is None:
        return
    for sample in samples:
        prob = foreground_probability(sample)
        image = None
        if postprocessor.needs_image:
            path = sample.metainfo.get('img_path')
            image = mmcv.imread(path) if path else None
            if image is None:
                raise FileNotFoundError(
                    f'{type(postprocessor).__name__} needs the '
                    f'original image, but {path!r} cannot be read')
        mask = postprocessor(prob.float().cpu().numpy(), image)
        sample.pred_sem_seg.data = torch.from_numpy(mask).to(
            prob.device, torch.long)[None]


def clear_small_masks(samples, min_foreground: float):
    """Empties predicted masks whose foreground covers less than the
    fraction ``min_foreground`` of the image: the image is taken to share
    nothing with its group (a co-segmentation model left with a few
    uncertain pixels on an unrelated image). 0 keeps every mask."""
    if not min_foreground:
        return
    for sample in samples:
        mask = sample.pred_sem_seg.data
        if (mask > 0).float().mean().item() < min_foreground:
            sample.pred_sem_seg.data = torch.zeros_like(mask)


@MODELS.register_module()
class CoSegmentor(BaseSegmentor):
    """Co-segmentation meta-architecture: shared backbone + co-seg head.

    The backbone (and optional neck) runs once per image, on all N*G images of
    a batch together; the head relates the images of each group.

    ``forward(inputs, data_samples, mode)``:
        - inputs (Tensor): (N, G, 3, H, W), normalised and padded by
          :class:`CoSegDataPreProcessor`.
        - data_samples (list[CoSegDataSample]): N groups of G image samples.
        - mode: ``'loss'`` -> dict of losses; ``'predict'`` -> the N groups
          with ``seg_logits`` and ``pred_sem_seg`` set on every image sample,
          resized to the image's original shape; ``'tensor'`` -> logits
          (N, G, K, h, w).

    Args:
        backbone (dict): backbone config (cosegtools', mmseg's or mmengine's).
        decode_head (dict): a co-seg head (:class:`BaseCoSegHead`).
        neck (dict, optional): neck applied to the backbone outputs.
        data_preprocessor (dict, optional): usually
            :class:`CoSegDataPreProcessor`.
        train_cfg, test_cfg (dict, optional): passed to the head.
            ``test_cfg.group_inference`` (dict, optional) selects a
            :class:`GroupInference` strategy for the groups given at test
            time (e.g. whole classes): ``dict(strategy='all_tuples', k=2)``.
            Without it a group is fed to the head as it is.
            ``test_cfg.flip`` (bool) and ``test_cfg.scales`` (list of
            float, default ``[1.0]``): test-time augmentation. Every group
            also runs mirrored left to right and/or resized by each scale
            (all images of a group together, so their correspondences
            hold); the predictions of all views, brought back to the input
            size, are averaged. This holds for groups fed as they are and
            for ``group_inference``.
            ``test_cfg.postprocess`` (dict or short name, optional): a mask
            post-processor (:mod:`cosegtools.models.postprocessors`) applied
            to each image's foreground probability at its original size.
            ``test_cfg.min_foreground`` (float, default 0): a mask covering
            less than this fraction of its image is emptied
            (:func:`clear_small_masks`).
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
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.channels_last = channels_last
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        self.decode_head = MODELS.build(decode_head)
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.out_channels = self.decode_head.out_channels
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.test_views()  # a bad test_cfg.scales fails here, not in testing
        min_fg = (test_cfg or {}).get('min_foreground', 0.0)
        if not isinstance(min_fg, (int, float)) or not 0 <= min_fg < 1:
            raise ValueError('test_cfg.min_foreground must be a fraction in '
                             f'[0, 1), got {min_fg!r}')
        group_cfg = (test_cfg or {}).get('group_inference')
        self.group_inference = (
            GroupInference(**group_cfg) if group_cfg else None)
        post_cfg = (test_cfg or {}).get('postprocess')
        self.postprocessor = (
            build_postprocessor(post_cfg) if post_cfg else None)

    @staticmethod
    def flatten(inputs: Tensor, data_samples=None):
        """(N, G, 3, H, W) -> (N*G, 3, H, W), G and the N*G image samples."""
        if inputs.dim() != 5:
            raise ValueError('CoSegmentor expects inputs of shape '
                             f'(N, G, 3, H, W), got {tuple(inputs.shape)}')
        group_size = inputs.shape[1]
        flat = inputs.flatten(0, 1)
        samples = None
        if data_samples is not None:
            samples = []
            for group in data_samples:
                for sample in group.image_samples:
                    if 'has_common' in group:
                        # heads see image samples only
                        sample.set_metainfo(dict(has_common=group.has_common))
                    samples.append(sample)
        return flat, group_size, samples

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

    def predict(self, inputs: Tensor, data_samples=None):
        if data_samples is None:
            raise ValueError('predict needs the data samples (image shapes)')
        if self.group_inference is not None:
            return self.predict_by_strategy(inputs, data_samples)
        flat, group_size, samples = self.flatten(inputs, data_samples)
        seg_logits, scores = self.predict_flat(flat, group_size)
        self.postprocess_result(seg_logits, samples)
        self.attach_scores(samples, scores)
        self.refine_masks(samples)
        return data_samples

    def test_views(self) -> List[Tuple[float, bool]]:
        """The (scale, mirrored) views of ``test_cfg.scales`` and
        ``test_cfg.flip``; the first is the plain view when 1.0 is among
        the scales."""
        cfg = self.test_cfg or {}
        scales = list(cfg.get('scales', [1.0]))
        if not scales or any(
                not isinstance(s, (int, float)) or s <= 0 for s in scales):
            raise ValueError('test_cfg.scales must be a list of positive '
                             f'numbers, got {scales!r}')
        scales.sort(key=lambda s: s != 1.0)
        flips = [False, True] if cfg.get('flip', False) else [False]
        return [(s, f) for s in scales for f in flips]

    @staticmethod
    def to_view(images: Tensor, scale: float, mirrored: bool) -> Tensor:
        """Images (n, 3, H, W) as seen in a test-time view."""
        if mirrored:
            images = images.flip(-1)
        if scale != 1.0:
            size = [max(1, round(d * scale)) for d in images.shape[-2:]]
            images = F.interpolate(
                images, size=size, mode='bilinear', align_corners=False)
        return images

    @staticmethod
    def from_view(maps: Tensor, size, mirrored: bool) -> Tensor:
        """Maps (n, K, h, w) of a view back at the input ``size``."""
        if tuple(maps.shape[-2:]) != tuple(size):
            maps = F.interpolate(
                maps, size=size, mode='bilinear', align_corners=False)
        return maps.flip(-1) if mirrored else maps

    def average_over_views(self, images: Tensor, run):
        """The mean of ``run(view)`` maps over the test-time views of
        ``images`` (:meth:`test_views`), each brought back to the input
        size, and the first view's scores; ``run`` maps view images to
        (maps (n, K, h, w), scores or None)."""
        size = images.shape[-2:]
        views = self.test_views()
        total, first_scores = 0, None
        for i, (scale, mirrored) in enumerate(views):
            maps, scores = run(self.to_view(images, scale, mirrored))
            total = total + self.from_view(maps, size, mirrored)
            if i == 0:
                first_scores = scores
        return total / len(views), first_scores

    def predict_flat(self, flat: Tensor, group_size: int):
        """Logits (N*G, K, H, W) at the input size and the decision gate's
        scores (or None) of flattened groups: the mean logits of the
        test-time views; the scores are the first view's."""
        return self.average_over_views(
            flat, lambda view: self.decode_head.predict_with_scores(
                self.extract_feat(view), group_size, view.shape[-2:],
                self.test_cfg))

    def predict_by_strategy(self, inputs: Tensor, data_samples):
        """Each group through :attr:`group_inference`, for every test-time
        view (the mean probabilities; the first view's scores)."""
        for images, group in zip(inputs, data_samples):
            key = group.image_samples[0].img_path
            probs, scores = self.average_over_views(
                images, lambda view: self.group_inference(
                    self, view, key=key))
            self.postprocess_result(
                probs_to_logits(probs), group.image_samples)
            self.attach_scores(group.image_samples, scores)
            self.refine_masks(group.image_samples)
        return data_samples

    def refine_masks(self, samples):
        """Applies :attr:`postprocessor` to predicted image samples, then
        ``test_cfg.min_foreground``."""
        apply_postprocessor(self.postprocessor, samples)
        clear_small_masks(samples,
                          (self.test_cfg or {}).get('min_foreground', 0.0))

    @staticmethod
    def attach_scores(samples, scores: Optional[Tensor]):
        """Sets ``common_score`` (the decision gate's probability that the
        image shares an object with its group) on each image sample."""
        if scores is None:
            return
        for sample, score in zip(samples, scores):
            sample.set_field(score.reshape(1), 'common_score')

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        flat, group_size, _ = self.flatten(inputs)
        logits = self.decode_head(self.extract_feat(flat), group_size)
        return logits.view(inputs.shape[0], group_size, *logits.shape[1:])

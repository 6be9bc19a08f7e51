"""What the co-segmentors share: groups, test-time views, group inference,
probabilities to predictions and post-processing."""
from typing import Callable, List, Optional, Sequence, Tuple

import mmcv
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.models.utils import resize
from torch import Tensor

from cosegtools.registry import TASK_UTILS
from ..postprocessors import build_postprocessor


def to_probabilities(logits: Tensor) -> Tensor:
    """(n, K, h, w) logits -> probabilities: sigmoid for one class, softmax
    over the classes for more."""
    return logits.sigmoid() if logits.shape[1] == 1 else logits.softmax(1)


def foreground_of_probs(probs: Tensor) -> Tensor:
    """Foreground probability (..., H, W) of class probabilities
    (..., K, H, W): the one class of a sigmoid, else the second."""
    return probs[..., 0, :, :] if probs.shape[-3] == 1 else probs[..., 1, :, :]


def foreground_probability(sample) -> Tensor:
    """(H, W) foreground probability of a predicted image sample.

    Co-segmentors store class probabilities in ``seg_logits`` (the sigmoid
    for one class, as mmseg's one-class segmentors do; the softmax for
    more): :meth:`BaseCoSegmentor.set_predictions`.
    """
    return foreground_of_probs(sample.seg_logits.data)


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


class BaseCoSegmentor(BaseSegmentor):
    """Base of the co-segmentors: supervised (:class:`CoSegmentor`) and
    collection-fitting (:class:`CoAttentionSegmentor`).

    Inputs are groups, (N, G, 3, H, W). A subclass says how images are
    encoded (:meth:`encode`, once per image) and how the encodings of a
    group become per-image class probabilities (:meth:`relate`); this class
    does the rest of prediction, the same for every method:

    - ``test_cfg.group_inference`` (dict, optional): a registered strategy
      (``TASK_UTILS``, default ``type='GroupInference'``) that runs a group
      of any size as tuples of the size the model was trained on, e.g.
      ``dict(strategy='all_tuples', k=2)``; without it a group is related as
      it is;
    - ``test_cfg.flip`` (bool) and ``test_cfg.scales`` (list of float,
      default ``[1.0]``): test-time views; every group also runs mirrored
      left to right and/or resized by each scale (all images of a group
      together, so their correspondences hold);
    - the probabilities of all views and tuples are averaged once, as
      probabilities, and stored as they are (:meth:`set_predictions`);
    - ``test_cfg.postprocess`` (dict or short name, optional): a mask
      post-processor (:mod:`cosegtools.models.postprocessors`) applied to
      each image's foreground probability at its original size;
    - ``test_cfg.min_foreground`` (float, default 0): a mask covering less
      than this fraction of its image is emptied (:func:`clear_small_masks`);
    - ``test_cfg.mask_gate`` (dict, optional): a :class:`MaskGate`
      (``TASK_UTILS``; default type :class:`MaskConfidenceGate`) scores
      each image from its averaged foreground probability (and, for
      :class:`ObjectSimilarityGate`, the encoder's features of the plain
      view), stores the score as the image sample's ``gate_score`` and
      empties its mask below ``threshold``.
    """

    def __init__(self,
                 data_preprocessor: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.test_cfg = test_cfg
        self.test_views()  # a bad test_cfg.scales fails here, not in testing
        min_fg = (test_cfg or {}).get('min_foreground', 0.0)
        if not isinstance(min_fg, (int, float)) or not 0 <= min_fg < 1:
            raise ValueError('test_cfg.min_foreground must be a fraction in '
                             f'[0, 1), got {min_fg!r}')
        group_cfg = (test_cfg or {}).get('group_inference')
        self.group_inference = (
            TASK_UTILS.build(dict(dict(type='GroupInference'), **group_cfg))
            if group_cfg else None)
        post_cfg = (test_cfg or {}).get('postprocess')
        self.postprocessor = (
            build_postprocessor(post_cfg) if post_cfg else None)
        gate_cfg = (test_cfg or {}).get('mask_gate')
        self.mask_gate = (
            TASK_UTILS.build(dict(dict(type='MaskConfidenceGate'), **gate_cfg))
            if gate_cfg is not None else None)

    # ------------------------------------------------------------ groups
    @staticmethod
    def flatten(inputs: Tensor, data_samples=None):
        """(N, G, 3, H, W) -> (N*G, 3, H, W), G and the N*G image samples."""
        if inputs.dim() != 5:
            raise ValueError('co-segmentors expect inputs of shape '
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

    # ------------------------------------------------------------ subclass
    def encode(self, images: Tensor) -> Sequence[Tensor]:
        """Per-image encodings of (n, 3, H, W) images: tensors whose first
        dimension is the image (group inference indexes their rows)."""
        raise NotImplementedError

    def relate(self, encodings: Sequence[Tensor], group_size: int,
               size) -> Tuple[Tensor, Optional[Tensor]]:
        """Class probabilities (n, K, *size) of groups of ``group_size``
        consecutive images from their encodings, and each image's decision
        score (n, ) or None."""
        raise NotImplementedError

    def group_probabilities(self, images: Tensor, group_size: int):
        """:meth:`relate` of :meth:`encode` of flattened groups."""
        return self.relate(self.encode(images), group_size,
                           images.shape[-2:])

    # ------------------------------------------------------------ views
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

    def average_over_views(self, images: Tensor, run: Callable):
        """The mean of ``run(view)`` probabilities over the test-time views
        of ``images`` (:meth:`test_views`), each brought back to the input
        size, and the first view's scores; ``run`` maps view images to
        (probabilities (n, K, h, w), scores or None)."""
        size = images.shape[-2:]
        views = self.test_views()
        total, first_scores = 0, None
        for i, (scale, mirrored) in enumerate(views):
            probs, scores = run(self.to_view(images, scale, mirrored))
            total = total + self.from_view(probs, size, mirrored)
            if i == 0:
                first_scores = scores
        return total / len(views), first_scores

    def predict_flat(self, flat: Tensor, group_size: int):
        """Probabilities (N*G, K, H, W) at the input size and the decision
        scores (or None) of flattened groups, averaged over the test-time
        views (the scores are the first view's)."""
        return self.average_over_views(
            flat, lambda view: self.group_probabilities(view, group_size))

    # ------------------------------------------------------------ predict
    def predict(self, inputs: Tensor, data_samples=None):
        if data_samples is None:
            raise ValueError('predict needs the data samples (image shapes)')
        if self.group_inference is not None:
            return self.predict_by_strategy(inputs, data_samples)
        flat, group_size, samples = self.flatten(inputs, data_samples)
        probs, scores = self.predict_flat(flat, group_size)
        self.finish_predictions(
            probs, scores, samples,
            self.gate_scores(flat, probs, group_size))
        return data_samples

    def predict_by_strategy(self, inputs: Tensor, data_samples):
        """Each group through :attr:`group_inference`, for every test-time
        view (the mean probabilities; the first view's scores)."""
        for images, group in zip(inputs, data_samples):
            key = group.image_samples[0].img_path
            probs, scores = self.average_over_views(
                images, lambda view: self.group_inference(
                    self, view, key=key))
            self.finish_predictions(
                probs, scores, group.image_samples,
                self.gate_scores(images, probs, images.shape[0]))
        return data_samples

    def gate_scores(self, flat: Tensor, probs: Tensor,
                    group_size: int) -> Optional[Tensor]:
        """:attr:`mask_gate` scores (N*G, ) of flattened groups from their
        foreground probabilities (N*G, K, H, W); None without a gate."""
        if self.mask_gate is None:
            return None
        foreground = foreground_of_probs(probs)
        feats = self.encode(flat) if self.mask_gate.needs_features else None
        return self.mask_gate.scores(foreground, group_size, feats)

    def finish_predictions(self,
                           probs: Tensor,
                           scores: Optional[Tensor],
                           samples,
                           gate_scores: Optional[Tensor] = None) -> None:
        self.set_predictions(probs, samples)
        self.attach_scores(samples, scores)
        self.refine_masks(samples)
        self.gate_masks(samples, gate_scores)

    def gate_masks(self, samples, gate_scores: Optional[Tensor]) -> None:
        """Sets ``gate_score`` on each image sample and empties the masks
        :attr:`mask_gate` does not keep."""
        if gate_scores is None:
            return
        keep = self.mask_gate.keep(gate_scores)
        for sample, score, kept in zip(samples, gate_scores, keep):
            sample.set_field(score.reshape(1), 'gate_score')
            if not kept:
                mask = sample.pred_sem_seg.data
                sample.pred_sem_seg.data = torch.zeros_like(mask)

    @property
    def mask_threshold(self) -> float:
        """Foreground threshold of a one-class model's probability."""
        head = getattr(self, 'decode_head', None)
        threshold = getattr(head, 'threshold', None)
        return 0.5 if threshold is None else threshold

    def set_predictions(self, probs: Tensor, samples) -> None:
        """Stores each image's probabilities (K, H, W), cropped to the image
        (padding removed), mirrored back when the pipeline flipped it and
        resized to its original shape, as ``seg_logits``, and its mask as
        ``pred_sem_seg``: probability above :attr:`mask_threshold` for one
        class, the most probable class for more."""
        height, width = probs.shape[-2:]
        for i, sample in enumerate(samples):
            meta = sample.metainfo
            left, right, top, bottom = meta.get('padding_size', (0, ) * 4)
            image = probs[i:i + 1, :, top:height - bottom,
                          left:width - right]
            if meta.get('flip', False):
                vertical = meta.get('flip_direction') == 'vertical'
                image = image.flip(-2 if vertical else -1)
            image = resize(
                image,
                size=meta['ori_shape'][:2],
                mode='bilinear',
                align_corners=getattr(self, 'align_corners', False),
                warning=False)[0]
            if image.shape[0] == 1:
                mask = (image > self.mask_threshold).long()
            else:
                mask = image.argmax(dim=0, keepdim=True)
            sample.set_data(
                dict(
                    seg_logits=PixelData(data=image),
                    pred_sem_seg=PixelData(data=mask)))

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

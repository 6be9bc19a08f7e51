"""Mask post-processors: foreground probability + image -> binary mask.

Registered in ``TASK_UTILS`` and selected with ``model.test_cfg.postprocess``
(e.g. ``dict(type='DenseCRFPostProcessor')``) or ``tools/test.py
--postprocess otsu``. Each takes the foreground probability of one image at
its original size, (H, W) float in [0, 1], and the image, (H, W, 3) BGR
uint8, and returns a (H, W) uint8 mask of {0, 1}.
"""
from typing import Optional

import cv2
import numpy as np

from cosegtools.registry import TASK_UTILS

__all__ = [
    'ThresholdPostProcessor', 'OtsuPostProcessor', 'GrabCutPostProcessor',
    'DenseCRFPostProcessor', 'build_postprocessor', 'build_postprocessors',
    'SHORT_NAMES'
]

#: short names accepted by ``tools/test.py --postprocess``
SHORT_NAMES = dict(
    threshold='ThresholdPostProcessor',
    otsu='OtsuPostProcessor',
    grabcut='GrabCutPostProcessor',
    crf='DenseCRFPostProcessor')


def _check(prob: np.ndarray, image: np.ndarray):
    if prob.ndim != 2:
        raise ValueError(f'expected a (H, W) probability map, got shape '
                         f'{prob.shape}')
    if image is not None and image.shape[:2] != prob.shape:
        raise ValueError(f'image {image.shape[:2]} and probability map '
                         f'{prob.shape} differ in size')


@TASK_UTILS.register_module()
class ThresholdPostProcessor:
    """Foreground where the probability exceeds ``threshold`` (0.5: what the
    models predict without post-processing)."""

    needs_image = False

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold

    def __call__(self, prob: np.ndarray, image=None) -> np.ndarray:
        _check(prob, image)
        return (prob > self.threshold).astype(np.uint8)


@TASK_UTILS.register_module()
class OtsuPostProcessor:
    """Threshold chosen per image by Otsu's method on the probability map.

    The histogram spans the map's own range (256 bins from its minimum to its
    maximum), so a map whose values differ only a little, e.g. around 0.5,
    is split as well as one that spans [0, 1]."""

    needs_image = False

    def __call__(self, prob: np.ndarray, image=None) -> np.ndarray:
        _check(prob, image)
        low, high = float(prob.min()), float(prob.max())
        if high - low < 1e-6:  # Otsu is undefined on a flat map
            return (prob > 0.5).astype(np.uint8)
        levels = np.clip((prob - low) / (high - low) * 255 + 0.5, 0,
                         255).astype(np.uint8)
        _, mask = cv2.threshold(levels, 0, 1,
                                cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return mask.astype(np.uint8)


@TASK_UTILS.register_module()
class GrabCutPostProcessor:
    """OpenCV GrabCut initialised from the probability map.

    Pixels above ``sure_fg`` are fixed foreground, below ``sure_bg`` fixed
    background, the rest probable foreground/background by ``threshold``;
    ``iterations`` rounds of GrabCut refine it with colour models of the
    image. A map without any foreground (or background) is returned as is:
    GrabCut needs samples of both. The result does not depend on what ran
    before (OpenCV's random generator is seeded for each call).

    Args:
        iterations (int): GrabCut rounds.
        threshold (float): probability above which a pixel starts as
            (probable) foreground.
        sure_fg (float, optional): probability from which a pixel is fixed
            foreground; None fixes none, so GrabCut may also shrink the
            map's foreground (for coarse maps whose foreground overflows the
            object).
        sure_bg (float, optional): probability up to which a pixel is fixed
            background; None fixes none.
        border (float): pixels this close to the image border (a fraction
            of each side) that the map calls background are fixed
            background: the centred-box prior of the GrabCut-box baseline.
            0 (default) fixes none.
    """

    needs_image = True

    def __init__(self,
                 iterations: int = 5,
                 threshold: float = 0.5,
                 sure_fg: Optional[float] = 0.9,
                 sure_bg: Optional[float] = 0.1,
                 border: float = 0.0):
        if not 0 < threshold < 1:
            raise ValueError(f'GrabCutPostProcessor: threshold must be in '
                             f'(0, 1), got {threshold}')
        if sure_fg is not None and not threshold <= sure_fg <= 1:
            raise ValueError(f'GrabCutPostProcessor: sure_fg must be in '
                             f'[threshold, 1] = [{threshold}, 1] or None, '
                             f'got {sure_fg}')
        if sure_bg is not None and not 0 <= sure_bg <= threshold:
            raise ValueError(f'GrabCutPostProcessor: sure_bg must be in '
                             f'[0, threshold] = [0, {threshold}] or None, '
                             f'got {sure_bg}')
        if not 0 <= border < 0.5:
            raise ValueError(f'GrabCutPostProcessor: border must be in '
                             f'[0, 0.5), got {border}')
        self.iterations = iterations
        self.threshold = threshold
        self.sure_fg = sure_fg
        self.sure_bg = sure_bg
        self.border = border

    def __call__(self, prob: np.ndarray, image: np.ndarray) -> np.ndarray:
        _check(prob, image)
        fg = prob > self.threshold
        if fg.all() or not fg.any():
            return fg.astype(np.uint8)
        mask = np.where(fg, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
        if self.sure_fg is not None:
            mask[prob >= self.sure_fg] = cv2.GC_FGD
        if self.sure_bg is not None:
            mask[prob <= self.sure_bg] = cv2.GC_BGD
        if self.border > 0:
            h, w = prob.shape
            top, left = round(h * self.border), round(w * self.border)
            inner = np.zeros((h, w), bool)
            inner[top:h - top, left:w - left] = True
            mask[~inner & ~fg] = cv2.GC_BGD
        bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
        # GrabCut's colour models start from k-means with OpenCV's global
        # random generator: seeded, the same map and image give the same mask
        cv2.setRNGSeed(0)
        cv2.grabCut(
            np.ascontiguousarray(image), mask, None, bgd, fgd, self.iterations,
            cv2.GC_INIT_WITH_MASK)
        return ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(
            np.uint8)


@TASK_UTILS.register_module()
class DenseCRFPostProcessor:
    """Fully connected CRF (Kraehenbuehl and Koltun 2011) over the pixels.

    Unary: -log of the foreground/background probability; pairwise: a
    Gaussian (smoothness) kernel and a bilateral (appearance) kernel.
    Needs the optional ``pydensecrf2`` package (``bash tools/install.sh
    --optional``); without it, building the post-processor fails with a
    message saying so.

    Args:
        iterations (int): mean-field iterations.
        gaussian_sxy (float), gaussian_compat (float): smoothness kernel.
        bilateral_sxy (float), bilateral_srgb (float),
        bilateral_compat (float): appearance kernel.
    """

    needs_image = True

    def __init__(self,
                 iterations: int = 5,
                 gaussian_sxy: float = 3,
                 gaussian_compat: float = 3,
                 bilateral_sxy: float = 60,
                 bilateral_srgb: float = 10,
                 bilateral_compat: float = 5):
        try:
            import pydensecrf.densecrf as densecrf
        except ImportError as error:
            raise ImportError(
                'DenseCRFPostProcessor needs the optional package '
                'pydensecrf2: run `bash tools/install.sh --optional` (or '
                '`pip install pydensecrf2==1.1`), or pick another '
                'post-processor (threshold, otsu, grabcut)') from error
        # the class, not the module: a model that holds this post-processor
        # must stay deep-copyable (EMAHook copies the model; a module cannot
        # be copied)
        self.crf_class = densecrf.DenseCRF2D
        self.iterations = iterations
        self.gaussian = dict(sxy=gaussian_sxy, compat=gaussian_compat)
        self.bilateral = dict(
            sxy=bilateral_sxy, srgb=bilateral_srgb, compat=bilateral_compat)

    def __call__(self, prob: np.ndarray, image: np.ndarray) -> np.ndarray:
        _check(prob, image)
        h, w = prob.shape
        probs = np.stack([1 - prob, prob]).astype(np.float32)
        unary = -np.log(np.clip(probs, 1e-6, 1.0)).reshape(2, -1)
        crf = self.crf_class(w, h, 2)
        crf.setUnaryEnergy(np.ascontiguousarray(unary))
        crf.addPairwiseGaussian(**self.gaussian)
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        crf.addPairwiseBilateral(rgbim=rgb, **self.bilateral)
        q = np.array(crf.inference(self.iterations)).reshape(2, h, w)
        return q.argmax(0).astype(np.uint8)


def build_postprocessor(cfg):
    """A post-processor from a config dict or a short name."""
    if isinstance(cfg, str):
        if cfg not in SHORT_NAMES:
            raise ValueError(f'unknown post-processor {cfg!r}; choose from '
                             f'{sorted(SHORT_NAMES)} or give a config dict')
        cfg = dict(type=SHORT_NAMES[cfg])
    return TASK_UTILS.build(cfg)


def build_postprocessors(names, options=None, where='postprocessors'):
    """Post-processors by short name (``--postprocess threshold grabcut``),
    each with the options that ``options`` gives it, e.g. a config's
    ``postprocessors = dict(grabcut=dict(sure_fg=None, border=0.1))``;
    ``where`` names that setting in the error on an unknown name."""
    options = options or {}
    unknown = sorted(set(options) - set(SHORT_NAMES))
    if unknown:
        raise ValueError(f'{where}: unknown post-processor {unknown[0]!r}; '
                         f'choose from {sorted(SHORT_NAMES)}')
    return {
        name: build_postprocessor(
            dict(type=SHORT_NAMES[name], **options[name]) if name in
            options else name)
        for name in names
    }

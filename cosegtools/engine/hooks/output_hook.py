import os
import os.path as osp
from typing import Optional

import cv2
import mmcv
import numpy as np
from mmengine.hooks import Hook
from mmengine.utils import ProgressBar

from cosegtools.registry import HOOKS


def output_name(img_path: str) -> str:
    """``.../<Class>/images/<stem>.jpg`` -> ``<Class>/<stem>.png``."""
    parts = os.path.normpath(img_path).split(os.sep)
    stem = osp.splitext(parts[-1])[0]
    folder = parts[-3] if len(parts) >= 3 and parts[-2] == 'images' else \
        parts[-2] if len(parts) >= 2 else ''
    return osp.join(folder, stem + '.png')


# BGR fill colours an overlay chooses from: the one farthest from the
# object's own mean colour is used, so a red object gets no red tint
OVERLAY_COLOURS = ((0, 255, 0), (255, 0, 255), (0, 255, 255), (255, 255, 0),
                   (0, 0, 255), (255, 0, 0))


def overlay_colour(image: np.ndarray, mask: np.ndarray):
    """The :data:`OVERLAY_COLOURS` entry farthest from the mean colour of
    ``image`` under ``mask`` (the first one for an empty mask)."""
    fg = mask.astype(bool)
    if not fg.any():
        return OVERLAY_COLOURS[0]
    mean = image[fg].reshape(-1, 3).astype(np.float32).mean(0)
    distances = [
        np.abs(np.asarray(c, np.float32) - mean).sum()
        for c in OVERLAY_COLOURS
    ]
    return OVERLAY_COLOURS[int(np.argmax(distances))]


def overlay(image: np.ndarray,
            mask: np.ndarray,
            alpha: float = 0.4,
            thickness: int = 2) -> np.ndarray:
    """The one overlay style of the tools (``tools/test.py --show-dir``, the
    demo, the folder tool, the dataset browser): ``mask`` filled with a
    colour that contrasts with the object (:func:`overlay_colour`) at
    ``alpha``, and its outline drawn opaque in that colour. Write it as PNG.
    """
    colour = overlay_colour(image, mask)
    out = image.astype(np.float32)
    fg = mask.astype(bool)
    out[fg] = (1 - alpha) * out[fg] + alpha * np.asarray(colour, np.float32)
    # OpenCV draws only on C-contiguous arrays (a permuted tensor's numpy
    # view is not)
    out = np.ascontiguousarray(out.astype(np.uint8))
    contours, _ = cv2.findContours(
        fg.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, colour, thickness)
    return out


@HOOKS.register_module()
class CoSegOutputHook(Hook):
    """Write predicted masks and overlay pictures while testing, with a
    progress bar.

    Masks go to ``out_dir/<Class>/<stem>.png`` (0/255, original size);
    overlays (:func:`overlay`) to ``show_dir`` under the same
    names. Each image is written once.

    Args:
        out_dir (str, optional): where to write masks.
        show_dir (str, optional): where to write overlays.
        progress (bool): show a progress bar over the test groups.
    """

    def __init__(self,
                 out_dir: Optional[str] = None,
                 show_dir: Optional[str] = None,
                 progress: bool = True):
        self.out_dir = out_dir
        self.show_dir = show_dir
        self.progress = progress
        self._bar = None

    def before_test_epoch(self, runner) -> None:
        if self.progress and runner.rank == 0:
            self._bar = ProgressBar(len(runner.test_dataloader))

    def after_test_iter(self,
                        runner,
                        batch_idx,
                        data_batch=None,
                        outputs=None) -> None:
        inputs = (data_batch or {}).get('inputs', [None] * len(outputs or []))
        for group, images in zip(outputs or [], inputs):
            for i, sample in enumerate(group.image_samples):
                self.write(sample, None if images is None else images[i])
        if self._bar is not None:
            self._bar.update()

    def after_test_epoch(self, runner, metrics=None) -> None:
        if self._bar is not None:
            print()
            self._bar = None

    def write(self, sample, packed_image=None) -> None:
        """Write one image's mask and overlay.

        The overlay is drawn on the image file when it exists, else on the
        packed input (``packed_image`` (3, H, W) uint8 BGR, e.g. synthetic
        data), cropped to the image and resized to its original size.
        """
        pred = sample.pred_sem_seg.data.squeeze(0).cpu().numpy().astype(
            np.uint8)
        name = output_name(sample.img_path)
        if self.out_dir:
            mmcv.imwrite(pred * 255, osp.join(self.out_dir, name))
        if self.show_dir:
            mmcv.imwrite(
                overlay(
                    self.background(sample, packed_image, pred.shape), pred),
                osp.join(self.show_dir, name))

    @staticmethod
    def background(sample, packed_image, shape) -> np.ndarray:
        if osp.isfile(sample.img_path):
            return mmcv.imread(sample.img_path)
        if packed_image is None:
            return np.zeros((*shape, 3), np.uint8)
        height, width = sample.img_shape[:2]
        image = packed_image[:, :height, :width].permute(1, 2, 0)
        return mmcv.imresize(image.cpu().numpy(), (shape[1], shape[0]))

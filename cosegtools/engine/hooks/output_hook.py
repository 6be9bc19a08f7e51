import os
import os.path as osp
from typing import Optional

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


def overlay(image: np.ndarray,
            mask: np.ndarray,
            colour=(0, 0, 255),
            alpha: float = 0.5) -> np.ndarray:
    """Blend a BGR colour into ``image`` (H, W, 3) where ``mask`` is 1."""
    out = image.astype(np.float32)
    fg = mask.astype(bool)
    out[fg] = (1 - alpha) * out[fg] + alpha * np.asarray(colour, np.float32)
    return out.astype(np.uint8)


@HOOKS.register_module()
class CoSegOutputHook(Hook):
    """Write predicted masks and overlay pictures while testing, with a
    progress bar.

    Masks go to ``out_dir/<Class>/<stem>.png`` (0/255, original size);
    overlays (prediction in red on the image) to ``show_dir`` under the same
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

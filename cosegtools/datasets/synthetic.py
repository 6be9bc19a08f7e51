from typing import Dict, List, Tuple

import numpy as np

from cosegtools.registry import DATASETS
from .base_coseg_dataset import BaseCoSegDataset

SHAPES = ('disc', 'square', 'triangle', 'cross')
TEXTURES = ('stripes', 'checker', 'dots')


def _shape_mask(shape, yy, xx, cy, cx, radius, angle):
    """Boolean mask of a shape centred at (cy, cx) with the given radius."""
    dy, dx = yy - cy, xx - cx
    cos, sin = np.cos(angle), np.sin(angle)
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy
    if shape == 'disc':
        return u**2 + v**2 <= radius**2
    if shape == 'square':
        side = radius * 0.85
        return (np.abs(u) <= side) & (np.abs(v) <= side)
    if shape == 'triangle':
        # upward triangle: below the two slanted edges and above the base
        return (v <= radius * 0.6) & (v >= 2 * np.abs(u) - radius)
    if shape == 'cross':
        arm = radius * 0.35
        return ((np.abs(u) <= arm) &
                (np.abs(v) <= radius)) | ((np.abs(v) <= arm) &
                                          (np.abs(u) <= radius))
    raise ValueError(f'unknown shape {shape!r}')


def _texture(texture, yy, xx, period, angle):
    """Intensity modulation in [0.35, 1] of a texture."""
    if texture == 'stripes':
        t = np.cos(angle) * xx + np.sin(angle) * yy
        return np.where((t // (period / 2)) % 2 == 0, 1.0, 0.35)
    if texture == 'checker':
        return np.where(((yy // period) + (xx // period)) % 2 == 0, 1.0, 0.35)
    if texture == 'dots':
        cy = (yy % period) - period / 2
        cx = (xx % period) - period / 2
        return np.where(cy**2 + cx**2 <= (period / 3)**2, 0.35, 1.0)
    raise ValueError(f'unknown texture {texture!r}')


@DATASETS.register_module()
class SyntheticCoSegDataset(BaseCoSegDataset):
    """Procedurally drawn co-segmentation scenes; needs no files.

    An object class is a (shape, texture, colour) combination. Every image
    holds one object of its own class plus ``num_distractors`` objects of
    other classes on a noisy gradient background. In a group, distractor
    classes are chosen so that no class other than the group's own appears in
    more than one image: only the common class is shared, so saliency alone
    cannot find the target. In a group of one class the mask marks that
    class's object in every image (``has_common=1``); in a mixed group every
    mask is empty (``has_common=0``).

    Images are drawn deterministically from ``seed``, the image index and the
    group's classes. Use different seeds for train/val/test sets.

    Args:
        num_classes (int): number of object classes (at most 36).
        images_per_class (int): images per class.
        img_size (tuple[int, int]): (H, W) of every image.
        num_distractors (int): objects of other classes per image.
        seed (int): seed of the whole set.
        **kwargs: passed to :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 num_classes: int = 6,
                 images_per_class: int = 24,
                 img_size: Tuple[int, int] = (128, 128),
                 num_distractors: int = 2,
                 seed: int = 0,
                 **kwargs):
        max_classes = len(SHAPES) * len(TEXTURES) * 3
        if not 2 <= num_classes <= max_classes:
            raise ValueError(
                f'num_classes must be in [2, {max_classes}], got {num_classes}'
            )
        if images_per_class < 2:
            raise ValueError('images_per_class must be at least 2')
        if num_distractors > num_classes - 2:
            raise ValueError(
                f'num_distractors={num_distractors} needs at least '
                f'{num_distractors + 2} classes')
        self.num_classes = num_classes
        self.images_per_class = images_per_class
        self.img_size = tuple(img_size)
        self.num_distractors = num_distractors
        self.seed = seed
        classes = tuple(self.class_spec(k)[3] for k in range(num_classes))
        kwargs.setdefault('metainfo', dict(classes=classes))
        kwargs.setdefault('serialize_data', False)
        super().__init__(**kwargs)

    @staticmethod
    def class_spec(k: int):
        """(shape, texture, rgb colour, name) of class ``k``."""
        shape = SHAPES[k % len(SHAPES)]
        texture = TEXTURES[(k // len(SHAPES)) % len(TEXTURES)]
        hue = (k * 0.618034) % 1.0
        # a simple hue wheel to RGB, saturated colours
        rgb = np.clip(
            np.abs((hue * 6 + np.array([0, 4, 2])) % 6 - 3) - 1, 0, 1)
        colour = tuple(int(40 + 215 * c) for c in rgb)
        return shape, texture, colour, f'{shape}-{texture}-{k}'

    def load_data_list(self) -> List[dict]:
        data_list = []
        for k in range(self.num_classes):
            name = self.class_spec(k)[3]
            for i in range(self.images_per_class):
                idx = k * self.images_per_class + i
                data_list.append(
                    dict(
                        img_path=f'synthetic/{name}/{idx:05d}.png',
                        img_id=f'{name}/{idx:05d}',
                        class_name=name,
                        class_idx=k))
        return data_list

    def _draw_object(self, canvas, occupancy, label, rng, k, obj_id):
        height, width = self.img_size
        shape, texture, colour, _ = self.class_spec(k)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        side = min(height, width)
        radius = rng.uniform(0.14, 0.24) * side
        cy = rng.uniform(radius, height - radius)
        cx = rng.uniform(radius, width - radius)
        mask = _shape_mask(shape, yy, xx, cy, cx, radius,
                           rng.uniform(-0.4, 0.4))
        period = max(4.0, side / 16 * rng.uniform(0.8, 1.2))
        shade = _texture(texture, yy, xx, period, rng.uniform(0, np.pi))
        brightness = rng.uniform(0.8, 1.0)
        pixels = np.asarray(colour, np.float32) * shade[..., None] * brightness
        canvas[mask] = pixels[mask]
        occupancy[mask] = obj_id
        label[obj_id] = k

    def render(self, idx: int, common_class, forbidden: set):
        """Draw image ``idx``.

        Args:
            idx (int): image index.
            common_class (int | None): class whose object is the target.
            forbidden (set[int]): classes not to use as distractors.

        Returns:
            tuple: (img (H, W, 3) uint8 BGR, mask (H, W) uint8 {0, 1},
            list of the distractor classes used).
        """
        own = self.get_data_info(idx)['class_idx']
        rng = np.random.default_rng([self.seed, idx])
        height, width = self.img_size
        # background: a random colour gradient with noise
        top, bottom = rng.uniform(30, 200, size=(2, 3))
        ramp = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
        canvas = np.broadcast_to(top + (bottom - top) * ramp,
                                 (height, width, 3)).copy()
        canvas += rng.normal(0, 12, size=canvas.shape)
        candidates = [
            c for c in rng.permutation(self.num_classes)
            if c != own and c not in forbidden
        ]
        distractors = [int(c) for c in candidates[:self.num_distractors]]
        objects = [own] + distractors
        order = rng.permutation(len(objects))
        occupancy = np.full((height, width), -1, np.int64)
        labels = {}
        for obj_id in order:
            self._draw_object(canvas, occupancy, labels, rng, objects[obj_id],
                              int(obj_id))
        mask = np.zeros((height, width), np.uint8)
        if common_class is not None:
            for obj_id, k in labels.items():
                if k == common_class:
                    mask[occupancy == obj_id] = 1
        img = np.clip(canvas, 0, 255).astype(np.uint8)[..., ::-1]
        return np.ascontiguousarray(img), mask, distractors

    def get_group_info(self, indices: List[int]) -> Dict[str, list]:
        group = super().get_group_info(indices)
        classes = set(group['class_idx'])
        common = group['class_idx'][0] if len(classes) == 1 else None
        forbidden = set(classes)
        imgs, masks = [], []
        for idx in indices:
            img, mask, used = self.render(idx, common, forbidden)
            forbidden.update(used)
            imgs.append(img)
            masks.append(mask)
        group.update(
            img=imgs,
            gt_seg_map=masks,
            img_shape=[img.shape[:2] for img in imgs],
            ori_shape=[img.shape[:2] for img in imgs],
            seg_fields=[['gt_seg_map'] for _ in imgs])
        return group

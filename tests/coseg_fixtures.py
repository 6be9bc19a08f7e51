"""Helpers shared by the tests: synthetic class-folder data written to disk,
the real PASCAL-VOC co-seg set when available, and a tiny training config."""
import os
import os.path as osp

import cv2
import numpy as np

import cosegtools  # noqa: F401  (stack work-arounds before mmseg imports)
from cosegtools.utils import register_all_modules

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SYNTHETIC_CONFIG = osp.join(
    REPO_ROOT, 'configs/docs/docs-s16_effnet-lite0_1xb8-600_synthetic-pair-'
    '128x128.py')

register_all_modules()


def voc_root():
    """The PASCAL-VOC co-seg set: $COSEG_VOC_ROOT, else ../shared/data."""
    candidates = [
        os.environ.get('COSEG_VOC_ROOT', ''),
        osp.join(REPO_ROOT, '..', 'shared', 'data', 'pascal_voc_coseg'),
    ]
    for path in candidates:
        if path and osp.isdir(osp.join(path, 'splits')):
            return osp.abspath(path)
    return None


def write_class_folder(root,
                       classes=('Cat', 'Dog'),
                       per_class=3,
                       size=(40, 48)):
    """A tiny valid class-folder dataset with splits; returns its root."""
    rng = np.random.default_rng(0)
    lines = []
    for c, name in enumerate(classes):
        os.makedirs(osp.join(root, name, 'images'), exist_ok=True)
        os.makedirs(osp.join(root, name, 'masks'), exist_ok=True)
        for i in range(per_class):
            stem = f'img_{c}{i:03d}'
            img = rng.integers(0, 255, size=(*size, 3), dtype=np.uint8)
            mask = np.zeros(size, np.uint8)
            mask[5:5 + 10 + i, 8:20] = 255
            cv2.imwrite(osp.join(root, name, 'images', stem + '.jpg'), img)
            cv2.imwrite(osp.join(root, name, 'masks', stem + '.png'), mask)
            lines.append(f'{name}/{stem}')
    os.makedirs(osp.join(root, 'splits'), exist_ok=True)
    for split in ('train', 'val', 'test'):
        with open(osp.join(root, 'splits', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return root


TINY_CONFIG = '''
_base_ = [{base!r}]
_small = dict(num_classes=4, num_distractors=1, img_size=(64, 64))
train_dataloader = dict(
    batch_size=2, dataset=dict(images_per_class=3, **_small))
val_dataloader = dict(dataset=dict(images_per_class=2, **_small))
test_dataloader = dict(dataset=dict(images_per_class=2, **_small))
train_cfg = dict(max_iters={iters}, val_interval={iters})
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval={ckpt}, max_keep_ckpts=-1, save_best=None))
'''


def write_tiny_config(directory, iters=4, ckpt=2, base=SYNTHETIC_CONFIG):
    path = osp.join(str(directory), 'tiny_synthetic.py')
    with open(path, 'w') as f:
        f.write(TINY_CONFIG.format(base=base, iters=iters, ckpt=ckpt))
    return path

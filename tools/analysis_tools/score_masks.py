"""Score saved masks against a class-folder dataset with the project's metric.

    python tools/analysis_tools/score_masks.py DATA_ROOT --pred-dir PRED_DIR
        [--split-file splits/test.txt] [--classes Aero Bird]
    # a mask-free baseline on the same images
    python tools/analysis_tools/score_masks.py DATA_ROOT --baseline central-box

``PRED_DIR/<Class>/<stem>.png`` are predicted masks ({0, 255} or {0, 1},
e.g. what ``tools/coseg_folder.py --out OUT`` writes to ``OUT/<post>``);
``DATA_ROOT/<Class>/masks/<stem>.*`` the ground truth. Every selected image
must have a prediction of its mask's size: all files are checked before any
is scored. Prints P and J per class and the means (the table of
``CoSegMetric``). Baselines that look at no image: ``whole-image`` (every
pixel is object) and ``central-box`` (the middle half of each side); one
that reads the image but no mask: ``grabcut-box`` (OpenCV GrabCut, 5
iterations, started from a centred box covering 80% of each side, outside
of it fixed background).
"""
import argparse
import glob
import os.path as osp
import sys

import mmcv
import numpy as np
from PIL import Image, UnidentifiedImageError

from cosegtools.datasets.class_folder_dataset import read_split_file
from cosegtools.datasets.mask_io import EXIF_ORIENTATION, read_binary_mask
from cosegtools.evaluation.coseg_metric import (format_table, image_scores,
                                                summarise)
from cosegtools.models.postprocessors import GrabCutPostProcessor


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='score predicted masks against ground-truth masks')
    parser.add_argument('data_root', help='DATA_ROOT/<Class>/masks/<stem>.*')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--pred-dir', help='PRED_DIR/<Class>/<stem>.png')
    source.add_argument(
        '--baseline',
        choices=['whole-image', 'central-box', 'grabcut-box'],
        help='score a mask-free baseline instead of predictions')
    parser.add_argument(
        '--split-file',
        help='score only these <Class>/<stem> lines (relative to DATA_ROOT)')
    parser.add_argument('--classes', nargs='+', help='score only these')
    return parser.parse_args(argv)


def image_size(path):
    """(width, height) from an image file's header, as displayed (an EXIF
    rotation swaps them, as when the pixels are read)."""
    try:
        with Image.open(path) as image:
            rotated = image.getexif().get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8)
            return image.size[::-1] if rotated else image.size
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f'{path}: unreadable image ({err})')


def selected_pairs(pred_dir, data_root, split_file=None, classes=None):
    """(class, prediction path, ground-truth path) of every selected image;
    raises with the missing files listed before anything is read."""
    for folder, what in ((pred_dir, 'prediction'), (data_root, 'data root')):
        if folder is not None and not osp.isdir(folder):
            raise FileNotFoundError(f'{what} folder {folder!r} not found')
    if split_file:
        path = osp.join(data_root, split_file)
        items = read_split_file(path if osp.isfile(path) else split_file)
    else:
        items = [
            (osp.basename(osp.dirname(osp.dirname(p))),
             osp.splitext(osp.basename(p))[0])
            for p in sorted(glob.glob(osp.join(data_root, '*', 'masks', '*')))
        ]
    if classes:
        items = [(c, s) for c, s in items if c in set(classes)]
    if not items:
        raise ValueError(f'no ground-truth masks selected in {data_root!r}')
    pairs, missing = [], []
    for cls, stem in items:
        gts = glob.glob(osp.join(data_root, cls, 'masks', stem + '.*'))
        pred = None if pred_dir is None else osp.join(pred_dir, cls, stem +
                                                      '.png')
        if not gts:
            missing.append(osp.join(data_root, cls, 'masks', stem + '.*'))
        if pred is not None and not osp.isfile(pred):
            missing.append(pred)
        elif gts:
            pairs.append((cls, pred, gts[0]))
    if missing:
        shown = '\n  '.join(missing[:10])
        more = f'\n  ... and {len(missing) - 10} more' if len(
            missing) > 10 else ''
        raise FileNotFoundError(
            f'{len(missing)} of the {len(items)} selected images lack a '
            f'file:\n  {shown}{more}')
    for cls, pred, gt in pairs:
        if pred is None:
            continue
        # sizes from the file headers; the pixels are decoded once, when
        # scored
        pred_size, gt_size = image_size(pred), image_size(gt)
        if pred_size != gt_size:
            raise ValueError(f'{pred}: size {pred_size} differs from its '
                             f'ground truth {gt} ({gt_size})')
    return pairs


def central_box(shape, fraction):
    """{0, 1} mask of the centred box covering ``fraction`` of each side."""
    h, w = shape
    top, left = round(h * (1 - fraction) / 2), round(w * (1 - fraction) / 2)
    mask = np.zeros(shape, np.uint8)
    mask[top:h - top, left:w - left] = 1
    return mask


def baseline_mask(name, shape, image=None):
    """A mask-free baseline: every pixel, the central half-box, or GrabCut
    of ``image`` (BGR, of ``shape``) from the centred 80% box."""
    if name == 'whole-image':
        return np.ones(shape, np.uint8)
    if name == 'central-box':
        return central_box(shape, 0.5)
    # inside the box probable foreground, outside fixed background
    prob = central_box(shape, 0.8).astype(np.float32) * 0.6
    return GrabCutPostProcessor(iterations=5)(prob, image)


def image_of(data_root, cls, stem):
    """BGR image of a class-folder item, raising with the path if absent."""
    found = glob.glob(osp.join(data_root, cls, 'images', stem + '.*'))
    image = mmcv.imread(found[0]) if found else None
    if image is None:
        raise FileNotFoundError(
            f'{osp.join(data_root, cls, "images", stem)}.*: no readable image '
            '(the grabcut-box baseline needs it)')
    return image


def main(argv=None):
    args = parse_args(argv)
    try:
        pairs = selected_pairs(args.pred_dir, args.data_root, args.split_file,
                               args.classes)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    records = []
    for cls, pred, gt in pairs:
        stem = osp.splitext(osp.basename(gt))[0]
        gt = read_binary_mask(gt)
        if pred is not None:
            pred = read_binary_mask(pred)
        else:
            image = None
            if args.baseline == 'grabcut-box':
                try:
                    image = image_of(args.data_root, cls, stem)
                except FileNotFoundError as err:
                    sys.exit(f'error: {err}')
                if image.shape[:2] != gt.shape:
                    sys.exit(f'error: {cls}/{stem}: image {image.shape[:2]} '
                             f'and mask {gt.shape} differ in size')
            pred = baseline_mask(args.baseline, gt.shape, image)
        record = image_scores(pred, gt)
        record['class_name'] = cls
        records.append(record)
    print(format_table(summarise(records)))


if __name__ == '__main__':
    main()

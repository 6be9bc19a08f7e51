"""Score saved masks against a class-folder dataset with the project's metric.

    python tools/analysis_tools/score_masks.py PRED_DIR DATA_ROOT
        [--split-file splits/test.txt] [--classes Aero Bird]

``PRED_DIR/<Class>/<stem>.png`` are predicted masks ({0, 255} or {0, 1},
e.g. what ``tools/coseg_folder.py --out OUT`` writes to ``OUT/<post>``);
``DATA_ROOT/<Class>/masks/<stem>.*`` the ground truth. Every selected image
must have a prediction of its mask's size: all files are checked before any
is scored. Prints P and J per class and the means (the table of
``CoSegMetric``).
"""
import argparse
import glob
import os.path as osp
import sys

from cosegtools.datasets.class_folder_dataset import read_split_file
from cosegtools.datasets.mask_io import open_image, read_binary_mask
from cosegtools.evaluation.coseg_metric import (format_table, image_scores,
                                                summarise)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='score predicted masks against ground-truth masks')
    parser.add_argument('pred_dir', help='PRED_DIR/<Class>/<stem>.png')
    parser.add_argument('data_root', help='DATA_ROOT/<Class>/masks/<stem>.*')
    parser.add_argument(
        '--split-file',
        help='score only these <Class>/<stem> lines (relative to DATA_ROOT)')
    parser.add_argument('--classes', nargs='+', help='score only these')
    return parser.parse_args(argv)


def selected_pairs(pred_dir, data_root, split_file=None, classes=None):
    """(class, prediction path, ground-truth path) of every selected image;
    raises with the missing files listed before anything is read."""
    for folder, what in ((pred_dir, 'prediction'), (data_root, 'data root')):
        if not osp.isdir(folder):
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
        pred = osp.join(pred_dir, cls, stem + '.png')
        if not gts:
            missing.append(osp.join(data_root, cls, 'masks', stem + '.*'))
        if not osp.isfile(pred):
            missing.append(pred)
        if gts and osp.isfile(pred):
            pairs.append((cls, pred, gts[0]))
    if missing:
        shown = '\n  '.join(missing[:10])
        more = f'\n  ... and {len(missing) - 10} more' if len(
            missing) > 10 else ''
        raise FileNotFoundError(
            f'{len(missing)} of the {len(items)} selected images lack a '
            f'file:\n  {shown}{more}')
    for cls, pred, gt in pairs:
        pred_size, gt_size = open_image(pred).size, open_image(gt).size
        if pred_size != gt_size:
            raise ValueError(f'{pred}: size {pred_size} differs from its '
                             f'ground truth {gt} ({gt_size})')
    return pairs


def main(argv=None):
    args = parse_args(argv)
    try:
        pairs = selected_pairs(args.pred_dir, args.data_root, args.split_file,
                               args.classes)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    records = []
    for cls, pred, gt in pairs:
        record = image_scores(read_binary_mask(pred), read_binary_mask(gt))
        record['class_name'] = cls
        records.append(record)
    print(format_table(summarise(records)))


if __name__ == '__main__':
    main()

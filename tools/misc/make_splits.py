"""Write reproducible split files for a class-folder dataset.

    python tools/misc/make_splits.py DATA_ROOT [--ratios 3 1 1] [--seed 0]
        [--out-dir DATA_ROOT/splits]
"""
import argparse
import os.path as osp

from cosegtools.datasets.splits import make_splits, write_splits


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data_root', help='<root>/<Class>/images/*.jpg')
    parser.add_argument(
        '--ratios',
        type=float,
        nargs=3,
        default=(3, 1, 1),
        metavar=('TRAIN', 'VAL', 'TEST'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', help='default: DATA_ROOT/splits')
    args = parser.parse_args()
    splits = make_splits(args.data_root, args.ratios, args.seed)
    out_dir = args.out_dir or osp.join(args.data_root, 'splits')
    for path in write_splits(splits, out_dir):
        name = osp.splitext(osp.basename(path))[0]
        print(f'{path}: {len(splits[name])} images')


if __name__ == '__main__':
    main()

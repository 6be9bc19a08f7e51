"""Choose the settings of the feature-clustering method on a split: every
combination of the listed values, thresholded masks, one table row each.

    python tools/analysis_tools/tune_featcluster.py DATA_ROOT --config CONFIG
        --split-file splits/val.txt [--num-clusters 4 6 8]
        [--max-border-ratio 0.6 0.8 1.0] [--min-images 0.3 0.5]
        [--postprocess threshold grabcut]
        [--cfg-options postprocessors.grabcut.border=0.1]

The features of every image are extracted once; each combination then only
clusters, post-processes (by default ``threshold``: probability > 0.5; a
post-processor takes the options of the config's ``postprocessors``, as in
the folder tool) and scores. Masks are read only for scoring, as in the
folder tool's batch mode.
"""
import argparse
import itertools
import os.path as osp
import sys

import mmcv
from mmengine.config import Config, DictAction
from terminaltables import AsciiTable

from cosegtools.datasets import CoSegClassFolderDataset
from cosegtools.datasets.mask_io import read_binary_mask
from cosegtools.evaluation.coseg_metric import image_scores, summarise
from cosegtools.models.postprocessors import build_postprocessors
from cosegtools.registry import MODELS
from cosegtools.utils import register_all_modules


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data_root')
    parser.add_argument('--config', required=True)
    parser.add_argument('--split-file', required=True)
    parser.add_argument('--num-clusters', type=int, nargs='+')
    parser.add_argument('--max-border-ratio', type=float, nargs='+')
    parser.add_argument('--min-images', type=float, nargs='+')
    parser.add_argument(
        '--postprocess', nargs='+', default=['threshold'],
        help='post-processors, each scored on every combination')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    if not osp.isfile(args.config):
        sys.exit(f'error: config {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    try:
        dataset = CoSegClassFolderDataset(
            data_root=args.data_root, split_file=args.split_file)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    posts = build_postprocessors(args.postprocess, cfg.get('postprocessors'),
                                 f'{args.config}: postprocessors')
    needs_image = any(post.needs_image for post in posts.values())
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    collections = {}
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        image = mmcv.imread(info['img_path'])
        collections.setdefault(info['class_name'], []).append(
            (model.describe(image), image.shape[:2], info['img_path'],
             read_binary_mask(info['seg_map_path'])))
    grid = dict(
        num_clusters=args.num_clusters or [model.num_clusters],
        max_border_ratio=args.max_border_ratio or [model.max_border_ratio],
        min_images=args.min_images or [model.min_images])
    rows = [list(grid) + ['post-processor', 'mP', 'mJ', 'aJ']]
    for values in itertools.product(*grid.values()):
        for name, value in zip(grid, values):
            setattr(model, name, value)
        records = {post_name: [] for post_name in posts}
        for class_name, items in collections.items():
            descriptors, shapes, paths, gts = zip(*items)
            probs = model.probabilities_of(list(descriptors), list(shapes))
            for prob, path, gt in zip(probs, paths, gts):
                image = mmcv.imread(path) if needs_image else None
                for post_name, post in posts.items():
                    record = image_scores(post(prob, image), gt)
                    record['class_name'] = class_name
                    records[post_name].append(record)
        for post_name, recs in records.items():
            summary = summarise(recs)
            rows.append(
                list(values) + [post_name] +
                [f"{summary[k]:.2f}" for k in ('mP', 'mJ', 'aJ')])
            print(' '.join(f'{n}={v}' for n, v in zip(grid, values)),
                  post_name, f"mJ {summary['mJ']:.2f}", flush=True)
    print(f'{len(dataset)} images of {args.split_file}:')
    print(AsciiTable(rows).table)


if __name__ == '__main__':
    main()

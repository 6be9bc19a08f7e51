"""PCK of a matching model on images warped by known random transforms.

    python tools/analysis_tools/eval_known_warps.py CONFIG [CHECKPOINT]
        [--identity] [--seed 0] [--num-images N] [--data-root DIR]

Each image of the config's test set (resized by its test pipeline) is warped
by a random affine + TPS transform (:func:`random_warp` with the ranges of
``model.train_cfg.synthetic_warp``, drawn from ``--seed`` and the image's
position, so every run and every model sees the same warps). The model
matches the warped image (target) to the original (source); the keypoints
are the points of a 10 x 10 grid over the warped image that land on the
object of the original (its ground-truth mask), and their true positions
are given by the known warp. PCK thresholds are relative to max(h, w) of the
object's box in the original image (its mask), at its original size.
``--identity`` scores the identity transform instead of the model (the
figure to beat). Prints PCK@0.05/0.1/0.15, mean over images.
"""
import argparse
import sys

import numpy as np
import torch
from mmengine.config import Config, DictAction
from terminaltables import AsciiTable

from cosegtools.apis import init_model
from cosegtools.datasets.keypoint_pairs import mask_box_size
from cosegtools.evaluation.pck_metric import pck
from cosegtools.models.utils.warps import (Warp, random_warp, regular_points,
                                           to_pixels)
from cosegtools.registry import DATASETS

ALPHAS = (0.05, 0.1, 0.15)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument(
        '--identity', action='store_true', help='score the identity transform')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--num-images',
        type=int,
        help='only the first N images of the test set')
    parser.add_argument('--data-root', help='override the test data_root')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if args.checkpoint is None and not args.identity:
        parser.error('give a CHECKPOINT, or --identity for the baseline')
    return args


def keypoints_on_object(true: Warp, mask: np.ndarray, grid: int = 10):
    """Grid points of the target (normalised) whose true source position
    falls on the object; returns (target points, source points)."""
    points = regular_points(grid, grid, 1)
    source = true.points(points)[0]
    h, w = mask.shape
    pixels = to_pixels(source, h, w).round().long()
    inside = ((pixels[:, 0] >= 0) & (pixels[:, 0] < w) & (pixels[:, 1] >= 0)
              & (pixels[:, 1] < h))
    keep = inside.clone()
    keep[inside] = torch.from_numpy(mask[pixels[inside, 1], pixels[inside,
                                                                   0]] > 0)
    return points[0][keep], source[keep]


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.data_root:
        cfg.test_dataloader.dataset.data_root = args.data_root
    model = init_model(cfg, args.checkpoint)
    warp_ranges = dict((cfg.model.get('train_cfg')
                        or {}).get('synthetic_warp', {}))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    count = len(dataset) if args.num_images is None else min(
        args.num_images, len(dataset))
    scores = {alpha: [] for alpha in ALPHAS}
    for index in range(count):
        data = dataset[[index, index]]
        batch = model.data_preprocessor(
            dict(inputs=[data['inputs']], data_samples=[data['data_samples']]))
        image = batch['inputs'][0, :1]
        sample = batch['data_samples'][0].image_samples[0]
        mask = sample.gt_sem_seg.data[0].cpu().numpy()
        generator = torch.Generator().manual_seed(args.seed * 1000003 + index)
        true = random_warp(1, generator, **warp_ranges)
        target_points, true_points = keypoints_on_object(true, mask)
        if len(target_points) == 0:
            continue
        if args.identity:
            predicted = target_points
        else:
            warp = model.match(true.apply(image), image)
            predicted = warp.points(target_points[None])[0]
        h, w = mask.shape
        result = pck(
            to_pixels(predicted, h, w).numpy(),
            to_pixels(true_points, h, w).numpy(), mask_box_size(mask), ALPHAS)
        for alpha in ALPHAS:
            scores[alpha].append(result[alpha])
    if not scores[ALPHAS[0]]:
        sys.exit('eval_known_warps: no image with keypoints on its object')
    name = 'identity' if args.identity else args.checkpoint
    table = [['model', 'images'] + [f'PCK@{a:g}' for a in ALPHAS],
             [name, len(scores[ALPHAS[0]])] +
             [f'{100 * np.mean(scores[a]):.2f}' for a in ALPHAS]]
    print(AsciiTable(table).table)


if __name__ == '__main__':
    main()

"""Write the augmented training groups of a config as pictures.

    python tools/misc/browse_dataset.py CONFIG [--output-dir browse]
        [--num-groups 10] [--split train|val|test]

Each picture shows a group's images in a row, with the common-object mask
in red over each image, and the group's has_common flag in the file name.
"""
import argparse
import itertools
import os.path as osp

import mmcv
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import cosegtools  # noqa: F401
from cosegtools.engine.hooks.output_hook import overlay
from cosegtools.registry import DATA_SAMPLERS, DATASETS
from cosegtools.utils import register_all_modules


def group_picture(packed) -> np.ndarray:
    tiles = []
    for img, sample in zip(packed['inputs'],
                           packed['data_samples'].image_samples):
        image = img.permute(1, 2, 0).numpy().astype(np.uint8)
        mask = sample.gt_sem_seg.data[0].numpy()
        if mask.shape != image.shape[:2]:  # test masks keep original size
            mask = mmcv.imresize(
                mask.astype(np.uint8),
                image.shape[1::-1],
                interpolation='nearest')
        tiles.append(overlay(image, mask == 1))
    height = max(t.shape[0] for t in tiles)
    tiles = [
        np.pad(t, ((0, height - t.shape[0]), (0, 4), (0, 0))) for t in tiles
    ]
    return np.concatenate(tiles, axis=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--output-dir', default='browse')
    parser.add_argument('--num-groups', type=int, default=10)
    parser.add_argument(
        '--split', choices=['train', 'val', 'test'], default='train')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    register_all_modules()
    init_default_scope(cfg.get('default_scope', 'cosegtools'))
    loader_cfg = cfg[f'{args.split}_dataloader']
    dataset = DATASETS.build(loader_cfg.dataset)
    sampler = DATA_SAMPLERS.build(
        loader_cfg.sampler, default_args=dict(dataset=dataset, seed=0))
    for i, group in enumerate(itertools.islice(sampler, args.num_groups)):
        packed = dataset[group]
        flag = packed['data_samples'].has_common
        path = osp.join(args.output_dir, f'{i:03d}_common{flag}.png')
        mmcv.imwrite(group_picture(packed), path)
        print(path)


if __name__ == '__main__':
    main()

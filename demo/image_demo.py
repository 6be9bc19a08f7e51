"""Co-segment a folder (or a list) of images and write masks and overlays.

    python demo/image_demo.py IMAGES... --config CONFIG --checkpoint CKPT
        [--out-dir demo_out] [--group-size K] [--device cpu] [--debug]
"""
import argparse
import os.path as osp

import mmcv

import cosegtools  # noqa: F401
from cosegtools.apis import cosegment, init_model, list_images
from cosegtools.engine.hooks.output_hook import overlay
from cosegtools.utils import run_tool


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('images', nargs='+', help='a folder or image files')
    parser.add_argument('--config', required=True)
    parser.add_argument('--checkpoint', required=True)
    parser.add_argument('--out-dir', default='demo_out')
    parser.add_argument('--group-size', type=int, default=None)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of an error in the input (images, config, '
        'checkpoint) instead of one error line')
    return parser.parse_args()


def demo(args):
    paths = list_images(args.images[0]) if len(args.images) == 1 and \
        osp.isdir(args.images[0]) else args.images
    model = init_model(args.config, args.checkpoint, device=args.device)
    masks = cosegment(model, paths, group_size=args.group_size)
    for path, mask in zip(paths, masks):
        stem = osp.splitext(osp.basename(path))[0]
        mmcv.imwrite(mask * 255, osp.join(args.out_dir, 'masks',
                                          stem + '.png'))
        mmcv.imwrite(
            overlay(mmcv.imread(path), mask),
            osp.join(args.out_dir, 'overlays', stem + '.png'))
        print(f'{path}: foreground {100 * mask.mean():.1f}% of the image')
    print(f'masks and overlays written to {args.out_dir}')


def main():
    # bad images, config or checkpoint: one error line (--debug: the
    # traceback)
    run_tool(demo, parse_args())


if __name__ == '__main__':
    main()

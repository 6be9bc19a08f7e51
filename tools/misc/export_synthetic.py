"""Write the built-in synthetic scenes as a class-folder dataset.

    python tools/misc/export_synthetic.py OUT [--num-classes 12]
        [--images-per-class 12] [--img-size 128] [--seed 0]

The layout is the one of PASCAL-VOC co-seg (``OUT/<Class>/images/*.png``,
``OUT/<Class>/masks/*.png``, 0/255 masks of the class's object), so the
folder tools run on it without any download: e.g.
``tools/coseg_folder.py OUT/<Class>/images --config ...`` co-segments one
class's images, and ``tools/coseg_folder.py OUT --batch ...`` all classes,
with scores. Within a chunk of images a
distractor class is used at most once (as in the synthetic dataset's
groups), so only the class's own object is common to all images.
"""
import argparse
import os
import os.path as osp

import mmcv

from cosegtools.datasets import SyntheticCoSegDataset


def export(out: str,
           num_classes: int = 12,
           images_per_class: int = 12,
           img_size: int = 128,
           num_distractors: int = 2,
           seed: int = 0) -> dict:
    """Render and write the scenes; returns ``{class: [image paths]}``."""
    dataset = SyntheticCoSegDataset(
        num_classes=num_classes,
        images_per_class=images_per_class,
        img_size=(img_size, img_size),
        num_distractors=num_distractors,
        seed=seed,
        pipeline=[])
    # images whose distractors are kept apart: one per image plus the
    # common class must fit in the number of classes
    chunk = max(1, (num_classes - 1) // max(1, num_distractors))
    written = {}
    for k in range(num_classes):
        indices = [k * images_per_class + i for i in range(images_per_class)]
        name = dataset.class_spec(k)[3]
        for sub in ('images', 'masks'):
            os.makedirs(osp.join(out, name, sub), exist_ok=True)
        paths = []
        for start in range(0, len(indices), chunk):
            group = dataset.get_group_info(indices[start:start + chunk])
            for img_id, img, mask in zip(group['img_id'], group['img'],
                                         group['gt_seg_map']):
                stem = osp.basename(img_id)
                path = osp.join(out, name, 'images', f'{stem}.png')
                mmcv.imwrite(img, path)
                mmcv.imwrite(mask * 255,
                             osp.join(out, name, 'masks', f'{stem}.png'))
                paths.append(path)
        written[name] = paths
    return written


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', help='output root')
    parser.add_argument('--num-classes', type=int, default=12)
    parser.add_argument('--images-per-class', type=int, default=12)
    parser.add_argument('--img-size', type=int, default=128)
    parser.add_argument('--num-distractors', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    written = export(args.out, args.num_classes, args.images_per_class,
                     args.img_size, args.num_distractors, args.seed)
    for name, paths in written.items():
        print(f'{osp.join(args.out, name)}: {len(paths)} images')


if __name__ == '__main__':
    main()

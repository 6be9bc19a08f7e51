"""The co-attention loss (eq. 3-6) of reference maps on one collection.

    python tools/analysis_tools/coattention_loss_check.py CLASS_DIR \\
        --config CONFIG [--num-images 20] [--size 128]
        [--split-file splits/val.txt]
    # every class of a class-folder dataset, the rows averaged over classes
    python tools/analysis_tools/coattention_loss_check.py DATA_ROOT \\
        --all-classes --config CONFIG --split-file splits/val.txt

The config is a co-attention model or MaCoSNet (whose perceptual
contrastive loss is the co-attention loss with a margin: the table then
shows that loss, and d- of the ground truth is what its margin compares to).

CLASS_DIR holds ``images/`` and ``masks/`` (same stems), e.g. one class of a
class-folder dataset. The config's frozen extractor f embeds the object and
background images of hand-made maps S for the first ``--num-images`` images,
taken as one group (with ``--split-file``, a file of ``<Class>/<stem>``
lines relative to CLASS_DIR's parent, only the images it lists), and the
table gives the mean d+ (object to object), d-
(object to own background) and the loss for each kind of map: the
ground-truth masks, their complement, the empty map (S = 0), the full map,
S = 0.5 everywhere, the central half-box and its complement. A map whose
loss is lower than the ground truth's is one the loss prefers to the
objects: this shows whether an extractor suits the method on a collection
before any fitting, and why the empty map needs the mask loss and the
two-stage schedule (d+ = 0 when every object image is black).
"""
import argparse
import glob
import os.path as osp
import sys

import cv2
import numpy as np
import torch
from mmengine.config import Config
from terminaltables import AsciiTable

from cosegtools.datasets.class_folder_dataset import read_split_file
from cosegtools.datasets.mask_io import read_binary_mask
from cosegtools.models.utils.masked_embedding import (masked_images,
                                                      pooled_embedding)
from cosegtools.registry import MODELS
from cosegtools.utils import register_all_modules


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='co-attention loss of reference maps on a collection')
    parser.add_argument('class_dir', help='folder with images/ and masks/')
    parser.add_argument('--config', required=True)
    parser.add_argument('--num-images', type=int, default=20)
    parser.add_argument(
        '--size', type=int, default=128, help='images resized to size^2')
    parser.add_argument(
        '--split-file',
        help='only the images listed (relative to the data root)')
    parser.add_argument(
        '--all-classes',
        action='store_true',
        help='CLASS_DIR is a data root: one group per class folder, rows '
        'averaged over the classes')
    return parser.parse_args(argv)


def load_collection(class_dir, num_images, size, split_file=None):
    """(N, 3, size, size) BGR float images and (N, 1, size, size) masks;
    checks every file before reading pixels."""
    paths = sorted(glob.glob(osp.join(class_dir, 'images', '*')))
    if split_file:
        class_dir = osp.normpath(class_dir)
        listed = read_split_file(osp.join(osp.dirname(class_dir), split_file))
        name = osp.basename(class_dir)
        stems = {stem for cls, stem in listed if cls == name}
        paths = [p for p in paths if osp.splitext(osp.basename(p))[0] in stems]
    paths = paths[:num_images]
    if len(paths) < 2:
        raise ValueError(f'{class_dir}: need at least 2 images in images/, '
                         f'found {len(paths)}')
    pairs = []
    for path in paths:
        stem = osp.splitext(osp.basename(path))[0]
        masks = glob.glob(osp.join(class_dir, 'masks', stem + '.*'))
        if not masks:
            raise FileNotFoundError(f'{path}: no mask {stem}.* in '
                                    f'{osp.join(class_dir, "masks")}')
        pairs.append((path, masks[0]))
    images, masks = [], []
    for image_path, mask_path in pairs:
        image = cv2.imread(image_path, cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f'{image_path}: unreadable image')
        images.append(cv2.resize(image, (size, size)))
        mask = read_binary_mask(mask_path)
        masks.append(
            cv2.resize(mask, (size, size), interpolation=cv2.INTER_NEAREST))
    images = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()
    masks = torch.from_numpy(np.stack(masks))[:, None].float()
    return images, masks


def reference_maps(masks):
    """Name -> (N, 1, H, W) map in [0, 1]."""
    size = masks.shape[-1]
    box = torch.zeros_like(masks)
    box[..., size // 4:size - size // 4, size // 4:size - size // 4] = 1
    return {
        'ground truth': masks,
        '1 - ground truth': 1 - masks,
        'empty (S = 0)': torch.zeros_like(masks),
        'full (S = 1)': torch.ones_like(masks),
        'S = 0.5': torch.full_like(masks, 0.5),
        'central half-box': box,
        '1 - central half-box': 1 - box,
    }


@torch.no_grad()
def loss_table(model, images, masks):
    """Rows of (map name, mean d+, mean d-, loss per pair)."""
    pre = model.data_preprocessor
    if pre.channel_conversion:  # the order the config's models expect
        images = images[:, [2, 1, 0]]
    normalised = (images - pre.mean.cpu()) / pre.std.cpu()
    rows = []
    loss_module = getattr(model, 'loss_coattention', None) or getattr(
        model, 'loss_contrast')
    for name, attention in reference_maps(masks).items():
        objects, backgrounds = masked_images(normalised, attention,
                                             pre.mean.cpu(), pre.std.cpu())
        object_feats, background_feats = pooled_embedding(
            model.extractor, torch.cat([objects, backgrounds])).chunk(2)
        d_pos, d_neg = loss_module.distances(object_feats, background_feats,
                                             len(images))
        loss = loss_module(object_feats, background_feats, len(images))
        if loss_module.reduction == 'sum':  # the table compares per pair
            loss = loss / len(d_pos)
        rows.append(
            (name, d_pos.mean().item(), d_neg.mean().item(), loss.item()))
    return rows


MODEL_TYPES = ('CoAttentionSegmentor', 'MaCoSNet')


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'error: config file {args.config!r} not found')
    class_dirs = [args.class_dir]
    if args.all_classes:
        class_dirs = sorted(
            d for d in glob.glob(osp.join(args.class_dir, '*'))
            if osp.isdir(osp.join(d, 'images')))
        if not class_dirs:
            sys.exit(f'error: {args.class_dir}: no class folder with images/')
    try:
        collections = [
            load_collection(d, args.num_images, args.size, args.split_file)
            for d in class_dirs
        ]
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if cfg.model.get('type') not in MODEL_TYPES:
        sys.exit(f'error: {args.config}: model type is '
                 f'{cfg.model.get("type")!r}, not one of {MODEL_TYPES}')
    init = cfg.model.extractor.get('init_cfg') or {}
    checkpoint = init.get('checkpoint') if isinstance(init, dict) else None
    if checkpoint and not osp.isfile(checkpoint):
        sys.exit(f'error: {args.config}: the extractor checkpoint '
                 f'{checkpoint!r} does not exist (model.extractor.init_cfg)')
    model = MODELS.build(cfg.model)
    model.extractor.init_weights()  # a Pretrained init_cfg loads here
    model.eval()
    tables = [
        loss_table(model, images, masks) for images, masks in collections
    ]
    rows = [(name, *np.mean([t[i][1:] for t in tables], axis=0))
            for i, (name, *_) in enumerate(tables[0])]
    table = [['map', 'mean d+', 'mean d-', 'loss per pair']]
    table += [[name, f'{dp:.4f}', f'{dn:.4f}', f'{loss:.4f}']
              for name, dp, dn, loss in rows]
    count = sum(len(images) for images, _ in collections)
    area = np.mean([masks.mean().item() for _, masks in collections])
    if args.all_classes:
        where = (f'{count} images of {len(collections)} classes of '
                 f'{args.class_dir} (one group each, rows averaged over the '
                 'classes)')
    else:
        where = f'{count} images of {args.class_dir}, one group'
    print(f'{where}, at {args.size}x{args.size}; object area '
          f'{100 * area:.1f}%')
    print(AsciiTable(table).table)


if __name__ == '__main__':
    main()

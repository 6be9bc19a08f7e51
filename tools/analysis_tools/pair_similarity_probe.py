"""How well do a backbone's pooled features tell if two images share a class?

    python tools/analysis_tools/pair_similarity_probe.py ROOT \
        [--split-file splits/val.txt] [--arch lite2] [--size 224]
    # the backbone of a trained segmentor instead of the ImageNet one
    python tools/analysis_tools/pair_similarity_probe.py ROOT \
        --config CONFIG --checkpoint CKPT

Every image of the split is described by the features of the backbone's
last two levels (ImageNet EfficientNet-Lite: strides 16 and 32; each
L2-normalised, the deeper map upsampled, concatenated), average-pooled over
the whole image and, as an upper bound for an object-focused gate, over its
ground-truth mask. Every pair of images is a positive (same class) or a
negative; the table gives, for each pooling, the balanced accuracy
((TPR + TNR) / 2) of the best threshold on the pairs' cosine similarity. A
decision gate that thresholds the similarity of these features cannot do
better than this on the split.
"""
import argparse

import cosegtools  # noqa: F401  (applies the stack work-arounds first)
import mmcv
import numpy as np
import torch
from mmengine.runner import load_checkpoint
from terminaltables import AsciiTable

from cosegtools.datasets import CoSegClassFolderDataset
from cosegtools.datasets.mask_io import read_binary_mask
from cosegtools.models.backbones.efficientnet_lite import EfficientNetLite
from cosegtools.models.utils import object_descriptors
from cosegtools.registry import MODELS
from cosegtools.utils import UsageError, load_run_config, run_tool


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='class-folder dataset root')
    parser.add_argument('--split-file', default='splits/val.txt')
    parser.add_argument('--arch', default='lite2', choices=['lite0', 'lite2'])
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument(
        '--config',
        help='a segmentor config: probe its backbone (with '
        '--checkpoint: the trained one) instead of --arch')
    parser.add_argument('--checkpoint')
    parser.add_argument('--debug', action='store_true')
    return parser.parse_args()


def best_balanced_accuracy(similarity: np.ndarray,
                           positive: np.ndarray) -> float:
    """Balanced accuracy (percent) of the best threshold: the pairs of the
    ``k`` highest similarities called positive, for every ``k``."""
    called = positive[np.argsort(-similarity, kind='stable')]
    true_pos = np.concatenate([[0], np.cumsum(called)])
    false_pos = np.concatenate([[0], np.cumsum(~called)])
    tpr = true_pos / max(called.sum(), 1)
    tnr = 1 - false_pos / max((~called).sum(), 1)
    return 100 * float((0.5 * (tpr + tnr)).max())


def backbone_of(args):
    """``(backbone, mean, std)``: the ImageNet EfficientNet-Lite of
    ``--arch``, or the backbone of ``--config`` (loaded from
    ``--checkpoint``) with its data preprocessor's normalisation."""
    if args.checkpoint and not args.config:
        raise UsageError('--checkpoint needs --config')
    if not args.config:
        backbone = EfficientNetLite(
            arch=args.arch, pretrained=True, out_indices=(3, 4))
        return backbone.eval(), [127.0] * 3, [128.0] * 3
    cfg = load_run_config(args.config)
    model = MODELS.build(cfg.model)
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    else:
        model.init_weights()
    pre = cfg.model.data_preprocessor
    return model.backbone.eval(), pre['mean'], pre['std']


def describe(backbone, mean, std, image: np.ndarray,
             mask: np.ndarray) -> dict:
    """Whole-image and mask-pooled descriptors of one BGR image."""
    rgb = torch.from_numpy(image[:, :, ::-1].copy()).permute(2, 0, 1)
    x = (rgb[None].float() - torch.tensor(mean).view(1, 3, 1, 1)) / \
        torch.tensor(std).view(1, 3, 1, 1)
    with torch.no_grad():
        feats = backbone(x)[-2:]
    weight = torch.from_numpy(mask)[None].float()
    return dict(
        whole=object_descriptors(feats)[0],
        mask=object_descriptors(feats, weight)[0])


def probe(args):
    dataset = CoSegClassFolderDataset(
        data_root=args.root, split_file=args.split_file, test_mode=True)
    backbone, mean, std = backbone_of(args)
    size = (args.size, args.size)
    descriptors = dict(whole=[], mask=[])
    classes = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        image = mmcv.imresize(mmcv.imread(info['img_path']), size)
        mask = mmcv.imresize(
            read_binary_mask(info['seg_map_path']),
            size,
            interpolation='nearest')
        for pooling, vector in describe(backbone, mean, std, image,
                                        mask).items():
            descriptors[pooling].append(vector)
        classes.append(info['class_idx'])
    classes = np.array(classes)
    upper = np.triu_indices(len(classes), 1)
    positive = (classes[:, None] == classes[None])[upper]
    rows = [['pooling', 'pairs', 'positive', 'best balanced accuracy']]
    for pooling, vectors in descriptors.items():
        stacked = torch.stack(vectors)
        similarity = (stacked @ stacked.T).numpy()[upper]
        rows.append([
            'ground-truth mask' if pooling == 'mask' else 'whole image',
            len(similarity),
            int(positive.sum()),
            f'{best_balanced_accuracy(similarity, positive):.2f}'
        ])
    print(AsciiTable(rows).table)


if __name__ == '__main__':
    run_tool(probe, parse_args())

"""How good the first co-attention mask targets are, before any fitting.

    python tools/analysis_tools/check_mask_targets.py DATA_ROOT \\
        --config configs/coattention/coattention-fc_effnet-lite0_1xg5-20e_voc-class-128x128.py \\
        [--split-file splits/val.txt] [--classes Cat Dog] [--cfg-options K=V]

For a config whose first targets come from a training-free prior
(``model.train_cfg.first_targets``, e.g. the feature clustering), every class
of the class-folder dataset DATA_ROOT is one collection, as in
``tools/coseg_folder.py --batch``: the prior maps the collection, each image
is resized as the config's training pipeline resizes it, and the pipeline's
``LoadObjectProposals`` makes its proposals (from its ``cache_dir`` when one
is set, e.g. the one a folder run filled, through ``--cfg-options``). The
table gives, per class and as the mean over classes, the Jaccard index
(percent, mean over the images) against the ground truth, at the proposals'
size, of

- the prior's map above 0.5;
- M~, the proposal that best matches the prior's map (the fixed target);
- M, the refined mask of several proposals (Sec. 3.3 of the paper);
- the proposal closest to the ground truth: the best target these proposals
  can give (a ceiling that says whether the proposals hold the method back).

No network is fitted; the masks are read only to score.
"""
import argparse
import sys
from collections import defaultdict

import cv2
import mmcv
import numpy as np
from mmengine.config import Config, DictAction
from terminaltables import AsciiTable

from cosegtools.datasets import CoSegClassFolderDataset
from cosegtools.datasets.mask_io import read_binary_mask
from cosegtools.models.utils.proposals import best_proposal, refine_object_mask
from cosegtools.registry import MODELS, TRANSFORMS
from cosegtools.utils import register_all_modules

ROWS = ('prior map > 0.5', 'M~ (best proposal)', 'M (refined)',
        'best proposal by the ground truth')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Jaccard of the first co-attention mask targets')
    parser.add_argument('data_root', help='class-folder dataset')
    parser.add_argument('--config', required=True)
    parser.add_argument(
        '--split-file', help='only the images listed (relative to DATA_ROOT)')
    parser.add_argument('--classes', nargs='+', help='only these classes')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. '
        'train_dataloader.dataset.pipeline.0.transforms.2.generator.'
        'max_side=128')
    return parser.parse_args(argv)


def find_transform(pipeline, name):
    """The first transform config of type ``name`` in a (nested) pipeline."""
    for transform in pipeline:
        if transform.get('type') == name:
            return transform
        found = find_transform(transform.get('transforms', []), name)
        if found is not None:
            return found
    return None


def target_settings(cfg, config_path):
    """(prior config, LoadObjectProposals config, (w, h) training size)."""
    prior = (cfg.model.get('train_cfg') or {}).get('first_targets')
    if prior is None:
        raise ValueError(f'{config_path}: model.train_cfg.first_targets is '
                         'not set (the tool scores the targets of a prior)')
    pipeline = cfg.train_dataloader.dataset.pipeline
    proposals = find_transform(pipeline, 'LoadObjectProposals')
    resize = find_transform(pipeline, 'Resize')
    if proposals is None or resize is None or 'scale' not in resize:
        raise ValueError(f'{config_path}: the training pipeline needs a '
                         'Resize with a scale and LoadObjectProposals')
    return prior, proposals, tuple(resize['scale'])


def collections_of(data_root, split_file=None, classes=None):
    """Class name -> [(image path, mask path)] of the selected images, as the
    class-folder dataset lists and checks them."""
    dataset = CoSegClassFolderDataset(
        data_root=data_root, split_file=split_file, pipeline=[])
    unknown = sorted(set(classes or ()) - set(dataset.metainfo['classes']))
    if unknown:
        raise ValueError(f'{data_root}: no class folder {unknown}')
    found = defaultdict(list)
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        if not classes or info['class_name'] in classes:
            found[info['class_name']].append(
                (info['img_path'], info['seg_map_path']))
    return dict(found)


def jaccard(pred, gt):
    union = (pred | gt).sum()
    return 1.0 if union == 0 else (pred & gt).sum() / union


def class_scores(prior, proposal_loader, size, items):
    """Row name -> J of each image of one collection."""
    images = []
    for path, _ in items:
        image = mmcv.imread(path)
        if image is None:
            raise ValueError(f'{path}: unreadable image')
        images.append(image)
    maps = prior.collection_probabilities(images)
    scores = defaultdict(list)
    for image, prob, (_, mask_path) in zip(images, maps, items):
        # the training pipeline's transform: its cache, if it has one
        proposals = proposal_loader.proposals(
            np.ascontiguousarray(cv2.resize(image, size,
                                            interpolation=cv2.INTER_LINEAR)))
        h, w = proposals.shape[1:]
        gt = cv2.resize(read_binary_mask(mask_path).astype(np.uint8), (w, h),
                        interpolation=cv2.INTER_NEAREST) > 0
        prob = cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR)
        scores[ROWS[0]].append(jaccard(prob > 0.5, gt))
        if len(proposals) == 0:  # no target for this image
            for row in ROWS[1:]:
                scores[row].append(0.0)
            continue
        scores[ROWS[1]].append(
            jaccard(proposals[best_proposal(prob, proposals)], gt))
        scores[ROWS[2]].append(jaccard(refine_object_mask(prob, proposals),
                                       gt))
        scores[ROWS[3]].append(max(jaccard(p, gt) for p in proposals))
    return scores


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    try:
        cfg = Config.fromfile(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        prior_cfg, proposals_cfg, size = target_settings(cfg, args.config)
        collections = collections_of(args.data_root, args.split_file,
                                     args.classes)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    prior = MODELS.build(prior_cfg)
    prior.init_weights()
    proposal_loader = TRANSFORMS.build(proposals_cfg)
    table = [['class', 'images', *ROWS]]
    means = defaultdict(list)
    for name, items in collections.items():
        try:
            scores = class_scores(prior, proposal_loader, size, items)
        except ValueError as err:
            sys.exit(f'error: {err}')
        row = [name, str(len(items))]
        for key in ROWS:
            means[key].append(100 * np.mean(scores[key]))
            row.append(f'{means[key][-1]:.2f}')
        table.append(row)
        print(' '.join(row), flush=True)
    table.append([
        'mean over classes',
        str(sum(len(i) for i in collections.values())),
        *(f'{np.mean(means[key]):.2f}' for key in ROWS)
    ])
    print(AsciiTable(table, 'J (%) of the first mask targets').table)


if __name__ == '__main__':
    main()

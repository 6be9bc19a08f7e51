"""Co-segment a folder of images with an unsupervised method (no masks).

    # one folder: fit the method to its images, write masks and overlays;
    # DIR = <Class>/images next to <Class>/masks is also scored
    python tools/coseg_folder.py DIR --config CONFIG [--out OUT]
        [--postprocess threshold otsu grabcut crf] [--resume]

    # batch: every class of a class-folder dataset (<root>/<Class>/images,
    # <Class>/masks), each class fitted on its own, then scored with the
    # project's metric, one table per post-processor
    python tools/coseg_folder.py ROOT --config CONFIG --batch [--classes A B]
        [--split-file splits/val.txt]

The method fits the collection it segments (co-attention: Hsu et al., IJCAI
2018), or relates its images without fitting anything (feature clustering,
a config with ``train_cfg = None``); neither reads a mask. Masks are written
as 0/255 PNGs to ``OUT/<post-processor>/<Class>/<stem>.png`` (one folder:
``<Class>`` is its name, or its parent's for ``<Class>/images``; what
``tools/analysis_tools/score_masks.py ROOT --pred-dir OUT/<post-processor>``
reads) and overlays next to them in ``OUT/<post-processor>/<Class>/overlay/``.
"""
import argparse
import copy
import glob
import os
import os.path as osp
import time

import cosegtools  # noqa: F401  (applies the stack work-arounds first)
import mmcv
from mmengine.config import DictAction
from mmengine.logging import print_log
from mmengine.runner import find_latest_checkpoint
from mmengine.utils import ProgressBar
from terminaltables import AsciiTable

from cosegtools.apis import cosegment
from cosegtools.datasets.mask_io import read_binary_mask
from cosegtools.engine.hooks.output_hook import overlay
from cosegtools.evaluation.coseg_metric import (format_table, image_scores,
                                                summarise)
from cosegtools.models.postprocessors import build_postprocessors
from cosegtools.registry import DATASETS, MODELS
from cosegtools.utils import (UsageError, build_runner, load_run_config,
                              run_tool)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'path', help='image folder, or dataset root with '
        '--batch')
    parser.add_argument('--config', required=True)
    parser.add_argument('--work-dir', help='logs, checkpoints, proposals')
    parser.add_argument('--out', help='where to write masks and overlays')
    parser.add_argument(
        '--postprocess',
        nargs='+',
        default=['threshold'],
        help='post-processors (threshold, otsu, grabcut, crf); each gets its '
        'masks (and its table with --batch)')
    parser.add_argument('--batch', action='store_true')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='continue from the checkpoints in the work dir: a collection '
        'whose fitting finished is loaded, not fitted again; an interrupted '
        'one resumes from its last checkpoint, if it has one')
    parser.add_argument('--classes', nargs='+', help='with --batch')
    parser.add_argument(
        '--split-file',
        help='with --batch: each class is the collection of its images '
        'listed here (<Class>/<stem> lines, relative to ROOT), e.g. to choose '
        'settings on a val split')
    parser.add_argument(
        '--group-size',
        type=int,
        default=8,
        help='images per forward pass at inference')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of an error in the input (data, config, '
        'option) instead of one error line')
    return parser.parse_args()


def fit(cfg, dataset: dict):
    """Train the config's model on ``dataset``; returns it in eval mode, the
    built dataset and the seconds spent per phase."""
    cfg = copy.deepcopy(cfg)
    cfg.train_dataloader.dataset = dataset
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    start = time.perf_counter()
    runner = build_runner(cfg)
    latest = find_latest_checkpoint(cfg.work_dir) if cfg.resume else None
    # (an unfinished fit is loaded once more by runner.train's resume)
    fitted = latest is not None and runner.load_checkpoint(latest)['meta'].get(
        'iter', 0) >= cfg.train_cfg.max_iters
    if fitted:
        # the weights and the method's state (its hooks restore theirs) are
        # loaded; resuming would replay the data loader up to the last
        # iteration for nothing
        print_log(
            f'fitted before: {latest} loaded, not fitted again',
            logger='current')
        model = runner.model
    else:
        model = runner.train()
    seconds = dict(fit=time.perf_counter() - start)
    for hook in runner.hooks:
        # proposals and target updates, when the method has them
        for phase, spent in getattr(hook, 'seconds', {}).items():
            seconds[phase] = spent
            seconds['fit'] -= spent
    model = getattr(model, 'module', model)
    model.cfg = cfg
    model.eval()
    return model, runner.train_dataloader.dataset, seconds


def build_training_free(cfg, dataset: dict):
    """A method that fits nothing (``train_cfg = None``, e.g.
    ``FeatureClusterCoSegmentor``): the model and the built dataset."""
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    return model, DATASETS.build(dataset), {}


def probabilities(model, paths, group_size):
    if hasattr(model, 'collection_probabilities'):
        # methods that relate the whole collection at once
        return model.collection_probabilities([mmcv.imread(p) for p in paths])
    probs = []
    bar = ProgressBar(len(paths))
    for start in range(0, len(paths), group_size):
        chunk = paths[start:start + group_size]
        if len(chunk) == 1:  # cosegment wants 2 images: pad with the last
            probs.append(cosegment(model, chunk * 2, return_probs=True)[0])
        else:
            probs.extend(cosegment(model, chunk, return_probs=True))
        for _ in chunk:
            bar.update()
    return probs


def write(out, name, post, path, mask):
    stem = osp.splitext(osp.basename(path))[0]
    folder = osp.join(out, post, name)
    os.makedirs(osp.join(folder, 'overlay'), exist_ok=True)
    mmcv.imwrite(mask * 255, osp.join(folder, stem + '.png'))
    mmcv.imwrite(
        overlay(mmcv.imread(path), mask),
        osp.join(folder, 'overlay', stem + '.png'))


def segment_collection(cfg, dataset, name, args, posts):
    """Fit, predict and post-process one collection; returns the images'
    data infos (``img_path``, and ``seg_map_path`` for a class-folder
    dataset), per post-processor the masks, and the seconds spent per
    phase."""
    if cfg.get('train_cfg') is None:
        model, built, seconds = build_training_free(cfg, dataset)
    else:
        model, built, seconds = fit(cfg, dataset)
    infos = [built.get_data_info(i) for i in range(len(built))]
    paths = [info['img_path'] for info in infos]
    print_log(f'{name}: predicting {len(paths)} images', logger='current')
    start = time.perf_counter()
    probs = probabilities(model, paths, args.group_size)
    seconds['predict'] = time.perf_counter() - start
    masks = {}
    for post_name, post in posts.items():
        start = time.perf_counter()
        masks[post_name] = [
            post(prob,
                 mmcv.imread(path) if post.needs_image else None)
            for prob, path in zip(probs, paths)
        ]
        seconds[f'postprocess {post_name}'] = time.perf_counter() - start
        if args.out:
            for path, mask in zip(paths, masks[post_name]):
                write(args.out, name, post_name, path, mask)
    return infos, masks, seconds


def mask_files(paths, mask_dir):
    """The ground-truth mask ``mask_dir/<stem>.*`` of each image of a plain
    folder, or None when the folder does not exist or lacks the mask of an
    image."""
    if not osp.isdir(mask_dir):
        return None
    found = []
    for path in paths:
        stem = osp.splitext(osp.basename(path))[0]
        files = sorted(glob.glob(osp.join(glob.escape(mask_dir), stem + '.*')))
        if not files:
            return None
        found.append(files[0])
    return found


def add_scores(records, class_name, paths, masks, gt_files):
    """Appends the P/J record of every image, per post-processor."""
    gts = [read_binary_mask(f) for f in gt_files]
    for post_name, post_masks in masks.items():
        for path, mask, gt in zip(paths, post_masks, gts):
            record = image_scores(mask, gt)
            record.update(img_path=path, class_name=class_name)
            records.setdefault(post_name, []).append(record)


def print_scores(records):
    """The per-class table of each post-processor, then one summary row
    each."""
    rows = [['post-processor', 'images', 'mP', 'mJ', 'aJ', 'pooled J']]
    for post_name, recs in records.items():
        summary = summarise(recs)
        print_log(
            f'\n{post_name}:\n' + format_table(summary), logger='current')
        rows.append([
            post_name, summary['num_images'], f"{summary['mP']:.2f}",
            f"{summary['mJ']:.2f}", f"{summary['aJ']:.2f}",
            f"{summary['pooled_J']:.2f}"
        ])
    print_log('\n' + AsciiTable(rows).table, logger='current')


def cost_table(seconds: dict, num_images: int) -> str:
    """Wall seconds per phase, in total and per image."""
    rows = [['phase', 'seconds', 's / image']]
    for phase, spent in seconds.items():
        rows.append([phase, f'{spent:.1f}', f'{spent / num_images:.3f}'])
    total = sum(seconds.values())
    rows.append(['total', f'{total:.1f}', f'{total / num_images:.3f}'])
    return AsciiTable(rows).table


def coseg_folder(args):
    if args.split_file and not args.batch:
        raise UsageError('--split-file needs --batch')
    cfg = load_run_config(args.config, args.cfg_options, args.work_dir)
    # bad names and missing optional packages fail before any work
    posts = build_postprocessors(args.postprocess, cfg.get('postprocessors'),
                                 f'{args.config}: postprocessors')
    cfg.resume = args.resume
    pipeline = (cfg.train_dataloader.dataset.pipeline
                if cfg.get('train_dataloader') else [])
    if not args.batch:
        folder = osp.normpath(args.path)
        # <Class>/images is named by its class, as score_masks.py expects
        name = osp.basename(folder)
        class_folder = name == 'images' and osp.dirname(folder)
        if class_folder:
            name = osp.basename(osp.dirname(folder))
        dataset = dict(
            type='CoSegImageFolderDataset',
            data_root=args.path,
            pipeline=pipeline)
        infos, masks, seconds = segment_collection(cfg, dataset, name, args,
                                                   posts)
        paths = [info['img_path'] for info in infos]
        # a folder <Class>/images next to <Class>/masks (a class-folder
        # dataset's layout) is scored; the masks are read only for that
        gt_files = mask_files(paths, osp.join(
            osp.dirname(folder), 'masks')) if class_folder else None
        if gt_files is not None:
            records = {}
            add_scores(records, name, paths, masks, gt_files)
            print_scores(records)
        print_log(
            f'{len(paths)} images; cost (wall time):\n' +
            cost_table(seconds, len(paths)) +
            (f'\nmasks and overlays in {args.out}' if args.out else ''),
            logger='current')
        return
    from cosegtools.datasets import CoSegClassFolderDataset
    classes = args.classes or list(
        CoSegClassFolderDataset(data_root=args.path,
                                lazy_init=True).metainfo['classes'])
    # every listed file is checked here, before any fitting
    sizes = {
        name: len(
            CoSegClassFolderDataset(
                data_root=args.path, classes=[name],
                split_file=args.split_file))
        for name in classes
    }
    records = {}
    total_images, total_seconds = 0, {}
    work_root = cfg.work_dir
    for hook in cfg.get('custom_hooks', []):
        # proposals are keyed by image content: one cache for all classes
        if hook.get(
                'type') == 'CoAttentionMaskHook' and not hook.get('cache_dir'):
            hook['cache_dir'] = osp.join(work_root, 'proposals')
    for class_name in classes:
        class_cfg = copy.deepcopy(cfg)
        class_cfg.work_dir = osp.join(work_root, class_name)
        sampler = (class_cfg.train_dataloader.sampler
                   if cfg.get('train_dataloader') else {})
        if sampler and sizes[class_name] < sampler.get('group_size', 2):
            print_log(
                f'{class_name}: {sizes[class_name]} images, fewer than the '
                f'group size {sampler.group_size}: groups of '
                f'{sizes[class_name]}',
                logger='current')
            sampler.group_size = sizes[class_name]
        dataset = dict(
            type='CoSegClassFolderDataset',
            data_root=args.path,
            classes=[class_name],
            split_file=args.split_file,
            pipeline=pipeline)
        infos, masks, seconds = segment_collection(class_cfg, dataset,
                                                   class_name, args, posts)
        paths = [info['img_path'] for info in infos]
        total_images += len(paths)
        for phase, spent in seconds.items():
            total_seconds[phase] = total_seconds.get(phase, 0.0) + spent
        # the dataset found (and checked) the mask of every image
        add_scores(records, class_name, paths, masks,
                   [info['seg_map_path'] for info in infos])
    print_scores(records)
    print_log(
        f'{total_images} images, {len(classes)} classes; cost (wall '
        'time):\n' + cost_table(total_seconds, total_images),
        logger='current')


def main():
    # bad data, config or option: one error line (--debug: the traceback)
    run_tool(coseg_folder, parse_args())


if __name__ == '__main__':
    main()

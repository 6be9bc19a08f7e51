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

A config's ``max_collection_size`` (an int; None or absent: no limit)
splits a larger collection into consecutive parts of near-equal size, at
most that many images each, fitted one after the other, each on its own
(work dirs ``<work dir>/<Class>/part<i>of<n>``); the masks and scores are
those of the whole collection.

Each collection is one Runner: a method that fits runs its training loop
(:class:`~cosegtools.engine.CollectionFitLoop`; checkpoints and proposals in
the work dir), then the config's test dataloader over the same images feeds
the model's predictions, once per post-processor, to the config's metric
(``CoSegMetric``) when the images have masks.
"""
import argparse
import copy
import os
import os.path as osp
import time
from collections import defaultdict

import cosegtools  # noqa: F401  (applies the stack work-arounds first)
import mmcv
import torch
from mmengine.config import DictAction
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.runner import Runner
from mmengine.utils import ProgressBar
from terminaltables import AsciiTable

from cosegtools.datasets.samplers import balanced_parts
from cosegtools.engine.hooks.output_hook import overlay
from cosegtools.models.postprocessors import build_postprocessors
from cosegtools.models.segmentors.coseg_segmentor import apply_postprocessor
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
        help='images per group at inference (default: the config\'s test '
        'sampler; a method that relates the whole collection at once, e.g. '
        'feature clustering, relates each group)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of an error in the input (data, config, '
        'option) instead of one error line')
    return parser.parse_args()


def without_masks(pipeline):
    """A test pipeline for images without masks: ``LoadCoSegMask`` left
    out (also inside ``TransformBroadcaster``)."""
    kept = []
    for step in copy.deepcopy(pipeline):
        if step.get('type') == 'LoadCoSegMask':
            continue
        if 'transforms' in step:
            step['transforms'] = without_masks(step['transforms'])
        kept.append(step)
    return kept


def collection_config(cfg, dataset: dict, work_dir: str, scored: bool,
                      group_size=None):
    """The config of one collection: ``dataset`` (without pipeline) for
    fitting and, through the config's test pipeline (masks loaded only when
    ``scored``), for prediction."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    if cfg.get('train_cfg'):
        cfg.train_dataloader.dataset = dict(
            dataset, pipeline=cfg.train_dataloader.dataset.pipeline)
    test_pipeline = cfg.test_dataloader.dataset.pipeline
    cfg.test_dataloader.dataset = dict(
        dataset,
        test_mode=True,
        pipeline=test_pipeline if scored else without_masks(test_pipeline))
    if group_size is not None:
        cfg.test_dataloader.sampler.group_size = group_size
    # the tool applies its --postprocess list to the probabilities
    cfg.model.get('test_cfg', {}).pop('postprocess', None)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator'):
        cfg[key] = None
    return cfg


def fitted_model(cfg, seconds: defaultdict):
    """The config's model, fitted to the collection of its train dataloader
    (a method with a training loop; ``cfg.resume`` continues or loads an
    earlier fit) or as built (``train_cfg = None``), in eval mode."""
    start = time.perf_counter()
    if cfg.get('train_cfg'):
        runner = build_runner(cfg)
        model = runner.train()
        # proposals and target updates, when the loop has them
        for phase, spent in getattr(runner.train_loop, 'seconds', {}).items():
            seconds[phase] += spent
            start += spent
    else:
        model = MODELS.build(cfg.model)
        model.init_weights()
    seconds['fit'] += time.perf_counter() - start
    model = getattr(model, 'module', model)
    return model.eval()


def write(out, name, post, sample):
    mask = sample.pred_sem_seg.data[0].cpu().numpy().astype('uint8')
    path = sample.img_path
    stem = osp.splitext(osp.basename(path))[0]
    folder = osp.join(out, post, name)
    os.makedirs(osp.join(folder, 'overlay'), exist_ok=True)
    mmcv.imwrite(mask * 255, osp.join(folder, stem + '.png'))
    mmcv.imwrite(
        overlay(mmcv.imread(path), mask),
        osp.join(folder, 'overlay', stem + '.png'))


def segment_collection(cfg, name, args, posts, evaluators, seconds):
    """Fits the collection of ``cfg`` and predicts it; each post-processor's
    masks are written (``--out``) and fed to its evaluator (when given).
    Returns the number of images."""
    model = fitted_model(cfg, seconds)
    loader = Runner.build_dataloader(cfg.test_dataloader)
    print_log(
        f'{name}: predicting {len(loader.dataset)} images', logger='current')
    bar = ProgressBar(len(loader))
    for batch in loader:
        start = time.perf_counter()
        with torch.no_grad():
            groups = model.test_step(batch)
        seconds['predict'] += time.perf_counter() - start
        for post_name, post in posts.items():
            start = time.perf_counter()
            post_groups = copy.deepcopy(groups)
            apply_postprocessor(
                post, [s for g in post_groups for s in g.image_samples])
            seconds[f'postprocess {post_name}'] += (
                time.perf_counter() - start)
            if args.out:
                for group in post_groups:
                    for sample in group.image_samples:
                        write(args.out, name, post_name, sample)
            if post_name in evaluators:
                evaluators[post_name].process(post_groups, batch)
        bar.update()
    return len(loader.dataset)


def print_scores(evaluators, num_images):
    """Each post-processor's per-class table (printed by its metric), then
    one summary row each."""
    rows = [['post-processor', 'images', 'mP', 'mJ', 'aJ', 'pooled J']]
    for post_name, evaluator in evaluators.items():
        print_log(f'\n{post_name}:', logger='current')
        metrics = evaluator.evaluate(num_images)
        rows.append([post_name, num_images] + [
            f'{metrics[k]:.2f}' for k in ('mP', 'mJ', 'aJ', 'pooled_J')
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


def max_collection_size(cfg, config_path):
    """The config's ``max_collection_size``, checked: None or an int of at
    least 2 (a collection of one image relates nothing)."""
    value = cfg.get('max_collection_size')
    if value is not None and (isinstance(value, bool)
                              or not isinstance(value, int) or value < 2):
        raise UsageError(
            f'{config_path}: max_collection_size must be an integer of at '
            f'least 2, or None for no limit; got {value!r}')
    return value


def segment_in_parts(cfg, name, dataset, num_images, work_dir, scored,
                     max_size, args, posts, evaluators, seconds):
    """Segments the collection ``dataset`` (``num_images`` images) named
    ``name`` (logs and checkpoints in ``work_dir``), in parts of at most
    ``max_size`` images (consecutive, of near-equal size:
    :func:`~cosegtools.datasets.samplers.balanced_parts`; None: one part),
    each fitted on its own. Returns the number of images."""
    parts = balanced_parts(num_images, max_size)
    done = 0
    for i, (start, end) in enumerate(parts):
        part, part_dir = dict(dataset), work_dir
        if len(parts) > 1:
            part['indices'] = list(range(start, end))
            part_dir = osp.join(work_dir, f'part{i + 1}of{len(parts)}')
            print_log(
                f'{name}: part {i + 1} of {len(parts)} (images {start + 1}'
                f'-{end} of {num_images})',
                logger='current')
        part_cfg = collection_config(cfg, part, part_dir, scored,
                                     args.group_size)
        sampler = (part_cfg.train_dataloader.sampler
                   if cfg.get('train_cfg') else {})
        if sampler and end - start < sampler.get('group_size', 2):
            print_log(
                f'{name}: {end - start} images, fewer than the group size '
                f'{sampler.group_size}: groups of {end - start}',
                logger='current')
            sampler.group_size = end - start
        done += segment_collection(part_cfg, name, args, posts, evaluators,
                                   seconds)
    return done


def one_folder(args):
    """The collection of ``args.path``: ``(name, dataset, scored)``. A
    folder ``<Class>/images`` next to ``<Class>/masks`` (a class-folder
    dataset's layout) is named by its class and scored."""
    folder = osp.normpath(args.path)
    name = osp.basename(folder)
    parent = osp.dirname(folder)
    if name == 'images' and osp.isdir(osp.join(parent, 'masks')):
        class_name = osp.basename(parent)
        return class_name, dict(
            type='CoSegClassFolderDataset',
            data_root=osp.dirname(parent) or '.',
            classes=[class_name]), True
    if name == 'images':
        name = osp.basename(parent)
    return name, dict(type='CoSegImageFolderDataset', data_root=folder), False


def coseg_folder(args):
    if args.split_file and not args.batch:
        raise UsageError('--split-file needs --batch')
    cfg = load_run_config(args.config, args.cfg_options, args.work_dir)
    # bad names, options and missing optional packages fail before any work
    posts = build_postprocessors(args.postprocess, cfg.get('postprocessors'),
                                 f'{args.config}: postprocessors')
    max_size = max_collection_size(cfg, args.config)
    cfg.resume = args.resume
    # wall seconds per phase, summed over the collections
    seconds = defaultdict(float)
    if not args.batch:
        name, dataset, scored = one_folder(args)
        evaluators = {
            p: Evaluator(copy.deepcopy(cfg.test_evaluator))
            for p in posts
        } if scored else {}
        num_images = segment_in_parts(
            cfg, name, dataset, len(DATASETS.build(dataset)), cfg.work_dir,
            scored, max_size, args, posts, evaluators, seconds)
        if evaluators:
            print_scores(evaluators, num_images)
        print_log(
            f'{num_images} images; cost (wall time):\n' +
            cost_table(seconds, num_images) +
            (f'\nmasks and overlays in {args.out}' if args.out else ''),
            logger='current')
        return
    from cosegtools.datasets import CoSegClassFolderDataset
    classes = args.classes or list(
        CoSegClassFolderDataset(data_root=args.path,
                                lazy_init=True).metainfo['classes'])
    datasets = {
        name: dict(
            type='CoSegClassFolderDataset',
            data_root=args.path,
            classes=[name],
            split_file=args.split_file)
        for name in classes
    }
    # every listed file is checked here, before any fitting
    sizes = {name: len(DATASETS.build(datasets[name])) for name in classes}
    evaluators = {p: Evaluator(copy.deepcopy(cfg.test_evaluator))
                  for p in posts}
    total_images = 0
    for class_name in classes:
        total_images += segment_in_parts(
            cfg, class_name, datasets[class_name], sizes[class_name],
            osp.join(cfg.work_dir, class_name), True, max_size, args, posts,
            evaluators, seconds)
    print_scores(evaluators, total_images)
    print_log(
        f'{total_images} images, {len(classes)} classes; cost (wall '
        'time):\n' + cost_table(seconds, total_images),
        logger='current')


def main():
    # bad data, config or option: one error line (--debug: the traceback)
    run_tool(coseg_folder, parse_args())


if __name__ == '__main__':
    main()

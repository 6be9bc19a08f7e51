"""Evaluate a checkpoint: python tools/test.py CONFIG CHECKPOINT [options].

Prints the per-class P/J table; ``--out`` writes the predicted masks and
``--show-dir`` overlay pictures (``<Class>/<stem>.png``).
"""
import argparse
import os
import os.path as osp

import cosegtools  # noqa: F401  (applies the stack work-arounds first)
from cosegtools.engine import load_checkpoint_strict
from cosegtools.models.postprocessors import build_postprocessor
from cosegtools.utils import (build_runner, load_run_config,
                              run_tool, use_test_data_root)
from mmengine.config import DictAction
from mmengine.model import is_model_wrapper


def parse_args():
    parser = argparse.ArgumentParser(description='Test a co-seg model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save the evaluation log')
    parser.add_argument(
        '--data-root',
        help='test on this class-folder dataset (<Class>/images, '
        '<Class>/masks) instead of the config\'s: its split file if it has '
        'one, else every image')
    parser.add_argument('--out', help='directory to write predicted masks')
    parser.add_argument('--show-dir', help='directory to write overlays')
    parser.add_argument(
        '--postprocess',
        help='mask post-processor: threshold, otsu, grabcut or crf (dense '
        'CRF, needs the optional pydensecrf2)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. '
        'test_dataloader.sampler.group_size=4')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of an error in the input (data, config, '
        'checkpoint, option) instead of one error line')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def test(args):
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint file {args.checkpoint!r} not '
                                'found')
    cfg = load_run_config(args.config, args.cfg_options, args.work_dir,
                          args.launcher)
    cfg.load_from = args.checkpoint
    if args.data_root:
        use_test_data_root(cfg, args.data_root)
    if args.postprocess:
        # fail now, not after the model is built, on a bad name or a missing
        # optional package
        build_postprocessor(args.postprocess)
        cfg.model.setdefault('test_cfg', {})
        cfg.model.test_cfg['postprocess'] = args.postprocess
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='CoSegOutputHook', out_dir=args.out, show_dir=args.show_dir)
    ]
    runner = build_runner(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    # mmengine would only warn, and test a partly random model
    load_checkpoint_strict(model, args.checkpoint)
    runner.test()


def main():
    # bad data, config, checkpoint or option: one error line (--debug: the
    # traceback)
    run_tool(test, parse_args())


if __name__ == '__main__':
    main()

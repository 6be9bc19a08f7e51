"""Train a co-segmentation model: python tools/train.py CONFIG [options]."""
import argparse
import logging
import os

import cosegtools  # noqa: F401  (applies the stack work-arounds first)
from cosegtools.engine import CheckpointError, load_checkpoint_strict
from cosegtools.utils import (UsageError, build_runner, load_run_config,
                              run_tool, set_schedule_length)
from mmengine.config import DictAction
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import find_latest_checkpoint


def parse_args():
    parser = argparse.ArgumentParser(description='Train a co-seg model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work dir (also when '
        'load_from is set: that is only where a new run starts)')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--max-iters',
        type=int,
        help='train this many iterations; every phase of the learning-rate '
        'schedule (warm-up, decay, milestones) keeps its share, and a '
        'validation or checkpoint interval of the whole schedule follows')
    parser.add_argument(
        '--time-budget',
        type=float,
        metavar='SECONDS',
        help='fit the schedule into this wall-clock time: the speed is '
        'measured while training and the schedule\'s end moved to match '
        '(TimeBudgetHook)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. train_cfg.max_iters=100')
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


def check_start_checkpoint(runner, cfg, resume):
    """Stops if the checkpoint training starts from (``load_from``; for
    ``--resume`` ``train`` has set it to the work dir's latest) does not fit
    the model: mmengine would only warn and train a partly random model."""
    path = cfg.get('load_from')
    if path is None:
        return  # nothing to load: training starts from the model's init
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    try:
        load_checkpoint_strict(model, path)
    except CheckpointError as err:
        what = 'cannot resume' if resume else 'load_from does not fit'
        raise CheckpointError(f'{what}: {err}') from err


def train(args):
    cfg = load_run_config(args.config, args.cfg_options, args.work_dir,
                          args.launcher)
    if args.amp:
        if cfg.optim_wrapper.type == 'AmpOptimWrapper':
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING)
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.max_iters is not None:
        set_schedule_length(cfg, args.max_iters)
    if args.time_budget is not None:
        if not args.time_budget > 0:
            raise UsageError(
                f'--time-budget must be > 0 seconds, got {args.time_budget}')
        if 'max_iters' not in (cfg.get('train_cfg') or {}):
            raise UsageError('--time-budget needs an iteration-based config '
                             '(train_cfg.max_iters)')
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='TimeBudgetHook', seconds=args.time_budget)
        ]
    cfg.resume = args.resume
    if args.resume:
        # mmengine resumes from load_from when it is set; --resume means the
        # work dir's latest checkpoint (a fine-tune's load_from is only where
        # it starts, used while the work dir has no checkpoint yet)
        latest = find_latest_checkpoint(cfg.work_dir)
        if latest is not None:
            cfg.load_from = latest
        elif cfg.get('load_from') is not None:
            cfg.resume = False
    runner = build_runner(cfg)
    check_start_checkpoint(runner, cfg, cfg.resume)
    runner.train()


def main():
    # bad data, config, checkpoint or option: one error line (--debug: the
    # traceback)
    run_tool(train, parse_args())


if __name__ == '__main__':
    main()

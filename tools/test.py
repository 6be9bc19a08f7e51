"""Evaluate a checkpoint: python tools/test.py CONFIG CHECKPOINT [options].

Prints the per-class P/J table; ``--out`` writes the predicted masks and
``--show-dir`` overlay pictures (``<Class>/<stem>.png``).
"""
import argparse
import os
import os.path as osp
import sys

import cosegtools  # noqa: F401  (applies the stack work-arounds first)
from cosegtools import compat
from cosegtools.utils import check_default_scope, register_all_modules
from mmengine.config import Config, DictAction
from mmengine.runner import Runner


def parse_args():
    parser = argparse.ArgumentParser(description='Test a co-seg model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save the evaluation log')
    parser.add_argument('--out', help='directory to write predicted masks')
    parser.add_argument('--show-dir', help='directory to write overlays')
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
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    # like ``python -m``: modules of the working directory (e.g. projects/
    # named in custom_imports) are importable
    sys.path.insert(0, os.getcwd())
    register_all_modules()
    for path, what in ((args.config, 'config'), (args.checkpoint,
                                                 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} file {path!r} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    check_default_scope(cfg)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='CoSegOutputHook', out_dir=args.out, show_dir=args.show_dir)
    ]
    if args.launcher != 'none' and compat.init_cpu_distributed():
        compat.cpu_distributed_cfg(cfg)
    runner = Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()

"""Merge trained co-segmentors' checkpoints into one of a CoSegEnsemble.

    python tools/model_converters/ensemble_checkpoint.py ENSEMBLE_CONFIG \
        CKPT [CKPT ...] --out FILE

ENSEMBLE_CONFIG's model is a
:class:`~cosegtools.models.segmentors.CoSegEnsemble`; the i-th checkpoint
is loaded (every weight, or an error naming the keys) into its i-th member.
The merged checkpoint (written atomically) is tested like any other:

    python tools/test.py ENSEMBLE_CONFIG FILE
"""
import argparse
import io
import os.path as osp

import cosegtools  # noqa: F401  (applies the stack work-arounds first)
import torch
from mmengine.config import Config

from cosegtools.engine import load_checkpoint_strict
from cosegtools.engine.atomic_backend import atomic_write
from cosegtools.registry import MODELS
from cosegtools.utils import UsageError, register_all_modules, run_tool


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config of a CoSegEnsemble model')
    parser.add_argument(
        'checkpoints', nargs='+', help="the members' checkpoints, in order")
    parser.add_argument('--out', required=True, help='merged checkpoint')
    parser.add_argument('--debug', action='store_true')
    return parser.parse_args()


def merge(args):
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if cfg.get('model', {}).get('type') != 'CoSegEnsemble':
        raise UsageError(f'{args.config}: model.type must be CoSegEnsemble, '
                         f"got {cfg.get('model', {}).get('type')!r}")
    members = cfg.model.get('members') or []
    if len(members) != len(args.checkpoints):
        raise UsageError(f'{args.config} has {len(members)} members but '
                         f'{len(args.checkpoints)} checkpoints were given')
    for path in args.checkpoints:
        if not osp.isfile(path):
            raise FileNotFoundError(f'checkpoint file {path!r} not found')
    model = MODELS.build(cfg.model)
    for member, path in zip(model.members, args.checkpoints):
        load_checkpoint_strict(member, path)
    buffer = io.BytesIO()
    torch.save(
        dict(
            meta=dict(
                ensemble_config=args.config,
                members=[
                    dict(config=m['config'], checkpoint=c)
                    for m, c in zip(members, args.checkpoints)
                ]),
            state_dict=model.state_dict()), buffer)
    atomic_write(buffer.getvalue(), args.out)
    print(f'wrote {args.out}: {len(members)} members')


if __name__ == '__main__':
    run_tool(merge, parse_args())

"""Where the time of one training iteration goes, as tables.

    python tools/analysis_tools/profile_train_step.py CONFIG
        [--steps 5] [--warmup 2] [--top 12] [--cfg-options KEY=VALUE ...]

Builds the config's model, optimizer wrapper and training dataloader (with
its pipeline, sampler and batch size; ``num_workers=0`` so that loading is
measured in this process), then times each phase of ``--steps`` iterations
after ``--warmup`` ones: reading and transforming one batch, the data
preprocessor, the backbone forward, the head forward and loss, the backward
pass and the optimizer step. A second table lists the operators that take
the most time (``torch.profiler``, self CPU time) over the same steps.

``--compile`` wraps the backbone and the head in ``torch.compile`` (default
inductor backend) first, to see whether compiling pays on this machine; the
warm-up steps then include the compiling (at least one is required).

Run it alone on the machine: its figures are only worth what the machine
gives it. The thread count used is printed with the tables.
"""
import argparse
import time
from collections import defaultdict

import torch
from mmengine.config import DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner
from terminaltables import AsciiTable

from cosegtools.registry import MODELS
from cosegtools.utils import load_run_config

PHASES = ('data loading (1 batch)', 'data preprocessor', 'backbone forward',
          'head forward + loss', 'backward', 'optimizer step')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--top', type=int, default=12, help='operator rows')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the backbone and the head first')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 0:
        parser.error('--steps must be >= 1 and --warmup >= 0')
    if args.compile and args.warmup < 1:
        parser.error('--compile needs --warmup >= 1 (the first step compiles)')
    return args


def build(args):
    cfg = load_run_config(args.config, args.cfg_options)
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    return cfg, loader, model, optim_wrapper


def one_step(model, optim_wrapper, batches, times):
    """One timed iteration; adds seconds per phase to ``times``."""
    clock = time.perf_counter

    def lap(phase, start):
        now = clock()
        times[phase] += now - start
        return now

    start = clock()
    batch = next(batches)
    start = lap(PHASES[0], start)
    data = model.data_preprocessor(batch, True)
    start = lap(PHASES[1], start)
    flat, group_size, samples = model.flatten(data['inputs'],
                                              data['data_samples'])
    feats = model.extract_feat(flat)
    start = lap(PHASES[2], start)
    losses = model.decode_head.loss(feats, group_size, samples,
                                    model.train_cfg)
    loss, _ = model.parse_losses(losses)
    start = lap(PHASES[3], start)
    optim_wrapper.backward(loss)
    start = lap(PHASES[4], start)
    optim_wrapper.step()
    optim_wrapper.zero_grad()
    lap(PHASES[5], start)


def endless(loader):
    while True:
        yield from loader


def main(argv=None):
    args = parse_args(argv)
    cfg, loader, model, optim_wrapper = build(args)
    if args.compile:
        model.backbone = torch.compile(model.backbone)
        model.decode_head = torch.compile(model.decode_head)
    batches = endless(loader)
    scratch = defaultdict(float)
    start = time.perf_counter()
    for _ in range(args.warmup):
        one_step(model, optim_wrapper, batches, scratch)
    warmup_seconds = time.perf_counter() - start
    times = defaultdict(float)
    with torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(args.steps):
            one_step(model, optim_wrapper, batches, times)
    total = sum(times.values())
    rows = [['phase', 'ms / iteration', 'share']]
    for phase in PHASES:
        ms = 1000 * times[phase] / args.steps
        rows.append([phase, f'{ms:.1f}', f'{100 * times[phase] / total:.1f}%'])
    rows.append(['total', f'{1000 * total / args.steps:.1f}', '100%'])
    print(f'{args.config}: batch {cfg.train_dataloader.batch_size} groups, '
          f'{args.steps} steps after {args.warmup} warm-up, torch threads '
          f'{torch.get_num_threads()} (the profiler adds a little to every '
          'phase)')
    if args.compile:
        print('backbone and head compiled with torch.compile; the warm-up '
              f'steps (compiling included) took {warmup_seconds:.1f} s')
    table = AsciiTable(rows)
    table.inner_footing_row_border = True
    print(table.table)
    events = sorted(
        prof.key_averages(),
        key=lambda e: e.self_cpu_time_total,
        reverse=True)[:args.top]
    op_total = sum(e.self_cpu_time_total for e in prof.key_averages())
    op_rows = [['operator', 'calls / iteration', 'self ms / iteration',
                'share of operator time']]
    for e in events:
        op_rows.append([
            e.key, f'{e.count / args.steps:.0f}',
            f'{e.self_cpu_time_total / 1000 / args.steps:.1f}',
            f'{100 * e.self_cpu_time_total / max(op_total, 1):.1f}%'
        ])
    print(AsciiTable(op_rows).table)


if __name__ == '__main__':
    main()

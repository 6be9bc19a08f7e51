"""Inference speed and peak memory of a co-segmentation model, as a table.

    python tools/analysis_tools/benchmark.py CONFIG [CONFIG ...]
        [--group-sizes 2 5] [--size 224 224] [--warmup 2] [--repeat 5]
        [--device cpu|cuda]

Each (config, group size) is measured in a fresh child process: the model
runs on random (1, G, 3, H, W) inputs in eval mode (backbone + head; no data
loading). Times are medians over ``--repeat`` runs after ``--warmup`` runs,
with ``torch.cuda.synchronize`` on GPU. Memory: on GPU the peak allocated by
torch during the runs; on CPU the growth of the child's peak resident set
during the runs, over its level once the model and input exist.
"""
import argparse
import multiprocessing
import os.path as osp
import resource
import statistics
import time

import torch
from mmengine.config import Config
from terminaltables import AsciiTable

from cosegtools.apis import init_model


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


@torch.no_grad()
def measure(config, group_size, size, warmup, repeat, device):
    """Median seconds per group and peak memory (MiB); runs in a child."""
    model = init_model(config, device=device)
    inputs = torch.randn(1, group_size, 3, *size, device=device)
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    rss_before = peak_rss_mib()
    times = []
    for i in range(warmup + repeat):
        sync(device)
        start = time.perf_counter()
        model(inputs, mode='tensor')
        sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    if device.startswith('cuda'):
        memory = torch.cuda.max_memory_allocated() / 2**20
    else:
        memory = peak_rss_mib() - rss_before
    return statistics.median(times), memory


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--group-sizes', type=int, nargs='+', default=[2])
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=None,
        metavar=('H', 'W'),
        help='input size; default: the config crop_size')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    rows = [[
        'config', 'input', 'G', 'ms / group', 'ms / image', 'peak mem (MiB)'
        if args.device.startswith('cuda') else 'peak RSS growth (MiB)'
    ]]
    context = multiprocessing.get_context('spawn')
    for config in args.configs:
        size = tuple(args.size or Config.fromfile(config).get(
            'crop_size', (512, 512)))
        for group_size in sorted(args.group_sizes):
            with context.Pool(1) as pool:
                seconds, memory = pool.apply(
                    measure, (config, group_size, size, args.warmup,
                              args.repeat, args.device))
            rows.append([
                osp.splitext(osp.basename(config))[0],
                f'{size[0]}x{size[1]}', group_size, f'{1000 * seconds:.1f}',
                f'{1000 * seconds / group_size:.1f}', f'{memory:.0f}'
            ])
    print(f'device: {args.device}, torch threads: {torch.get_num_threads()}')
    print(AsciiTable(rows).table)


if __name__ == '__main__':
    main()

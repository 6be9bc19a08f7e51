"""Inference speed and peak memory of a co-segmentation model, as a table.

    python tools/analysis_tools/benchmark.py CONFIG [CONFIG ...]
        [--group-sizes 2 5] [--size 224 224] [--warmup 2] [--repeat 5]
        [--device cpu|cuda] [--strategy all_tuples --k 2 [--compare-cache]]

Each (config, group size) is measured in a fresh child process: the model
runs on random (1, G, 3, H, W) inputs in eval mode (backbone + head; no data
loading), then its bare backbone on the same images (``x backbone``: the
model's time over the backbone's, the cost of the head and of the group
relations). Times are medians over ``--repeat`` runs after ``--warmup`` runs,
with ``torch.cuda.synchronize`` on GPU. Memory: on GPU the peak allocated by
torch during the runs; on CPU the growth of the child's peak resident set
during the runs, over its level once the model and input exist.

Without ``--strategy`` a group is one forward pass of the model (the head
relates each image to all others at once). With ``--strategy`` the group is
co-segmented by :class:`GroupInference` from tuples of ``--k`` images, the
backbone features being computed once per image; ``--compare-cache`` adds a
row per group that recomputes the features of every tuple instead.
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
from cosegtools.models.segmentors import STRATEGIES, GroupInference


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def median_seconds(run, warmup, repeat, device) -> float:
    times = []
    for i in range(warmup + repeat):
        sync(device)
        start = time.perf_counter()
        run()
        sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


@torch.no_grad()
def measure(config,
            group_size,
            size,
            warmup,
            repeat,
            device,
            strategy=None,
            k=2,
            cache=True):
    """Median seconds per group of the model and of its bare backbone on the
    same images, and the model's peak memory (MiB); runs in a child."""
    model = init_model(config, device=device)
    inputs = torch.randn(1, group_size, 3, *size, device=device)
    if strategy is None:
        run = lambda: model(inputs, mode='tensor')  # noqa: E731
    else:
        infer = GroupInference(strategy, k=k, cache_features=cache)
        run = lambda: infer(model, inputs[0])  # noqa: E731
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    rss_before = peak_rss_mib()
    seconds = median_seconds(run, warmup, repeat, device)
    if device.startswith('cuda'):
        memory = torch.cuda.max_memory_allocated() / 2**20
    else:
        memory = peak_rss_mib() - rss_before
    backbone = median_seconds(lambda: model.extract_feat(inputs[0]), warmup,
                              repeat, device)
    return seconds, backbone, memory


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
    parser.add_argument(
        '--strategy',
        choices=STRATEGIES,
        default=None,
        help='group inference strategy (default: one forward pass)')
    parser.add_argument('--k', type=int, default=2, help='tuple size')
    parser.add_argument(
        '--compare-cache',
        action='store_true',
        help='also time recomputing the features of every tuple')
    args = parser.parse_args()
    caches = [True, False] if args.compare_cache else [True]
    rows = [[
        'config', 'input', 'G', 'inference', 'ms / group', 'ms / image',
        'backbone ms / group', 'x backbone', 'peak mem (MiB)'
        if args.device.startswith('cuda') else 'peak RSS growth (MiB)'
    ]]
    context = multiprocessing.get_context('spawn')
    for config in args.configs:
        size = tuple(
            args.size or Config.fromfile(config).get('crop_size', (512, 512)))
        for group_size, cache in [(g, c) for g in sorted(args.group_sizes)
                                  for c in caches]:
            with context.Pool(1) as pool:
                seconds, backbone, memory = pool.apply(
                    measure,
                    (config, group_size, size, args.warmup, args.repeat,
                     args.device, args.strategy, args.k, cache))
            if args.strategy is None:
                inference = 'one pass'
            else:
                inference = (f'{args.strategy}, k={args.k}, ' +
                             ('cached features' if cache else 'recomputed'))
            rows.append([
                osp.splitext(osp.basename(config))[0], f'{size[0]}x{size[1]}',
                group_size, inference, f'{1000 * seconds:.1f}',
                f'{1000 * seconds / group_size:.1f}',
                f'{1000 * backbone:.1f}', f'{seconds / backbone:.2f}',
                f'{memory:.0f}'
            ])
    print(f'device: {args.device}, torch threads: {torch.get_num_threads()}')
    print(AsciiTable(rows).table)


if __name__ == '__main__':
    main()

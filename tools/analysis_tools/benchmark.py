"""Inference speed and peak memory of a co-segmentation model, as a table.

    python tools/analysis_tools/benchmark.py CONFIG [CONFIG ...]
        [--group-sizes 2 5] [--size 224 224] [--warmup 2] [--repeat 5]
        [--device cpu|cuda] [--strategy all_tuples --k 2 [--compare-cache]]
        [--profile [DEPTH]]

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

``--profile`` adds a table per (config, group size) of the time spent in
each submodule down to DEPTH levels (default 2: ``decode_head.decoder``;
the items of a module list, ``decode_head.refiners.0``, need 3),
from forward hooks over ``--repeat`` more runs, with the whole model's time
in those runs (``(model)``) as 100%: where a head's cost goes.
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


class ModuleTimer:
    """Accumulated forward seconds of the submodules of ``model`` down to
    ``depth`` levels (a parent's time includes its children's)."""

    def __init__(self, model, depth):
        self.seconds, self.calls, self.started = {}, {}, {}
        self.handles = []
        for name, module in model.named_modules():
            if name and name.count('.') < depth:
                self.handles.append(
                    module.register_forward_pre_hook(self.pre_hook(name)))
                self.handles.append(
                    module.register_forward_hook(self.post_hook(name)))

    def pre_hook(self, name):

        def hook(module, args):
            self.started.setdefault(name, []).append(time.perf_counter())

        return hook

    def post_hook(self, name):

        def hook(module, args, output):
            spent = time.perf_counter() - self.started[name].pop()
            self.seconds[name] = self.seconds.get(name, 0.0) + spent
            self.calls[name] = self.calls.get(name, 0) + 1

        return hook

    def remove(self):
        for handle in self.handles:
            handle.remove()


@torch.no_grad()
def measure(config,
            group_size,
            size,
            warmup,
            repeat,
            device,
            strategy=None,
            k=2,
            cache=True,
            profile=0):
    """Median seconds per group of the model and of its bare backbone on the
    same images, the model's peak memory (MiB) and, with ``profile``, the
    mean seconds per group and calls of its submodules; runs in a child."""
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
    modules = {}
    if profile:
        timer = ModuleTimer(model, profile)
        sync(device)
        start = time.perf_counter()
        for _ in range(repeat):
            run()
        sync(device)
        modules = {
            name: (spent / repeat, timer.calls[name] // repeat)
            for name, spent in timer.seconds.items()
        }
        # the whole model in the same (hooked) runs, for the shares
        modules['(model)'] = ((time.perf_counter() - start) / repeat, 1)
        timer.remove()
    return seconds, backbone, memory, modules


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
    parser.add_argument(
        '--profile',
        type=int,
        nargs='?',
        const=2,
        default=0,
        metavar='DEPTH',
        help='also print the time of each submodule down to DEPTH levels')
    args = parser.parse_args()
    caches = [True, False] if args.compare_cache else [True]
    rows = [[
        'config', 'input', 'G', 'inference', 'ms / group', 'ms / image',
        'backbone ms / group', 'x backbone', 'peak mem (MiB)'
        if args.device.startswith('cuda') else 'peak RSS growth (MiB)'
    ]]
    profiles = []
    context = multiprocessing.get_context('spawn')
    for config in args.configs:
        size = tuple(
            args.size or Config.fromfile(config).get('crop_size', (512, 512)))
        for group_size, cache in [(g, c) for g in sorted(args.group_sizes)
                                  for c in caches]:
            with context.Pool(1) as pool:
                seconds, backbone, memory, modules = pool.apply(
                    measure,
                    (config, group_size, size, args.warmup, args.repeat,
                     args.device, args.strategy, args.k, cache,
                     args.profile))
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
            if modules:
                profiles.append((rows[-1][0], group_size, modules))
    print(f'device: {args.device}, torch threads: {torch.get_num_threads()}')
    print(AsciiTable(rows).table)
    for name, group_size, modules in profiles:
        table = [['module', 'calls / group', 'ms / group', '% of model']]
        total = modules['(model)'][0]
        for module, (spent, calls) in modules.items():
            table.append([
                module, calls, f'{1000 * spent:.1f}',
                f'{100 * spent / total:.1f}'
            ])
        print(f'{name}, G={group_size}: time per submodule (forward hooks; '
              'a parent includes its children)')
        print(AsciiTable(table).table)


if __name__ == '__main__':
    main()

import difflib
import logging
import os
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from cosegtools import compat
from .setup_env import check_default_scope, register_all_modules

# top-level keys mmengine 0.10's Runner.from_cfg reads, and the project's own
RUNNER_KEYS = ('model', 'work_dir', 'train_dataloader', 'val_dataloader',
               'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg',
               'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
               'val_evaluator', 'test_evaluator', 'default_hooks',
               'custom_hooks', 'data_preprocessor', 'load_from', 'resume',
               'launcher', 'env_cfg', 'log_processor', 'log_level',
               'visualizer', 'default_scope', 'randomness', 'experiment_name',
               'custom_imports', 'runner_type')


def misspelt_keys(cfg):
    """(key, closest known key) for top-level keys that the Runner does not
    read but that look like one it does (``default_hook``). Other unknown
    keys are the usual variables of mmseg-style configs (``crop_size``,
    ``train_pipeline``) and are left alone."""
    found = []
    for key in cfg.keys():
        if key in RUNNER_KEYS:
            continue
        close = difflib.get_close_matches(key, RUNNER_KEYS, n=1, cutoff=0.8)
        if close:
            found.append((key, close[0]))
    return found


_MISSING = object()


def _lookup(cfg, key):
    """The value at a dotted ``--cfg-options`` key (list items by index), or
    ``_MISSING``."""
    node = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    for part in key.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit():
            index = int(part)
            if index >= len(node):
                return _MISSING
            node = node[index]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return _MISSING
    return node


def check_option_types(cfg, cfg_options):
    """Refuse ``--cfg-options`` values whose type cannot replace the
    config's value: a number or a boolean in the config given a word
    (``train_cfg.max_iters=abc``), or a boolean given a number. Raises
    ValueError naming the option; ints are accepted for floats."""
    for key, value in (cfg_options or {}).items():
        current = _lookup(cfg, key)
        if current is _MISSING or current is None or value is None:
            continue  # None switches an option off or means 'default'
        if isinstance(current, bool):
            ok = isinstance(value, bool)
            expected = 'True or False'
        elif isinstance(current, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
            expected = 'an integer'
        elif isinstance(current, float):
            ok = isinstance(value,
                            (int, float)) and not isinstance(value, bool)
            expected = 'a number'
        else:
            continue
        if not ok:
            raise ValueError(f'--cfg-options {key}={value!r}: expected '
                             f'{expected} (the config has {current!r})')


def load_run_config(config_path,
                    cfg_options=None,
                    work_dir=None,
                    launcher='none'):
    """Load a config for ``tools/train.py`` / ``tools/test.py``.

    Registers cosegtools' modules, makes modules of the working directory
    importable (``custom_imports`` of ``projects/``), applies
    ``--cfg-options``, checks the default scope, sets the launcher and the
    work dir (default ``./work_dirs/<config name>``) and, for a distributed
    launch without CUDA, initialises gloo and adapts the config
    (:mod:`cosegtools.compat`). A missing config or a ``--cfg-options``
    value of the wrong type raises before anything is built.
    """
    if not osp.isfile(config_path):
        raise FileNotFoundError(f'config file {config_path!r} not found')
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    register_all_modules()
    cfg = Config.fromfile(config_path)
    if cfg_options is not None:
        check_option_types(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    check_default_scope(cfg)
    for key, known in misspelt_keys(cfg):
        print_log(
            f'{config_path}: top-level key {key!r} is not read by the '
            f'Runner and has no effect; did you mean {known!r}?',
            logger='current',
            level=logging.WARNING)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])
    set_proposal_cache(cfg)
    timeout = cfg.get('env_cfg', {}).get('dist_cfg',
                                         {}).get('timeout',
                                                 compat.CPU_DIST_TIMEOUT)
    if launcher != 'none' and compat.init_cpu_distributed(timeout=timeout):
        compat.cpu_distributed_cfg(cfg)
    return cfg


def set_schedule_length(cfg, max_iters):
    """Sets an iteration-based config's training length to ``max_iters``.

    Every iteration-based parameter scheduler keeps its share of the
    schedule (its ``begin``, ``end`` and ``milestones`` are scaled by the
    ratio of the new to the old length, so warm-up and decay stretch or
    shrink together); a validation or checkpoint interval of the whole old
    schedule becomes the new length, shorter ones are kept.
    """
    train_cfg = cfg.get('train_cfg') or {}
    if 'max_iters' not in train_cfg:
        raise ValueError('--max-iters needs an iteration-based config '
                         '(train_cfg.max_iters)')
    if int(max_iters) < 1:
        raise ValueError(f'--max-iters must be >= 1, got {max_iters}')
    old = train_cfg['max_iters']
    ratio = max_iters / old
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for scheduler in schedulers:
        if scheduler.get('by_epoch', True) is not False:
            continue
        begin = round(scheduler.get('begin', 0) * ratio)
        end = scheduler.get('end', float('inf'))
        scheduler['begin'] = begin
        if end != float('inf'):
            scheduler['end'] = max(round(end * ratio), begin + 1)
        if 'milestones' in scheduler:  # MultiStepLR
            scheduler['milestones'] = [
                max(round(m * ratio), 1) for m in scheduler['milestones']
            ]
    if train_cfg.get('val_interval', 0) >= old:
        train_cfg['val_interval'] = max_iters
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint') or {}
    if checkpoint.get('interval', 0) >= old:
        checkpoint['interval'] = max_iters
    train_cfg['max_iters'] = max_iters


def set_proposal_cache(cfg):
    """Points every ``LoadObjectProposals`` of the training pipeline that
    has no ``cache_dir`` at ``<work_dir>/proposals``."""
    def visit(steps):
        for step in steps or []:
            if step.get('type') == 'LoadObjectProposals' and not step.get(
                    'cache_dir'):
                step['cache_dir'] = osp.join(cfg.work_dir, 'proposals')
            visit(step.get('transforms'))

    loader = cfg.get('train_dataloader') or {}
    visit(loader.get('dataset', {}).get('pipeline'))


def use_test_data_root(cfg, data_root):
    """Points the config's test set at another class-folder dataset
    (``tools/test.py --data-root``): iCoseg-, MSRC-, Internet- or
    CoSal2015-style folders converted to ``<Class>/images`` +
    ``<Class>/masks``. The config's split file is kept when ``data_root``
    has one; otherwise every image of every class is tested."""
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'--data-root {data_root!r} is not a '
                                'directory')
    dataset = cfg.test_dataloader.dataset
    if dataset.get('type') != 'CoSegClassFolderDataset':
        raise ValueError(
            f'--data-root needs a config whose test set is a '
            f'CoSegClassFolderDataset; this one is {dataset.get("type")!r}')
    dataset.data_root = data_root
    split = dataset.get('split_file')
    if split and not osp.isfile(
            split if osp.isabs(split) else osp.join(data_root, split)):
        dataset.split_file = None


def build_runner(cfg):
    """The runner of a loaded config: ``runner_type`` (the project's configs
    name :class:`~cosegtools.engine.CoSegRunner`) or mmengine's Runner."""
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    from cosegtools.registry import RUNNERS
    return RUNNERS.build(cfg)

import os
import os.path as osp
import sys

from mmengine.config import Config

from cosegtools import compat
from .setup_env import check_default_scope, register_all_modules


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
    (:mod:`cosegtools.compat`).
    """
    if not osp.isfile(config_path):
        raise FileNotFoundError(f'config file {config_path!r} not found')
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    register_all_modules()
    cfg = Config.fromfile(config_path)
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    check_default_scope(cfg)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])
    if launcher != 'none' and compat.init_cpu_distributed():
        compat.cpu_distributed_cfg(cfg)
    return cfg

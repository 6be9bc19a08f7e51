"""Work-arounds for the measured incompatibilities of the supported stack.

Each function fixes one problem and does nothing where the problem does not
exist, so a user with full mmcv and CUDA gets the normal behaviour.

1. :func:`install_mmcv_ext_placeholder` -- mmcv-lite ships no compiled ops
   (``mmcv._ext``), yet mmseg 1.2.2 imports one unconditionally
   (``from mmcv.ops import point_sample``), which breaks
   ``import mmseg.models``.
   When, and only when, the compiled ops are absent we register a placeholder
   ``mmcv._ext`` whose functions raise a clear error if they are ever called.
2. :func:`allow_mmengine_checkpoints` -- torch >= 2.6 loads with
   ``weights_only=True`` by default and mmengine 0.10.7 does not opt out, so
   ``--resume`` fails on mmengine's own objects. We allow-list exactly the
   globals mmengine checkpoints contain instead of switching safe loading off.
3. :func:`init_cpu_distributed` / :func:`cpu_distributed_cfg` -- mmengine's
   ``pytorch`` launcher calls ``torch.cuda.set_device``, which CPU torch does
   not have, DDP on CPU needs ``device_ids=None``, and SyncBN needs CUDA.

:func:`apply_all` runs 1 and 2; ``import cosegtools`` calls it before the
first mmseg import.
"""
import datetime
import importlib.machinery
import importlib.util
import os
import pickle
import sys
import types

import torch

MISSING_OP_MESSAGE = (
    'mmcv compiled op "{name}" was called, but the installed mmcv has no '
    'compiled ops (mmcv-lite). Install full mmcv (built with ops) to use it; '
    'cosegtools itself needs none.')


def _missing_op(name):

    def raise_missing(*args, **kwargs):
        raise RuntimeError(MISSING_OP_MESSAGE.format(name=name))

    raise_missing.__name__ = name
    return raise_missing


def has_compiled_mmcv_ops():
    """Whether a real ``mmcv._ext`` extension is installed."""
    existing = sys.modules.get('mmcv._ext')
    if existing is not None:
        return not getattr(existing, 'COSEGTOOLS_PLACEHOLDER', False)
    try:
        return importlib.util.find_spec('mmcv._ext') is not None
    except ModuleNotFoundError:  # mmcv itself is missing
        return False


def install_mmcv_ext_placeholder():
    """Register a placeholder ``mmcv._ext`` when the compiled ops are absent.

    Returns:
        bool: True if the placeholder was installed (now or earlier).
    """
    if has_compiled_mmcv_ops():
        return False
    if 'mmcv._ext' in sys.modules:
        return True
    module = types.ModuleType('mmcv._ext')
    module.COSEGTOOLS_PLACEHOLDER = True
    # mmengine probes modules with pkgutil / find_spec: a spec is required
    module.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', loader=None)

    def __getattr__(name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _missing_op(name)

    module.__getattr__ = __getattr__
    sys.modules['mmcv._ext'] = module
    return True


# the statistics HistoryBuffer registers for itself (mmengine 0.10)
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj, name):
    """A ``getattr`` restricted to HistoryBuffer's statistics methods.

    mmengine pickles ``HistoryBuffer._statistics_methods`` (e.g. ``'min':
    HistoryBuffer.min``) as ``getattr(HistoryBuffer, 'min')``. Allowing the
    real ``builtins.getattr`` would open the safe unpickler to arbitrary
    attribute access, so only these look-ups are served.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = set(HISTORY_BUFFER_STATISTICS) | set(
        HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only '
        'HistoryBuffer statistics methods are allowed')


def mmengine_checkpoint_globals():
    """The non-tensor globals that mmengine 0.10.x writes into checkpoints."""
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [
        type(np.dtype(name))
        for name in ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                     'uint16', 'uint32', 'uint64', 'float16', 'float32',
                     'float64')
    ]
    return [
        HistoryBuffer, _reconstruct, scalar, np.ndarray, np.dtype,
        (_history_buffer_getattr, 'builtins.getattr')
    ] + dtype_classes


def allow_mmengine_checkpoints():
    """Let ``torch.load(weights_only=True)`` read mmengine checkpoints.

    Only the listed mmengine/numpy globals are allowed; everything else still
    goes through torch's safe unpickler.

    Returns:
        bool: True if globals were registered.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:  # torch < 2.4 has no safe-loading default
        return False
    add_safe_globals(mmengine_checkpoint_globals())
    return True


# seconds a CPU (gloo) collective waits for the other ranks before failing;
# PyTorch's default is 30 minutes. Set env_cfg.dist_cfg.timeout to change it
# (mmengine reads the same key on GPUs).
CPU_DIST_TIMEOUT = 300


def init_cpu_distributed(backend='gloo', timeout=CPU_DIST_TIMEOUT):
    """Initialise the process group from torchrun's environment on CPU.

    mmengine's launcher would call ``torch.cuda.set_device``; once the group
    exists, the Runner skips its own set-up. Does nothing with CUDA present,
    without torchrun's variables, or if a group already exists. A rank that
    stops answering (frozen, killed) makes the others fail after
    ``timeout`` seconds instead of hanging.

    Returns:
        bool: True if this call initialised the group.
    """
    import torch.distributed as dist
    if torch.cuda.is_available() or dist.is_initialized():
        return False
    if 'RANK' not in os.environ or 'WORLD_SIZE' not in os.environ:
        raise RuntimeError(
            'A distributed launcher was requested but RANK/WORLD_SIZE are not '
            'set: start the job with torchrun (see tools/dist_train.sh).')
    dist.init_process_group(
        backend=backend, timeout=datetime.timedelta(seconds=timeout))
    return True


def _replace_sync_bn(node):
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
        for value in node.values():
            _replace_sync_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _replace_sync_bn(value)


def cpu_distributed_cfg(cfg):
    """Adapt a config for distributed training on CPU (in place).

    DDP gets ``device_ids=None`` and every ``SyncBN`` becomes ``BN``.
    """
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    _replace_sync_bn(cfg.model)
    return cfg


def apply_all():
    install_mmcv_ext_placeholder()
    allow_mmengine_checkpoints()

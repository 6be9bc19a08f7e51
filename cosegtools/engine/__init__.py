from .atomic_backend import AtomicLocalBackend
from .checkpoint import (CheckpointError, load_checkpoint_strict,
                         read_checkpoint)
from .hooks import (CoAttentionMaskHook, CoSegLoggerHook, CoSegOutputHook,
                    CoSegRuntimeInfoHook)
from .runner import CoSegRunner

__all__ = [
    'AtomicLocalBackend', 'CoAttentionMaskHook', 'CoSegLoggerHook',
    'CoSegOutputHook', 'CoSegRunner', 'CoSegRuntimeInfoHook',
    'CheckpointError', 'load_checkpoint_strict', 'read_checkpoint'
]

from .atomic_backend import AtomicLocalBackend
from .checkpoint import (CheckpointError, load_checkpoint_strict,
                         read_checkpoint)
from .hooks import (CoSegLoggerHook, CoSegOutputHook, CoSegRuntimeInfoHook,
                    TimeBudgetHook)
from .loops import CollectionFitLoop
from .runner import CoSegRunner

__all__ = [
    'AtomicLocalBackend', 'CollectionFitLoop', 'CoSegLoggerHook',
    'CoSegOutputHook', 'CoSegRunner', 'CoSegRuntimeInfoHook',
    'CheckpointError', 'load_checkpoint_strict', 'read_checkpoint',
    'TimeBudgetHook'
]

from .atomic_backend import AtomicLocalBackend
from .checkpoint import (CheckpointError, load_checkpoint_strict,
                         read_checkpoint)
from .hooks import CoAttentionMaskHook, CoSegOutputHook

__all__ = [
    'AtomicLocalBackend', 'CoAttentionMaskHook', 'CoSegOutputHook',
    'CheckpointError', 'load_checkpoint_strict', 'read_checkpoint'
]

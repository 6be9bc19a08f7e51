from .atomic_backend import AtomicLocalBackend
from .hooks import CoAttentionMaskHook, CoSegOutputHook

__all__ = ['AtomicLocalBackend', 'CoAttentionMaskHook', 'CoSegOutputHook']

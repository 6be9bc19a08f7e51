from .atomic_backend import AtomicLocalBackend
from .hooks import CoSegOutputHook

__all__ = ['AtomicLocalBackend', 'CoSegOutputHook']

from .hooks import CoSegOutputHook

__all__ = ['CoSegOutputHook']

from .output_hook import CoSegOutputHook

__all__ = ['CoSegOutputHook']

from .logging_hooks import CoSegLoggerHook, CoSegRuntimeInfoHook
from .output_hook import CoSegOutputHook

__all__ = ['CoSegLoggerHook', 'CoSegOutputHook', 'CoSegRuntimeInfoHook']

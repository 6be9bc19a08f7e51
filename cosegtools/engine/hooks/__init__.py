from .coattention_hook import CoAttentionMaskHook
from .logging_hooks import CoSegLoggerHook, CoSegRuntimeInfoHook
from .output_hook import CoSegOutputHook

__all__ = [
    'CoAttentionMaskHook', 'CoSegLoggerHook', 'CoSegOutputHook',
    'CoSegRuntimeInfoHook'
]

from .coattention_hook import CoAttentionMaskHook
from .output_hook import CoSegOutputHook

__all__ = ['CoAttentionMaskHook', 'CoSegOutputHook']

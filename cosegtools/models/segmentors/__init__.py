from .coattention_segmentor import CoAttentionSegmentor
from .coseg_segmentor import CoSegmentor
from .group_inference import STRATEGIES, GroupInference, make_tuples

__all__ = [
    'CoAttentionSegmentor', 'CoSegmentor', 'GroupInference', 'STRATEGIES',
    'make_tuples'
]

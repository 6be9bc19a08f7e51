from .coseg_segmentor import CoSegmentor
from .group_inference import STRATEGIES, GroupInference, make_tuples

__all__ = ['CoSegmentor', 'GroupInference', 'STRATEGIES', 'make_tuples']

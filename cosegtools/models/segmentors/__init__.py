from .base import BaseCoSegmentor
from .coattention_segmentor import CoAttentionSegmentor
from .coseg_segmentor import CoSegmentor
from .feature_cluster import FeatureClusterCoSegmentor
from .group_inference import STRATEGIES, GroupInference, make_tuples
from .ensemble import CoSegEnsemble
from .macosnet import MaCoSNet

__all__ = [
    'BaseCoSegmentor', 'CoAttentionSegmentor', 'CoSegEnsemble', 'CoSegmentor',
    'FeatureClusterCoSegmentor', 'GroupInference', 'MaCoSNet', 'STRATEGIES',
    'make_tuples'
]

from .correlation import (depthwise_cross_correlation, global_correlation,
                          windowed_correlation)
from .cycle_modules import ConvLSTMCell, RegionCorrespondence
from .decision_gate import DecisionGate
from .decoder import ChannelAttentionFusion, UpConvDecoder
from .geometric_regressor import GeometricRegressor
from .groups import group_pairs, mean_over_others
from .masked_embedding import masked_images, pooled_embedding
from .proposals import (MergeProposalGenerator, best_proposal,
                        refine_object_mask)
from .mask_gates import (MaskConfidenceGate, MaskGate, ObjectSimilarityGate,
                         object_descriptors)
from .warps import Warp, compose_points, random_warp

__all__ = [
    'depthwise_cross_correlation', 'global_correlation',
    'windowed_correlation', 'ConvLSTMCell', 'RegionCorrespondence',
    'DecisionGate', 'ChannelAttentionFusion', 'UpConvDecoder', 'group_pairs',
    'mean_over_others', 'MergeProposalGenerator', 'best_proposal',
    'refine_object_mask', 'GeometricRegressor', 'masked_images',
    'pooled_embedding', 'MaskGate', 'MaskConfidenceGate',
    'ObjectSimilarityGate', 'object_descriptors', 'Warp', 'compose_points',
    'random_warp'
]

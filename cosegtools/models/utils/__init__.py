from .correlation import (depthwise_cross_correlation, global_correlation,
                          windowed_correlation)
from .cycle_modules import ConvLSTMCell, RegionCorrespondence
from .decision_gate import DecisionGate
from .decoder import ChannelAttentionFusion, UpConvDecoder
from .groups import group_pairs, mean_over_others
from .proposals import (MergeProposalGenerator, best_proposal,
                        refine_object_mask)

__all__ = [
    'depthwise_cross_correlation', 'global_correlation',
    'windowed_correlation', 'ConvLSTMCell', 'RegionCorrespondence',
    'DecisionGate', 'ChannelAttentionFusion', 'UpConvDecoder', 'group_pairs',
    'mean_over_others', 'MergeProposalGenerator', 'best_proposal',
    'refine_object_mask'
]

from .attention_map_head import AttentionMapHead
from .base_coseg_head import BaseCoSegHead
from .cosegnet_head import CoSegNetHead
from .cycleseg_head import CycleRefinement, CycleSegHead
from .docs_head import DOCSHead
from .dwxcorr_head import DepthwiseXCorrHead
from .macosnet_head import MaCoSNetHead

__all__ = [
    'AttentionMapHead', 'BaseCoSegHead', 'CoSegNetHead', 'CycleRefinement',
    'CycleSegHead', 'DOCSHead', 'DepthwiseXCorrHead', 'MaCoSNetHead'
]

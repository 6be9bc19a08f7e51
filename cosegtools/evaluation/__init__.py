from .coseg_metric import CoSegMetric, image_scores, summarise
from .gate_sweep import MaskGateSweep
from .pck_metric import PCKMetric, pck

__all__ = [
    'CoSegMetric', 'PCKMetric', 'MaskGateSweep', 'image_scores', 'pck',
    'summarise'
]

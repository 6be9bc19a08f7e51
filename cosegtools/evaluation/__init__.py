from .coseg_metric import CoSegMetric, image_scores, summarise
from .gate_sweep import SimilarityGateSweep
from .pck_metric import PCKMetric, pck

__all__ = [
    'CoSegMetric', 'PCKMetric', 'SimilarityGateSweep', 'image_scores', 'pck',
    'summarise'
]

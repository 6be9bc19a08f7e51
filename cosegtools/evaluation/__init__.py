from .coseg_metric import CoSegMetric, image_scores, summarise
from .pck_metric import PCKMetric, pck

__all__ = ['CoSegMetric', 'PCKMetric', 'image_scores', 'pck', 'summarise']

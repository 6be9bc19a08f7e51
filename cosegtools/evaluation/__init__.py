from .coseg_metric import CoSegMetric, image_scores, summarise

__all__ = ['CoSegMetric', 'image_scores', 'summarise']

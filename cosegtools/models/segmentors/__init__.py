from .coseg_segmentor import CoSegmentor

__all__ = ['CoSegmentor']

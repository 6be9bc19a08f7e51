from .data_preprocessor import CoSegDataPreProcessor

__all__ = ['CoSegDataPreProcessor']

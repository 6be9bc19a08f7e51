from .coseg_data_sample import CoSegDataSample

__all__ = ['CoSegDataSample']

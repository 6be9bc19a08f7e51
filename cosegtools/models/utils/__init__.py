from .correlation import global_correlation, windowed_correlation

__all__ = ['global_correlation', 'windowed_correlation']

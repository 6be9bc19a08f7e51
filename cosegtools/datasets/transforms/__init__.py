from .formatting import PackCoSegInputs
from .loading import LoadCoSegMask

__all__ = ['LoadCoSegMask', 'PackCoSegInputs']

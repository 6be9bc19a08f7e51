from .formatting import PackCoSegInputs
from .loading import LoadCoSegMask
from .proposals import LoadObjectProposals

__all__ = ['LoadCoSegMask', 'LoadObjectProposals', 'PackCoSegInputs']

from .base_coseg_head import BaseCoSegHead
from .docs_head import DOCSHead

__all__ = ['BaseCoSegHead', 'DOCSHead']

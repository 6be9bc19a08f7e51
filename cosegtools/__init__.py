"""cosegtools: deep object co-segmentation on mmengine / mmseg.

Importing the package applies the stack work-arounds of
:mod:`cosegtools.compat` before anything imports ``mmseg.models``.
"""
from . import compat

compat.apply_all()

from .version import __version__  # noqa: E402

__all__ = ['__version__']

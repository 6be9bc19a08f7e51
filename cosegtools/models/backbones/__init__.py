from .efficientnet_lite import EfficientNetLite
from .vgg import VGG16

__all__ = ['VGG16', 'EfficientNetLite']

from .inference import cosegment, init_model, list_images

__all__ = ['init_model', 'cosegment', 'list_images']

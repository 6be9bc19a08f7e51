"""Reading and checking image/mask files of class-folder datasets.

Conventions (also in the README):
    - files are read as photo viewers show them: an EXIF orientation tag
      (phone photos) is applied, by the start-up check as by the training
      loader (OpenCV applies it too), so a mask must line up with the
      image as it is displayed, not as its pixels are stored;
    - images are decoded to 3-channel colour by the loader: grayscale is
      replicated, the alpha channel of RGBA/LA images is dropped, palette
      images are expanded to their colours;
    - masks are single-channel images with values {0, 255} or {0, 1};
      palette masks are read by their indices; RGB(A) masks are accepted
      when their colour channels are identical. Anything else is an error.
"""
import os.path as osp

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

EXIF_ORIENTATION = 0x0112


class DatasetFileError(ValueError):
    """A dataset file is missing, unreadable or malformed."""

    def __init__(self, path, problem):
        super().__init__(f'{path}: {problem}')
        self.path = path


def open_image(path):
    """Open and fully decode an image file, or raise DatasetFileError."""
    if not osp.isfile(path):
        raise DatasetFileError(path, 'file does not exist')
    try:
        image = Image.open(path)
        image.load()
    except Image.DecompressionBombError as err:
        raise DatasetFileError(
            path, f'too many pixels: {err} (the limit is Pillow\'s '
            f'Image.MAX_IMAGE_PIXELS x 2 = {2 * Image.MAX_IMAGE_PIXELS}; '
            'a corrupt header or an image to downscale first)')
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise DatasetFileError(path, f'unreadable or corrupt image ({err})')
    if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
        image = ImageOps.exif_transpose(image)
    return image


def mask_to_binary(array, path, nonzero_foreground=False):
    """Convert a decoded mask array to uint8 {0, 1}.

    Args:
        array (np.ndarray): (H, W) or (H, W, C) mask values.
        path (str): file name used in error messages.
        nonzero_foreground (bool): accept any values, non-zero being
            foreground; otherwise they must be 0/255 or 0/1.
    """
    if array.ndim == 3:
        colour = array[..., :3]
        if not (colour == colour[..., :1]).all():
            raise DatasetFileError(
                path, 'mask is a colour image whose channels differ; '
                'expected a single-channel 0/255 (or 0/1) mask')
        array = colour[..., 0]
    if nonzero_foreground:
        return (array > 0).astype(np.uint8)
    values = np.unique(array)
    if not (set(values.tolist()) <= {0, 255}
            or set(values.tolist()) <= {0, 1}):
        shown = values[:10].tolist()
        raise DatasetFileError(
            path, f'mask values must be 0/255 or 0/1, found {shown}'
            f'{" ..." if len(values) > 10 else ""}')
    return (array > 0).astype(np.uint8)


def read_binary_mask(path, nonzero_foreground=False):
    """Read a mask file as a uint8 (H, W) array with values {0, 1}
    (palette masks by their indices); see :func:`mask_to_binary`."""
    mask = open_image(path)
    if mask.mode == '1':
        mask = mask.convert('L')
    return mask_to_binary(np.asarray(mask), path, nonzero_foreground)


def check_image_mask_pair(img_path, mask_path):
    """Validate an image and its mask before any training starts.

    Raises:
        DatasetFileError: naming the file and what is wrong with it.
    """
    image = open_image(img_path)
    if not osp.isfile(mask_path):
        raise DatasetFileError(
            img_path, f'no mask for this image (expected {mask_path})')
    mask = read_binary_mask(mask_path)
    if mask.shape != (image.height, image.width):
        raise DatasetFileError(
            mask_path, f'mask size {mask.shape[1]}x{mask.shape[0]} differs '
            f'from its image {img_path} ({image.width}x{image.height})')

"""Embedding of masked images by a frozen ImageNet network (the feature
extractor f of co-attention and F of MaCoSNet)."""
from typing import Tuple

from torch import Tensor


def masked_images(images: Tensor, attention: Tensor, mean: Tensor,
                  std: Tensor) -> Tuple[Tensor, Tensor]:
    """Object and background images, (B, 3, H, W) each, normalised.

    The masking is done in pixel space: the normalised ``images`` are
    un-normalised, multiplied by ``attention`` (B, 1, H, W) in [0, 1] and by
    its complement, and normalised again (so a masked-out pixel is black).
    """
    pixels = images * std + mean
    return ((attention * pixels - mean) / std,
            ((1 - attention) * pixels - mean) / std)


def pooled_embedding(extractor, images: Tensor) -> Tensor:
    """The extractor's last feature map, globally average-pooled: (B, c)."""
    return extractor(images)[-1].mean(dim=(2, 3))

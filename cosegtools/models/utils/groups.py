"""Indexing helpers for batches of groups flattened to (N*G, ...)."""
import torch
from torch import Tensor


def group_pairs(batch_size: int, group_size: int, device=None):
    """Row indices (a, b) of every ordered pair of distinct images of a group.

    Returns:
        tuple[Tensor, Tensor]: each (N * G * (G - 1), ), ordered by group,
        then by ``a``, then by ``b``; so the G - 1 partners of row ``i`` are
        rows ``i * (G - 1)`` to ``(i + 1) * (G - 1) - 1`` of the result.
    """
    g = torch.arange(group_size, device=device)
    a, b = torch.meshgrid(g, g, indexing='ij')
    keep = a != b
    offsets = torch.arange(batch_size, device=device)[:, None] * group_size
    a = (offsets + a[keep][None]).flatten()
    b = (offsets + b[keep][None]).flatten()
    return a, b


def mean_over_others(pair_values: Tensor, group_size: int) -> Tensor:
    """Averages per-pair values (ordered as :func:`group_pairs`) over the
    G - 1 partners of each image: (N*G*(G-1), ...) -> (N*G, ...)."""
    rows = pair_values.shape[0] // (group_size - 1)
    return pair_values.view(rows, group_size - 1,
                            *pair_values.shape[1:]).mean(dim=1)


def mean_of_others(values: Tensor, group_size: int) -> Tensor:
    """Each image's mean over the other G - 1 images of its group:
    (N*G, ...) -> (N*G, ...), in O(G) (the group sum less the image).

    For an operation linear in its second input (a correlation with B's
    features, a depth-wise convolution with kernels pooled from B),
    ``op(a, mean_of_others(x))`` equals the mean of ``op(a, b)`` over the
    partners b (:func:`mean_over_others` of :func:`group_pairs`), at the
    cost of one pair per image instead of G - 1.
    """
    if group_size < 2:
        raise ValueError(f'a group needs 2 or more images, got {group_size}')
    grouped = values.view(-1, group_size, *values.shape[1:])
    others = (grouped.sum(dim=1, keepdim=True) - grouped) / (group_size - 1)
    return others.view_as(values)

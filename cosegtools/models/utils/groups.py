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

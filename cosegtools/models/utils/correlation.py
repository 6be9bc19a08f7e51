"""Mutual correlation of feature maps in pure PyTorch (no compiled op).

The correlation of ``feat_a`` with ``feat_b`` at position p of A and offset d
is ``<feat_a[:, p], feat_b[:, p + d]> / C`` (kernel size 1), as in FlowNet and
DOCS. It is not symmetric: ``correlation(a, b)`` describes A's positions.
"""
import torch
import torch.nn.functional as F


def global_correlation(feat_a, feat_b):
    """Every position of A against every position of B.

    Args:
        feat_a (Tensor): (N, C, Ha, Wa).
        feat_b (Tensor): (N, C, Hb, Wb).

    Returns:
        Tensor: (N, Hb * Wb, Ha, Wa); channel ``y * Wb + x`` is B's position
        (y, x).
    """
    n, c, ha, wa = feat_a.shape
    corr = torch.einsum('nchw,ncp->nphw', feat_a, feat_b.flatten(2))
    return corr / c


def windowed_correlation(feat_a, feat_b, max_displacement):
    """Correlation with the offsets within ``max_displacement`` (DOCS).

    B is zero-padded, so offsets that fall outside B give 0. With
    ``max_displacement >= max(H, W) - 1`` every pair of positions is covered,
    which makes it a global correlation indexed by offset.

    Args:
        feat_a (Tensor): (N, C, H, W).
        feat_b (Tensor): (N, C, H, W), same size as ``feat_a``.
        max_displacement (int): D; offsets in [-D, D] on both axes.

    Returns:
        Tensor: (N, (2D + 1) ** 2, H, W); channel ``(dy + D) * (2D + 1) +
        (dx + D)`` is the offset (dy, dx).
    """
    if feat_a.shape != feat_b.shape:
        raise ValueError(f'feature shapes differ: {tuple(feat_a.shape)} vs '
                         f'{tuple(feat_b.shape)}')
    n, c, h, w = feat_a.shape
    d = int(max_displacement)
    padded = F.pad(feat_b, (d, d, d, d))
    rows = []
    for dy in range(2 * d + 1):
        band = padded[:, :, dy:dy + h, :]  # (N, C, H, W + 2D)
        windows = band.unfold(3, w, 1)  # (N, C, H, 2D + 1, W), a view
        rows.append(torch.einsum('nchw,nchdw->ndhw', feat_a, windows))
    return torch.cat(rows, dim=1) / c

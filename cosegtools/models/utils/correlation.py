"""Mutual correlation of feature maps in pure PyTorch (no compiled op).

The correlation of ``feat_a`` with ``feat_b`` at position p of A and offset d
is ``<feat_a[:, p], feat_b[:, p + d]> / C`` (kernel size 1), as in FlowNet and
DOCS. It is not symmetric: ``correlation(a, b)`` describes A's positions.
"""
import torch
import torch.nn.functional as F


CORRELATION_NORMALIZATIONS = ('mean', 'l2')


def global_correlation(feat_a, feat_b, normalization='mean'):
    """Every position of A against every position of B.

    Args:
        feat_a (Tensor): (N, C, Ha, Wa).
        feat_b (Tensor): (N, C, Hb, Wb).
        normalization (str): ``'mean'``: the inner products divided by C
            (DOCS); ``'l2'``: the features are L2-normalised over C first,
            and the (ReLU-ed) products L2-normalised over B's positions at
            each position of A (CNNGeometric, MaCoSNet), so each channel
            vector has unit length.

    Returns:
        Tensor: (N, Hb * Wb, Ha, Wa); channel ``y * Wb + x`` is B's position
        (y, x). With 'l2' it is non-negative.
    """
    if normalization not in CORRELATION_NORMALIZATIONS:
        raise ValueError(f'normalization must be one of '
                         f'{CORRELATION_NORMALIZATIONS}, got '
                         f'{normalization!r}')
    c = feat_a.shape[1]
    if normalization == 'l2':
        feat_a = F.normalize(feat_a, dim=1)
        feat_b = F.normalize(feat_b, dim=1)
    corr = torch.einsum('nchw,ncp->nphw', feat_a, feat_b.flatten(2))
    if normalization == 'l2':
        return F.normalize(corr.relu(), dim=1)
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


def depthwise_cross_correlation(base, kernel):
    """Slides each channel of ``kernel`` over the same channel of ``base``.

    A depth-wise convolution whose kernels are features of another image
    (Siamese trackers, the depth-wise cross-correlation co-segmentation
    network): no learned parameters. Odd kernels are zero-padded to keep the
    size of ``base``; the sum is divided by the kernel area, so kernels of
    different sizes give responses on one scale.

    Args:
        base (Tensor): (N, C, H, W).
        kernel (Tensor): (N, C, k, k), k odd; row n is applied to row n.

    Returns:
        Tensor: (N, C, H, W).
    """
    n, c, h, w = base.shape
    if kernel.shape[:2] != (n, c):
        raise ValueError(f'kernel {tuple(kernel.shape)} does not match base '
                         f'{tuple(base.shape)} in (N, C)')
    kh, kw = kernel.shape[-2:]
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f'kernel size must be odd, got {(kh, kw)}')
    out = F.conv2d(
        base.reshape(1, n * c, h, w),
        kernel.reshape(n * c, 1, kh, kw),
        padding=(kh // 2, kw // 2),
        groups=n * c)
    return out.view(n, c, h, w) / (kh * kw)

"""Geometric warps: affine and thin-plate-spline (TPS) point transforms,
their composition, sampling grids and ``grid_sample`` warping.

Coordinates are normalised as in :func:`torch.nn.functional.grid_sample`
with ``align_corners=False``: x and y in [-1, 1] span the image, -1 the left
(top) edge of the first pixel, +1 the right (bottom) edge of the last.

A :class:`Warp` maps points of a *target* image to points of a *source*
image; sampling the source at the mapped points of the target's grid gives
the source warped into the target's frame (the convention of
``grid_sample`` and of CNNGeometric, Rocco et al. 2017).
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def identity_affine(batch: int, device=None, dtype=None) -> Tensor:
    """(N, 2, 3) identity affine parameters."""
    theta = torch.zeros(batch, 2, 3, device=device, dtype=dtype)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = 1
    return theta


def affine_points(theta: Tensor, points: Tensor) -> Tensor:
    """p' = A p + t.

    Args:
        theta (Tensor): (N, 2, 3), [A | t].
        points (Tensor): (N, P, 2) as (x, y).
    """
    return points @ theta[:, :, :2].transpose(1, 2) + theta[:, None, :, 2]


def control_grid(size: int = 3, device=None, dtype=None) -> Tensor:
    """(size * size, 2) control points on a regular grid over [-1, 1],
    row-major (y outer, x inner)."""
    axis = torch.linspace(-1, 1, size, device=device, dtype=dtype)
    y, x = torch.meshgrid(axis, axis, indexing='ij')
    return torch.stack([x.flatten(), y.flatten()], dim=1)


def _tps_kernel(dist_sq: Tensor) -> Tensor:
    """U(r) = r^2 log r^2, with U(0) = 0."""
    return dist_sq * torch.log(dist_sq.clamp_min(1e-12))


def tps_points(targets: Tensor,
               points: Tensor,
               controls: Optional[Tensor] = None) -> Tensor:
    """Thin-plate spline that maps the control points onto ``targets``.

    f(p) = a0 + a1 x + a2 y + sum_i w_i U(|p - c_i|), solved so that
    f(c_i) = targets_i exactly, with the least bending.

    Args:
        targets (Tensor): (N, K, 2) images of the control points.
        points (Tensor): (N, P, 2).
        controls (Tensor, optional): (K, 2) control points; default the
            regular grid with K = targets.shape[1] points.

    Returns:
        Tensor: (N, P, 2).
    """
    n, k, _ = targets.shape
    if controls is None:
        size = int(round(k**0.5))
        if size * size != k:
            raise ValueError(f'{k} TPS targets do not form a square grid; '
                             'pass the control points')
        controls = control_grid(size, targets.device, targets.dtype)
    # system [[U, P], [P^T, 0]] [w; a] = [targets; 0]
    kernel = _tps_kernel(torch.cdist(controls, controls).pow(2))
    poly = torch.cat([controls.new_ones(k, 1), controls], dim=1)  # (K, 3)
    system = controls.new_zeros(k + 3, k + 3)
    system[:k, :k] = kernel
    system[:k, k:] = poly
    system[k:, :k] = poly.t()
    rhs = torch.cat([targets, targets.new_zeros(n, 3, 2)], dim=1)
    coeffs = torch.linalg.solve(system, rhs)  # (N, K + 3, 2)
    weights, affine = coeffs[:, :k], coeffs[:, k:]
    dist_sq = (points[:, :, None, :] - controls[None, None]).pow(2).sum(-1)
    point_poly = torch.cat([points.new_ones(*points.shape[:2], 1), points],
                           dim=2)
    return _tps_kernel(dist_sq) @ weights + point_poly @ affine


def regular_points(height: int,
                   width: int,
                   batch: int = 1,
                   device=None,
                   dtype=None) -> Tensor:
    """(N, h * w, 2) pixel-centre points of an h x w grid, row-major."""
    ys = (torch.arange(height, device=device, dtype=dtype) * 2 + 1) / height
    xs = (torch.arange(width, device=device, dtype=dtype) * 2 + 1) / width
    y, x = torch.meshgrid(ys - 1, xs - 1, indexing='ij')
    points = torch.stack([x.flatten(), y.flatten()], dim=1)
    return points[None].expand(batch, -1, -1)


def to_pixels(points: Tensor, height: int, width: int) -> Tensor:
    """Normalised (x, y) -> pixel coordinates (0 = centre of pixel 0)."""
    scale = points.new_tensor([width / 2, height / 2])
    return (points + 1) * scale - 0.5


def to_normalised(points: Tensor, height: int, width: int) -> Tensor:
    """Pixel coordinates -> normalised (x, y); inverse of :func:`to_pixels`."""
    scale = points.new_tensor([width / 2, height / 2])
    return (points + 0.5) / scale - 1


class Warp:
    """An affine transform, optionally followed (on the target side) by a
    TPS: ``points(p) = affine(tps(p))``.

    The TPS is estimated on the source already warped by the affine
    transform (the cascade of CNNGeometric and MaCoSNet), so a target point
    first moves by the TPS into that affinely aligned frame, then by the
    affine transform into the source.

    Args:
        affine (Tensor): (N, 2, 3).
        tps (Tensor, optional): (N, K, 2) images of the regular control grid.
    """

    def __init__(self, affine: Tensor, tps: Optional[Tensor] = None):
        self.affine = affine
        self.tps = tps

    @classmethod
    def identity(cls, batch: int, device=None, dtype=None) -> 'Warp':
        return cls(identity_affine(batch, device, dtype))

    def __len__(self) -> int:
        return self.affine.shape[0]

    def points(self, points: Tensor) -> Tensor:
        """Target points (N, P, 2) -> source points (N, P, 2)."""
        if self.tps is not None:
            points = tps_points(self.tps, points)
        return affine_points(self.affine, points)

    def grid(self, height: int, width: int) -> Tensor:
        """(N, h, w, 2) sampling grid for ``grid_sample``."""
        target = regular_points(height, width, len(self), self.affine.device,
                                self.affine.dtype)
        return self.points(target).view(len(self), height, width, 2)

    def apply(self,
              source: Tensor,
              size: Optional[Sequence[int]] = None,
              mode: str = 'bilinear') -> Tensor:
        """Warps ``source`` (N, C, H, W) into the target frame (default the
        same size); outside the source gives 0."""
        height, width = size if size is not None else source.shape[-2:]
        return F.grid_sample(
            source,
            self.grid(height, width).to(source.dtype),
            mode=mode,
            padding_mode='zeros',
            align_corners=False)

    def index(self, rows) -> 'Warp':
        """The warps of a subset of rows."""
        return Warp(self.affine[rows],
                    None if self.tps is None else self.tps[rows])


def compose_points(warps: Sequence[Warp], points: Tensor) -> Tensor:
    """Applies ``warps`` in order: ``warps[-1](...warps[0](points))``."""
    for warp in warps:
        points = warp.points(points)
    return points


def random_warp(batch: int,
                generator: torch.Generator,
                affine_scale: float = 0.2,
                rotation: float = 0.3,
                translation: float = 0.2,
                tps_jitter: float = 0.1,
                device=None) -> Warp:
    """Random affine + TPS warps for synthetic training and known-warp PCK.

    The affine part has a rotation in [-rotation, rotation] radians, a scale
    of 1 +- ``affine_scale`` per axis and a translation in
    +-``translation``; the TPS moves each control point of a 3x3 grid by up
    to ``tps_jitter``. All uniform, drawn from ``generator`` (CPU).
    """

    def uniform(*shape, scale):
        return (torch.rand(*shape, generator=generator) * 2 - 1) * scale

    angle = uniform(batch, scale=rotation)
    scale = 1 + uniform(batch, 2, scale=affine_scale)
    cos, sin = torch.cos(angle), torch.sin(angle)
    linear = torch.stack([
        torch.stack([cos * scale[:, 0], -sin * scale[:, 1]], dim=1),
        torch.stack([sin * scale[:, 0], cos * scale[:, 1]], dim=1)
    ],
                         dim=1)
    shift = uniform(batch, 2, scale=translation)
    affine = torch.cat([linear, shift[:, :, None]], dim=2)
    tps = control_grid(3)[None] + uniform(batch, 9, 2, scale=tps_jitter)
    return Warp(affine.to(device), tps.to(device))

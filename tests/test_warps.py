"""Warps, checked against points computed by hand."""
import math

import pytest
import torch

from cosegtools.models.utils.warps import (Warp, affine_points, compose_points,
                                           control_grid, random_warp,
                                           regular_points, to_normalised,
                                           to_pixels, tps_points)


def translation(dx, dy, batch=1):
    theta = torch.tensor([[1.0, 0.0, dx], [0.0, 1.0, dy]])
    return theta[None].repeat(batch, 1, 1)


def test_identity_warp_keeps_points_and_images():
    points = torch.tensor([[[0.3, -0.7], [-1.0, 1.0], [0.0, 0.0]]])
    warp = Warp.identity(1)
    assert torch.allclose(warp.points(points), points)
    image = torch.arange(48.0).view(1, 3, 4, 4)
    assert torch.allclose(warp.apply(image), image, atol=1e-5)


def test_affine_points_by_hand():
    # x' = 2x + 0.5y + 0.1, y' = -x + 3y - 0.2 at (1, 2)
    theta = torch.tensor([[[2.0, 0.5, 0.1], [-1.0, 3.0, -0.2]]])
    out = affine_points(theta, torch.tensor([[[1.0, 2.0]]]))
    assert torch.allclose(out, torch.tensor([[[3.1, 4.8]]]))


def test_translation_shifts_image_by_whole_pixels():
    # in a 4-pixel-wide image one pixel is 2/4 = 0.5 normalised units;
    # sampling the source at x + 0.5 moves the content one pixel left
    image = torch.zeros(1, 1, 4, 4)
    image[0, 0, :, 2] = 1.0
    shifted = Warp(translation(0.5, 0.0)).apply(image)
    assert torch.allclose(shifted[0, 0, :, 1], torch.ones(4))
    assert shifted[0, 0, :, 2].abs().max() < 1e-6


def test_tps_interpolates_its_control_points():
    controls = control_grid(3)
    targets = controls.clone()
    targets[4] = torch.tensor([0.2, -0.1])  # move the centre only
    out = tps_points(targets[None], controls[None])
    assert torch.allclose(out[0], targets, atol=1e-5)


def test_tps_of_a_translated_grid_is_that_translation():
    # a TPS reproduces affine maps exactly (zero bending)
    controls = control_grid(3)
    points = torch.tensor([[[0.33, -0.5], [0.9, 0.1], [-0.25, 0.75]]])
    out = tps_points((controls + torch.tensor([0.1, -0.3]))[None], points)
    assert torch.allclose(out, points + torch.tensor([0.1, -0.3]), atol=1e-5)


def test_tps_kernel_value_by_hand():
    # two-point check of U(r) = r^2 log r^2 through one off-grid point: with
    # only the centre moved by d, f(p) - p = d * phi(p) where phi is the
    # cardinal spline of the centre; phi(centre) = 1 and phi(corner) = 0
    controls = control_grid(3)
    targets = controls.clone()
    targets[4, 0] += 0.3
    corner_and_centre = controls[[0, 4]][None]
    out = tps_points(targets[None], corner_and_centre)
    assert torch.allclose(out[0, 0], controls[0], atol=1e-5)
    assert math.isclose(float(out[0, 1, 0]), 0.3, abs_tol=1e-5)


def test_affine_then_tps_order():
    # the TPS acts first (target side), then the affine map
    tps = (control_grid(3) + torch.tensor([0.1, 0.0]))[None]
    theta = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]])
    warp = Warp(theta, tps)
    out = warp.points(torch.tensor([[[0.0, 0.0]]]))
    assert torch.allclose(out, torch.tensor([[[0.2, 0.0]]]), atol=1e-5)


def test_compose_translations_add_up():
    points = regular_points(3, 3)
    out = compose_points(
        [Warp(translation(0.1, 0.2)),
         Warp(translation(-0.3, 0.05))], points)
    assert torch.allclose(out, points + torch.tensor([-0.2, 0.25]))


def test_pixel_coordinates_round_trip():
    pixels = torch.tensor([[0.0, 0.0], [239.0, 119.0], [10.5, 3.25]])
    normalised = to_normalised(pixels, 120, 240)
    # pixel 0 is centred half a pixel in from the left edge (-1)
    assert torch.allclose(normalised[0],
                          torch.tensor([-1 + 1 / 240, -1 + 1 / 120]))
    assert torch.allclose(to_pixels(normalised, 120, 240), pixels, atol=1e-4)


def test_warp_mask_and_features_same_grid():
    mask = torch.zeros(2, 1, 8, 8)
    mask[:, :, 2:6, 2:6] = 1
    feats = mask.repeat(1, 5, 1, 1)
    warp = Warp(translation(0.25, 0.0, batch=2))
    assert torch.allclose(
        warp.apply(feats),
        warp.apply(mask).repeat(1, 5, 1, 1))


def test_random_warp_is_reproducible_and_bounded():
    first = random_warp(4, torch.Generator().manual_seed(3))
    second = random_warp(4, torch.Generator().manual_seed(3))
    assert torch.equal(first.affine, second.affine)
    assert torch.equal(first.tps, second.tps)
    assert (first.tps - control_grid(3)).abs().max() <= 0.1
    assert (first.affine[:, :, 2].abs() <= 0.2).all()


def test_tps_needs_square_grid():
    with pytest.raises(ValueError, match='square grid'):
        tps_points(torch.zeros(1, 8, 2), torch.zeros(1, 1, 2))

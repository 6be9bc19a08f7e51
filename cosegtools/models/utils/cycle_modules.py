"""Building blocks of CycleSegNet (Zhang, Li, Lin et al., IEEE TIP 2021)."""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .groups import group_pairs


class ConvLSTMCell(nn.Module):
    """A convolutional LSTM cell (Shi et al. 2015), eq. 1-6 of CycleSegNet.

    One convolution over ``[x, h]`` gives the input, forget and output gates
    and the candidate; then ``c' = f * c + i * tanh(candidate)`` and
    ``h' = o * tanh(c')``.

    Args:
        in_channels (int): channels of the input ``x``.
        hidden_channels (int): channels of ``h`` and ``c``.
        kernel_size (int): odd kernel of the gate convolution.

    Shapes:
        x (Tensor): (B, in_channels, H, W); state (h, c): each
        (B, hidden_channels, H, W) -> the new (h, c), same shapes.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 kernel_size: int = 3):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}')
        self.hidden_channels = hidden_channels
        self.gates = nn.Conv2d(
            in_channels + hidden_channels,
            4 * hidden_channels,
            kernel_size,
            padding=kernel_size // 2)

    def forward(self, x: Tensor,
                state: Tuple[Tensor, Tensor]) -> Tuple[Tensor, Tensor]:
        h, c = state
        i, f, o, g = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class RegionCorrespondence(nn.Module):
    """Region Correspondence Module (RCM), eq. 9-14 of CycleSegNet.

    The other images' representations are ROI average- and max-pooled to a
    ``region_size`` grid and fused by a 1x1 conv (the regions, eq. 9). Every
    position of the target attends to every region of the others: the
    affinity is the dot product of 1x1-conv + ReLU projections (eq. 10),
    normalised by softmax, and queries the regions (eq. 11). The global
    average of the others, broadcast over the target, is added and the sum
    halved (eq. 12). In a group the regions of all other images are
    concatenated (one-vs-rest, eq. 13-14), with the same parameters.

    Args:
        channels (int): channels of the representations.
        key_channels (int): channels of the projections W_A, W_B.
        region_size (int): side of the pooled grid (paper: 2).
    """

    def __init__(self, channels: int, key_channels: int, region_size: int = 2):
        super().__init__()
        self.region_size = region_size
        self.region_fuse = nn.Conv2d(2 * channels, channels, 1)
        self.query = nn.Sequential(
            nn.Conv2d(channels, key_channels, 1), nn.ReLU(inplace=True))
        self.key = nn.Sequential(
            nn.Conv2d(channels, key_channels, 1), nn.ReLU(inplace=True))

    def regions(self, feats: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, r, r) region representations (eq. 9)."""
        size = self.region_size
        pooled = torch.cat([
            F.adaptive_avg_pool2d(feats, size),
            F.adaptive_max_pool2d(feats, size)
        ],
                           dim=1)
        return self.region_fuse(pooled)

    def attend(self, target: Tensor, regions: Tensor,
               global_mean: Tensor) -> Tensor:
        """Eq. 10-12 for flattened regions.

        Args:
            target (Tensor): (B, C, H, W).
            regions (Tensor): (B, C, R), R regions of the others.
            global_mean (Tensor): (B, C, 1, 1), the others' global average.
        """
        b, c, h, w = target.shape
        query = self.query(target).flatten(2)  # (B, K, HW)
        key = self.key(regions.unsqueeze(-1)).squeeze(-1)  # (B, K, R)
        affinity = torch.softmax(
            torch.bmm(query.transpose(1, 2), key), dim=-1)  # (B, HW, R)
        attended = torch.bmm(regions, affinity.transpose(1, 2))  # (B, C, HW)
        return (attended.view(b, c, h, w) + global_mean) / 2

    def pair(self, target: Tensor, other: Tensor) -> Tensor:
        """RCM(target, other) for pairs, literally eq. 9-12.

        Shapes: target (B, C, H, W), other (B, C, H', W') -> (B, C, H, W).
        """
        return self.attend(target,
                           self.regions(other).flatten(2),
                           F.adaptive_avg_pool2d(other, 1))

    def forward(self, feats: Tensor, group_size: int) -> Tensor:
        """One-vs-rest RCM of every image of every group (eq. 13-14).

        Args:
            feats (Tensor): (N*G, C, H, W), groups flattened.
            group_size (int): G >= 2.

        Returns:
            Tensor: (N*G, C, H, W).
        """
        rows, c = feats.shape[:2]
        batch = rows // group_size
        others = group_pairs(batch, group_size, feats.device)[1]
        others = others.view(rows, group_size - 1)
        regions = self.regions(feats).flatten(2)  # (N*G, C, r*r)
        # the regions of all the others, concatenated: (N*G, C, (G-1)*r*r)
        regions = regions[others].transpose(1, 2).reshape(rows, c, -1)
        global_mean = F.adaptive_avg_pool2d(feats, 1)[others].mean(dim=1)
        return self.attend(feats, regions, global_mean)

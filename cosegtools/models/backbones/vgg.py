from typing import Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from cosegtools.registry import MODELS

# (number of 3x3 convs, channels) of the five VGG16 stages
VGG16_STAGES = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))


@MODELS.register_module()
class VGG16(BaseModule):
    """VGG16 with multi-level outputs and the DOCS ``conv6`` extension.

    Stage ``i`` (0-4) is the stage's 3x3 convs followed by 2x2 max pooling, so
    its output has stride ``2 ** (i + 1)``. With ``with_conv6``, two more 3x3
    convs of ``conv6_channels`` follow pool5 (DOCS), as output index 5.

    Args:
        with_bn (bool): VGG16-BN (BatchNorm after every conv) or plain VGG16.
        out_indices (Sequence[int]): outputs to return, in 0..5.
        with_conv6 (bool): add the DOCS conv6 block.
        conv6_channels (int): width of conv6.
        norm_cfg (dict): norm layer used when ``with_bn``.
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained',
            checkpoint='vgg16.pth')`` for ImageNet weights you have locally:
            torchvision's ``vgg16`` / ``vgg16_bn`` checkpoints
            (``features.N.*``) and mmpretrain's VGG16 classifiers
            (``backbone.features.N.conv.*``) are converted
            (:meth:`convert_checkpoint`); conv6 is new (not in them).

    Shapes:
        inputs (Tensor): (N, 3, H, W).
        outputs (tuple[Tensor]): (N, C_i, H / s_i, W / s_i) per out index.
    """

    def __init__(self,
                 with_bn: bool = False,
                 out_indices: Sequence[int] = (4, ),
                 with_conv6: bool = False,
                 conv6_channels: int = 1024,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        max_index = 5 if with_conv6 else 4
        if not all(0 <= i <= max_index for i in out_indices):
            raise ValueError(f'out_indices {out_indices} must be in '
                             f'0..{max_index} (5 needs with_conv6=True)')
        self.out_indices = tuple(out_indices)
        norm = norm_cfg if with_bn else None
        in_channels = 3
        self.stages = nn.ModuleList()
        for num_convs, channels in VGG16_STAGES:
            layers = []
            for _ in range(num_convs):
                layers.append(
                    ConvModule(
                        in_channels, channels, 3, padding=1, norm_cfg=norm))
                in_channels = channels
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
            self.stages.append(nn.Sequential(*layers))
        if with_conv6:
            self.stages.append(
                nn.Sequential(
                    ConvModule(
                        in_channels,
                        conv6_channels,
                        3,
                        padding=1,
                        norm_cfg=norm),
                    ConvModule(
                        conv6_channels,
                        conv6_channels,
                        3,
                        padding=1,
                        norm_cfg=norm)))
        self.out_channels = [c for _, c in VGG16_STAGES] + [conv6_channels]
        self.with_bn = with_bn
        #: layers no ImageNet VGG16 checkpoint has (the Pretrained init
        #: leaves them as initialised)
        self.layers_not_pretrained = ('stages.5.', ) if with_conv6 else ()

    def layer_names(self):
        """(stage, index in stage) of the 13 ImageNet 3x3 convs, in order."""
        return [(s, i) for s, (num_convs, _) in enumerate(VGG16_STAGES)
                for i in range(num_convs)]

    def convert_checkpoint(self, state: dict) -> dict:
        """An ImageNet VGG16 state dict in this module's names.

        - torchvision (``features.N.weight``): ``features`` is one
          Sequential of conv, [BN,] ReLU per conv and a max-pool per stage;
        - mmpretrain (``features.N.conv.weight``, ``features.N.bn.*``, after
          the Pretrained init has removed ``backbone.``): one ConvModule per
          conv and a max-pool per stage.

        Other keys (this module's own, the classifier) pass unchanged.
        """
        features = [k for k in state if k.startswith('features.')]
        if not features:
            return state
        mmpretrain = any(k.split('.')[2] in ('conv', 'bn') for k in features)
        names, index = {}, 0
        for stage, (num_convs, _) in enumerate(VGG16_STAGES):
            for layer in range(num_convs):
                target = f'stages.{stage}.{layer}'
                if mmpretrain:
                    names[f'features.{index}.conv.'] = f'{target}.conv.'
                    names[f'features.{index}.bn.'] = f'{target}.bn.'
                    index += 1
                else:
                    names[f'features.{index}.'] = f'{target}.conv.'
                    index += 1
                    if self.with_bn:
                        names[f'features.{index}.'] = f'{target}.bn.'
                        index += 1
                    index += 1  # ReLU
            index += 1  # max-pool
        converted = {}
        for key, value in state.items():
            for old, new in names.items():
                if key.startswith(old):
                    key = new + key[len(old):]
                    break
            converted[key] = value
        if self.with_bn:
            # torchvision's BN convs have a bias, these do not (it is
            # followed by BN): folded into the BN mean, the output is the same
            for stage, layer in self.layer_names():
                target = f'stages.{stage}.{layer}'
                bias = converted.pop(f'{target}.conv.bias', None)
                mean = f'{target}.bn.running_mean'
                if bias is not None and mean in converted:
                    converted[mean] = converted[mean] - bias
        return converted

    def forward(self, x):
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

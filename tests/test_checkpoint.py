"""A checkpoint loads into its own model only: other models' checkpoints and
files that are not checkpoints stop with one line naming what is wrong."""
import pytest
import torch
import torch.nn as nn

from cosegtools.engine import CheckpointError, load_checkpoint_strict


def net(width=3):
    return nn.Sequential(nn.Linear(2, width), nn.BatchNorm1d(width))


def save(model, path):
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return str(path)


def test_own_checkpoint_loads_every_weight(tmp_path):
    source = net()
    path = save(source, tmp_path / 'a.pth')
    target = net()
    load_checkpoint_strict(target, path)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key


def test_wrapped_checkpoint_keys_load(tmp_path):
    source = net()
    state = {f'module.{k}': v for k, v in source.state_dict().items()}
    torch.save(dict(state_dict=state), tmp_path / 'ddp.pth')
    target = net()
    load_checkpoint_strict(target, str(tmp_path / 'ddp.pth'))
    assert torch.equal(target[0].weight, source[0].weight)


def test_shape_mismatch_names_the_key_and_loads_nothing(tmp_path):
    path = save(net(width=4), tmp_path / 'wide.pth')
    target = net(width=3)
    before = target[0].weight.clone()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint_strict(target, path)
    assert "0.weight (4, 2) vs the model's (3, 2)" in str(err.value)
    assert 'wide.pth does not fit the model' in str(err.value)
    assert torch.equal(target[0].weight, before)


def test_missing_and_unexpected_keys_are_named(tmp_path):
    other = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    path = save(other, tmp_path / 'longer.pth')
    with pytest.raises(CheckpointError, match=r'not in the model: 2\.weight'):
        load_checkpoint_strict(net(), path)
    shorter = save(nn.Sequential(nn.Linear(2, 3)), tmp_path / 'short.pth')
    with pytest.raises(CheckpointError) as err:
        load_checkpoint_strict(net(), shorter)
    # BN's num_batches_tracked is not required, its weights are
    assert 'weights of the model are not in it: 1.weight' in str(err.value)
    assert 'num_batches_tracked' not in str(err.value)


def test_files_that_are_not_checkpoints(tmp_path):
    junk = tmp_path / 'junk.pth'
    junk.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CheckpointError, match='junk.pth: not a checkpoint'):
        load_checkpoint_strict(net(), str(junk))
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(CheckpointError, match='empty.pth: empty or trunc'):
        load_checkpoint_strict(net(), str(empty))


# torchvision's VGG16 "D" layout, written out here (torchvision itself does
# not install next to the CPU torch): numbers are conv widths, 'M' pools
VGG16_D = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512,
           'M', 512, 512, 512, 'M']


def torchvision_vgg16_state(with_bn):
    """A state dict with torchvision's ``vgg16`` / ``vgg16_bn`` names and
    shapes, random values."""
    layers, in_channels = [], 3
    for v in VGG16_D:
        if v == 'M':
            layers.append(nn.MaxPool2d(2))
            continue
        layers.append(nn.Conv2d(in_channels, v, 3, padding=1))
        if with_bn:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU())
        in_channels = v
    model = nn.Module()
    model.features = nn.Sequential(*layers)
    model.classifier = nn.Sequential(
        nn.Linear(512 * 7 * 7, 64), nn.ReLU(), nn.Dropout(), nn.Linear(64, 8))
    torch.manual_seed(0)
    for name, tensor in model.state_dict().items():
        if name.endswith('running_var'):
            tensor.uniform_(0.5, 1.5)
        elif tensor.dtype.is_floating_point:
            tensor.uniform_(-1, 1)
    return model.state_dict()


def init_from(module_cfg, path, **options):
    from mmengine.registry import DefaultScope

    from cosegtools.registry import MODELS
    cfg = dict(module_cfg, init_cfg=dict(
        type='Pretrained', checkpoint=path, **options))
    with DefaultScope.overwrite_default_scope('cosegtools'):
        module = MODELS.build(cfg)
        module.init_weights()
    return module


@pytest.mark.parametrize('with_bn', [False, True])
def test_vgg16_loads_torchvision_imagenet_checkpoints(tmp_path, with_bn):
    state = torchvision_vgg16_state(with_bn)
    path = str(tmp_path / 'vgg16.pth')
    torch.save(state, path)
    vgg = init_from(dict(type='VGG16', with_bn=with_bn), path)
    own = vgg.state_dict()
    step = 3 if with_bn else 2  # conv, [BN,] ReLU
    # the first conv of stage 0 and the last conv of stage 4
    assert torch.equal(own['stages.0.0.conv.weight'],
                       state['features.0.weight'])
    last = 13 * step + 4 - step
    assert torch.equal(own['stages.4.2.conv.weight'],
                       state[f'features.{last}.weight'])
    if with_bn:
        assert torch.equal(own['stages.1.1.bn.running_var'],
                           state['features.11.running_var'])
        # the conv bias (these convs have none) is folded into the BN mean:
        # the same output in eval mode
        assert torch.allclose(
            own['stages.1.1.bn.running_mean'],
            state['features.11.running_mean'] - state['features.10.bias'])
    else:
        assert torch.equal(own['stages.4.2.conv.bias'],
                           state[f'features.{last}.bias'])


def test_vgg16_loads_mmpretrain_checkpoints_and_keeps_conv6_new(tmp_path):
    from cosegtools.models import VGG16
    reference = VGG16(with_bn=True)
    torch.manual_seed(1)
    state = {}
    index = 0
    for stage, block in enumerate(reference.stages):
        for layer, module in enumerate(block):
            if isinstance(module, nn.MaxPool2d):
                index += 1
                continue
            for key, value in module.state_dict().items():
                state[f'backbone.features.{index}.{key}'] = torch.rand_like(
                    value.float()).to(value.dtype)
            index += 1
    state['head.fc.weight'] = torch.rand(1000, 512)
    path = str(tmp_path / 'mmpretrain_vgg16bn.pth')
    torch.save(dict(state_dict=state, meta={}), path)
    vgg = init_from(
        dict(type='VGG16', with_bn=True, with_conv6=True,
             out_indices=(5, )), path)
    own = vgg.state_dict()
    assert torch.equal(own['stages.1.1.conv.weight'],
                       state['backbone.features.4.conv.weight'])
    assert torch.equal(own['stages.4.0.bn.bias'],
                       state['backbone.features.14.bn.bias'])


def test_vgg16_bn_from_torchvision_computes_what_torchvision_does(tmp_path):
    from cosegtools.models import VGG16
    state = torchvision_vgg16_state(True)
    # torchvision's forward through stage 0, from the same weights
    layers, in_channels = [], 3
    for v in VGG16_D[:3]:
        if v == 'M':
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
            continue
        layers += [nn.Conv2d(in_channels, v, 3, padding=1),
                   nn.BatchNorm2d(v), nn.ReLU()]
        in_channels = v
    reference = nn.Sequential(*layers).eval()
    reference.load_state_dict({
        k[len('features.'):]: v for k, v in state.items()
        if k.startswith('features.') and int(k.split('.')[1]) < 7})
    path = str(tmp_path / 'vgg16_bn.pth')
    torch.save(state, path)
    vgg = init_from(dict(type='VGG16', with_bn=True, out_indices=(0, )),
                    path).eval()
    assert isinstance(vgg, VGG16)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(vgg(x)[0], reference(x), atol=1e-4)


def test_pretrained_init_that_loads_part_of_a_module_stops(tmp_path):
    # a checkpoint of another network: nothing fits
    path = str(tmp_path / 'other.pth')
    torch.save({'conv1.weight': torch.rand(64, 3, 7, 7),
                'fc.weight': torch.rand(1000, 512)}, path)
    with pytest.raises(CheckpointError) as err:
        init_from(dict(type='VGG16'), path)
    text = str(err.value)
    assert 'other.pth does not fit VGG16' in text
    assert '26 of the 26 weights of VGG16 are not in it' in text
    assert 'stages.0.0.conv.weight' in text and 'conv1.weight' in text
    assert 'fc.weight' not in text  # the classifier is ignored
    # a torchvision VGG16 missing its last stage: named, unless allowed
    state = torchvision_vgg16_state(False)
    partial = {k: v for k, v in state.items()
               if not k.startswith(('features.24', 'features.26',
                                    'features.28'))}
    torch.save(partial, path)
    with pytest.raises(CheckpointError, match=r'6 of the 26 weights'):
        init_from(dict(type='VGG16'), path)
    vgg = init_from(dict(type='VGG16'), path, allow_partial=True)
    assert torch.equal(vgg.state_dict()['stages.0.0.conv.weight'],
                       state['features.0.weight'])

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

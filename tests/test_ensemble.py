"""CoSegEnsemble: the members' foreground probabilities averaged, its
checkpoint merged from theirs, and its configuration errors."""
import os.path as osp
import subprocess
import sys

import pytest
import torch

from cosegtools.engine import load_checkpoint_strict
from cosegtools.registry import MODELS
from cosegtools.utils import register_all_modules

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

MEMBER = """
model = dict(
    type='CoSegmentor',
    data_preprocessor=dict(
        type='CoSegDataPreProcessor', mean=[127.0] * 3, std={std},
        bgr_to_rgb=True, size_divisor=32),
    backbone=dict(type='EfficientNetLite', arch='lite0', pretrained=False,
                  out_indices=(4, )),
    decode_head=dict(
        type='{head}', in_channels=320, decoder_channels=(8, 8),
        norm_cfg=dict(type='BN'), {extra}))
"""
DOCS = dict(
    head='DOCSHead',
    extra='reduce_channels=8, max_displacement=2, fuse_channels=8')
DWXCORR = dict(head='DepthwiseXCorrHead', extra='fuse_channels=8')


def write_member(tmp_path, name, spec, std='[128.0] * 3'):
    path = tmp_path / f'{name}.py'
    path.write_text(MEMBER.format(std=std, **spec))
    return str(path)


def ensemble(members, **kwargs):
    register_all_modules()
    return MODELS.build(
        dict(
            type='CoSegEnsemble',
            members=[dict(config=m) for m in members],
            **kwargs))


def randomise(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():  # a map that varies in space
        for param in model.parameters():
            param.normal_(0, 0.5)
    return model.eval()


@pytest.fixture
def members(tmp_path):
    return [
        write_member(tmp_path, 'docs', DOCS),
        write_member(tmp_path, 'dwxcorr', DWXCORR)
    ]


def test_ensemble_averages_the_members_foreground(members):
    model = randomise(ensemble(members, weights=[3, 1]), 0)
    flat = torch.randn(4, 3, 64, 64)  # two pairs
    with torch.no_grad():
        probs, scores = model.predict_flat(flat, 2)
        fg = [m.predict_flat(flat, 2)[0][:, 1] for m in model.members]
    assert scores is None and probs.shape == (4, 2, 64, 64)
    expected = 0.75 * fg[0] + 0.25 * fg[1]
    assert torch.allclose(probs[:, 1], expected, atol=1e-6)
    assert torch.allclose(probs.sum(1), torch.ones(4, 64, 64), atol=1e-6)
    # the two members disagree: the mean is neither of them
    assert not torch.allclose(fg[0], fg[1], atol=1e-2)
    # group inference indexes the members' concatenated encodings
    with torch.no_grad():
        feats = model.encode(flat[:3])
        assert len(feats) == 2  # one stride-32 map per member
        related, _ = model.relate([f[[0, 1]] for f in feats], 2, (64, 64))
        direct, _ = model.predict_flat(flat[:2], 2)
    assert torch.allclose(related, direct, atol=1e-6)


def test_ensemble_checkpoint_is_merged_from_the_members(members, tmp_path):
    torch.save(
        dict(
            state_dict=randomise(ensemble(
                members[:1]), 1).members[0].state_dict()), tmp_path / 'a.pth')
    torch.save(
        dict(
            state_dict=randomise(ensemble(
                members[1:]), 2).members[0].state_dict()), tmp_path / 'b.pth')
    config = tmp_path / 'ens.py'
    config.write_text(f'model = dict(type="CoSegEnsemble", members=['
                      f'dict(config={members[0]!r}), '
                      f'dict(config={members[1]!r})])\n')
    tool = osp.join(REPO_ROOT, 'tools', 'model_converters',
                    'ensemble_checkpoint.py')
    out = tmp_path / 'merged.pth'
    subprocess.run([
        sys.executable, tool,
        str(config),
        str(tmp_path / 'a.pth'),
        str(tmp_path / 'b.pth'), '--out',
        str(out)
    ],
                   check=True,
                   cwd=REPO_ROOT)
    model = ensemble(members)
    load_checkpoint_strict(model, str(out))
    for member, name in zip(model.members, ('a.pth', 'b.pth')):
        theirs = torch.load(tmp_path / name)['state_dict']
        for key, value in member.state_dict().items():
            assert torch.equal(value, theirs[key]), key
    # one checkpoint for two members: one error line, nothing written
    proc = subprocess.run([
        sys.executable, tool,
        str(config),
        str(tmp_path / 'a.pth'), '--out',
        str(tmp_path / 'none.pth')
    ],
                          capture_output=True,
                          text=True,
                          cwd=REPO_ROOT)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and '2 members' in last, last
    assert not (tmp_path / 'none.pth').exists()


def test_ensemble_configuration_errors_name_the_problem(members, tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.py'):
        ensemble([members[0], str(tmp_path / 'missing.py')])
    other = write_member(tmp_path, 'other', DOCS, std='[1.0] * 3')
    with pytest.raises(ValueError, match='other.py normalises images'):
        ensemble([members[0], other])
    with pytest.raises(ValueError, match='one non-negative number'):
        ensemble(members, weights=[1.0])
    with pytest.raises(RuntimeError, match='cannot be trained'):
        ensemble(members).loss(torch.zeros(1, 2, 3, 32, 32), [])

"""Each supervised head of the toolbox trains from a config with
tools/train.py and tests with every group inference strategy (tiny runs on
the built-in synthetic data)."""
import os
import os.path as osp
import re

import pytest
from coseg_fixtures import REPO_ROOT, run_process, write_tiny_config
from mmengine.config import Config
from test_tools import PYTHON, run

HEADS = ['dwxcorr', 'cyclesegnet', 'cosegnet']


def write_head_config(directory, head):
    """The tiny synthetic config with the backbone and head of the CPU
    config of ``head``."""
    cfg = Config.fromfile(write_tiny_config(directory, iters=2, ckpt=2))
    model = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                 f'{head}_effnet-lite0.py')).model
    cfg.model.backbone = model.backbone
    cfg.model.backbone.pretrained = False
    cfg.model.decode_head = model.decode_head
    if head == 'cosegnet':
        cfg.train_dataloader.sampler.neg_ratio = 0.5
    path = osp.join(str(directory), f'tiny_{head}.py')
    cfg.dump(path)
    return path


def metric(log, name):
    return float(re.findall(rf'{name}: ([0-9.]+)', log)[-1])


@pytest.mark.parametrize('head', HEADS)
def test_head_trains_and_tests_with_group_strategies(head, tmp_path):
    config = write_head_config(tmp_path, head)
    work = str(tmp_path / 'work')
    log = run([PYTHON, 'tools/train.py', config, '--work-dir', work])
    assert 'Iter(train) [2/2]' in log
    ckpt = osp.join(work, 'iter_2.pth')
    for strategy, post in (('one_vs_rest', 'threshold'), ('uniform_groups',
                                                          'otsu')):
        log = run([
            PYTHON, 'tools/test.py', config, ckpt, '--work-dir', work,
            '--postprocess', post, '--cfg-options',
            'test_dataloader.sampler.group_size=None',
            f'model.test_cfg.group_inference.strategy={strategy}'
        ])
        assert 0 <= metric(log, 'mJ') <= 100
    if head == 'dwxcorr':
        check_other_models_checkpoint_is_refused(tmp_path, ckpt, work)


def check_other_models_checkpoint_is_refused(tmp_path, ckpt, work):
    """The DOCS tiny config with this head's checkpoint: tools/test.py and
    --resume stop with the mismatch instead of running a partly random
    model."""
    os.makedirs(tmp_path / 'docs')
    docs = write_tiny_config(tmp_path / 'docs', iters=2, ckpt=2)
    for cmd in ([PYTHON, 'tools/test.py', docs, ckpt, '--work-dir', work],
                [PYTHON, 'tools/train.py', docs, '--work-dir', work,
                 '--resume']):
        proc = run_process(
            cmd, cwd=REPO_ROOT, capture_output=True, text=True)
        assert proc.returncode != 0, cmd
        last = proc.stderr.strip().splitlines()[-1]
        assert 'does not fit the model' in last and 'decode_head.' in last
        assert 'Traceback' not in proc.stderr


def test_cosegnet_reports_decisions_on_mixed_pairs(tmp_path):
    config = write_head_config(tmp_path, 'cosegnet')
    work = str(tmp_path / 'work')
    run([PYTHON, 'tools/train.py', config, '--work-dir', work])
    log = run([
        PYTHON, 'tools/test.py', config,
        osp.join(work, 'iter_2.pth'), '--work-dir', work, '--cfg-options',
        'test_dataloader.sampler.type=CoSegPairSampler',
        'test_dataloader.sampler.neg_ratio=0.5',
        'test_dataloader.sampler.seed=0'
    ])
    assert 0 <= metric(log, 'decision_acc') <= 100
    assert 'decision_recall' in log
    # the decision threshold, chosen on val mixed pairs
    log = run([
        PYTHON, 'tools/analysis_tools/sweep_mask_gate.py', config,
        osp.join(work, 'iter_2.pth'), '--work-dir', work, '--gate',
        'DecisionGate'
    ])
    assert ' DecisionGate (it may cost' in log
    assert 'model.decode_head.decision_gate.threshold=' in log


def test_benchmark_compares_cached_and_recomputed_features(tmp_path):
    config = write_head_config(tmp_path, 'dwxcorr')
    text = run([
        PYTHON, 'tools/analysis_tools/benchmark.py', config, '--group-sizes',
        '4', '--size', '64', '64', '--warmup', '0', '--repeat', '1',
        '--strategy', 'all_tuples', '--compare-cache'
    ])
    rows = [line for line in text.splitlines() if 'tiny_dwxcorr' in line]
    assert len(rows) == 2
    assert 'cached features' in rows[0] and 'recomputed' in rows[1]

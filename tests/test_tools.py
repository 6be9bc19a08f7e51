"""End-to-end runs of the tools on CPU with the built-in synthetic data."""
import glob
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
import torch
from coseg_fixtures import (PYTHON, REPO_ROOT, run_process, write_class_folder,
                            write_tiny_config)



def run(args, cwd=REPO_ROOT, env=None, timeout=600):
    """Runs a command (a project script through the tool server), asserts
    that it succeeded and returns its stdout + stderr."""
    proc = run_process(args, cwd=cwd, env=env, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def final_state(work_dir, iters):
    ckpt = torch.load(osp.join(work_dir, f'iter_{iters}.pth'))
    return ckpt['state_dict']


def test_train_then_test_writes_masks_and_overlays(tmp_path):
    config = write_tiny_config(tmp_path, iters=4, ckpt=4)
    work = str(tmp_path / 'work')
    log = run([
        PYTHON, 'tools/train.py', config, '--work-dir', work,
        '--cfg-options', 'default_hooks.logger.interval=3'
    ])
    assert 'Iter(train) [3/4]' in log
    assert 'mean over classes' in log  # the per-class table
    # a short console start-up; the details stay in the run's log file
    start_up = log[:log.index('Iter(train)')].splitlines()
    assert len(start_up) < 60, '\n'.join(start_up)
    # the first iteration is logged, then every interval
    assert 'Iter(train) [1/4]' in log and 'Iter(train) [2/4]' not in log
    assert 'backbone_lr' in log and 'decode_head_lr' in log
    log_file = glob.glob(osp.join(work, '*', '*.log'))[0]
    with open(log_file) as f:
        details = f.read()
    for kept in ('System environment', 'Config:', 'paramwise_options'):
        assert kept in details and kept not in log
    out, show = str(tmp_path / 'masks'), str(tmp_path / 'show')
    log = run([
        PYTHON, 'tools/test.py', config,
        osp.join(work, 'iter_4.pth'), '--work-dir', work, '--out', out,
        '--show-dir', show
    ])
    assert 'mJ' in log
    masks = sorted(glob.glob(osp.join(out, '*', '*.png')))
    assert len(masks) == 8  # 4 classes x 2 test images, each written once
    overlays = sorted(glob.glob(osp.join(show, '*', '*.png')))
    assert len(overlays) == 8
    # synthetic images have no file: the overlay shows the packed input
    assert cv2.imread(overlays[0]).mean() > 20
    mask = cv2.imread(masks[0], cv2.IMREAD_UNCHANGED)
    assert mask.shape == (64, 64)
    assert set(np.unique(mask)) <= {0, 255}


def test_kill_and_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path):
    iters = 8
    config = write_tiny_config(tmp_path, iters=iters, ckpt=1)
    straight = str(tmp_path / 'straight')
    run([PYTHON, 'tools/train.py', config, '--work-dir', straight])
    killed = str(tmp_path / 'killed')
    proc = subprocess.Popen(
        [PYTHON, 'tools/train.py', config, '--work-dir', killed],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not osp.exists(osp.join(killed, 'iter_2.pth')):
        assert proc.poll() is None, 'training ended before it was killed'
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = {
        int(p.split('_')[-1][:-4])
        for p in glob.glob(osp.join(killed, 'iter_*.pth'))
    }
    assert max(done) < iters, 'the run finished before the kill'
    log = run(
        [PYTHON, 'tools/train.py', config, '--work-dir', killed, '--resume'])
    assert 'resumed' in log.lower() or 'Load checkpoint' in log
    a, b = final_state(straight, iters), final_state(killed, iters)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_resume_of_a_fine_tune_continues_its_own_run_not_load_from(
        tmp_path):
    """--resume with load_from set (a fine-tune) continues from the work
    dir's latest checkpoint; mmengine alone resumed from load_from."""
    config = write_tiny_config(tmp_path, iters=4, ckpt=2)
    start = str(tmp_path / 'start')
    run([PYTHON, 'tools/train.py', config, '--work-dir', start])
    load = 'load_from=' + osp.join(start, 'iter_4.pth')
    tune = str(tmp_path / 'tune')
    run([PYTHON, 'tools/train.py', config, '--work-dir', tune,
         '--cfg-options', load])
    straight = final_state(tune, 4)
    # as if killed after iteration 2
    os.remove(osp.join(tune, 'iter_4.pth'))
    with open(osp.join(tune, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(tune, 'iter_2.pth'))
    run([PYTHON, 'tools/train.py', config, '--work-dir', tune, '--resume',
         '--cfg-options', load])
    resumed = final_state(tune, 4)
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key


def test_a_load_from_checkpoint_of_another_model_stops_before_training(
        tmp_path):
    config = write_tiny_config(tmp_path, iters=1, ckpt=1)
    other = str(tmp_path / 'other_model.pth')
    torch.save({'state_dict': {'encoder.weight': torch.zeros(3, 3)}}, other)
    work_dir = str(tmp_path / 'work')
    # with --resume and no checkpoint in the work dir yet, the run starts
    # from load_from too, and the message says so
    for resume in ([], ['--resume']):
        proc = run_process([
            PYTHON, 'tools/train.py', config, '--work-dir', work_dir,
            *resume, '--cfg-options', f'load_from={other}'
        ])
        assert proc.returncode != 0
        last = (proc.stdout + proc.stderr).strip().splitlines()[-1]
        assert 'load_from does not fit' in last and 'other_model.pth' in last
        assert not glob.glob(osp.join(work_dir, 'iter_*.pth'))


def test_two_process_distributed_training_keeps_ranks_identical(tmp_path):
    config = write_tiny_config(tmp_path, iters=3, ckpt=3)
    with open(config, 'a') as f:
        f.write("custom_imports = dict(imports=['coseg_test_hooks'], "
                "allow_failed_imports=False)\n"
                "custom_hooks = [dict(type='DumpRankParametersHook')]\n")
    work = str(tmp_path / 'dist')
    env = dict(
        PYTHONPATH=osp.join(REPO_ROOT, 'tests') + os.pathsep +
        os.environ.get('PYTHONPATH', ''),
        OMP_NUM_THREADS='1')
    run([
        PYTHON, '-m', 'torch.distributed.run', '--standalone',
        '--nproc_per_node=2', 'tools/train.py', config, '--launcher',
        'pytorch', '--work-dir', work
    ],
        env=env)
    ranks = [torch.load(osp.join(work, f'rank{r}_params.pth')) for r in (0, 1)]
    assert ranks[0]['world_size'] == ranks[1]['world_size'] == 2
    start = torch.load(osp.join(work, 'iter_3.pth'))['state_dict']
    for key, value in ranks[0]['params'].items():
        assert torch.equal(value, ranks[1]['params'][key]), key
    # the checkpoint saved by rank 0 holds the same parameters
    for key, value in ranks[0]['params'].items():
        assert torch.equal(value, start[key]), key


def test_a_frozen_rank_ends_the_run_with_a_line_naming_the_rank(tmp_path):
    config = write_tiny_config(tmp_path, iters=50, ckpt=50)
    with open(config, 'a') as f:
        f.write("custom_imports = dict(imports=['coseg_test_hooks'], "
                "allow_failed_imports=False)\n"
                "custom_hooks = [dict(type='FreezeRankHook', rank=1, "
                "at_iter=2, kill_after=12)]\n"
                "env_cfg = dict(dist_cfg=dict(timeout=5))\n")
    env = dict(
        os.environ,
        PYTHONPATH=osp.join(REPO_ROOT, 'tests') + os.pathsep +
        os.environ.get('PYTHONPATH', ''),
        OMP_NUM_THREADS='1')
    proc = run_process([
        PYTHON, '-m', 'torch.distributed.run', '--standalone',
        '--nproc_per_node=2', 'tools/train.py', config, '--launcher',
        'pytorch', '--work-dir',
        str(tmp_path / 'frozen')
    ],
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode != 0
    assert 'error: rank 0 of 2: another rank did not answer' in proc.stderr, \
        proc.stderr[-3000:]


def test_dist_train_script_runs_on_cpu(tmp_path):
    config = write_tiny_config(tmp_path, iters=2, ckpt=2)
    work = str(tmp_path / 'script')
    run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', work],
        env=dict(PYTHON=PYTHON, OMP_NUM_THREADS='1'))
    assert osp.exists(osp.join(work, 'iter_2.pth'))


@pytest.mark.parametrize('gate',
                         ['MaskConfidenceGate', 'ObjectSimilarityGate'])
def test_mask_gate_sweep_chooses_a_threshold_on_val(tmp_path, gate):
    config = write_tiny_config(tmp_path, iters=2, ckpt=2)
    work = str(tmp_path / 'work')
    run([PYTHON, 'tools/train.py', config, '--work-dir', work])
    log = run([
        PYTHON, 'tools/analysis_tools/sweep_mask_gate.py', config,
        osp.join(work, 'iter_2.pth'), '--work-dir', work, '--gate', gate
    ])
    assert 'chosen threshold' in log and 'ungated_neg_empty' in log
    table = log[log.index(f' {gate} (it may cost'):log.
                index('chosen threshold')]
    assert table.count('chosen') == 1
    assert f'model.test_cfg.mask_gate.type={gate}' in log


def test_mask_gate_sweep_rejects_an_unknown_gate(tmp_path):
    config = write_tiny_config(tmp_path, iters=2, ckpt=2)
    checkpoint = tmp_path / 'fake.pth'
    checkpoint.write_bytes(b'')
    # not a gate; and a model without a decision gate has none to sweep
    for gate, named in (('GroupInference', "'GroupInference'"),
                        ('DecisionGate', 'decision_gate')):
        proc = run_process([
            PYTHON, 'tools/analysis_tools/sweep_mask_gate.py', config,
            str(checkpoint), '--gate', gate
        ])
        assert proc.returncode == 2, proc.stderr[-2000:]
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith('error: ') and named in last, last


def test_plugin_head_from_outside_the_package_trains(tmp_path):
    config = osp.join(
        REPO_ROOT, 'projects', 'example_head', 'configs',
        'channel-attention_effnet-lite0_1xb8-200_synthetic-pair-128x128.py')
    work = str(tmp_path / 'plugin')
    log = run([
        PYTHON, 'tools/train.py', config, '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2'
    ])
    assert 'Iter(train) [2/2]' in log
    state = torch.load(osp.join(work, 'iter_2.pth'))['state_dict']
    assert 'decode_head.attention.0.weight' in state


def test_split_tool_reproduces_the_shipped_voc_split(voc_data_root, tmp_path):
    out = str(tmp_path / 'splits')
    run([
        PYTHON, 'tools/misc/make_splits.py', voc_data_root, '--seed', '0',
        '--out-dir', out
    ])
    for split in ('train', 'val', 'test'):
        with open(osp.join(out, f'{split}.txt')) as f:
            mine = f.read()
        with open(osp.join(voc_data_root, 'splits', f'{split}.txt')) as f:
            shipped = f.read()
        assert mine == shipped, split


def test_print_config_and_browse_dataset(tmp_path):
    config = write_tiny_config(tmp_path)
    text = run([PYTHON, 'tools/misc/print_config.py', config])
    assert "type='DOCSHead'" in text
    out = str(tmp_path / 'browse')
    run([
        PYTHON, 'tools/misc/browse_dataset.py', config, '--output-dir', out,
        '--num-groups', '2'
    ])
    pictures = sorted(glob.glob(osp.join(out, '*.png')))
    assert len(pictures) == 2
    assert cv2.imread(pictures[0]).shape[1] > 2 * 64  # two images side by side


def test_benchmark_prints_a_table(tmp_path):
    config = write_tiny_config(tmp_path)
    text = run([
        PYTHON, 'tools/analysis_tools/benchmark.py', config, '--group-sizes',
        '2', '3', '--size', '64', '64', '--warmup', '1', '--repeat', '1',
        '--profile', '1'
    ])
    rows = [line for line in text.splitlines()
            if line.startswith('| tiny_synthetic')]
    assert len(rows) == 2
    # one profile table per group size, the top-level modules in it
    assert text.count('time per submodule') == 2
    assert '| backbone ' in text and '| decode_head ' in text
    assert text.count('| (model) ') == 2 and '| 100.0 ' in text
    assert '| 3 ' in rows[1]
    header = next(line for line in text.splitlines() if '| config' in line)
    header = [c.strip() for c in header.split('|')]
    for row in rows:
        cells = dict(zip(header, [c.strip() for c in row.split('|')]))
        # the model's time as a multiple of its bare backbone's (the times
        # are printed to 0.1 ms, the ratio to 0.01)
        model, backbone = (float(cells['ms / group']),
                           float(cells['backbone ms / group']))
        slack = model / backbone * (0.05 / model + 0.05 / backbone) + 0.006
        assert abs(float(cells['x backbone']) - model / backbone) < slack


def test_benchmark_module_timer_nests_and_counts_calls():
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'analysis_tools'))
    from benchmark import ModuleTimer
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 8),
        torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU()))
    timer = ModuleTimer(model, depth=2)
    for _ in range(3):
        model(torch.randn(2, 8))
    assert timer.calls == {'0': 3, '1': 3, '1.0': 3, '1.1': 3}
    assert timer.seconds['1'] >= timer.seconds['1.0'] + timer.seconds['1.1']
    timer.remove()
    model(torch.randn(2, 8))
    assert timer.calls['0'] == 3
    top = ModuleTimer(model, depth=1)
    model(torch.randn(2, 8))
    assert top.calls == {'0': 1, '1': 1}


def test_inference_api_and_demo_on_a_folder(tmp_path):
    from cosegtools.apis import cosegment, init_model
    from cosegtools.datasets import SyntheticCoSegDataset
    config = write_tiny_config(tmp_path, iters=2, ckpt=2)
    work = str(tmp_path / 'work')
    run([PYTHON, 'tools/train.py', config, '--work-dir', work])
    folder = tmp_path / 'folder'
    folder.mkdir()
    ds = SyntheticCoSegDataset(
        num_classes=4,
        images_per_class=3,
        num_distractors=1,
        img_size=(48, 40),
        pipeline=[])
    info = ds.get_group_info([0, 1, 2])
    for i, img in enumerate(info['img']):
        cv2.imwrite(str(folder / f'{i}.png'), img)
    model = init_model(config, osp.join(work, 'iter_2.pth'))
    masks = cosegment(model, str(folder))
    assert [m.shape for m in masks] == [(48, 40)] * 3
    assert all(set(np.unique(m)) <= {0, 1} for m in masks)
    pairs = cosegment(model, [str(folder / '0.png'), str(folder / '1.png')])
    assert len(pairs) == 2
    with pytest.raises(ValueError, match='at least 2'):
        cosegment(model, [str(folder / '0.png')])
    out = str(tmp_path / 'demo')
    run([
        PYTHON, 'demo/image_demo.py',
        str(folder), '--config', config, '--checkpoint',
        osp.join(work, 'iter_2.pth'), '--out-dir', out
    ])
    assert len(glob.glob(osp.join(out, 'masks', '*.png'))) == 3
    assert len(glob.glob(osp.join(out, 'overlays', '*.png'))) == 3
    # a zero-byte image: one line naming it, before any mask is written
    empty = folder / 'empty.png'
    empty.write_bytes(b'')
    cmd = [
        PYTHON, 'demo/image_demo.py',
        str(folder / '0.png'),
        str(empty), '--config', config, '--checkpoint',
        osp.join(work, 'iter_2.pth'), '--out-dir',
        str(tmp_path / 'demo_bad')
    ]
    proc = run_process(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and str(empty) in last, last
    assert 'Traceback' not in proc.stderr
    assert not osp.exists(str(tmp_path / 'demo_bad'))
    proc = run_process(
        cmd + ['--debug'], cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 1 and 'Traceback' in proc.stderr


def test_score_masks_scores_saved_masks_and_checks_them_first(tmp_path):
    root = write_class_folder(str(tmp_path / 'data'), per_class=3)
    pred = tmp_path / 'pred'
    for cls in ('Cat', 'Dog'):
        os.makedirs(pred / cls)
        for path in sorted(glob.glob(osp.join(root, cls, 'masks', '*'))):
            mask = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
            if cls == 'Dog':  # the left half of each object: J 50
                mask[:, 14:] = 0
            cv2.imwrite(str(pred / cls / osp.basename(path)), mask)
    tool = 'tools/analysis_tools/score_masks.py'
    out = run([PYTHON, tool, root, '--pred-dir', str(pred)])
    rows = {
        line.split('|')[1].strip(): line.split('|')[3:5]
        for line in out.splitlines() if line.startswith('|')
    }
    assert [float(v) for v in rows['Cat']] == [100.0, 100.0]
    # 6 x (10 + i) pixels wrong out of 40 x 48, i = 0, 1, 2
    assert [float(v) for v in rows['Dog']] == [96.56, 50.0]
    assert float(rows['mean over classes'][1]) == 75.0
    # a split file selects the images
    with open(osp.join(root, 'splits', 'cat.txt'), 'w') as f:
        f.write('Cat/img_0000\n')
    out = run([
        PYTHON, tool, root, '--pred-dir',
        str(pred), '--split-file', 'splits/cat.txt'
    ])
    assert '| Cat ' in out and '| Dog ' not in out
    # baselines: object rows 5 to 15 + i, columns 8 to 20 of 40 x 48; the
    # central box is rows 10 to 30, columns 12 to 36
    out = run([PYTHON, tool, root, '--baseline', 'whole-image'])
    rows = {
        line.split('|')[1].strip(): line.split('|')[3:5]
        for line in out.splitlines() if line.startswith('|')
    }
    assert abs(float(rows['Cat'][1]) - 100 * 132 / 1920) < 0.01
    out = run([PYTHON, tool, root, '--baseline', 'central-box'])
    rows = {
        line.split('|')[1].strip(): line.split('|')[3:5]
        for line in out.splitlines() if line.startswith('|')
    }
    box_j = np.mean(
        [8 * (5 + i) / (12 * (10 + i) + 480 - 8 * (5 + i)) for i in range(3)])
    assert abs(float(rows['Dog'][1]) - 100 * box_j) < 0.01
    # a missing prediction and a wrong size are named before any scoring
    os.remove(pred / 'Dog' / 'img_1001.png')
    proc = run_process([PYTHON, tool, root, '--pred-dir',
                           str(pred)],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0 and 'img_1001.png' in proc.stderr
    assert '1 of the 6 selected images lack a file' in proc.stderr
    cv2.imwrite(
        str(pred / 'Dog' / 'img_1001.png'), np.zeros((10, 10), np.uint8))
    proc = run_process([PYTHON, tool, root, '--pred-dir',
                           str(pred)],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0 and 'differs from its ground truth' in (
        proc.stderr)


def test_score_masks_grabcut_box_baseline_finds_a_distinct_central_object(
        tmp_path):
    # a red object inside the centred 80% box on a grey noisy background
    root = tmp_path / 'data'
    rng = np.random.default_rng(0)
    for cls in ('Cat', 'Dog'):
        os.makedirs(root / cls / 'images')
        os.makedirs(root / cls / 'masks')
        for i in range(2):
            img = rng.integers(90, 160, size=(60, 80, 3), dtype=np.uint8)
            mask = np.zeros((60, 80), np.uint8)
            mask[10:40, 12 + 5 * i:50] = 255
            img[mask > 0] = (30, 30, 220)
            cv2.imwrite(str(root / cls / 'images' / f'{i}.png'), img)
            cv2.imwrite(str(root / cls / 'masks' / f'{i}.png'), mask)
    tool = 'tools/analysis_tools/score_masks.py'
    out = run([PYTHON, tool, str(root), '--baseline', 'grabcut-box'])
    rows = {
        line.split('|')[1].strip(): line.split('|')[3:5]
        for line in out.splitlines() if line.startswith('|')
    }
    # the central half-box alone would score J below 60 here
    assert float(rows['mean over classes'][1]) > 95
    # an image that does not match its mask is named
    cv2.imwrite(str(root / 'Dog' / 'images' / '1.png'),
                np.zeros((10, 10, 3), np.uint8))
    proc = run_process(
        [PYTHON, tool, str(root), '--baseline', 'grabcut-box'],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True)
    assert proc.returncode != 0 and 'Dog/1: image (10, 10)' in proc.stderr


def test_profile_train_step_prints_every_phase(tmp_path):
    config = write_tiny_config(tmp_path)
    out = run([
        PYTHON, 'tools/analysis_tools/profile_train_step.py', config,
        '--steps', '1', '--warmup', '0', '--top', '3'
    ])
    for phase in ('data loading (1 batch)', 'backbone forward',
                  'head forward + loss', 'backward', 'optimizer step'):
        assert f'| {phase} ' in out, phase
    ms = [
        float(line.split('|')[2]) for line in out.splitlines()
        if line.startswith('| ') and line.split('|')[1].strip() in (
            'backbone forward', 'backward', 'total')
    ]
    assert len(ms) == 3 and 0 < ms[0] < ms[2] and 0 < ms[1] < ms[2]
    assert 'self ms / iteration' in out


def test_profile_train_step_with_compiled_backbone_and_head(tmp_path):
    config = write_tiny_config(tmp_path)
    out = run([
        PYTHON, 'tools/analysis_tools/profile_train_step.py', config,
        '--steps', '1', '--warmup', '1', '--top', '100', '--compile'
    ], env=dict(OMP_NUM_THREADS='1'))
    assert 'backbone and head compiled with torch.compile' in out
    assert '| backward ' in out
    # compiled code runs as compiled graphs, which the profiler names
    assert 'Torch-Compiled Region' in out or 'CompiledFunction' in out
    proc = run_process([
        PYTHON, 'tools/analysis_tools/profile_train_step.py', config,
        '--warmup', '0', '--compile'
    ], cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert '--compile needs --warmup >= 1' in proc.stderr


def test_train_all_script_trains_tests_and_tabulates(tmp_path):
    root = write_class_folder(str(tmp_path / 'data'), per_class=4)
    out = str(tmp_path / 'all')
    config = 'configs/docs/docs_effnet-lite0_1xb8-1k_voc-pair-224x224.py'
    log = run([
        'bash', 'tools/benchmarks/train_all.sh', root, '--iters', '2',
        '--out', out, config
    ],
              env=dict(PYTHON=PYTHON, OMP_NUM_THREADS='1'))
    with open(osp.join(out, 'results.md')) as f:
        rows = [line.split('|')[1:-1] for line in f if line.startswith('|')]
    assert len(rows) == 3  # header, rule, one config
    name, iters, seconds, mp, mj = (c.strip() for c in rows[2][:5])
    assert name == 'docs_effnet-lite0_1xb8-1k_voc-pair-224x224'
    assert iters == '2' and int(seconds) > 0
    assert 0 <= float(mj) <= 100 and 0 <= float(mp) <= 100
    assert f'{name}: test mJ {mj}' in log
    # bad input stops before any training
    for option, value in (('--iters', 'x'), ('--time-budget', '0')):
        proc = run_process(
            ['bash', 'tools/benchmarks/train_all.sh', root, option, value],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHON=PYTHON))
        assert proc.returncode == 2, option
        assert f'{option} must be a positive' in proc.stderr


def test_train_all_script_says_when_a_test_log_has_no_metrics(tmp_path):
    # PYTHON stands in for the interpreter (the script's own hook): training
    # writes a checkpoint, testing succeeds but prints no metrics; with
    # --parallel the run used to end with status 1 and no message at all
    root = write_class_folder(str(tmp_path / 'data'), per_class=4)
    fake = tmp_path / 'python'
    fake.write_text(
        '#!/usr/bin/env bash\n'
        'if [ "$1" = tools/train.py ]; then\n'
        '    mkdir -p "$4"; touch "$4/iter_2.pth"\n'
        '    echo "$4/iter_2.pth" > "$4/last_checkpoint"\n'
        'fi\n'
        'echo "no evaluation here"\n')
    fake.chmod(0o755)
    config = 'configs/docs/docs_effnet-lite0_1xb8-1k_voc-pair-224x224.py'
    for mode in ([], ['--parallel']):
        proc = run_process(
            ['bash', 'tools/benchmarks/train_all.sh', root, '--out',
             str(tmp_path / 'all'), *mode, config],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHON=str(fake)))
        assert proc.returncode == 1, mode
        assert 'no metrics line in' in proc.stderr, mode
        assert 'docs_effnet-lite0_1xb8-1k_voc-pair-224x224.test.log' in (
            proc.stderr), mode


def test_smoke_paper_configs_runs_a_config_from_random_weights(tmp_path):
    # the paper-setting CoSegNet config names an ImageNet checkpoint that is
    # not there: the smoke run switches the init off and still trains; a
    # config that fails gets its row and does not stop the others
    root = write_class_folder(str(tmp_path / 'data'), per_class=4)
    out = str(tmp_path / 'smoke')
    config = 'configs/cosegnet/cosegnet_vgg16_1xb3-100k_voc-pair-224x224.py'
    broken = str(tmp_path / 'broken.py')
    with open(broken, 'w') as f:
        f.write(f"_base_ = [{osp.join(REPO_ROOT, config)!r}]\n"
                "model = dict(backbone=dict(type='NoSuchBackbone'))\n")
    proc = run_process([
        'bash', 'tools/benchmarks/smoke_paper_configs.sh', root, '--iters',
        '1', '--out', out, broken, config
    ],
                       cwd=REPO_ROOT,
                       capture_output=True,
                       text=True,
                       env=dict(os.environ, PYTHON=PYTHON))
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(osp.join(out, 'smoke.md')) as f:
        rows = [[c.strip() for c in line.split('|')[1:-1]] for line in f
                if line.startswith('|')]
    assert len(rows) == 4  # header, rule, two configs
    assert rows[2][0] == 'broken' and rows[2][4].startswith('failed, see')
    name, iters, seconds, memory, result = rows[3]
    assert name == 'cosegnet_vgg16_1xb3-100k_voc-pair-224x224'
    assert iters == '1' and float(seconds) > 0 and result == 'ok'
    assert memory == '-'  # no GPU
    assert not glob.glob(osp.join(out, name, '*.pth'))  # no checkpoint


def test_overlay_outlines_the_mask_in_a_colour_that_contrasts():
    from cosegtools.engine.hooks.output_hook import overlay
    image = np.full((40, 50, 3), 128, np.uint8)
    mask = np.zeros((40, 50), np.uint8)
    mask[10:30, 15:35] = 1
    image[mask > 0] = (0, 0, 230)  # a red object (BGR)
    out = overlay(image, mask)
    outline = out[10, 20].astype(int)
    assert tuple(outline) != (0, 0, 230)
    # a red tint on a red object would stay close to its red
    assert np.abs(outline - (0, 0, 230)).sum() > 300
    assert (out[20, 25] != image[20, 25]).any()  # the fill tints the inside
    assert (out[0, 0] == image[0, 0]).all()  # the background is unchanged
    assert (out[20, 25] != outline).any()  # the fill is not opaque
    # a non-contiguous image (a permuted tensor's numpy view) works too
    strided = np.ascontiguousarray(image.transpose(2, 0, 1)).transpose(1, 2, 0)
    assert not strided.flags['C_CONTIGUOUS']
    assert (overlay(strided, mask) == out).all()


def draw_separable_classes(seed, num_classes, channels, spread,
                           train_per_class, test_per_class):
    """Descriptors of classes around random centres (Gaussian noise of
    ``spread``): train descriptors and classes, test descriptors, the test
    pairs i < j (``np.triu_indices`` order) and which of them share a
    class."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_classes, channels, generator=generator)

    def draw(per_class):
        classes = np.repeat(np.arange(num_classes), per_class)
        noise = torch.randn(len(classes), channels, generator=generator)
        return centres[classes] + spread * noise, classes

    train, train_classes = draw(train_per_class)
    test, test_classes = draw(test_per_class)
    first, second = np.triu_indices(len(test_classes), 1)
    return (train, train_classes, test, first, second,
            test_classes[first] == test_classes[second])


def test_pair_probe_balanced_accuracy_of_the_best_threshold():
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'analysis_tools'))
    from pair_similarity_probe import best_balanced_accuracy
    positive = np.array([True, True, False, False, False])
    # separable: a threshold between 0.6 and 0.8 gets every pair right
    assert best_balanced_accuracy(
        np.array([0.9, 0.8, 0.6, 0.2, 0.1]), positive) == 100.0
    # a negative above both positives: best is to call the top 3 positive
    # (TPR 1, TNR 2/3) -> (1 + 2/3) / 2
    got = best_balanced_accuracy(np.array([0.8, 0.7, 0.9, 0.2, 0.1]), positive)
    assert abs(got - 100 * (1 + 2 / 3) / 2) < 1e-9
    # no signal (every negative above every positive): calling none
    # positive, or all, is the best, 50 %
    assert best_balanced_accuracy(
        np.array([0.1, 0.2, 0.7, 0.8, 0.9]), positive) == 50.0


def test_pair_probe_pools_over_the_mask_of_a_pair_its_gate_rejects(
        tmp_path):
    """The probe's predicted-mask pooling uses the segmentor's masks, not
    its decisions: a gate that rejects an image paired with itself must not
    empty the mask the features are pooled over."""
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'analysis_tools'))
    from argparse import Namespace

    from pair_similarity_probe import describe, load_model, to_input

    from cosegtools.registry import MODELS
    from cosegtools.utils import load_run_config
    config = osp.join(REPO_ROOT, 'configs', 'cosegnet',
                      'cosegnet_effnet-lite0_1xb8-1k_voc-pair-224x224.py')
    model = MODELS.build(load_run_config(config).model)
    model.init_weights()
    # the decision's last layer says "no common object" to every pair
    last = model.decode_head.decision_gate.decision[-1]
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.constant_(last.bias, -50.0)
    checkpoint = str(tmp_path / 'rejecting_gate.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)

    segmentor, backbone, mean, std = load_model(
        Namespace(config=config, checkpoint=checkpoint, arch='lite0'))
    image = np.random.default_rng(0).integers(
        0, 255, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 1
    x = to_input(image, mean, std)
    with torch.no_grad():
        feats = segmentor.extract_feat(torch.cat([x, x]))
        scores = segmentor.decode_head.predict_with_scores(
            feats, 2, (64, 64))[1]
    assert (scores < 1e-6).all()  # the gate does reject the pair
    predicted = describe(backbone, mean, std, image, mask,
                         segmentor)['predicted']
    assert torch.isfinite(predicted).all()
    assert predicted.abs().sum() > 0


def test_pair_probe_trains_a_gate_that_tells_the_classes_apart():
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'analysis_tools'))
    from pair_similarity_probe import (balanced_accuracy, gate_probabilities,
                                       train_gate)

    from cosegtools.utils import UsageError
    train, train_classes, test, first, second, positive = \
        draw_separable_classes(0, 4, 32, 0.5, 12, 5)
    # pairs in np.triu_indices order: (0, 1), (0, 2), ... of the test set
    untrained = train_gate(train, train_classes, iters=0)
    probability = gate_probabilities(untrained, test)
    assert probability.shape == (len(first), )
    # the probability of (i, j) is the gate's decision on that pair
    with torch.no_grad():
        embeddings = untrained.embed(test[:, :, None, None])
        pair = torch.cat([(embeddings[0] - embeddings[7]).abs(),
                          embeddings[0] * embeddings[7]])
        expected = torch.sigmoid(untrained.decision(pair[None]))[0, 0]
    index = int(np.flatnonzero((first == 0) & (second == 7))[0])
    assert abs(probability[index] - float(expected)) < 1e-6
    trained = train_gate(train, train_classes, iters=300)
    accuracy = balanced_accuracy(
        gate_probabilities(trained, test) > 0.5, positive)
    assert accuracy > 95
    assert balanced_accuracy(probability > 0.5, positive) < 80
    with pytest.raises(UsageError, match='two classes'):
        train_gate(train[:3], np.array([0, 0, 1]), iters=1)


def test_pair_probe_class_classifier_calls_pairs_of_one_class():
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'analysis_tools'))
    from pair_similarity_probe import (balanced_accuracy,
                                       best_balanced_accuracy,
                                       same_class_probabilities,
                                       train_classifier)
    train, train_classes, test, first, second, positive = \
        draw_separable_classes(1, 5, 16, 0.6, 10, 4)
    untrained = train_classifier(train, train_classes, iters=0)
    both, agree = same_class_probabilities(untrained, test)
    assert both.shape == agree.shape == (len(first), )
    # pair (2, 9): the dot product of the two images' class probabilities
    with torch.no_grad():
        probs = untrained(test).softmax(dim=1)
    index = int(np.flatnonzero((first == 2) & (second == 9))[0])
    assert abs(both[index] - float(probs[2] @ probs[9])) < 1e-6
    assert agree[index] == bool(probs[2].argmax() == probs[9].argmax())
    assert best_balanced_accuracy(both, positive) < 85
    trained = train_classifier(train, train_classes, iters=200)
    both, agree = same_class_probabilities(trained, test)
    assert balanced_accuracy(agree, positive) > 95
    assert best_balanced_accuracy(both, positive) > 95


def test_two_stage_script_trains_both_stages_scores_and_resumes(tmp_path):
    root = write_class_folder(str(tmp_path / 'data'), per_class=4)
    out = str(tmp_path / 'two')
    args = [
        'bash', 'tools/benchmarks/train_docs_two_stage.sh', root, '--iters',
        '2,1', '--seed', '3', '--out', out
    ]
    env = dict(PYTHON=PYTHON, OMP_NUM_THREADS='1')
    log = run(args, env=env)
    stage1 = osp.join(out, 'stage1_288')
    stage2 = osp.join(
        out, 'docs-lovasz-ema_effnet-lite2_1xb8-2500-ft800_voc-pair-320x320')
    assert osp.isfile(osp.join(stage1, 'iter_2.pth'))
    assert osp.isfile(osp.join(stage2, 'iter_1.pth'))
    # the fine-tune starts from stage 1's checkpoint, both with seed 3
    with open(osp.join(out, 'logs', 'stage2.train.log')) as f:
        stage2_log = f.read()
    assert f'Load checkpoint from {stage1}/best_mJ_iter_2.pth' in stage2_log
    assert 'seed 3,' in stage2_log
    with open(osp.join(out, 'results_test.md')) as f:
        rows = [line.split('|')[1:-1] for line in f if line.startswith('|')]
    assert len(rows) == 2 + 5
    cells = {r[0].strip(): [c.strip() for c in r[1:]] for r in rows[2:]}
    mixed = cells['mixed pairs at 0.5']
    assert 0 <= float(mixed[5]) <= 100 and 0 <= float(mixed[4]) <= 100
    for name in ('pairs at 0.5', 'whole classes at 0.5', 'pairs, Otsu',
                 'whole classes, Otsu'):
        assert 0 <= float(cells[name][1]) <= 100, name
        assert cells[name][5] == '-', name  # no negative pairs there
        assert f'{name}: test mJ {cells[name][1]}' in log
    # a second run skips the finished stages; a stopped stage resumes;
    # scoring val writes its own table and keeps the test one
    os.remove(osp.join(stage2, 'finished'))
    log = run(args + ['--split', 'val'], env=env)
    assert 'stage1: finished before, skipped' in log
    assert '--resume' in log.split('stage2: training')[1].splitlines()[0]
    assert 'pairs at 0.5: val mJ' in log
    with open(osp.join(out, 'results_val.md')) as f:
        assert f.readline().startswith('| val setting (flip) |')
    with open(osp.join(out, 'results_test.md')) as f:
        assert [line.split('|')[1:-1] for line in f
                if line.startswith('|')] == rows
    # bad input stops before any training
    for option, value, message in (
        ('--iters', '2', '--iters must be two positive integers'),
        ('--seed', 'x', '--seed must be a non-negative integer'),
        ('--split', 'train', '--split must be val or test'),
        ('--fine-tune', 'nope.py', 'fine-tune config nope.py not found')):
        proc = run_process(
            ['bash', 'tools/benchmarks/train_docs_two_stage.sh', root,
             option, value, '--out', str(tmp_path / 'bad')],
            cwd=REPO_ROOT, capture_output=True, text=True,
            env=dict(os.environ, PYTHON=PYTHON))
        assert proc.returncode == 2, option
        assert message in proc.stderr, option
        assert not osp.exists(str(tmp_path / 'bad' / 'stage1_288')), option

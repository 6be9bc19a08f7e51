"""Helpers shared by the tests: synthetic class-folder data written to disk,
the real PASCAL-VOC co-seg set when available, a tiny training config, and
tool runs in processes of their own."""
import atexit
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile

import cv2
import numpy as np

import cosegtools  # noqa: F401  (stack work-arounds before mmseg imports)
from cosegtools.utils import register_all_modules

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SYNTHETIC_CONFIG = osp.join(
    REPO_ROOT, 'configs/docs/docs-s16_effnet-lite0_1xb8-600_synthetic-pair-'
    '128x128.py')

register_all_modules()

PYTHON = sys.executable
_server = None


def _tool_server():
    """The tests' tool server (tests/tool_server.py), started once."""
    global _server
    if _server is None or _server.poll() is not None:
        _server = subprocess.Popen(
            [PYTHON, osp.join(REPO_ROOT, 'tests', 'tool_server.py')],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT)
        ready = _server.stdout.readline()
        if not ready or not json.loads(ready).get('ready'):
            raise RuntimeError('the tests\' tool server did not start')
        atexit.register(_server.kill)
    return _server


def run_process(args,
                cwd=REPO_ROOT,
                env=None,
                timeout=600,
                capture_output=True,
                text=True):
    """``subprocess.run(args, capture_output=True, text=True)`` with the
    environment updated by ``env``; a Python script of the project
    (``[PYTHON, 'tools/x.py', ...]``) runs in a process forked from the tool
    server, which has the heavy imports done, the rest as a new process.
    Output is always captured as text (the two flags are for symmetry with
    ``subprocess.run``)."""
    full_env = dict(os.environ, **(env or {}))
    if len(args) < 2 or args[0] != PYTHON or not args[1].endswith('.py'):
        return subprocess.run(
            args,
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout)
    server = _tool_server()
    with tempfile.TemporaryDirectory() as tmp:
        out, err = osp.join(tmp, 'stdout'), osp.join(tmp, 'stderr')
        request = dict(
            argv=[str(a) for a in args[1:]],
            cwd=str(cwd),
            env=full_env,
            stdout=out,
            stderr=err,
            timeout=timeout)
        server.stdin.write(json.dumps(request) + '\n')
        server.stdin.flush()
        reply = server.stdout.readline()
        if not reply:
            raise RuntimeError('the tests\' tool server stopped')
        code = json.loads(reply)['returncode']
        if code == -9:
            raise subprocess.TimeoutExpired(args, timeout)
        with open(out) as f_out, open(err) as f_err:
            return subprocess.CompletedProcess(args, code, f_out.read(),
                                               f_err.read())


def voc_root():
    """The PASCAL-VOC co-seg set: $COSEG_VOC_ROOT, else ../shared/data."""
    candidates = [
        os.environ.get('COSEG_VOC_ROOT', ''),
        osp.join(REPO_ROOT, '..', 'shared', 'data', 'pascal_voc_coseg'),
    ]
    for path in candidates:
        if path and osp.isdir(osp.join(path, 'splits')):
            return osp.abspath(path)
    return None


def write_class_folder(root,
                       classes=('Cat', 'Dog'),
                       per_class=3,
                       size=(40, 48)):
    """A tiny valid class-folder dataset with splits; returns its root."""
    rng = np.random.default_rng(0)
    lines = []
    for c, name in enumerate(classes):
        os.makedirs(osp.join(root, name, 'images'), exist_ok=True)
        os.makedirs(osp.join(root, name, 'masks'), exist_ok=True)
        for i in range(per_class):
            stem = f'img_{c}{i:03d}'
            img = rng.integers(0, 255, size=(*size, 3), dtype=np.uint8)
            mask = np.zeros(size, np.uint8)
            mask[5:5 + 10 + i, 8:20] = 255
            cv2.imwrite(osp.join(root, name, 'images', stem + '.jpg'), img)
            cv2.imwrite(osp.join(root, name, 'masks', stem + '.png'), mask)
            lines.append(f'{name}/{stem}')
    os.makedirs(osp.join(root, 'splits'), exist_ok=True)
    for split in ('train', 'val', 'test'):
        with open(osp.join(root, 'splits', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return root


TINY_CONFIG = '''
_base_ = [{base!r}]
_small = dict(num_classes=4, num_distractors=1, img_size=(64, 64))
train_dataloader = dict(
    batch_size=2, dataset=dict(images_per_class=3, **_small))
val_dataloader = dict(dataset=dict(images_per_class=2, **_small))
test_dataloader = dict(dataset=dict(images_per_class=2, **_small))
train_cfg = dict(max_iters={iters}, val_interval={iters})
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval={ckpt}, max_keep_ckpts=-1, save_best=None))
'''


def write_tiny_config(directory, iters=4, ckpt=2, base=SYNTHETIC_CONFIG):
    path = osp.join(str(directory), 'tiny_synthetic.py')
    with open(path, 'w') as f:
        f.write(TINY_CONFIG.format(base=base, iters=iters, ckpt=ckpt))
    return path


def write_plain_image(path, size=(40, 60)):
    os.makedirs(osp.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.full((*size, 3), 128, np.uint8))


def write_flo(path, flow):
    """A Middlebury .flo file of an (H, W, 2) flow."""
    h, w = flow.shape[:2]
    with open(path, 'wb') as f:
        np.array([202021.25], np.float32).tofile(f)
        np.array([w, h], np.int32).tofile(f)
        flow.astype(np.float32).tofile(f)


def write_tss_pair(root, name, shift=(3.0, -2.0)):
    """A TSS pair folder: 40x60 images, a 20x24 object box in both masks,
    a constant flow ``shift`` on it (unknown elsewhere)."""
    folder = osp.join(root, name)
    os.makedirs(folder)
    for k in (1, 2):
        write_plain_image(osp.join(folder, f'image{k}.png'), (40, 60))
    mask = np.zeros((40, 60), np.uint8)
    mask[10:30, 20:44] = 255
    cv2.imwrite(osp.join(folder, 'mask1.png'), mask)
    cv2.imwrite(osp.join(folder, 'mask2.png'), mask)
    flow = np.full((40, 60, 2), 1e10, np.float32)
    flow[mask > 0] = shift
    write_flo(osp.join(folder, 'flow1.flo'), flow)
    return root


def write_pf_pascal(root):
    """One PF-PASCAL pair in the CNNGeometric CSV format."""
    write_plain_image(osp.join(root, 'JPEGImages', 'a.jpg'))
    write_plain_image(osp.join(root, 'JPEGImages', 'b.jpg'))
    with open(osp.join(root, 'test_pairs_pf_pascal.csv'), 'w') as f:
        f.write('source_image,target_image,class,XA,YA,XB,YB\n')
        f.write('JPEGImages/a.jpg,JPEGImages/b.jpg,3,1;2;3,4;5;6,'
                '10;20;40,1;2;11\n')
    return root


def write_pf_willow(root):
    """One PF-WILLOW pair with 2 keypoints in its CSV format."""
    write_plain_image(osp.join(root, 'PF-dataset', 'car(G)', 'a.png'))
    write_plain_image(osp.join(root, 'PF-dataset', 'car(G)', 'b.png'))
    header = (['imageA', 'imageB'] + [f'XA{i}' for i in (1, 2)] +
              [f'YA{i}' for i in (1, 2)] + [f'XB{i}' for i in (1, 2)] +
              [f'YB{i}' for i in (1, 2)])
    row = ['PF-dataset/car(G)/a.png', 'PF-dataset/car(G)/b.png',
           1, 2, 3, 4, 5, 25, 6, 8]
    with open(osp.join(root, 'test_pairs_pf.csv'), 'w') as f:
        f.write(','.join(header) + '\n' + ','.join(map(str, row)) + '\n')
    return root


def write_spair(root, annotation=None):
    """One SPair-71k test pair (JSON annotation); returns the annotation."""
    write_plain_image(osp.join(root, 'JPEGImages', 'cat', 'x.jpg'))
    write_plain_image(osp.join(root, 'JPEGImages', 'cat', 'y.jpg'))
    os.makedirs(osp.join(root, 'PairAnnotation', 'test'), exist_ok=True)
    ann = annotation or dict(
        src_imname='x.jpg',
        trg_imname='y.jpg',
        category='cat',
        src_kps=[[1, 2], [3, 4]],
        trg_kps=[[5, 6], [7, 8]],
        src_bndbox=[0, 0, 10, 10],
        trg_bndbox=[2, 3, 22, 53])
    import json
    with open(osp.join(root, 'PairAnnotation', 'test', '1.json'), 'w') as f:
        json.dump(ann, f)
    return ann


#: fixture writers of the matching benchmarks, by dataset type
MATCHING_FIXTURES = dict(
    TSSDataset=lambda root: write_tss_pair(root, 'pair'),
    PFPascalDataset=write_pf_pascal,
    PFWillowDataset=write_pf_willow,
    SPairDataset=lambda root: write_spair(root) and root)

import pickle
import sys

import pytest
import torch

from cosegtools import compat


def test_mmseg_models_import_under_the_installed_mmcv():
    import mmseg.models  # noqa: F401
    from mmseg.registry import MODELS
    assert MODELS.get('ResNetV1c') is not None


def test_placeholder_only_without_compiled_ops():
    module = sys.modules.get('mmcv._ext')
    if compat.has_compiled_mmcv_ops():
        assert not getattr(module, 'COSEGTOOLS_PLACEHOLDER', False)
        pytest.skip('full mmcv with compiled ops: no placeholder needed')
    assert module.COSEGTOOLS_PLACEHOLDER
    assert module.__spec__.loader is None


def test_calling_a_missing_compiled_op_raises_a_clear_error():
    if compat.has_compiled_mmcv_ops():
        pytest.skip('full mmcv installed: ops are real')
    from mmcv.ops import nms
    with pytest.raises(RuntimeError, match='"nms" was called.*no compiled'):
        nms(torch.rand(3, 4), torch.rand(3), 0.5)


def test_mmengine_checkpoint_objects_load_with_weights_only(tmp_path):
    import numpy as np
    from mmengine.logging import HistoryBuffer, MessageHub
    hub = MessageHub('compat-test')
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_info('iter', 3)
    path = tmp_path / 'ckpt.pth'
    torch.save(
        dict(
            message_hub=hub.state_dict(),
            arr=np.arange(3, dtype=np.int64),
            w=torch.ones(2)), path)
    loaded = torch.load(path)  # torch's default: weights_only=True
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.current() == 0.5
    assert loaded['arr'].tolist() == [0, 1, 2]


def test_safe_loading_still_refuses_arbitrary_globals(tmp_path):

    class Evil:

        def __reduce__(self):
            return (print, ('executed', ))

    path = tmp_path / 'evil.pth'
    torch.save({'x': Evil()}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


def test_restricted_getattr_refuses_other_lookups():
    with pytest.raises(pickle.UnpicklingError, match='only'):
        compat._history_buffer_getattr(sys, 'modules')


def test_cpu_distributed_cfg_sets_ddp_and_replaces_syncbn():
    from mmengine.config import Config
    cfg = Config(
        dict(
            model=dict(
                backbone=dict(norm_cfg=dict(type='SyncBN')),
                head=[dict(norm_cfg=dict(type='SyncBN'))])))
    compat.cpu_distributed_cfg(cfg)
    assert cfg.model_wrapper_cfg['device_ids'] is None
    assert cfg.model.backbone.norm_cfg.type == 'BN'
    assert cfg.model.head[0].norm_cfg.type == 'BN'


def test_init_cpu_distributed_requires_a_launcher(monkeypatch):
    if torch.cuda.is_available():
        pytest.skip('CUDA present: the normal launcher is used')
    monkeypatch.delenv('RANK', raising=False)
    monkeypatch.delenv('WORLD_SIZE', raising=False)
    with pytest.raises(RuntimeError, match='torchrun'):
        compat.init_cpu_distributed()


def test_atomic_checkpoint_backend_replaces_whole_files(tmp_path):
    from mmengine.fileio import get_file_backend
    import cosegtools.engine  # noqa: F401  (registers the backend)
    backend = get_file_backend(
        str(tmp_path), backend_args=dict(backend='atomic_local'))
    target = tmp_path / 'sub' / 'iter_1.pth'
    backend.put(b'first', target)
    backend.put(b'second', target)
    backend.put_text('iter_1.pth', tmp_path / 'last_checkpoint')
    assert target.read_bytes() == b'second'
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_1.pth'
    # no temporary files are left behind
    assert sorted(p.name
                  for p in (tmp_path / 'sub').iterdir()) == ['iter_1.pth']


def test_atomic_backend_file_mode_and_stale_temporaries(tmp_path):
    import os
    import stat

    from cosegtools.engine import atomic_backend
    # a temporary file of a run killed while saving, from before this process
    stale = tmp_path / '.tmp-abc123iter_10.pth'
    stale.write_bytes(b'partial')
    old = atomic_backend.PROCESS_START - 60
    os.utime(stale, (old, old))
    umask = os.umask(0o022)
    try:
        atomic_backend.atomic_write(b'data', tmp_path / 'iter_12.pth')
    finally:
        os.umask(umask)
    assert not stale.exists()
    mode = stat.S_IMODE((tmp_path / 'iter_12.pth').stat().st_mode)
    assert mode == 0o644


def test_atomic_backend_failed_write_names_the_file(tmp_path, monkeypatch):
    import os

    from cosegtools.engine import atomic_backend
    target = tmp_path / 'iter_4.pth'
    target.write_bytes(b'previous')

    def full_disk(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(atomic_backend.os, 'fsync', full_disk)
    with pytest.raises(OSError, match='could not write .*iter_4.pth .*No '
                       'space left.*--resume'):
        atomic_backend.atomic_write(b'new', target)
    assert target.read_bytes() == b'previous'
    assert os.listdir(tmp_path) == ['iter_4.pth']


RANK_SCRIPT = '''
import os, sys, time
import torch, torch.distributed as dist
from cosegtools import compat
# both ranks have done their imports (slow on a busy machine) before the
# group, whose timeout also bounds the rendezvous, is set up
ready = sys.argv[2]
open(f'{ready}.{os.environ["RANK"]}', 'w').close()
while not all(os.path.exists(f'{ready}.{r}') for r in (0, 1)):
    time.sleep(0.05)
compat.init_cpu_distributed(timeout=float(sys.argv[1]))
if dist.get_rank() == 1:
    time.sleep(60)  # a frozen rank
start = time.time()
try:
    dist.all_reduce(torch.ones(1))
except Exception as err:
    print(f'failed after {time.time() - start:.0f} s: {type(err).__name__}',
          flush=True)
    # as the tools do (run_tool): a gloo group left to the interpreter's
    # exit can abort the process
    dist.destroy_process_group()
    sys.exit(3)
'''


def test_a_frozen_rank_ends_the_others_after_the_timeout(tmp_path):
    import socket
    import subprocess
    import sys
    import time
    script = tmp_path / 'rank.py'
    script.write_text(RANK_SCRIPT)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    procs = []
    for rank in (0, 1):
        env = dict(
            __import__('os').environ,
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE='2',
            MASTER_ADDR='127.0.0.1',
            MASTER_PORT=str(port),
            OMP_NUM_THREADS='1')
        procs.append(
            subprocess.Popen([sys.executable, str(script), '3',
                              str(tmp_path / 'ready')],
                             env=env,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             text=True))
    start = time.time()
    try:
        out, err = procs[0].communicate(timeout=45)
    finally:
        procs[1].kill()
    assert procs[0].returncode == 3, err[-2000:]
    assert 'failed after' in out
    assert time.time() - start < 45

"""A local file backend whose writes are atomic.

mmengine's ``LocalBackend.put`` writes checkpoints in place, so a run killed
while saving leaves a truncated file. This backend writes to a temporary file
in the same folder, flushes it to disk and renames it over the target, so a
checkpoint (and ``last_checkpoint``) is either the old one or the complete
new one. Select it with ``backend_args=dict(backend='atomic_local')`` in
``CheckpointHook``.
"""
import os
import os.path as osp
import tempfile

from mmengine.fileio import LocalBackend, register_backend


def atomic_write(data: bytes, filepath) -> None:
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix='.tmp-', suffix=osp.basename(filepath))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


class AtomicLocalBackend(LocalBackend):
    """LocalBackend with atomic ``put`` and ``put_text``."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(obj.encode(encoding), filepath)


register_backend('atomic_local', AtomicLocalBackend, force=True)

"""A local file backend whose writes are atomic.

mmengine's ``LocalBackend.put`` writes checkpoints in place, so a run killed
while saving leaves a truncated file. This backend writes to a temporary file
in the same folder, flushes it to disk and renames it over the target, so a
checkpoint (and ``last_checkpoint``) is either the old one or the complete
new one. Select it with ``backend_args=dict(backend='atomic_local')`` in
``CheckpointHook``.

The finished file gets the mode a normal file would (0666 less the umask),
not the temporary file's 0600. Temporary files that a killed run left behind
(``.tmp-*`` older than this process) are removed at the next write to their
folder. A failed write (e.g. a full disk) names the file and says that the
previous checkpoint is intact.
"""
import glob
import os
import os.path as osp
import tempfile
import time

from mmengine.fileio import LocalBackend, register_backend


TMP_PREFIX = '.tmp-'
# temporary files older than this process cannot be writes in progress
PROCESS_START = time.time()


def file_mode() -> int:
    """The mode ``open()`` gives a new file: 0666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def remove_stale_temporaries(folder: str) -> None:
    for path in glob.glob(osp.join(folder, TMP_PREFIX + '*')):
        try:
            if osp.getmtime(path) < PROCESS_START:
                os.remove(path)
        except OSError:
            pass  # gone already, or not ours to remove


def atomic_write(data: bytes, filepath) -> None:
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    remove_stale_temporaries(folder)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=TMP_PREFIX, suffix=osp.basename(filepath))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, filepath)
    except BaseException as err:
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError):
            raise OSError(
                err.errno, f'could not write {filepath} ({err.strerror}); '
                'the previous file there is intact, so --resume continues '
                'from the last complete checkpoint') from None
        raise


class AtomicLocalBackend(LocalBackend):
    """LocalBackend with atomic ``put`` and ``put_text``."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(obj.encode(encoding), filepath)


register_backend('atomic_local', AtomicLocalBackend, force=True)

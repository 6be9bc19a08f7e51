"""User errors (bad data, config, checkpoint or option) as one line.

The tools run their work inside :func:`report_user_errors`: an error that
the user's input caused ends the process with ``error: <message>`` on one
line and exit status 2, instead of a long traceback under the start-up log.
``--debug`` (``debug=True``) lets every error through with its traceback.
A distributed collective that times out because another rank stopped
answering ends the same way, naming the rank that waited. Anything else (a
bug) keeps its traceback.
"""
import os.path as osp
import re
import sys
from contextlib import contextmanager
from typing import Optional

import torch.distributed as dist

from cosegtools.datasets.mask_io import DatasetFileError
from cosegtools.engine.checkpoint import CheckpointError


class UsageError(ValueError):
    """A command-line tool was given options that do not go together or a
    value it cannot use (raised by the tools themselves)."""


# always the user's input
USER_ERROR_TYPES = (DatasetFileError, CheckpointError, FileNotFoundError,
                    UsageError)
# the user's input when the project's checks or mmengine's config and
# registry code raised them (a ValueError deep in torch is a bug)
CHECKED_TYPES = (ValueError, KeyError, TypeError)
CHECKING_CODE = (
    osp.join('cosegtools', ''),
    osp.join('mmengine', 'config', ''),
    osp.join('mmengine', 'registry', ''),
)
DEBUG_HINT = ' [--debug shows the traceback]'


def raised_by(err: BaseException, code=CHECKING_CODE) -> bool:
    """Whether the innermost frame that raised ``err`` is in ``code``."""
    tb = err.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = tb.tb_frame.f_code.co_filename
    return any(part in filename for part in code)


def worker_error(err: RuntimeError) -> Optional[str]:
    """The message of a user error re-raised from a DataLoader worker
    (PyTorch wraps it in a RuntimeError with the worker's traceback)."""
    text = str(err)
    match = re.match(r'Caught (\w+) in DataLoader worker', text)
    names = {t.__name__ for t in USER_ERROR_TYPES}
    if not match or match.group(1) not in names:
        return None
    last = text.strip().splitlines()[-1]
    return last.split(': ', 1)[1] if ': ' in last else last


def user_error_message(err: BaseException) -> Optional[str]:
    """One-line message of a user error, or None for anything else."""
    if isinstance(err, USER_ERROR_TYPES):
        message = str(err)
    elif isinstance(err, CHECKED_TYPES) and raised_by(err):
        message = str(err.args[0]) if isinstance(err, KeyError) and \
            err.args else str(err)
    elif isinstance(err, RuntimeError):
        message = worker_error(err)
    else:
        message = None
    if message is None:
        return None
    return ' '.join(message.split())  # one line


def distributed_timeout_message(err: BaseException) -> Optional[str]:
    """One line naming this rank when a collective timed out because
    another rank stopped answering (frozen, killed); None otherwise."""
    if not (dist.is_available() and dist.is_initialized()):
        return None
    text = str(err)
    if not re.search(r'timed out|timeout', text, re.IGNORECASE):
        return None
    first = text.strip().splitlines()[0] if text.strip() else type(err)
    return (f'rank {dist.get_rank()} of {dist.get_world_size()}: another '
            'rank did not answer within the process-group timeout '
            '(env_cfg.dist_cfg.timeout): it stopped or crashed, its own '
            f'output says why ({first})')


@contextmanager
def report_user_errors(debug: bool = False):
    """Ends the process with one ``error:`` line for a user error (module
    docstring); re-raises everything else, and everything with ``debug``."""
    try:
        yield
    except Exception as err:  # noqa: B902  (re-raised unless a user error)
        message = None if debug else (distributed_timeout_message(err)
                                      or user_error_message(err))
        if message is None:
            raise
        print(f'error: {message}{DEBUG_HINT}', file=sys.stderr)
        sys.exit(2)


def run_tool(work, args):
    """Runs ``work(args)`` for a command-line tool: user errors as one line
    (``args.debug`` shows the traceback), and the process group of a
    distributed run destroyed at the end.

    An undestroyed gloo group can abort the process at exit, and so can a
    rank whose partner tears its connections down first (CI saw rank 0 of a
    finished CPU run abort with "terminate called without an active
    exception"): after a run that succeeded, every rank waits at a barrier,
    then destroys its group. After a failure the group is destroyed
    without waiting for ranks that may never come."""
    succeeded = False
    try:
        with report_user_errors(getattr(args, 'debug', False)):
            work(args)
        succeeded = True
    finally:
        if dist.is_initialized():
            if succeeded:
                dist.barrier()
            dist.destroy_process_group()

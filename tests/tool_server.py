"""Runs the project's command-line tools for the tests, each in its own
process, without paying for the imports every time.

Starting ``python tools/train.py`` spends about 5 s importing torch, mmengine,
mmseg and cosegtools before the tool does anything; the suite runs dozens of
tools. This server imports them once and then forks one child per request:
the child is a fresh process that runs the script as ``python SCRIPT ARGS``
would (``__name__ == '__main__'``, ``sys.argv``, ``sys.path[0]``, the working
directory and the environment of the request), with its stdout and stderr in
files, and its exit status reported back. The server only imports: no
tensor is computed (no thread pool exists to be lost in a fork) and no
default scope is set, so a child starts as bare as a new process, with the
modules loaded.

Protocol: one JSON request per line on stdin (``argv``, ``cwd``, ``env``,
``stdout``, ``stderr``, ``timeout``), one JSON reply per line on stdout
(``returncode``; -9 when the child ran past its timeout and was killed).
"""
import json
import os
import runpy
import signal
import sys
import time
import traceback


def preload():
    # cosegtools first: it applies the stack work-arounds before mmseg loads
    import cosegtools  # noqa: F401
    import cv2  # noqa: F401
    import mmcv  # noqa: F401
    import mmengine.runner  # noqa: F401
    import mmseg.models  # noqa: F401
    import torch  # noqa: F401
    # the modules only: no default scope is set, no registry is touched
    # that a tool would not set up itself
    import cosegtools.datasets  # noqa: F401
    import cosegtools.engine  # noqa: F401
    import cosegtools.evaluation  # noqa: F401
    import cosegtools.models  # noqa: F401


def run_child(request):
    """In the forked child: become ``python argv...`` and exit."""
    os.chdir(request['cwd'])
    os.environ.clear()
    os.environ.update(request['env'])
    for fd, path in ((1, request['stdout']), (2, request['stderr'])):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(handle, fd)
        os.close(handle)
    sys.stdout = os.fdopen(1, 'w', buffering=1)
    sys.stderr = os.fdopen(2, 'w', buffering=1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the request pipe stays the server's
    os.close(devnull)
    sys.stdin = open(os.devnull)
    script = request['argv'][0]
    sys.argv = list(request['argv'])
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    code = 0
    try:
        runpy.run_path(script, run_name='__main__')
    except SystemExit as done:
        if done.code is None:
            code = 0
        elif isinstance(done.code, int):
            code = done.code
        else:
            print(done.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: B902  (reported as python would)
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def wait(pid, timeout):
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -9
        time.sleep(0.02)


def main():
    preload()
    replies = sys.stdout
    sys.stdout = sys.stderr  # nothing else may write to the reply channel
    print(json.dumps(dict(ready=True)), file=replies, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            run_child(request)
        code = wait(pid, request.get('timeout', 600))
        print(json.dumps(dict(returncode=code)), file=replies, flush=True)


if __name__ == '__main__':
    main()

"""User errors end the tools with one line; --debug shows the traceback."""
import os.path as osp

import numpy as np
import pytest
from coseg_fixtures import REPO_ROOT, run_process, write_class_folder
from test_tools import PYTHON

from cosegtools.datasets.mask_io import DatasetFileError, open_image
from cosegtools.utils import report_user_errors, user_error_message

VOC_CONFIG = osp.join(REPO_ROOT, 'configs', 'docs',
                      'docs_effnet-lite0_1xb8-1k_voc-pair-224x224.py')


def caught(fn):
    try:
        fn()
    except Exception as err:  # noqa: B902
        return err
    raise AssertionError('nothing was raised')


def test_user_errors_are_told_apart_from_bugs(tmp_path):
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not an image')
    err = caught(lambda: open_image(str(bad)))
    assert user_error_message(err).startswith(f'{bad}: unreadable')
    # a ValueError raised outside the project's checks is a bug: traceback
    assert user_error_message(caught(lambda: np.zeros(3).reshape(2))) is None
    assert user_error_message(caught(lambda: [][1])) is None
    # a data error re-raised by a DataLoader worker (PyTorch's wrapping)
    wrapped = RuntimeError(
        'Caught DatasetFileError in DataLoader worker process 0.\n'
        'Original Traceback (most recent call last):\n  File "x.py"\n'
        'cosegtools.datasets.mask_io.DatasetFileError: a/b.png: file does '
        'not exist\n')
    assert user_error_message(wrapped) == 'a/b.png: file does not exist'
    assert user_error_message(RuntimeError('Caught ZeroDivisionError in '
                                           'DataLoader worker process 0.')) \
        is None


def test_report_user_errors_exits_with_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        with report_user_errors():
            raise DatasetFileError('x/y.png', 'file does not exist\nreally')
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        'error: x/y.png: file does not exist really '
        '[--debug shows the traceback]\n')
    with pytest.raises(DatasetFileError):
        with report_user_errors(debug=True):
            raise DatasetFileError('x/y.png', 'file does not exist')
    with pytest.raises(ZeroDivisionError):
        with report_user_errors():
            1 / 0


def test_train_tool_names_a_corrupt_image_in_one_line(tmp_path):
    root = write_class_folder(str(tmp_path / 'data'))
    bad = osp.join(root, 'Dog', 'images', 'img_1001.jpg')
    with open(bad, 'wb') as f:
        f.write(b'\xff\xd8 truncated')
    options = ['--cfg-options'] + [
        f'{split}_dataloader.dataset.data_root={root}'
        for split in ('train', 'val', 'test')
    ]
    cmd = [
        PYTHON, 'tools/train.py', VOC_CONFIG, '--work-dir',
        str(tmp_path / 'work')
    ] + options
    proc = run_process(
        cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: {bad}: unreadable or corrupt image')
    assert 'Traceback' not in proc.stderr
    proc = run_process(
        cmd + ['--debug'],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode == 1 and 'Traceback' in proc.stderr
    assert 'DatasetFileError' in proc.stderr

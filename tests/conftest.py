"""pytest fixtures (helpers live in coseg_fixtures.py).

The suite runs torch with one thread unless ``OMP_NUM_THREADS`` is set: the
tests check results, not speed, and on a 2-core machine that another job
keeps busy, two threads per process are several times slower than one
(the threads wait for each other). The tools that the tests start inherit
the setting.
"""
import os

os.environ.setdefault('OMP_NUM_THREADS', '1')

import pytest  # noqa: E402  (after the thread setting, before torch)
from coseg_fixtures import voc_root, write_class_folder


@pytest.fixture
def voc_data_root():
    root = voc_root()
    if root is None:
        pytest.skip('PASCAL-VOC co-seg data not found: set COSEG_VOC_ROOT or '
                    'place it at ../shared/data/pascal_voc_coseg')
    return root


@pytest.fixture
def class_folder_root(tmp_path):
    return write_class_folder(str(tmp_path / 'coseg'))

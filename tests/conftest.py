"""pytest fixtures (helpers live in coseg_fixtures.py)."""
import pytest
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

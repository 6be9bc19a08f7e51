"""The recorded results (model-index.yml and the method metafiles) parse and
name configs that exist."""
import glob
import os.path as osp

from coseg_fixtures import REPO_ROOT

from cosegtools.utils.metafile import check_model_index


def test_repository_model_index_is_valid():
    assert check_model_index(REPO_ROOT) == []


def test_every_method_folder_is_in_the_model_index():
    with open(osp.join(REPO_ROOT, 'model-index.yml')) as f:
        index = f.read()
    for readme in glob.glob(osp.join(REPO_ROOT, 'configs', '*', 'README.md')):
        folder = osp.basename(osp.dirname(readme))
        assert f'configs/{folder}/metafile.yaml' in index, folder


def test_broken_metafiles_are_reported(tmp_path):
    (tmp_path / 'configs' / 'm').mkdir(parents=True)
    (tmp_path / 'configs' / 'm' / 'm_cfg.py').write_text('')
    (tmp_path / 'model-index.yml').write_text(
        'Import:\n  - configs/m/metafile.yaml\n  - configs/x/metafile.yaml\n')
    (tmp_path / 'configs' / 'm' / 'metafile.yaml').write_text("""
Collections:
  - Name: M
Models:
  - Name: m_cfg
    In Collection: M
    Config: configs/m/m_cfg.py
    Results:
      - Dataset: PASCAL-VOC co-seg 3:1:1 test (pairs)
        Metrics: {mJ: 50.0}
  - Name: gone
    In Collection: N
    Config: configs/m/gone.py
    Results:
      - Dataset: VOC test
        Metrics: {mIoU: 1.0, mJ: high}
""")
    problems = check_model_index(str(tmp_path))
    text = '\n'.join(problems)
    assert 'configs/x/metafile.yaml, which does not exist' in text
    assert "In Collection 'N'" in text
    assert "config 'configs/m/gone.py' does not exist" in text
    assert "unknown dataset 'VOC test'" in text
    assert "unknown metric 'mIoU'" in text
    assert 'mJ is not a number' in text
    # the valid model contributes nothing
    assert not any('model m_cfg' in p for p in problems)

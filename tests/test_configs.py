"""Every config in the repository loads, builds its model and its datasets,
and runs one group through each pipeline. A broken config fails."""
import glob
import os.path as osp

import pytest
import torch
from coseg_fixtures import (MATCHING_FIXTURES, REPO_ROOT, run_process,
                            write_class_folder)
from mmengine.config import Config
from mmengine.registry import init_default_scope

from cosegtools.registry import DATA_SAMPLERS, DATASETS, HOOKS, MODELS
from cosegtools.utils import check_default_scope

CONFIGS = sorted(
    p for p in
    glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True) +
    glob.glob(osp.join(REPO_ROOT, 'projects', '*', 'configs', '*.py'))
    if '_base_' not in p)


def test_configs_are_found():
    names = {osp.basename(p) for p in CONFIGS}
    assert 'docs_vgg16_1xb10-100k_voc-pair-512x512.py' in names
    assert 'docs_effnet-lite0_1xb8-2k_voc-pair-224x224.py' in names
    assert len(CONFIGS) >= 4


def check_config(path, data_root):
    """Load and build everything a config describes (raises on error)."""
    cfg = Config.fromfile(path)
    check_default_scope(cfg)
    assert cfg.default_scope == 'cosegtools', path
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    splits = ('train', 'val', 'test')
    if 'train_cfg' in cfg and cfg.train_cfg is None:
        # a training-free method (tools/coseg_folder.py): the model relates
        # a whole collection, predicted through the test loader
        assert hasattr(model, 'collection_probabilities'), path
        splits = ('test', )
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if loader is None:  # e.g. no val set for unsupervised methods
            assert split == 'val', f'{path}: no {split}_dataloader'
            continue
        dataset_cfg = loader.dataset.copy()
        if dataset_cfg.type == 'CoSegClassFolderDataset':
            dataset_cfg.data_root = data_root
            # masks that a tool writes first (e.g. a mask-free method's):
            # the fixture's own masks stand in for them
            dataset_cfg.mask_root = None
            if dataset_cfg.get('classes'):
                dataset_cfg.classes = ['Cat']  # a class of the fixture
        elif dataset_cfg.type in MATCHING_FIXTURES:
            dataset_cfg.data_root = MATCHING_FIXTURES[dataset_cfg.type](
                osp.join(osp.dirname(data_root), split + '_matching'))
        else:  # synthetic: keep it small
            dataset_cfg.images_per_class = 2
        dataset = DATASETS.build(dataset_cfg)
        sampler = DATA_SAMPLERS.build(
            loader.sampler, default_args=dict(dataset=dataset, seed=0))
        packed = dataset[next(iter(sampler))]
        if splits == ('test', ):
            # the training-free model predicts the collection as it is
            groups = model.test_step(
                dict(
                    inputs=[packed['inputs']],
                    data_samples=[packed['data_samples']]))
            first = groups[0].image_samples[0]
            assert first.pred_sem_seg.data.shape[-2:] == first.ori_shape
            return cfg, model
        batch = model.data_preprocessor(
            dict(
                inputs=[packed['inputs']],
                data_samples=[packed['data_samples']]),
            training=split == 'train')
        assert batch['inputs'].dim() == 5
    for key in ('optim_wrapper', 'train_cfg', 'test_evaluator',
                'default_hooks'):
        assert key in cfg, f'{path}: no {key}'
    # the Runner replaces its default hook by a config's whole entry: an
    # entry without its type (a partial override) stops training
    for hook in list(cfg.default_hooks.values()) + list(
            cfg.get('custom_hooks') or []):
        if hook is not None:
            HOOKS.build(hook)
    return cfg, model


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path, tmp_path):
    data_root = write_class_folder(str(tmp_path / 'data'), size=(48, 64))
    if 'projects' in path:
        import sys
        sys.path.insert(0, REPO_ROOT)
    try:
        _, model = check_config(path, data_root)
    except ImportError as error:
        if 'pydensecrf2' not in str(error):
            raise
        pytest.skip('the config post-processes with a dense CRF and the '
                    'optional pydensecrf2 is not installed')
    assert sum(p.numel() for p in model.parameters()) > 0


def test_a_broken_config_fails(tmp_path):
    data_root = write_class_folder(str(tmp_path / 'data'))
    base = osp.join(
        REPO_ROOT, 'configs', 'docs',
        'docs-s16_effnet-lite0_1xb8-600_synthetic-pair-128x128.py')
    broken = tmp_path / 'broken_head.py'
    broken.write_text(f"_base_ = [{base!r}]\n"
                      "model = dict(decode_head=dict(type='DOCSHaed'))\n")
    with pytest.raises(KeyError, match='DOCSHaed'):
        check_config(str(broken), data_root)
    bad_pipeline = tmp_path / 'broken_pipeline.py'
    bad_pipeline.write_text(
        f"_base_ = [{base!r}]\n"
        "val_dataloader = dict(dataset=dict(pipeline=[dict(type='Nope')]))\n")
    with pytest.raises(KeyError, match='Nope'):
        check_config(str(bad_pipeline), data_root)
    bad_scope = tmp_path / 'bad_scope.py'
    bad_scope.write_text(f"_base_ = [{base!r}]\ndefault_scope = 'cosegtols'\n")
    with pytest.raises(ValueError, match='cosegtols'):
        check_config(str(bad_scope), data_root)


def test_vgg_config_matches_the_published_docs_setting():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'docs',
                 'docs_vgg16_1xb10-100k_voc-pair-512x512.py'))
    head = cfg.model.decode_head
    assert head.max_displacement == 15 and head.in_channels == 1024
    assert tuple(head.decoder_channels) == (512, 512, 256, 128, 64)
    assert cfg.optim_wrapper.optimizer == dict(
        type='Adam', lr=1e-5, weight_decay=5e-4)
    assert cfg.train_dataloader.batch_size == 10
    assert cfg.train_cfg.max_iters == 100000
    init_default_scope('cosegtools')
    model = MODELS.build(cfg.model)
    corr = model.decode_head.mutual_correlation(
        torch.randn(2, 1024, 16, 16), 2)
    assert corr.shape[1] == 961


def test_test_data_root_option_uses_any_class_folder(tmp_path):
    import shutil

    from cosegtools.utils import use_test_data_root
    root = write_class_folder(str(tmp_path / 'icoseg'), per_class=3)
    config = osp.join(REPO_ROOT, 'configs', 'docs',
                      'docs_effnet-lite0_1xb8-1k_voc-pair-224x224.py')
    init_default_scope('cosegtools')

    def test_images(cfg):
        ds = DATASETS.build(cfg.test_dataloader.dataset)
        return sorted(
            ds.get_data_info(i)['img_id'] for i in range(len(ds)))

    # the dataset's own split file is used when it exists
    with open(osp.join(root, 'splits', 'test.txt'), 'w') as f:
        f.write('Cat/img_0000\nCat/img_0001\n')
    cfg = Config.fromfile(config)
    use_test_data_root(cfg, root)
    assert test_images(cfg) == ['Cat/img_0000', 'Cat/img_0001']
    # without split files: every image of every class
    shutil.rmtree(osp.join(root, 'splits'))
    cfg = Config.fromfile(config)
    use_test_data_root(cfg, root)
    assert len(test_images(cfg)) == 6
    with pytest.raises(FileNotFoundError, match='--data-root'):
        use_test_data_root(cfg, str(tmp_path / 'nowhere'))
    synthetic = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'docs',
                 'docs-s16_effnet-lite0_1xb8-600_synthetic-pair-128x128.py'))
    with pytest.raises(ValueError, match='CoSegClassFolderDataset'):
        use_test_data_root(synthetic, root)


def test_misspelt_top_level_keys_are_found(tmp_path):
    from cosegtools.utils.runner_setup import misspelt_keys
    path = tmp_path / 'typo.py'
    path.write_text(
        f"_base_ = [{osp.join(REPO_ROOT, 'configs', 'docs', 'docs_effnet-lite0_1xb8-1k_voc-pair-224x224.py')!r}]\n"  # noqa: E501
        "default_hook = dict(logger=dict(interval=1))\n"
        "optim_wraper = dict()\n")
    cfg = Config.fromfile(str(path))
    assert sorted(misspelt_keys(cfg)) == [('default_hook', 'default_hooks'),
                                          ('optim_wraper', 'optim_wrapper')]


@pytest.mark.parametrize('path', CONFIGS)
def test_shipped_configs_have_no_misspelt_keys(path):
    from cosegtools.utils.runner_setup import misspelt_keys
    assert misspelt_keys(Config.fromfile(path)) == []


def test_cfg_option_of_the_wrong_type_is_named():
    from cosegtools.utils.runner_setup import check_option_types
    cfg = Config(
        dict(
            train_cfg=dict(max_iters=1000, val_interval=250),
            optim_wrapper=dict(optimizer=dict(lr=1e-3)),
            model=dict(channels_last=True, skips=[dict(stage=0)]),
            data_root='data/x'))
    check_option_types(cfg, {
        'train_cfg.max_iters': 10,
        'optim_wrapper.optimizer.lr': 1,  # an int is a number
        'model.channels_last': False,
        'data_root': 'elsewhere',
        'train_cfg.val_interval': None,  # None is always accepted
        'new_key': 'anything'
    })
    with pytest.raises(ValueError,
                       match=r"train_cfg.max_iters='abc': expected an "
                       r'integer \(the config has 1000\)'):
        check_option_types(cfg, {'train_cfg.max_iters': 'abc'})
    with pytest.raises(ValueError, match='expected True or False'):
        check_option_types(cfg, {'model.channels_last': 1})
    with pytest.raises(ValueError, match='model.skips.0.stage'):
        check_option_types(cfg, {'model.skips.0.stage': 'one'})


def test_train_tool_stops_on_a_bad_option_in_one_line():
    from test_tools import PYTHON
    config = osp.join(REPO_ROOT, 'configs', 'docs',
                      'docs-s16_effnet-lite0_1xb8-600_synthetic-pair-128x128.py')
    proc = run_process(
        [PYTHON, 'tools/train.py', config, '--cfg-options',
         'train_cfg.max_iters=abc'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: --cfg-options train_cfg.max_iters='abc': expected an integer "
        '(the config has 600) [--debug shows the traceback]')
    assert 'Traceback' not in proc.stderr


PAPER_BACKBONES = ('VGG16', 'ResNet', 'ResNetV1c')


@pytest.mark.parametrize(
    'path', [p for p in CONFIGS if 'effnet' not in osp.basename(p)])
def test_paper_configs_name_the_imagenet_checkpoint_they_load(path):
    # every VGG / ResNet network of a paper-setting config loads ImageNet
    # weights from a named file (and stops if it is absent), none trains
    # from scratch silently
    cfg = Config.fromfile(path)
    networks = [
        cfg.model.get(key) for key in ('backbone', 'extractor')
        if cfg.model.get(key)
    ]
    networks = [n for n in networks if n['type'] in PAPER_BACKBONES]
    for net in networks:
        init = net.get('init_cfg') or {}
        assert init.get('type') == 'Pretrained', (path, net['type'])
        assert init['checkpoint'].startswith('checkpoints/'), path

"""Matching benchmarks: the loaders read small fixtures written in the
published formats (TSS, PF-PASCAL, PF-WILLOW, SPair-71k), PCK is checked on
hand values, and the real TSS sample pairs are read when present."""
import json
import os.path as osp

import numpy as np
import pytest
from coseg_fixtures import (REPO_ROOT, write_class_folder, write_flo,
                            write_pf_pascal, write_pf_willow, write_spair,
                            write_tss_pair)
from mmengine.config import Config
from test_tools import PYTHON, run

from cosegtools.datasets import (CoSegPairListSampler, PFPascalDataset,
                                 PFWillowDataset, SPairDataset, TSSDataset,
                                 read_flo)
from cosegtools.datasets.mask_io import DatasetFileError
from cosegtools.evaluation import PCKMetric, pck
from cosegtools.registry import DATASETS

MACOSNET = osp.join(REPO_ROOT, 'configs', 'macosnet')
TSS_ROOT = osp.join(REPO_ROOT, '..', 'shared', 'data', 'tss_samples')


def test_pck_by_hand():
    predicted = [[0, 0], [10, 0], [0, 30], [5, 5]]
    target = [[0, 0], [0, 0], [0, 0], [np.nan, np.nan]]
    result = pck(predicted, target, 100.0, (0.05, 0.1, 0.15))
    # errors 0, 10, 30 (the NaN row is not annotated); <= threshold counts
    assert result == {0.05: 1 / 3, 0.1: 2 / 3, 0.15: 2 / 3}
    with pytest.raises(ValueError, match='positive'):
        pck(predicted, target, 0.0, (0.1, ))


def test_pck_metric_means_over_pairs():
    metric = PCKMetric(alphas=(0.1, ))

    def group(pred, gt, size, name):
        return dict(image_samples=[
            dict(pred_keypoints=np.array(pred, float), class_name=name),
            dict(keypoints=np.array(gt, float), pck_size=size)
        ])

    metric.process(
        None,
        [
            group([[0, 0], [50, 0]], [[0, 0], [0, 0]], 100, 'a'),  # 1/2
            group([[1, 1]], [[0, 0]], 100, 'b'),  # 1
        ])
    assert metric.compute_metrics(metric.results) == {'PCK@0.1': 75.0}
    with pytest.raises(KeyError, match='pred_keypoints'):
        metric.process(None, [dict(image_samples=[dict(), dict()])])


def test_read_flo_marks_unknown_flow_and_rejects_bad_files(tmp_path):
    flow = np.zeros((2, 3, 2), np.float32)
    flow[0, 1] = (1.5, -2.0)
    flow[1, 2] = (1e10, 1e10)
    write_flo(str(tmp_path / 'a.flo'), flow)
    read = read_flo(str(tmp_path / 'a.flo'))
    assert read.shape == (2, 3, 2)
    assert tuple(read[0, 1]) == (1.5, -2.0)
    assert np.isnan(read[1, 2]).all() and not np.isnan(read[0, 0]).any()
    (tmp_path / 'bad.flo').write_bytes(b'\x00' * 20)
    with pytest.raises(DatasetFileError, match='bad.flo: not a .flo'):
        read_flo(str(tmp_path / 'bad.flo'))


def test_tss_keypoints_follow_the_flow(tmp_path):
    root = str(tmp_path / 'tss')
    write_tss_pair(root, 'car_01_02')
    write_tss_pair(root, 'bike_01_02', shift=(0.0, 4.0))
    ds = TSSDataset(root, grid_step=4, pipeline=[])
    assert ds.pairs == [(0, 1), (2, 3)]
    first, second = ds.get_data_info(2), ds.get_data_info(3)
    assert first['class_name'] == 'car_01_02'
    assert np.allclose(second['keypoints'] - first['keypoints'], [3, -2])
    # every keypoint inside the mask (rows 10-29, columns 20-43)
    assert first['keypoints'][:, 0].min() >= 20
    assert first['keypoints'][:, 1].max() <= 29
    assert second['pck_size'] == 24.0  # the mask box is 20 x 24
    assert first['pck_size'] is None
    few = TSSDataset(root, grid_step=1, max_points=10, pipeline=[])
    assert len(few.get_data_info(0)['keypoints']) <= 10


def test_pf_pascal_csv(tmp_path):
    root = write_pf_pascal(str(tmp_path))
    ds = PFPascalDataset(root, pipeline=[])
    assert ds.pairs == [(0, 1)]
    assert np.allclose(
        ds.get_data_info(0)['keypoints'], [[1, 4], [2, 5], [3, 6]])
    second = ds.get_data_info(1)
    assert second['pck_size'] == 30.0  # keypoint box 30 x 10
    assert second['class_name'] == '3'
    image = PFPascalDataset(root, pck_reference='image', pipeline=[])
    assert image.get_data_info(1)['pck_size'] == 60.0


def test_pf_pascal_names_a_bad_row(tmp_path):
    root = str(tmp_path)
    with open(osp.join(root, 'test_pairs_pf_pascal.csv'), 'w') as f:
        f.write('source_image,target_image,class,XA,YA,XB,YB\n')
        f.write('a.jpg,b.jpg,1,1;2,4,1,1\n')
    with pytest.raises(ValueError, match='csv:2: keypoint lists'):
        PFPascalDataset(root, pipeline=[])


def test_pf_willow_csv(tmp_path):
    root = write_pf_willow(str(tmp_path))
    ds = PFWillowDataset(root, pipeline=[])
    assert np.allclose(ds.get_data_info(0)['keypoints'], [[1, 3], [2, 4]])
    second = ds.get_data_info(1)
    assert np.allclose(second['keypoints'], [[5, 6], [25, 8]])
    assert second['class_name'] == 'car(G)'
    assert second['pck_size'] == 20.0


def test_spair_json(tmp_path):
    root = str(tmp_path)
    ann = write_spair(root)
    ds = SPairDataset(root, pipeline=[])
    assert ds.get_data_info(1)['pck_size'] == 50.0  # box 20 x 50
    assert ds.metainfo['classes'] == ('cat', )
    del ann['trg_kps']
    with open(osp.join(root, 'PairAnnotation', 'test', '1.json'), 'w') as f:
        json.dump(ann, f)
    with pytest.raises(ValueError, match=r"1.json: missing keys \['trg_kps'"):
        SPairDataset(root, pipeline=[])


def test_pair_list_sampler_needs_pairs(class_folder_root):
    from cosegtools.datasets import CoSegClassFolderDataset
    ds = CoSegClassFolderDataset(class_folder_root, pipeline=[])
    with pytest.raises(TypeError, match='lists no pairs'):
        CoSegPairListSampler(ds)


@pytest.mark.parametrize('name', ['tss', 'pf-pascal', 'pf-willow', 'spair'])
def test_matching_configs_build_their_test_set(name, tmp_path):
    cfg = Config.fromfile(
        osp.join(MACOSNET,
                 f'macosnet_effnet-lite0_1xb2-900_voc-weak_{name}-240x240.py'))
    assert cfg.test_dataloader.sampler.type == 'CoSegPairListSampler'
    evaluators = cfg.test_evaluator
    if isinstance(evaluators, dict):
        evaluators = [evaluators]
    assert 'PCKMetric' in [e['type'] for e in evaluators]
    if name == 'tss':
        root = str(tmp_path / 'tss')
        write_tss_pair(root, 'p')
        dataset = DATASETS.build(
            dict(cfg.test_dataloader.dataset, data_root=root))
        packed = dataset[[0, 1]]
        assert packed['inputs'].shape[-2:] == (240, 240)
        first = packed['data_samples'].image_samples[0]
        assert first.keypoints.shape[1] == 2
        assert packed['data_samples'].image_samples[1].pck_size == 24.0


@pytest.mark.skipif(
    not osp.isdir(TSS_ROOT), reason='TSS samples not at ../shared/data')
def test_real_tss_flow_targets_land_on_the_second_mask():
    from cosegtools.datasets.mask_io import read_binary_mask
    ds = TSSDataset(TSS_ROOT, pipeline=[])
    assert len(ds.pairs) == 6
    for i, j in ds.pairs:
        second = ds.get_data_info(j)
        mask = read_binary_mask(
            second['seg_map_path'], nonzero_foreground=True)
        xy = np.round(second['keypoints']).astype(int)
        xy[:, 0] = xy[:, 0].clip(0, mask.shape[1] - 1)
        xy[:, 1] = xy[:, 1].clip(0, mask.shape[0] - 1)
        assert mask[xy[:, 1], xy[:, 0]].mean() > 0.9


def test_known_warp_tool_identity_is_perfect_without_warp(tmp_path):
    root = write_class_folder(str(tmp_path / 'coseg'), size=(64, 64))
    config = osp.join(MACOSNET,
                      'macosnet_effnet-lite0_1xb2-900_voc-weak-240x240.py')
    log = run([
        PYTHON, 'tools/analysis_tools/eval_known_warps.py', config,
        '--identity', '--data-root', root, '--cfg-options',
        'model.backbone.pretrained=False', 'model.extractor.pretrained=False',
        'model.train_cfg.synthetic_warp.affine_scale=0',
        'model.train_cfg.synthetic_warp.rotation=0',
        'model.train_cfg.synthetic_warp.translation=0',
        'model.train_cfg.synthetic_warp.tps_jitter=0'
    ])
    row = [line for line in log.splitlines() if 'identity' in line][-1]
    assert row.split('|')[3].strip() == '100.00'
    log = run([
        PYTHON, 'tools/analysis_tools/eval_known_warps.py', config,
        '--identity', '--data-root', root, '--cfg-options',
        'model.backbone.pretrained=False', 'model.extractor.pretrained=False',
        'model.train_cfg.synthetic_warp.translation=0.5'
    ])
    row = [line for line in log.splitlines() if 'identity' in line][-1]
    assert float(row.split('|')[3]) < 100

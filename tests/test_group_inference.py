"""Group inference strategies, feature caching and the decision metric."""
import itertools
from collections import Counter

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample

from cosegtools.evaluation import CoSegMetric
from cosegtools.models.segmentors import (STRATEGIES, GroupInference,
                                          make_tuples)
from cosegtools.registry import MODELS
from cosegtools.structures import CoSegDataSample
from coseg_fixtures import REPO_ROOT


def test_all_tuples_are_every_subset():
    tuples = make_tuples('all_tuples', 5, k=3)
    assert [m for m, _ in tuples] == list(itertools.combinations(range(5), 3))
    assert all(m == t for m, t in tuples)


def test_random_partition_covers_each_image_once():
    rng = np.random.default_rng(1)
    tuples = make_tuples('random_partition', 7, k=2, rng=rng)
    members = [i for m, _ in tuples for i in m]
    assert sorted(members) == list(range(7))
    assert sorted(len(m) for m, _ in tuples) == [2, 2, 3]


def test_per_target_strategies():
    rng = np.random.default_rng(0)
    random = make_tuples('random_groups', 6, k=3, num_groups=5, rng=rng)
    assert len(random) == 6 * 5
    assert all(t == (m[0], ) and len(set(m)) == 3 for m, t in random)
    uniform = make_tuples('uniform_groups', 6, k=3, rng=rng)
    for target in range(6):
        own = [m for m, t in uniform if t == (target, )]
        others = Counter(i for m in own for i in m[1:])
        # each other image exactly once per target, runs of k - 1
        assert others == Counter(i for i in range(6) if i != target)
        assert sorted(len(m) for m in own) == [2, 3, 3]  # 5 others


def test_strategies_are_reproducible_and_validated():
    a = make_tuples('random_groups', 8, 3, 5, np.random.default_rng(3))
    b = make_tuples('random_groups', 8, 3, 5, np.random.default_rng(3))
    assert a == b
    with pytest.raises(ValueError, match='unknown group inference'):
        make_tuples('best_of_both', 4)
    with pytest.raises(ValueError, match='unknown group inference'):
        GroupInference('best_of_both')


def build_model(name, **test_cfg):
    init_default_scope('cosegtools')
    cfg = Config.fromfile(
        f'{REPO_ROOT}/configs/_base_/models/{name}_effnet-lite0.py')
    cfg.model.backbone.pretrained = False
    cfg.model.test_cfg.update(test_cfg)
    torch.manual_seed(0)
    return MODELS.build(cfg.model).eval()


@pytest.mark.parametrize('name', ['docs', 'cyclesegnet', 'cosegnet'])
def test_cached_features_give_the_same_maps_as_recomputing(name):
    model = build_model(name)
    images = torch.randn(4, 3, 64, 64)
    with torch.no_grad():
        for strategy in STRATEGIES:
            cached = GroupInference(strategy, k=2, seed=3)(model, images, 'g')
            again = GroupInference(
                strategy, k=2, seed=3, cache_features=False)(model, images,
                                                             'g')
            assert torch.allclose(cached[0], again[0], atol=1e-5), strategy


def test_one_vs_rest_and_all_pairs_by_hand():
    model = build_model('docs')
    images = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        whole = model.encode_decode(images[None])
        probs, scores = GroupInference('one_vs_rest')(model, images)
        assert scores is None
        assert torch.allclose(probs, whole.softmax(1), atol=1e-5)
        pairs = GroupInference('all_tuples', k=2)(model, images)[0]
        by_hand = torch.zeros_like(pairs)
        for a, b in itertools.combinations(range(3), 2):
            out = model.encode_decode(images[[a, b]][None]).softmax(1)
            by_hand[a] += out[0] / 2
            by_hand[b] += out[1] / 2
        assert torch.allclose(pairs, by_hand, atol=1e-5)


def test_segmentor_uses_the_strategy_of_its_test_cfg():
    model = build_model(
        'docs', group_inference=dict(strategy='all_tuples', k=2))
    samples = [
        SegDataSample(
            metainfo=dict(
                img_shape=(64, 64), ori_shape=(64, 64), img_path=f'{i}.jpg'))
        for i in range(3)
    ]
    group = CoSegDataSample(image_samples=samples)
    images = torch.randn(1, 3, 3, 64, 64)
    with torch.no_grad():
        out = model.predict(images, [group])[0]
        expected = GroupInference('all_tuples', k=2)(model, images[0])[0]
    pred = torch.stack([s.pred_sem_seg.data[0] for s in out.image_samples])
    assert torch.equal(pred, expected.argmax(1))


def decision_group(paths, has_common, scores):
    images = []
    for path, score in zip(paths, scores):
        images.append(
            dict(
                img_path=path,
                class_name='c',
                common_score=torch.tensor([score]),
                pred_sem_seg=dict(data=torch.zeros(1, 2, 2, dtype=torch.long)),
                gt_sem_seg=dict(data=torch.zeros(1, 2, 2, dtype=torch.long))))
    return dict(image_samples=images, has_common=has_common)


def test_metric_decision_accuracy_precision_recall_by_hand():
    metric = CoSegMetric()
    metric.process(
        None,
        [
            decision_group(['a', 'b'], 1, [0.9, 0.7]),  # TP
            decision_group(['a', 'c'], 0, [0.6, 0.8]),  # FP
            decision_group(['d', 'e'], 1, [0.2, 0.4]),  # FN
            decision_group(['c', 'f'], 0, [0.1, 0.3]),  # TN
            decision_group(['g', 'h'], 1, [0.4, 0.7]),  # TP (mean 0.55)
            decision_group(['a', 'b'], 1, [0.1, 0.1]),  # repeat: ignored
        ])
    result = metric.compute_metrics(metric.results)
    assert result['decision_acc'] == 60.0
    assert result['decision_precision'] == round(100 * 2 / 3, 2)
    assert result['decision_recall'] == round(100 * 2 / 3, 2)

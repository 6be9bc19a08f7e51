import numpy as np
import pytest
import torch

from cosegtools.evaluation import CoSegMetric, image_scores, summarise


def sample(pred, gt, path, cls):
    return dict(
        pred_sem_seg=dict(data=torch.tensor(pred)[None]),
        gt_sem_seg=dict(data=torch.tensor(gt)[None]),
        img_path=path,
        class_name=cls)


def test_image_scores_by_hand():
    pred = np.array([[1, 1, 0], [0, 0, 0]])
    gt = np.array([[1, 0, 0], [1, 0, 0]])
    s = image_scores(pred, gt)
    # intersection 1 pixel, union 3 pixels, 2 object pixels, 4 of 6 right
    assert s == dict(intersection=1, union=3, gt_fg=2, correct=4, total=6)
    ignored = image_scores(pred, np.array([[255, 0, 0], [1, 0, 0]]))
    assert ignored == dict(
        intersection=0, union=2, gt_fg=1, correct=3, total=5)
    with pytest.raises(ValueError, match='differ in size'):
        image_scores(pred, gt[:1])


def test_empty_ground_truth_definition():
    empty = np.zeros((2, 2), int)
    assert summarise([dict(image_scores(empty, empty),
                           class_name='a')])['mJ'] == 100.0
    wrong = summarise(
        [dict(image_scores(np.ones((2, 2), int), empty), class_name='a')])
    assert wrong['mJ'] == 0.0 and wrong['mP'] == 0.0


def test_class_mean_image_mean_and_pooled_differ_as_defined():
    metric = CoSegMetric()
    a_pred = [[1, 1], [0, 0]]
    a_gt = [[1, 0], [0, 0]]  # J 1/2, P 3/4
    b_pred = [[1, 1], [1, 1]]
    b_gt = [[1, 1], [1, 1]]  # J 1, P 1
    c_pred = [[0, 0], [0, 1]]
    c_gt = [[1, 0], [0, 1]]  # J 1/2, P 3/4
    groups = [
        dict(
            has_common=1,
            image_samples=[
                sample(a_pred, a_gt, 'A/1', 'A'),
                sample(b_pred, b_gt, 'A/2', 'A')
            ]),
        dict(
            has_common=1,
            image_samples=[
                sample(c_pred, c_gt, 'B/1', 'B'),
                # an image seen twice is scored once (the first time)
                sample(b_pred, b_gt, 'A/1', 'A')
            ]),
    ]
    metric.process({}, groups)
    result = metric.evaluate(size=3)
    assert result['mJ'] == pytest.approx(100 * (0.75 + 0.5) / 2, abs=0.01)
    assert result['aJ'] == pytest.approx(100 * 2 / 3, abs=0.01)
    assert result['mP'] == pytest.approx(100 * (0.875 + 0.75) / 2, abs=0.01)
    assert result['aP'] == pytest.approx(100 * 2.5 / 3, abs=0.01)
    # pooled: intersections 1 + 4 + 1, unions 2 + 4 + 2
    assert result['pooled_J'] == pytest.approx(75.0, abs=0.01)
    assert metric.results == []


def test_mixed_groups_report_negative_images_left_empty():
    metric = CoSegMetric()
    empty = [[0, 0], [0, 0]]
    half = [[1, 1], [0, 0]]
    groups = [
        # positive pair: J 1 and J 1/2 -> class A mean 0.75
        dict(
            has_common=1,
            image_samples=[
                sample(half, half, 'A/1', 'A'),
                sample(half, [[1, 0], [0, 0]], 'A/2', 'A')
            ]),
        # negative pair: A/1 left empty, B/1 not (one stray pixel counts)
        dict(
            has_common=0,
            image_samples=[
                sample(empty, empty, 'A/1', 'A'),
                sample([[0, 0], [0, 1]], empty, 'B/1', 'B')
            ]),
        # negative pair, empty; B/1 again: scored once in its negative role
        dict(
            has_common=0,
            image_samples=[
                sample(empty, empty, 'C/1', 'C'),
                sample(empty, empty, 'B/1', 'B')
            ]),
    ]
    metric.process({}, groups)
    result = metric.evaluate(size=4)
    # negatives: A/1, B/1, C/1; two of three without any foreground pixel
    assert result['neg_empty'] == pytest.approx(100 * 2 / 3, abs=0.01)
    assert result['pos_mJ'] == pytest.approx(75.0, abs=0.01)
    # A/1 counts twice (once per role): A = (1 + 1/2 + 1) / 3, B = 0, C = 1
    assert result['mJ'] == pytest.approx(
        100 * (2.5 / 3 + 0 + 1) / 3, abs=0.01)


def test_positive_groups_only_report_no_negative_figures():
    metric = CoSegMetric()
    metric.process({}, [
        dict(
            has_common=1,
            image_samples=[
                sample([[1]], [[1]], 'A/1', 'A'),
                sample([[0]], [[1]], 'A/2', 'A')
            ])
    ])
    result = metric.evaluate(size=2)
    assert 'neg_empty' not in result and 'pos_mJ' not in result


def logit_sample(prob, gt, path, cls):
    """An image sample of a two-class model whose foreground probability is
    ``prob`` (co-segmentors store class probabilities in ``seg_logits``)."""
    prob = torch.tensor(prob, dtype=torch.float32)
    probs = torch.stack([1 - prob, prob])
    s = sample((prob > 0.5).long().tolist(), gt, path, cls)
    s['seg_logits'] = dict(data=probs)
    return s


def test_sod_measures_by_hand():
    pytest.importorskip('py_sod_metrics')
    gt = np.zeros((8, 8), int)
    gt[:, :4] = 1
    metric = CoSegMetric(sod_metrics=True)
    perfect = np.where(gt == 1, 0.999, 0.001)
    flat = np.full((8, 8), 0.2)  # 0.2 * 255 = 51 exactly
    metric.process({}, [
        dict(
            has_common=1,
            image_samples=[
                logit_sample(perfect, gt, 'A/1', 'A'),
            ]),
    ])
    result = metric.evaluate(size=1)
    assert result['S-measure'] == pytest.approx(1.0, abs=1e-3)
    assert result['maxF'] == pytest.approx(1.0, abs=1e-3)
    # (pysodmetrics' E-measure curve can pass 1 by a little on tiny maps)
    assert result['maxE'] > 0.99
    assert result['MAE'] == pytest.approx(0.0, abs=1e-2)
    metric.process({}, [
        dict(
            has_common=1,
            image_samples=[logit_sample(flat, gt, 'A/2', 'A')])
    ])
    result = metric.evaluate(size=1)
    # |0.2 - 1| on half the pixels, |0.2 - 0| on the other half
    assert result['MAE'] == pytest.approx(0.5, abs=1e-4)
    # a map with no contrast is worse than the perfect one on every measure
    assert result['S-measure'] < 0.6 and result['maxF'] < 0.9


def test_sod_measures_need_probabilities():
    pytest.importorskip('py_sod_metrics')
    metric = CoSegMetric(sod_metrics=True)
    with pytest.raises(KeyError, match='seg_logits'):
        metric.process({}, [
            dict(
                has_common=1,
                image_samples=[sample([[1]], [[1]], 'A/1', 'A')])
        ])

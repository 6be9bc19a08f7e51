"""The mask gates (confidence, object similarity): their scores, the masks
they empty, and the threshold sweep on mixed pairs."""
import math

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from test_models import random_spatial_model

from cosegtools.evaluation import MaskGateSweep
from cosegtools.models.utils import (MaskConfidenceGate, ObjectSimilarityGate,
                                     object_descriptors)
from cosegtools.structures import CoSegDataSample


def two_region_map(left, right):
    """(1, C, 2, 2) features: ``left`` in the left column, ``right`` in the
    right one."""
    feats = torch.zeros(1, len(left), 2, 2)
    feats[0, :, :, 0] = torch.tensor(left, dtype=torch.float).view(-1, 1)
    feats[0, :, :, 1] = torch.tensor(right, dtype=torch.float).view(-1, 1)
    return feats


def test_descriptors_pool_over_the_weighted_region_of_normalised_maps():
    # left (5, 0) and right (0, 2): normalised per position to (1, 0), (0, 1)
    feats = two_region_map([5.0, 0.0], [0.0, 2.0])
    whole = object_descriptors([feats])
    assert torch.allclose(whole, torch.tensor([[1.0, 1.0]]) / math.sqrt(2))
    left_only = torch.zeros(1, 4, 4)
    left_only[:, :, :2] = 1  # at twice the feature size: area-resized
    assert torch.allclose(
        object_descriptors([feats], left_only), torch.tensor([[1.0, 0.0]]))
    # a second level, coarser: upsampled to the first and concatenated
    coarse = torch.tensor([0.0, 3.0]).view(1, 2, 1, 1)
    both = object_descriptors([feats, coarse], left_only)
    assert torch.allclose(both,
                          torch.tensor([[1.0, 0.0, 0.0, 1.0]]) / math.sqrt(2))


def test_gate_scores_are_mean_cosine_similarities_to_the_others():
    # a group of three one-position images: directions at 0, 90 and 45 deg
    vectors = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    feats = vectors.view(3, 2, 1, 1)
    gate = ObjectSimilarityGate(threshold=0.5, levels=[0])
    scores = gate.scores(torch.ones(3, 1, 1), 3, [feats])
    c = 1 / math.sqrt(2)
    expected = torch.tensor([(0 + c) / 2, (0 + c) / 2, (c + c) / 2])
    assert torch.allclose(scores, expected, atol=1e-6)
    assert gate.keep(scores).tolist() == [False, False, True]
    assert ObjectSimilarityGate(None).keep(scores).all()


def test_gate_rejects_levels_the_encoder_lacks():
    gate = ObjectSimilarityGate(threshold=0.5, levels=[-3])
    with pytest.raises(ValueError, match='levels'):
        gate.scores(torch.ones(2, 8, 8), 2, [torch.ones(2, 4, 2, 2)] * 2)


def test_confidence_scores_are_the_mean_probability_inside_the_mask():
    foreground = torch.tensor([
        [[0.9, 0.7], [0.2, 0.1]],  # mask 0.9, 0.7: 0.8
        [[0.4, 0.3], [0.2, 0.5]],  # no pixel above 0.5: empty, 0
        [[0.6, 0.6], [0.6, 1.0]],  # all four: 0.7
    ])
    gate = MaskConfidenceGate(threshold=0.75)
    scores = gate.scores(foreground, group_size=3)
    assert torch.allclose(scores, torch.tensor([0.8, 0.0, 0.7]))
    assert gate.keep(scores).tolist() == [True, False, False]
    # the model's own mask threshold decides which pixels count
    lower = MaskConfidenceGate(mask_threshold=0.25).scores(foreground, 3)
    assert torch.allclose(lower, torch.tensor([0.8, 0.4, 0.7]))


def test_pair_pooled_confidence_averages_each_image_with_its_partners():
    foreground = torch.tensor([
        [[0.9, 0.7], [0.2, 0.1]],  # 0.8
        [[0.4, 0.3], [0.2, 0.5]],  # 0
        [[0.6, 0.6], [0.6, 1.0]],  # 0.7
        [[1.0, 1.0], [1.0, 0.9]],  # 0.975
    ])
    gate = MaskConfidenceGate(threshold=0.6, pool='pair')
    # two pairs: each image scores the mean of its pair
    pairs = gate.scores(foreground, group_size=2)
    assert torch.allclose(pairs, torch.tensor([0.4, 0.4, 0.8375, 0.8375]))
    assert gate.keep(pairs).tolist() == [False, False, True, True]
    # a group of four: the mean of the image's pairs with the three others
    group = gate.scores(foreground, group_size=4)
    others = torch.tensor([(0 + 0.7 + 0.975) / 3, (0.8 + 0.7 + 0.975) / 3,
                           (0.8 + 0 + 0.975) / 3, (0.8 + 0 + 0.7) / 3])
    own = torch.tensor([0.8, 0.0, 0.7, 0.975])
    assert torch.allclose(group, (own + others) / 2)
    with pytest.raises(ValueError, match='test_cfg.mask_gate.pool'):
        MaskConfidenceGate(pool='group')


@pytest.mark.parametrize('gate, threshold', [
    (MaskConfidenceGate, 1.5),
    (MaskConfidenceGate, -0.1),
    (MaskConfidenceGate, True),
    (ObjectSimilarityGate, -2.0),
    (ObjectSimilarityGate, 'high'),
])
def test_gate_thresholds_outside_the_score_range_fail(gate, threshold):
    with pytest.raises(ValueError, match='test_cfg.mask_gate.threshold'):
        gate(threshold=threshold)


def predict_two_pairs(model, images):
    groups = []
    for _ in range(2):
        group = CoSegDataSample(metainfo=dict(has_common=1))
        group.image_samples = [
            SegDataSample(
                metainfo=dict(
                    img_path='x.png', ori_shape=(64, 64), img_shape=(64, 64)))
            for _ in range(2)
        ]
        groups.append(group)
    with torch.no_grad():
        model.predict(images, groups)
    return [s for g in groups for s in g.image_samples]


def test_segmentor_empties_the_masks_of_pairs_whose_objects_differ():
    model = random_spatial_model()
    torch.manual_seed(1)
    same = torch.randn(3, 64, 64)
    # pair 0: one image twice (similarity 1); pair 1: two different images
    images = torch.stack([
        torch.stack([same, same]),
        torch.stack([torch.randn(3, 64, 64),
                     torch.randn(3, 64, 64) * 2])
    ])
    model.mask_gate = ObjectSimilarityGate(None, levels=[-1])
    scored = predict_two_pairs(model, images)
    scores = [float(s.gate_score) for s in scored]
    assert scores[0] == scores[1] and scores[2] == scores[3]
    assert scores[0] > 0.999 and scores[2] < 0.99
    masks = [s.pred_sem_seg.data.clone() for s in scored]
    assert all(m.sum() > 0 for m in masks)  # nothing emptied without one
    model.mask_gate = ObjectSimilarityGate((scores[0] + scores[2]) / 2,
                                           levels=[-1])
    gated = predict_two_pairs(model, images)
    assert torch.equal(gated[0].pred_sem_seg.data, masks[0])
    assert torch.equal(gated[1].pred_sem_seg.data, masks[1])
    assert gated[2].pred_sem_seg.data.sum() == 0
    assert gated[3].pred_sem_seg.data.sum() == 0


def test_segmentor_empties_the_masks_it_is_least_sure_of():
    model = random_spatial_model()
    torch.manual_seed(2)
    images = torch.randn(2, 2, 3, 64, 64)
    model.mask_gate = MaskConfidenceGate(None)
    scored = predict_two_pairs(model, images)
    # by hand from the stored foreground probabilities (the last of the two
    # classes; 64 x 64: no padding, no resize)
    expected = []
    for sample in scored:
        prob = sample.seg_logits.data[-1].numpy()
        expected.append(prob[prob > 0.5].mean() if (prob > 0.5).any() else 0)
    scores = [float(s.gate_score) for s in scored]
    assert np.allclose(scores, expected, atol=1e-5)
    assert len(set(np.round(scores, 5))) == 4
    masks = [s.pred_sem_seg.data.clone() for s in scored]
    threshold = float(np.median(scores))
    model.mask_gate = MaskConfidenceGate(threshold)
    gated = predict_two_pairs(model, images)
    for sample, mask, score in zip(gated, masks, scores):
        if score >= threshold:
            assert torch.equal(sample.pred_sem_seg.data, mask)
        else:
            assert sample.pred_sem_seg.data.sum() == 0


def record(score, has_common, inter, union, gt_fg, pred_fg, name):
    return dict(
        img_path=name,
        class_name='a',
        has_common=has_common,
        gate_score=score,
        intersection=inter,
        union=union,
        gt_fg=gt_fg,
        pred_fg=pred_fg,
        correct=90,
        total=100)


SWEEP_RECORDS = [
    # positives: J 0.5 and 0.8; negatives (no object): 30 and 20 pixels
    record(0.9, 1, 50, 100, 60, 90, 'p1'),
    record(0.5, 1, 80, 100, 90, 90, 'p2'),
    record(0.4, 0, 0, 30, 0, 30, 'n1'),
    record(0.6, 0, 0, 20, 0, 20, 'n2'),
]


def test_sweep_picks_the_highest_threshold_within_the_allowed_drop():
    # no drop allowed: only n1 (0.4, below p2's 0.5) may be emptied
    strict = MaskGateSweep(max_pos_drop=0.0)
    got = strict.compute_metrics(SWEEP_RECORDS)
    assert got['ungated_pos_mJ'] == 65.0 and got['ungated_neg_empty'] == 0
    assert 0.4 < got['threshold'] <= 0.5
    assert got['pos_mJ'] == 65.0 and got['neg_empty'] == 50.0
    # both positives kept and n1 emptied: 3 of 4 images decided right
    assert got['gate_acc'] == 75.0
    # 50 points allowed: p2 (J 0.8 -> 0) may go, so both negatives empty;
    # p1 may not (pos mJ would be 0)
    loose = MaskGateSweep(max_pos_drop=50.0)
    got = loose.compute_metrics(SWEEP_RECORDS)
    assert 0.6 < got['threshold'] <= 0.9
    assert got['pos_mJ'] == 25.0 and got['neg_empty'] == 100.0
    assert got['gate_acc'] == 75.0  # p2 emptied, the negatives too
    # the whole split: p1 0.5, p2 0, two empty negatives 1 -> (0.5 + 2) / 4
    assert got['mJ'] == 62.5


def test_sweep_needs_scores_and_mixed_groups():
    unscored = [dict(r) for r in SWEEP_RECORDS]
    del unscored[0]['gate_score']
    with pytest.raises(ValueError, match='mask_gate'):
        MaskGateSweep().compute_metrics(unscored)
    with pytest.raises(ValueError, match='neg_ratio'):
        MaskGateSweep().compute_metrics(SWEEP_RECORDS[:2])


def test_sweep_of_the_decision_gate_reads_the_common_score():
    decided = [
        dict({k: v for k, v in r.items() if k != 'gate_score'},
             common_score=r['gate_score']) for r in SWEEP_RECORDS
    ]
    sweep = MaskGateSweep(max_pos_drop=0.0, gate='DecisionGate')
    got = sweep.compute_metrics(decided)
    assert 0.4 < got['threshold'] <= 0.5
    assert got['pos_mJ'] == 65.0 and got['neg_empty'] == 50.0
    assert sweep.test_options(0.45) == (
        'model.decode_head.decision_gate.threshold=0.450000')
    # mask-gate scores alone do not stand in for the decision
    with pytest.raises(ValueError, match='common_score'):
        sweep.compute_metrics(SWEEP_RECORDS)

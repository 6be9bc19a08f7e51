"""MaCoSNet: its losses against hand-computed values, the model's two
training stages, and weak supervision (no mask is read in training)."""
import math
import os.path as osp
import re
import shutil

import pytest
import torch
import torch.nn.functional as F
from coseg_fixtures import REPO_ROOT, write_class_folder
from mmengine.logging import MessageHub
from mmseg.structures import SegDataSample
from test_tools import PYTHON, run

from cosegtools.models.losses import (
    CoAttentionLoss, CrossNetworkConsistencyLoss, CycleConsistencyLoss,
    ForegroundMatchingLoss, TransitivityConsistencyLoss, WarpRegressionLoss)
from cosegtools.models.segmentors.macosnet import (pair_index, reversed_pairs,
                                                   triplet_chains)
from cosegtools.models.utils import GeometricRegressor, global_correlation
from cosegtools.models.utils.groups import group_pairs
from cosegtools.models.utils.warps import Warp
from cosegtools.registry import MODELS
from cosegtools.structures import CoSegDataSample

MODEL_CONFIG = osp.join(REPO_ROOT,
                        'configs/_base_/models/macosnet_effnet-lite0.py')


def translation(dx, dy, batch=1):
    theta = torch.tensor([[1.0, 0.0, dx], [0.0, 1.0, dy]])
    return Warp(theta[None].repeat(batch, 1, 1))


def one_hot_correlation(h, w):
    """S(p, q) = 1 if q == p else 0, as (1, h*w, h, w)."""
    return torch.eye(h * w).view(1, h * w, h, w)


def test_matching_score_identity_and_half_cell_shift():
    loss = ForegroundMatchingLoss(phi=1.0)
    corr = one_hot_correlation(4, 4)
    fg = torch.zeros(1, 1, 4, 4)
    fg[0, 0, 0, 0] = 1
    # identity: every p matches itself with weight 1; sum of s * M = 1
    assert math.isclose(
        float(loss(corr, Warp.identity(1), fg)), -1.0, abs_tol=1e-6)
    # half a cell to the right (0.25 normalised in 4 cells): q = p gets the
    # tent weight 0.5
    scores = loss.matching_scores(corr, translation(0.25, 0.0))
    assert torch.allclose(scores, torch.full((1, 16), 0.5), atol=1e-6)


def test_matching_score_reads_the_shifted_partner():
    # S(p, q) = 1 for q one cell right of p: a one-cell shift finds it
    h = w = 4
    corr = torch.zeros(1, h * w, h, w)
    for y in range(h):
        for x in range(w - 1):
            corr[0, y * w + x + 1, y, x] = 1
    loss = ForegroundMatchingLoss()
    shifted = loss.matching_scores(corr, translation(0.5, 0.0))
    still = loss.matching_scores(corr, Warp.identity(1))
    assert torch.allclose(shifted.view(h, w)[:, :3], torch.ones(h, 3))
    assert float(still.abs().max()) < 1e-6


def test_matching_loss_rejects_a_wrong_source_size():
    with pytest.raises(ValueError, match='does not match the 16'):
        ForegroundMatchingLoss()(one_hot_correlation(4, 4), Warp.identity(1),
                                 torch.ones(1, 1, 4, 4), (3, 4))


def test_cycle_and_transitivity_by_hand():
    cycle = CycleConsistencyLoss(num_points=10)
    back = [translation(0.1, 0.0), translation(-0.1, 0.0)]
    assert float(cycle(back)) < 1e-5
    twice = [translation(0.1, 0.0), translation(0.1, 0.0)]
    assert math.isclose(float(cycle(twice)), 0.2, abs_tol=1e-5)
    trans = TransitivityConsistencyLoss(loss_weight=5.0)
    chain = [
        translation(0.1, 0.1),
        translation(0.1, 0.2),
        translation(0.1, 0.1)
    ]  # (0.3, 0.4): distance 0.5
    assert math.isclose(float(trans(chain)), 5 * 0.5, abs_tol=1e-5)
    with pytest.raises(ValueError, match='chain of 3'):
        trans(back)


def test_cross_network_bce_by_hand():
    loss = CrossNetworkConsistencyLoss(loss_weight=1.0)
    logits = torch.full((1, 1, 6, 6), 0.4)
    probs = torch.full((1, 1, 6, 6), 0.7)
    p = 1 / (1 + math.exp(-0.4))
    expected = -(0.7 * math.log(p) + 0.3 * math.log(1 - p))
    value = float(loss(logits, probs, Warp.identity(1)))
    assert math.isclose(value, expected, rel_tol=1e-5)


def test_cross_network_ignores_pixels_warped_outside():
    # half an image to the right: the right half of X samples outside Y
    loss = CrossNetworkConsistencyLoss()
    logits = torch.full((1, 1, 8, 8), 10.0)
    probs = torch.ones(1, 1, 8, 8)
    value = float(loss(logits, probs, translation(1.0, 0.0)))
    # inside, target 1 and logit 10: BCE = softplus(-10)
    assert math.isclose(
        value, F.softplus(torch.tensor(-10.0)).item(), rel_tol=1e-3)


def test_contrastive_margin_by_hand():
    objects = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    backgrounds = torch.tensor([[3.0, 0.0], [0.0, 0.0]])
    # d+ = 1/2, d- = (4 + 0) / 4 = 1
    plain = CoAttentionLoss()(objects, backgrounds, 2)
    assert math.isclose(float(plain), math.log1p(math.exp(-0.5)), rel_tol=1e-6)
    margin = CoAttentionLoss(margin=2.0)(objects, backgrounds, 2)
    assert math.isclose(float(margin), 0.5 + (2 - 1), rel_tol=1e-6)
    far = CoAttentionLoss(margin=0.5)(objects, backgrounds, 2)
    assert math.isclose(float(far), 0.5, rel_tol=1e-6)  # d- > m: capped


def test_warp_regression_loss_by_hand():
    loss = WarpRegressionLoss()
    assert math.isclose(
        float(loss(translation(0.3, 0.4), Warp.identity(1))),
        0.5,
        rel_tol=1e-5)


def test_l2_correlation_by_hand():
    a = torch.zeros(1, 2, 1, 1)
    a[0, 0] = 3.0  # normalised: e1
    b = torch.zeros(1, 2, 1, 3)
    b[0, :, 0, 0] = torch.tensor([1.0, 1.0])  # cos 45 degrees
    b[0, :, 0, 1] = torch.tensor([0.0, 2.0])  # orthogonal
    b[0, :, 0, 2] = torch.tensor([-1.0, 0.0])  # opposite: ReLU -> 0
    corr = global_correlation(a, b, normalization='l2')
    # (1/sqrt 2, 0, 0), L2-normalised over the channels -> (1, 0, 0)
    assert torch.allclose(corr.flatten(), torch.tensor([1.0, 0.0, 0.0]))
    plain = global_correlation(a, b)
    assert torch.allclose(plain.flatten(), torch.tensor([1.5, 0.0, -1.5]))
    with pytest.raises(ValueError, match='normalization'):
        global_correlation(a, b, normalization='sum')


def test_regressor_starts_at_identity_and_checks_its_size():
    regressor = GeometricRegressor(feat_size=(11, 11), channels=(8, 4))
    regressor.init_weights()
    warp = regressor(torch.randn(2, 16, 11, 11), torch.randn(2, 16, 11, 11))
    points = torch.rand(2, 5, 2) * 2 - 1
    assert torch.allclose(warp.points(points), points, atol=1e-5)
    with pytest.raises(ValueError, match='built for 11x11'):
        regressor(torch.randn(1, 16, 12, 12), torch.randn(1, 16, 12, 12))


def test_pair_rows_of_reversed_pairs_and_triplets():
    a, b = group_pairs(2, 3)
    for row in range(len(a)):
        n, x, y = int(a[row]) // 3, int(a[row]) % 3, int(b[row]) % 3
        assert pair_index(n, x, y, 3) == row
        rev = reversed_pairs(2, 3)[row]
        assert (int(a[rev]), int(b[rev])) == (int(b[row]), int(a[row]))
    first, second, third = triplet_chains(1, 3)
    for r1, r2, r3 in zip(first, second, third):
        # a -> b, b -> c, c -> a
        assert int(b[r1]) == int(a[r2]) and int(b[r2]) == int(a[r3])
        assert int(b[r3]) == int(a[r1])


def small_model():
    from mmengine.config import Config
    cfg = Config.fromfile(MODEL_CONFIG).model
    cfg.backbone.pretrained = False
    cfg.extractor.pretrained = False
    cfg.decode_head.feat_size = (11, 11)
    cfg.regressor.feat_size = (11, 11)
    cfg.train_cfg = dict(pretrain_iters=1, seed=0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def groups_of(batch, size, hw=176):
    samples = []
    for _ in range(batch):
        group = CoSegDataSample(metainfo=dict(has_common=1))
        group.image_samples = [
            SegDataSample(
                metainfo=dict(img_shape=(hw, hw), ori_shape=(hw, hw)))
            for _ in range(size)
        ]
        samples.append(group)
    return samples


def test_model_trains_in_two_stages():
    torch.manual_seed(0)
    model = small_model().train()
    hub = MessageHub.get_current_instance()
    inputs = torch.randn(1, 3, 3, 176, 176)
    hub.update_info('iter', 0)
    stage_one = model.loss(inputs, groups_of(1, 3))
    assert set(stage_one) == {'loss_warp'}
    stage_one['loss_warp'].backward()
    assert model.regressor.affine.fc.weight.grad.abs().sum() > 0
    assert model.decode_head.conv_seg.weight.grad is None
    model.zero_grad()
    hub.update_info('iter', 1)
    stage_two = model.loss(inputs, groups_of(1, 3))
    assert {
        'loss_matching', 'loss_cycle', 'loss_trans', 'loss_contrast',
        'loss_task'
    } <= set(stage_two)
    sum(v for k, v in stage_two.items() if k.startswith('loss_')).backward()
    assert model.decode_head.conv_seg.weight.grad.abs().sum() > 0
    assert model.regressor.tps.fc.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.extractor.parameters())
    pairs = model.loss(torch.randn(1, 2, 3, 176, 176), groups_of(1, 2))
    assert 'loss_trans' not in pairs  # eq. 6 needs three images


def test_model_predicts_masks_and_keypoints():
    model = small_model().eval()
    samples = groups_of(1, 2, hw=176)
    samples[0].image_samples[0].set_metainfo(
        dict(keypoints=[[0.0, 0.0], [87.5, 87.5]]))
    with torch.no_grad():
        out = model.predict(torch.randn(1, 2, 3, 176, 176), samples)
    first = out[0].image_samples[0]
    assert first.pred_sem_seg.shape == (176, 176)
    # the untrained predictor is the identity: points stay in place
    assert torch.allclose(
        first.pred_keypoints,
        torch.tensor([[0.0, 0.0], [87.5, 87.5]]),
        atol=1e-3)



def test_mask_loss_trains_the_masks_towards_the_loaded_masks():
    """``loss_mask`` (an extension, off in the paper's configs) is the BCE of
    D's logits against the samples' masks: by hand on the logits it returns,
    and it needs a mask on every sample."""
    from mmengine.structures import PixelData
    model = small_model().train()
    model.loss_mask = MODELS.build(
        dict(type='mmseg.CrossEntropyLoss', use_sigmoid=True,
             avg_non_ignore=True, loss_name='loss_pseudo_mask'))
    MessageHub.get_current_instance().update_info('iter', 1)
    inputs = torch.randn(1, 2, 3, 176, 176)
    samples = groups_of(1, 2)
    with pytest.raises(ValueError, match='loss_mask needs a mask'):
        model.loss(inputs, samples)
    masks = torch.zeros(2, 1, 176, 176, dtype=torch.long)
    masks[0, :, 40:120, 30:100] = 1
    masks[1, :, :5] = 255  # ignored
    for sample, mask in zip(samples[0].image_samples, masks):
        sample.gt_sem_seg = PixelData(data=mask)
    captured = {}
    weak_loss = model.weak_loss

    def keep_logits(*args):
        losses, logits = weak_loss(*args)
        captured['logits'] = logits
        return losses, logits

    model.weak_loss = keep_logits
    torch.manual_seed(0)
    losses = model.loss(inputs, samples)
    logits = captured['logits'][:, 0]
    labels = masks[:, 0].float()
    keep = masks[:, 0] != 255
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits[keep], labels[keep])
    assert torch.allclose(losses['loss_pseudo_mask'], expected, rtol=1e-4)
    grad, = torch.autograd.grad(losses['loss_pseudo_mask'],
                                captured['logits'])
    # pulls up inside the masked box, down outside, nothing where ignored
    assert (grad[0, 0, 40:120, 30:100] < 0).all()
    assert (grad[0, 0, 130:] > 0).all()
    assert (grad[1, 0, :5] == 0).all()

WEAK_CONFIG = '''
_base_ = [{base!r}]
data_root = {root!r}
model = dict(
    backbone=dict(pretrained=False),
    extractor=dict(pretrained=False),
    decode_head=dict(feat_size=(11, 11)),
    regressor=dict(feat_size=(11, 11)),
    train_cfg=dict(pretrain_iters=1))
_train_pipeline = [
    dict(type='TransformBroadcaster', share_random_params=False,
         transforms=[dict(type='LoadImageFromFile'),
                     dict(type='Resize', scale=(176, 176), keep_ratio=False),
                     dict(type='RandomFlip', prob=0.5)]),
    dict(type='PackCoSegInputs'),
]
_test_pipeline = [
    dict(type='TransformBroadcaster',
         transforms=[dict(type='LoadImageFromFile'),
                     dict(type='Resize', scale=(176, 176), keep_ratio=False),
                     dict(type='LoadCoSegMask')]),
    dict(type='PackCoSegInputs'),
]
train_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=_train_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=_test_pipeline))
train_cfg = dict(max_iters=2)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=2, save_best=None))
'''


def losses_in(log):
    return re.findall(r'Iter\(train\) \[\s*\d+/2\].*?(loss: [-0-9.]+.*)', log)


def test_weak_training_never_reads_a_mask(tmp_path):
    """Two iterations (one per stage) on a dataset and on a copy with every
    mask deleted give the same losses."""
    root = write_class_folder(str(tmp_path / 'with_masks'), size=(64, 64))
    bare = str(tmp_path / 'without_masks')
    shutil.copytree(root, bare)
    for name in ('Cat', 'Dog'):
        shutil.rmtree(osp.join(bare, name, 'masks'))
    base = osp.join(REPO_ROOT, 'configs', 'macosnet',
                    'macosnet_effnet-lite0_1xb2-900_voc-weak-240x240.py')
    logs = []
    for data in (root, bare):
        config = tmp_path / f'weak_{osp.basename(data)}.py'
        config.write_text(WEAK_CONFIG.format(base=base, root=data))
        logs.append(
            run([
                PYTHON, 'tools/train.py',
                str(config), '--work-dir',
                str(tmp_path / f'work_{osp.basename(data)}')
            ]))
    with_masks, without_masks = (losses_in(log) for log in logs)
    assert len(with_masks) == 2 and 'loss_warp' in with_masks[0]
    assert 'loss_contrast' in with_masks[1]
    assert with_masks == without_masks


def test_groups_run_through_the_inference_strategies():
    """A pairwise model on a group of 4: the tuples reuse each image's
    features, and every strategy gives each image one mask."""
    from cosegtools.models.segmentors import GroupInference
    model = small_model().eval()
    images = torch.randn(4, 3, 176, 176)
    calls = []
    original = model.extract_feat

    def counting(x):
        calls.append(x.shape[0])
        return original(x)

    model.extract_feat = counting
    for strategy in ('all_tuples', 'uniform_groups', 'one_vs_rest'):
        calls.clear()
        with torch.no_grad():
            probs, scores = GroupInference(strategy, k=2)(model, images)
        assert probs.shape == (4, 1, 176, 176) and scores is None
        assert calls == [4]  # features of the group encoded once


def test_a_resumed_run_continues_both_stages(tmp_path):
    """Killed after iteration 2 (in stage one) and resumed, the run logs the
    losses of iterations 3 and 4 (stage two) that an uninterrupted run logs:
    the synthetic warps follow the iteration, the stage follows it too."""
    root = write_class_folder(str(tmp_path / 'data'), size=(64, 64))
    base = osp.join(REPO_ROOT, 'configs', 'macosnet',
                    'macosnet_effnet-lite0_1xb2-900_voc-weak-240x240.py')
    text = WEAK_CONFIG.format(
        base=base, root=root).replace("dict(type='RandomFlip', prob=0.5)",
                                      "dict(type='RandomFlip', prob=0.0)")
    text = text.replace('pretrain_iters=1', 'pretrain_iters=3')
    text = text.replace('max_iters=2', 'max_iters=4')
    text = text.replace('checkpoint=dict(interval=2,',
                        'checkpoint=dict(interval=2, max_keep_ckpts=-1,')
    config = tmp_path / 'resume.py'
    config.write_text(text)

    def losses(log):
        return re.findall(r'Iter\(train\) \[\s*(\d+)/4\].*?(loss: [-0-9.]+.*)',
                          log)

    straight = losses(
        run([
            PYTHON, 'tools/train.py',
            str(config), '--work-dir',
            str(tmp_path / 'straight')
        ]))
    work = str(tmp_path / 'killed')
    run([
        PYTHON, 'tools/train.py',
        str(config), '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=2'
    ])
    resumed = losses(
        run([
            PYTHON, 'tools/train.py',
            str(config), '--work-dir', work, '--resume'
        ]))
    assert [it for it, _ in straight] == ['1', '2', '3', '4']
    assert 'loss_warp' in straight[2][1] and 'loss_task' in straight[3][1]
    assert resumed == straight[2:]


def test_matching_loss_mask_gradients():
    corr = one_hot_correlation(4, 4)
    corr[0, :, 0, 0] = 0  # position (0, 0) matches nothing: s = 0
    grads = {}
    for mode in ('raw', 'none', 'centered'):
        fg = torch.full((1, 1, 4, 4), 0.5, requires_grad=True)
        theta = torch.tensor([[[1.0, 0.0, 0.1], [0.0, 1.0, 0.0]]],
                             requires_grad=True)
        value = ForegroundMatchingLoss(mask_gradient=mode)(corr, Warp(theta),
                                                           fg)
        value.backward()
        assert theta.grad.abs().sum() > 0  # the warp always learns
        grads[mode] = fg.grad
        if mode == 'raw':
            raw_value = float(value.detach())
        assert math.isclose(float(value.detach()), raw_value, rel_tol=1e-6)
    # s = 0.8 (a 0.1 shift is 0.2 cells) except 0 at (0, 0)
    assert torch.allclose(grads['raw'].flatten()[1:], torch.tensor(-0.8))
    assert grads['none'] is None
    centred = grads['centered'].flatten()
    assert abs(float(centred.sum())) < 1e-6
    assert centred[0] > 0 and (centred[1:] < 0).all()
    with pytest.raises(ValueError, match='mask_gradient'):
        ForegroundMatchingLoss(mask_gradient='detach')

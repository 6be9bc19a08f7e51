"""The heads of issue 3: depth-wise cross-correlation, CycleSegNet, CoSegNet
(with its decision gate), the shared decoder, and checkpoint compatibility
of DOCS."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from test_models import small_docs_head

from cosegtools.models import (ConvLSTMCell, CoSegNetHead, CycleSegHead,
                               DecisionGate, DepthwiseXCorrHead, DOCSHead,
                               RegionCorrespondence, UpConvDecoder,
                               depthwise_cross_correlation)
from cosegtools.models.heads import CycleRefinement
from cosegtools.models.utils.correlation import windowed_correlation


# -------------------------------------------- depth-wise cross-correlation
def naive_depthwise_xcorr(base, kernel):
    n, c, h, w = base.shape
    k = kernel.shape[-1]
    r = k // 2
    out = torch.zeros(n, c, h, w)
    for i in range(n):
        for ch in range(c):
            for y in range(h):
                for x in range(w):
                    total = 0.0
                    for dy in range(-r, r + 1):
                        for dx in range(-r, r + 1):
                            yy, xx = y + dy, x + dx
                            if 0 <= yy < h and 0 <= xx < w:
                                total += (
                                    base[i, ch, yy, xx] *
                                    kernel[i, ch, dy + r, dx + r])
                    out[i, ch, y, x] = total / (k * k)
    return out


@pytest.mark.parametrize('k', [1, 3, 5])
def test_depthwise_cross_correlation_matches_a_naive_loop(k):
    torch.manual_seed(0)
    base, kernel = torch.randn(2, 3, 5, 6), torch.randn(2, 3, k, k)
    assert torch.allclose(
        depthwise_cross_correlation(base, kernel),
        naive_depthwise_xcorr(base, kernel),
        atol=1e-5)


def test_depthwise_cross_correlation_rejects_bad_kernels():
    with pytest.raises(ValueError, match='odd'):
        depthwise_cross_correlation(
            torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 2, 2))
    with pytest.raises(ValueError, match='does not match'):
        depthwise_cross_correlation(
            torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 3, 3))


def small_xcorr_head(**kwargs):
    return DepthwiseXCorrHead(
        in_channels=4,
        kernel_sizes=(1, 3),
        fuse_channels=8,
        decoder_channels=(8, 4),
        norm_cfg=None,
        **kwargs).eval()


def test_xcorr_head_uses_the_other_image_both_ways_and_any_size():
    torch.manual_seed(0)
    head = small_xcorr_head()
    a, b, c = torch.randn(3, 1, 4, 5, 7)
    ab = head((torch.cat([a, b]), ), 2)
    ac = head((torch.cat([a, c]), ), 2)
    assert ab.shape == (2, 2, 20, 28)  # any input size, 2 stages of x2
    # A's mask depends on its partner, B's on A
    assert not torch.allclose(ab[0], ac[0])
    ba = head((torch.cat([b, a]), ), 2)
    assert torch.allclose(ab[0], ba[1], atol=1e-6)
    # the matching itself: A's responses are B's pooled kernels over A
    x = head.cross_correlation(torch.cat([a, b]), 2)
    expected = depthwise_cross_correlation(a, F.adaptive_avg_pool2d(b, 3))
    assert torch.allclose(x[0:1, 4:8], expected, atol=1e-6)


def test_xcorr_head_group_averages_the_pairs():
    torch.manual_seed(0)
    head = small_xcorr_head()
    feats = torch.randn(3, 4, 5, 5)
    group = head.cross_correlation(feats, 3)
    ab = head.cross_correlation(feats[[0, 1]], 2)[0]
    ac = head.cross_correlation(feats[[0, 2]], 2)[0]
    assert torch.allclose(group[0], (ab + ac) / 2, atol=1e-6)


def test_group_heads_equal_the_mean_over_every_partner():
    """DOCS and depth-wise heads relate an image to the mean of the others
    (O(G)); that must equal the mean of the G - 1 pairwise results."""
    torch.manual_seed(0)
    feats = torch.randn(8, 4, 5, 6)  # two groups of 4
    docs = small_docs_head(in_channels=4).eval()
    xcorr = small_xcorr_head()
    got_docs = docs.mutual_correlation(feats, 4)
    got_xcorr = xcorr.cross_correlation(feats, 4)
    for i in range(8):
        first = i // 4 * 4
        partners = [j for j in range(first, first + 4) if j != i]
        docs_pairs = [
            windowed_correlation(feats[i:i + 1], feats[j:j + 1], 2)
            for j in partners
        ]
        expected = (sum(docs_pairs) / 3).relu()
        assert torch.allclose(got_docs[i:i + 1], expected, atol=1e-5)
        xcorr_pairs = [
            torch.cat([
                depthwise_cross_correlation(
                    feats[i:i + 1], F.adaptive_avg_pool2d(feats[j:j + 1], k))
                for k in (1, 3)
            ], 1) for j in partners
        ]
        assert torch.allclose(
            got_xcorr[i:i + 1], sum(xcorr_pairs) / 3, atol=1e-5)


def test_xcorr_head_rejects_even_kernel_sizes():
    with pytest.raises(ValueError, match='odd'):
        DepthwiseXCorrHead(in_channels=4, kernel_sizes=(2, ))


# ------------------------------------------------------------- CycleSegNet
def test_convlstm_cell_follows_the_equations():
    torch.manual_seed(0)
    cell = ConvLSTMCell(3, 2, kernel_size=1)
    x, h, c = torch.randn(2, 3, 4, 4), torch.randn(2, 2, 4,
                                                   4), torch.randn(2, 2, 4, 4)
    x.requires_grad_()
    h.requires_grad_()
    h1, c1 = cell(x, (h, c))
    assert h1.shape == c1.shape == (2, 2, 4, 4)
    # eq. 1-6 by hand at one position, 1x1 kernels
    w = cell.gates.weight[:, :, 0, 0]
    z = w @ torch.cat([x[0, :, 1, 2], h[0, :, 1, 2]]) + cell.gates.bias
    i, f, o, g = z.split(2)
    c_ref = torch.sigmoid(f) * c[0, :, 1, 2] + torch.sigmoid(i) * torch.tanh(g)
    assert torch.allclose(c1[0, :, 1, 2], c_ref, atol=1e-6)
    assert torch.allclose(
        h1[0, :, 1, 2], torch.sigmoid(o) * torch.tanh(c_ref), atol=1e-6)
    (h1.sum() + c1.sum()).backward()
    for t in (x, h, cell.gates.weight):
        assert t.grad is not None and t.grad.abs().sum() > 0


def test_rcm_group_of_two_is_the_pair_path():
    torch.manual_seed(0)
    rcm = RegionCorrespondence(6, 4, region_size=2)
    a, b = torch.randn(1, 6, 5, 5), torch.randn(1, 6, 5, 5)
    group = rcm(torch.cat([a, b]), 2)
    assert torch.allclose(group[0:1], rcm.pair(a, b), atol=1e-6)
    assert torch.allclose(group[1:2], rcm.pair(b, a), atol=1e-6)
    # eq. 12 by hand: the global term is the other's average, halved
    assert not torch.allclose(rcm.pair(a, b), rcm.pair(a, a))


def test_rcm_group_concatenates_the_regions_of_the_others():
    torch.manual_seed(0)
    rcm = RegionCorrespondence(6, 4, region_size=2)
    a, b, c = torch.randn(3, 1, 6, 4, 4)
    out = rcm(torch.cat([a, b, c]), 3)[0:1]
    regions = torch.cat([rcm.regions(b).flatten(2),
                         rcm.regions(c).flatten(2)],
                        dim=2)  # eq. 13: (1, C, 8)
    global_mean = (F.adaptive_avg_pool2d(b, 1) +
                   F.adaptive_avg_pool2d(c, 1)) / 2
    assert torch.allclose(out, rcm.attend(a, regions, global_mean), atol=1e-6)


def test_cycle_refinement_group_of_two_is_the_pair_path():
    torch.manual_seed(0)
    crm = CycleRefinement(5, 6, 4, num_steps=3)
    feats = torch.randn(2, 5, 4, 4)
    hidden = crm(feats, 2)
    assert len(hidden) == 3
    # eq. 7-8 written out for a pair
    ha = ca = crm.project(feats[0:1])
    hb = cb = crm.project(feats[1:2])
    for step in range(3):
        xa, xb = crm.rcm.pair(ca, cb), crm.rcm.pair(cb, ca)
        ha, ca = crm.cell(xa, (ha, ca))
        hb, cb = crm.cell(xb, (hb, cb))
        assert torch.allclose(hidden[step], torch.cat([ha, hb]), atol=1e-6)


def small_cycle_head(**kwargs):
    return CycleSegHead(
        in_channels=(3, 4, 5),
        refine_indices=(1, 2),
        channels=(4, 6),
        key_channels=4,
        num_steps=2,
        decoder_channels=(6, 4),
        skips=[dict(in_index=1, stage=0),
               dict(in_index=0, stage=1)],
        **kwargs)


def multi_level(n, size=8):
    return (torch.randn(n, 3, size,
                        size), torch.randn(n, 4, size // 2, size // 2),
            torch.randn(n, 5, size // 4, size // 4))


def test_cycle_head_multi_level_steps_and_gradients():
    torch.manual_seed(0)
    head = small_cycle_head()
    inputs = multi_level(6)
    out = head(inputs, 3)
    assert out.shape == (6, 2, 8, 8)
    steps = head(inputs, 3, all_steps=True)
    assert len(steps) == 2 and torch.allclose(steps[-1], out)
    assert not torch.allclose(steps[0], steps[1])
    out.sum().backward()
    for refiner in head.refiners:
        assert refiner.cell.gates.weight.grad.abs().sum() > 0
        assert refiner.rcm.key[0].weight.grad.abs().sum() > 0


def test_cycle_head_rejects_mismatched_channels():
    with pytest.raises(ValueError, match='one width per refined level'):
        CycleSegHead(in_channels=(3, 4), refine_indices=(0, 1), channels=(4, ))


# ---------------------------------------------------------------- CoSegNet
def pair_samples(has_common, class_idx, size=8):
    samples = []
    for n, common in enumerate(has_common):
        for g in range(2):
            s = SegDataSample(
                metainfo=dict(
                    has_common=common, class_idx=class_idx[2 * n + g]))
            mask = torch.zeros(1, size, size, dtype=torch.long)
            if common:
                mask[:, 2:6, 2:6] = 1
            s.gt_sem_seg = PixelData(data=mask)
            samples.append(s)
    return samples


def small_cosegnet_head():
    return CoSegNetHead(
        in_channels=5,
        decoder_channels=(6, 4, 4),
        num_convs=(2, 1, 1),
        metric_stage=1,
        skips=[dict(in_index=0, in_channels=3, stage=2)],
        decision_gate=dict(type='DecisionGate', metric_channels=(8, 4)),
        num_classes=1,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True))


def cosegnet_inputs(n):
    return (torch.randn(n, 3, 8, 8), torch.randn(n, 5, 1, 1))


def conditional_grads(head):
    return [
        p.grad for p in list(head.conditional_decoder.parameters()) +
        list(head.conv_seg.parameters())
    ]


def test_cosegnet_negative_pairs_leave_the_decoder_after_ct9_untouched():
    torch.manual_seed(0)
    head = small_cosegnet_head()
    losses = head.loss(
        cosegnet_inputs(4), 2, pair_samples([0, 0], [0, 1, 0, 2]))
    assert 'loss_ce' not in losses
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert all(g is None for g in conditional_grads(head))
    # the metric and decision losses still train the decoder before cT9
    assert head.decoder.stage_convs[0][0].conv.weight.grad.abs().sum() > 0
    assert head.decision_gate.decision[0].weight.grad.abs().sum() > 0


def test_cosegnet_positive_pairs_train_everything():
    torch.manual_seed(0)
    head = small_cosegnet_head()
    losses = head.loss(
        cosegnet_inputs(4), 2, pair_samples([1, 0], [0, 0, 0, 2]))
    assert {'loss_ce', 'loss_triplet', 'loss_decision'} <= set(losses)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert all(g is not None and g.abs().sum() > 0
               for g in conditional_grads(head))


def object_pooled_cosegnet_head():
    torch.manual_seed(0)
    head = small_cosegnet_head()
    head.decision_gate.pool = 'object'
    # BN in the conditional decoder, to see whose statistics it keeps
    head.conditional_decoder.stage_convs[0].append(nn.BatchNorm2d(4))
    return head


def test_object_pooled_gate_keeps_conditional_training():
    head = object_pooled_cosegnet_head()
    bn = head.conditional_decoder.stage_convs[0][-1]
    losses = head.loss(
        cosegnet_inputs(4), 2, pair_samples([0, 0], [0, 1, 0, 2]))
    assert 'loss_ce' not in losses
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    # negatives were decoded for their foreground, but trained nothing
    # after cT9 and left its BN statistics alone
    assert all(g is None for g in conditional_grads(head))
    assert bn.num_batches_tracked.item() == 0
    assert head.conditional_decoder.training and head.conv_seg.training
    assert head.decision_gate.decision[0].weight.grad.abs().sum() > 0


def test_object_pooled_gate_embeds_what_the_head_segments():
    head = object_pooled_cosegnet_head()
    head.eval()
    inputs = cosegnet_inputs(2)
    calls = []
    embed = head.decision_gate.embed

    def record(feats, foreground=None):
        calls.append(foreground)
        return embed(feats, foreground)

    head.decision_gate.embed = record
    head.predict_with_scores(inputs, 2, (8, 8))
    (foreground, ) = calls
    # the foreground the gate pools over is the head's own prediction
    raw = head.forward(inputs, 2)
    assert torch.allclose(foreground, raw.sigmoid())


def test_decision_gate_pools_over_the_predicted_object():
    gate = DecisionGate(2, metric_channels=(4, 3), pool='object')
    feats = torch.zeros(1, 2, 4, 4)
    feats[:, 0, :2] = 1.0  # the object's rows
    feats[:, 1, 2:] = 1.0  # the background's
    foreground = torch.zeros(1, 1, 8, 8)
    foreground[..., :4, :] = 1.0
    # 8 object cells of weight 1 + c, 8 background cells of weight c (the
    # constant added to the weights)
    c = 1e-3
    pooled = torch.tensor([[8 * (1 + c), 8 * c]]) / (8 * (1 + c) + 8 * c)
    expected = gate.metric(pooled)
    assert torch.allclose(gate.embed(feats, foreground), expected, atol=1e-5)
    # an empty prediction gives the global average
    assert torch.allclose(
        gate.embed(feats, torch.zeros(1, 1, 8, 8)),
        gate.metric(feats.mean(dim=(2, 3))),
        atol=1e-5)
    with pytest.raises(ValueError, match='foreground'):
        gate.embed(feats)
    with pytest.raises(ValueError, match='pool'):
        DecisionGate(2, pool='max')


def test_decision_gate_triplets_come_from_the_batch():
    # groups: (0: cls 0, 1: cls 0) positive; (2: cls 0, 3: cls 2) negative
    found = DecisionGate.triplets([1, 0], [0, 0, 0, 2])
    assert found == [(0, 1, 3, 0), (2, 0, 3, 1)]
    # no image of another class in the batch: no triplet for the positive
    assert DecisionGate.triplets([1], [4, 4]) == []
    assert DecisionGate.triplets([1], None) == []


def test_decision_gate_losses_by_hand():
    torch.manual_seed(0)
    gate = DecisionGate(3, metric_channels=(4, 2), margin=1.0)
    feats = torch.randn(4, 3, 2, 2)
    losses = gate.loss(feats, [1, 0], [0, 0, 0, 2])
    emb = gate.embed(feats)
    logits = gate.pair_logits(emb, 2)
    target = torch.tensor([1., 1., 0., 0.])
    weights = torch.tensor([.33, .33, .5, .5])
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction='none')
    assert torch.allclose(losses['loss_decision'], (bce * weights).mean())

    def trip(a, p, n):
        return F.relu((emb[a] - emb[p]).pow(2).sum() -
                      (emb[a] - emb[n]).pow(2).sum() + 1)

    expected = (0.33 * trip(0, 1, 3) + 0.5 * trip(2, 0, 3)) / 2
    assert torch.allclose(losses['loss_triplet'], expected)


def test_decision_gate_trains_on_every_pair_of_the_batch():
    torch.manual_seed(0)
    gate = DecisionGate(3, metric_channels=(4, 2), margin=1.0,
                        train_pairs='batch')
    feats = torch.randn(6, 3, 2, 2)
    # groups (0, 1) positive, (2, 3) negative, (4, 5) positive
    classes = [0, 0, 0, 2, 2, 2]
    losses = gate.loss(feats, [1, 0, 1], classes)
    emb = gate.embed(feats)
    scale = (0.33 + 0.5 + 0.33) / 3
    same_bce, other_bce, right = [], [], {True: [], False: []}
    trips = []
    for a in range(6):
        for b in range(6):
            if a == b:
                continue
            pair = torch.cat([emb[a], emb[b]])[None]
            logit = gate.decision(pair).squeeze()
            same = classes[a] == classes[b]
            bce = F.binary_cross_entropy_with_logits(
                logit, torch.tensor(float(same)))
            (same_bce if same else other_bce).append(bce)
            right[same].append(float((logit > 0).item() == same))
            if not same:
                continue
            for n in range(6):
                if classes[n] != classes[a]:
                    trips.append(
                        F.relu((emb[a] - emb[b]).pow(2).sum() -
                               (emb[a] - emb[n]).pow(2).sum() + 1))
    # 12 same-class and 18 other ordered pairs; 12 * 3 triplets
    assert len(same_bce) == 12 and len(other_bce) == 18 and len(trips) == 36
    decision = (torch.stack(same_bce).mean() +
                torch.stack(other_bce).mean()) / 2
    assert torch.allclose(losses['loss_decision'], scale * decision)
    assert torch.allclose(losses['loss_triplet'],
                          scale * torch.stack(trips).mean())
    balanced = 50 * (sum(right[True]) / 12 + sum(right[False]) / 18)
    assert abs(losses['acc_decision'].item() - balanced) < 1e-4
    # it needs the classes, and says so
    with pytest.raises(ValueError, match='class_idx'):
        gate.loss(feats, [1, 0, 1], None)
    with pytest.raises(ValueError, match='train_pairs'):
        DecisionGate(3, train_pairs='all')


def test_symmetric_decision_is_the_same_for_both_orders_of_a_pair():
    torch.manual_seed(0)
    embeddings = torch.randn(4, 6)
    symmetric = DecisionGate(3, metric_channels=(8, 6),
                             pair_features='symmetric')
    # ordered pairs of groups of 2: (0, 1), (1, 0), (2, 3), (3, 2)
    logits = symmetric.pair_logits(embeddings, 2)
    assert torch.allclose(logits[0], logits[1])
    assert torch.allclose(logits[2], logits[3])
    # the paper's concatenation is not
    concat = DecisionGate(3, metric_channels=(8, 6))
    concat.load_state_dict(symmetric.state_dict())
    logits = concat.pair_logits(embeddings, 2)
    assert not torch.allclose(logits[0], logits[1])
    # what the decision network sees: |a - b| then a * b
    first = symmetric.decision[0]
    seen = torch.cat([(embeddings[0] - embeddings[1]).abs(),
                      embeddings[0] * embeddings[1]])
    hidden = torch.relu(first(seen))
    assert torch.allclose(
        symmetric.decision[2](hidden), symmetric.pair_logits(
            embeddings, 2)[:1])
    with pytest.raises(ValueError, match='pair_features'):
        DecisionGate(3, pair_features='sum')


def test_decision_gate_empties_rejected_masks():
    gate = DecisionGate(3, threshold=0.5)
    logits = torch.randn(3, 2, 4, 4)
    gated = gate.gate(logits, torch.tensor([0.9, 0.1, 0.5]))
    assert torch.equal(gated[0], logits[0])
    assert torch.equal(gated[2], logits[2])
    assert (gated[1].argmax(0) == 0).all()
    single = gate.gate(torch.randn(2, 1, 3, 3), torch.tensor([0.2, 0.8]))
    assert (single[0].sigmoid() < 0.5).all()


def test_any_head_can_use_the_decision_gate():
    torch.manual_seed(0)
    head = DOCSHead(
        in_channels=4,
        reduce_channels=4,
        max_displacement=1,
        fuse_channels=4,
        decoder_channels=(4, ),
        decision_gate=dict(type='DecisionGate', in_channels=4))
    feats = (torch.randn(4, 4, 3, 3), )
    losses = head.loss(feats, 2, pair_samples([1, 0], [0, 0, 0, 1], size=6))
    assert {'loss_ce', 'loss_decision', 'loss_triplet'} <= set(losses)
    head.eval()
    logits, scores = head.predict_with_scores(feats, 2, (6, 6))
    assert scores.shape == (4, ) and logits.shape == (4, 2, 6, 6)


# ------------------------------------------------------------- the decoder
def test_decoder_attention_fusion_and_stage_outputs():
    decoder = UpConvDecoder(
        8, (6, 4),
        upsample='bilinear',
        skips=[dict(in_channels=3, stage=1)],
        fusion='attention')
    stages = decoder(
        torch.randn(2, 8, 3, 3), [torch.randn(2, 3, 12, 12)],
        return_stages=True)
    assert [s.shape for s in stages] == [(2, 6, 6, 6), (2, 4, 12, 12)]
    with pytest.raises(ValueError, match='expected 1 skip'):
        decoder(torch.randn(2, 8, 3, 3))
    with pytest.raises(ValueError, match='upsample must be'):
        UpConvDecoder(8, (4, ), upsample='cubic')


def test_docs_checkpoints_from_before_the_shared_decoder_still_load():
    torch.manual_seed(0)
    kwargs = dict(
        in_channels=4,
        reduce_channels=4,
        max_displacement=1,
        fuse_channels=4,
        decoder_channels=(4, 3),
        norm_cfg=dict(type='BN'),
        skips=[dict(in_index=0, in_channels=2, stage=1)])
    head = DOCSHead(**kwargs).eval()
    old_style = {
        k.replace('decoder.', '', 1): v
        for k, v in head.state_dict().items()
    }
    assert any(k.startswith('stage_convs.') for k in old_style)
    fresh = DOCSHead(**kwargs).eval()
    fresh.load_state_dict(old_style, strict=True)
    inputs = (torch.randn(2, 2, 8, 8), torch.randn(2, 4, 2, 2))
    assert torch.equal(head(inputs, 2), fresh(inputs, 2))

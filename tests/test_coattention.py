"""Unsupervised co-attention co-segmentation: losses, proposals, the
targets, and the folder tool."""
import glob
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from coseg_fixtures import REPO_ROOT, run_process, write_class_folder
from test_tools import PYTHON, run

from cosegtools.models import (BootstrappedMaskLoss, CoAttentionLoss,
                               MergeProposalGenerator, best_proposal,
                               refine_object_mask)

CONFIG = osp.join(REPO_ROOT, 'configs', 'coattention',
                  'coattention_effnet-lite0_1xg5-20e_voc-class-128x128.py')
FC_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'coattention',
    'coattention-fc_effnet-lite0_1xg5-20e_voc-class-128x128.py')
# 4 epochs (of one iteration for a class of 5 images), targets after 2;
# smaller proposal hierarchies
PROPOSALS = 'train_dataloader.dataset.pipeline.0.transforms.2.generator'
TINY = [
    '--cfg-options', 'train_cfg.max_epochs=4', 'train_cfg.stage_one_epochs=2',
    f'{PROPOSALS}.levels=[8,16]', f'{PROPOSALS}.max_side=48'
]


def test_coattention_loss_by_hand():
    torch.manual_seed(0)
    obj, bg = torch.randn(2, 4), torch.randn(2, 4)
    c = 4
    d_pos = (obj[0] - obj[1]).pow(2).sum() / c
    d_neg = ((obj[0] - bg[0]).pow(2).sum() +
             (obj[1] - bg[1]).pow(2).sum()) / (2 * c)
    p = torch.exp(-d_pos) / (torch.exp(-d_pos) + torch.exp(-d_neg))
    loss = CoAttentionLoss(reduction='sum')(obj, bg, 2)
    # eq. 3 sums over both ordered pairs, which share p
    assert torch.allclose(loss, -2 * torch.log(p), atol=1e-6)
    # objects alike and far from their backgrounds: low loss
    close = CoAttentionLoss()(torch.ones(2, 4), -torch.ones(2, 4), 2)
    far = CoAttentionLoss()(torch.tensor([[1.] * 4, [-1.] * 4]),
                            torch.tensor([[1.] * 4, [-1.] * 4]), 2)
    assert close < far


def test_coattention_loss_only_pairs_within_groups():
    torch.manual_seed(0)
    obj, bg = torch.randn(4, 3), torch.randn(4, 3)
    loss = CoAttentionLoss()
    both = loss(obj, bg, 2)
    separate = (loss(obj[:2], bg[:2], 2) + loss(obj[2:], bg[2:], 2)) / 2
    assert torch.allclose(both, separate)


def test_mask_loss_is_cross_entropy_to_the_bootstrapped_target():
    logits = torch.randn(1, 1, 3, 3)
    first = torch.zeros(1, 1, 3, 3)
    first[..., 1, 1] = 1
    current = torch.ones(1, 1, 3, 3)
    target = 0.95 * first + 0.05 * current
    s = logits.sigmoid()
    by_hand = -(target * s.log() + (1 - target) * (1 - s).log()).mean()
    assert torch.allclose(
        BootstrappedMaskLoss(beta=0.95, loss_weight=9)(logits, first, current),
        9 * by_hand,
        atol=1e-5)


def test_mask_loss_sums_the_images_as_eq_1():
    # eq. 1: lambda times the sum over images of each image's pixel mean
    logits = torch.randn(3, 1, 4, 5)
    first = (torch.rand(3, 1, 4, 5) > 0.5).float()
    current = (torch.rand(3, 1, 4, 5) > 0.5).float()
    target = 0.95 * first + 0.05 * current
    s = logits.sigmoid()
    per_image = -(target * s.log() + (1 - target) * (1 - s).log()).mean(
        dim=(1, 2, 3))
    summed = BootstrappedMaskLoss(loss_weight=9)(logits, first, current)
    assert torch.allclose(summed, 9 * per_image.sum(), atol=1e-5)
    averaged = BootstrappedMaskLoss(loss_weight=9, reduction='mean')
    assert torch.allclose(
        averaged(logits, first, current), 9 * per_image.mean(), atol=1e-5)
    with pytest.raises(ValueError, match='reduction'):
        BootstrappedMaskLoss(reduction='max')


def two_objects():
    image = np.zeros((90, 120, 3), np.uint8)
    image[:] = (200, 60, 40)
    image[10:40, 10:50] = (40, 60, 200)
    image[55:85, 70:110] = (40, 200, 60)
    noise = np.random.default_rng(0).integers(0, 15, image.shape)
    return cv2.add(image, noise.astype(np.uint8))


@pytest.mark.parametrize('oversegmentation,levels',
                         [('kmeans', (16, 32, 64)),
                          ('felzenszwalb', (25, 100, 400))])
def test_proposals_cover_the_objects(oversegmentation, levels):
    proposals = MergeProposalGenerator(
        oversegmentation=oversegmentation, levels=levels,
        max_side=60)(two_objects())
    assert proposals.dtype == bool and proposals.shape[1:] == (45, 60)
    gt = np.zeros((45, 60), bool)
    gt[5:20, 5:25] = True
    ious = [(p & gt).sum() / (p | gt).sum() for p in proposals]
    assert max(ious) > 0.9


def test_fill_term_merges_the_region_that_fills_the_gap_first():
    # region 0 is an L whose bounding box region 1 fills exactly; region 2,
    # closer in colour, would leave most of the joint box empty
    labels = np.full((6, 6), 3)
    labels[0:3, 1:4] = 1
    labels[0:4, 0] = 0
    labels[3, 0:4] = 0
    labels[4:6, :] = 2
    value = np.array([50.0, 70.0, 55.0, 200.0])[labels]
    lab = np.repeat(value[..., None], 3, axis=2).astype(np.float32)
    first_merge = {}
    for fill_weight in (0.0, 1.0):
        regions = MergeProposalGenerator.merge(lab, labels, fill_weight)
        first_merge[fill_weight] = regions[4]  # after the 4 initial regions
    assert np.array_equal(first_merge[0.0], (labels == 0) | (labels == 2))
    assert np.array_equal(first_merge[1.0], (labels == 0) | (labels == 1))


def test_proposal_generator_rejects_an_unknown_oversegmentation():
    with pytest.raises(ValueError, match="oversegmentation.*'slic'"):
        MergeProposalGenerator(oversegmentation='slic')


def test_refinement_merges_non_overlapping_proposals():
    a = np.zeros((10, 10), bool)
    a[1:4, 1:4] = True
    b = np.zeros((10, 10), bool)
    b[6:9, 6:9] = True
    both = a | b
    big = np.zeros((10, 10), bool)
    big[:5, :] = True
    proposals = np.stack([a, b, big, both[:, ::-1]])
    attention = np.where(both, 0.9, 0.05)
    assert best_proposal(attention, proposals) in (0, 1)
    assert np.array_equal(refine_object_mask(attention, proposals), both)
    # a map with one object: one proposal
    attention = np.where(a, 0.9, 0.0)
    assert np.array_equal(refine_object_mask(attention, proposals), a)
    with pytest.raises(ValueError, match='differ in size'):
        refine_object_mask(np.zeros((3, 3)), proposals)


def test_refinement_stops_when_no_proposal_left_matches_the_map():
    # the object is a bit larger than the proposal that covers most of it;
    # the uncovered strip is in no proposal disjoint from that one, so
    # merging the far-away proposal would only add wrong pixels
    obj = np.zeros((10, 10), bool)
    obj[1:5, 1:5] = True
    core = np.zeros((10, 10), bool)
    core[1:4, 1:4] = True
    far = np.zeros((10, 10), bool)
    far[7:10, 7:10] = True
    attention = np.where(obj, 0.9, 0.0)
    proposals = np.stack([core, far])
    assert np.array_equal(refine_object_mask(attention, proposals), core)


def naive_refinement(attention, proposals):
    """Sec. 3.3 written out: a shrinking pool, ||S - O||^2 in full."""
    s = attention.astype(np.float64).copy()
    pool = list(proposals)
    mask = np.zeros(attention.shape, bool)
    while pool and s.any():
        errors = [((s - p)**2).sum() for p in pool]
        pick = pool[int(np.argmin(errors))]
        if mask.any() and min(errors) >= (s**2).sum():
            break  # merging it would not match S better than leaving it out
        mask |= pick
        level = s[pick].mean()
        pool = [p for p in pool if not (p & pick).any()]
        s[s < level] = 0
        s[mask] = 0
    return mask


def test_refinement_equals_the_written_out_procedure():
    rng = np.random.default_rng(0)
    for _ in range(20):
        proposals = np.zeros((30, 12, 12), bool)
        for p in proposals:
            y, x = rng.integers(0, 10, 2)
            h, w = rng.integers(1, 8, 2)
            p[y:y + h, x:x + w] = True
        attention = rng.random((12, 12)).astype(np.float32)
        assert np.array_equal(
            refine_object_mask(attention, proposals),
            naive_refinement(attention, proposals))


def build_model(**train_cfg):
    from mmengine.config import Config

    from cosegtools.registry import MODELS
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                 'coattention_effnet-lite0.py'))
    cfg.model.backbone.pretrained = False
    cfg.model.extractor.pretrained = False
    cfg.model.train_cfg = train_cfg
    return MODELS.build(cfg.model)


def test_minmax_scaling_matches_a_low_contrast_map_to_its_object():
    obj = np.zeros((10, 10), bool)
    obj[2:5, 2:5] = True
    whole = np.ones((10, 10), bool)
    whole[0] = False
    proposals = np.stack([obj, whole])
    # object a little above the rest, everything above 0.5
    attention = np.where(obj, 0.6, 0.55).astype(np.float32)
    raw = build_model(map_scaling='none')
    stretched = build_model(map_scaling='minmax')
    assert best_proposal(raw.scale(attention), proposals) == 1
    assert best_proposal(stretched.scale(attention), proposals) == 0
    assert np.array_equal(
        refine_object_mask(stretched.scale(attention), proposals), obj)
    with pytest.raises(ValueError, match='train_cfg.map_scaling'):
        build_model(map_scaling='otsu')


def test_border_prior_picks_the_side_away_from_the_border():
    from cosegtools.models import CoAttentionSegmentor
    centre = np.zeros((8, 12), np.float32)
    centre[2:6, 3:9] = 1
    # one map on its object, two on the border: the collection's mean decides
    assert CoAttentionSegmentor.border_polarity([centre]) == 1
    assert CoAttentionSegmentor.border_polarity(
        [centre, 1 - centre, 1 - centre]) == -1
    with pytest.raises(ValueError, match='train_cfg.polarity_prior'):
        build_model(polarity_prior='centre')


def test_targets_and_polarity_are_in_the_state_dict(tmp_path):
    model = build_model()
    model.mask_targets = {
        'a.jpg': (torch.rand(5, 7) > 0.5, torch.rand(5, 7) > 0.5),
        'b.jpg': (torch.rand(3, 4) > 0.5, torch.rand(3, 4) > 0.5)
    }
    model.polarity.fill_(-1)
    path = str(tmp_path / 'model.pth')
    torch.save(model.state_dict(), path)
    # a checkpoint the safe loader reads
    state = torch.load(path, weights_only=True)
    other = build_model()
    other.load_state_dict(state)
    assert other.polarity.item() == -1
    assert set(other.mask_targets) == {'a.jpg', 'b.jpg'}
    for path in ('a.jpg', 'b.jpg'):
        for new, old in zip(other.mask_targets[path],
                            model.mask_targets[path]):
            assert new.dtype == torch.bool and torch.equal(new, old)


def test_negative_polarity_predicts_and_trains_the_complement():
    from mmseg.structures import SegDataSample

    from cosegtools.structures import CoSegDataSample
    model = build_model().eval()
    torch.manual_seed(0)
    images = torch.randn(1, 2, 3, 64, 64)
    raw = model.encode_decode(images)
    model.polarity.fill_(-1)
    assert torch.allclose(model.encode_decode(images), -raw)
    # the mask loss pulls the object side (1 - S) towards the proposals,
    # i.e. S towards their complement
    samples = []
    for k in range(2):
        sample = SegDataSample()
        sample.set_metainfo(dict(img_path=f'{k}.jpg', img_shape=(64, 64)))
        samples.append(sample)
    target = torch.zeros(64, 64, dtype=torch.bool)
    target[16:48, 16:48] = True
    model.mask_targets = {f'{k}.jpg': (target, target) for k in range(2)}
    group = CoSegDataSample()
    group.image_samples = samples
    losses = model.loss(images, [group])
    # summed over the two images (eq. 1)
    expected = 9.0 * sum(
        torch.nn.functional.binary_cross_entropy_with_logits(
            raw[k], (~target).float().expand_as(raw[k])) for k in range(2))
    assert torch.allclose(losses['loss_mask'], expected, atol=1e-5)
    assert 'polarity' in model.state_dict()


def test_folder_tool_batch_mode_scores_every_class(tmp_path):
    root = write_class_folder(str(tmp_path / 'data'), per_class=5)
    out = str(tmp_path / 'out')
    log = run([
        PYTHON, 'tools/coseg_folder.py', root, '--batch', '--config', CONFIG,
        '--work-dir',
        str(tmp_path /
            'work'), '--out', out, '--postprocess', 'threshold', 'otsu'
    ] + TINY)
    assert 'co-attention mask targets set for 5 images' in log
    assert '| otsu ' in log and '| threshold ' in log
    for post in ('threshold', 'otsu'):
        masks = glob.glob(osp.join(out, post, '*', '*.png'))
        assert len(masks) == 10
    # one proposal cache for the whole run, one file per image
    cached = glob.glob(osp.join(str(tmp_path / 'work'), 'proposals', '*.npz'))
    assert len(cached) == 10
    # the cost table names each phase
    for phase in ('| proposals ', '| targets ', '| predict ',
                  '| postprocess otsu ', '| total '):
        assert phase in log
    # --resume: the fitted classes are loaded, not fitted again, and give
    # the same scores
    again = run([
        PYTHON, 'tools/coseg_folder.py', root, '--batch', '--config', CONFIG,
        '--work-dir',
        str(tmp_path /
            'work'), '--postprocess', 'threshold', 'otsu', '--resume'
    ] + TINY)
    assert 'mask targets set' not in again
    assert again.count('fitted before: ') == 2

    def summary(text):
        return [
            line for line in text.splitlines()
            if line.startswith(('| threshold ', '| otsu '))
        ]

    assert summary(again) == summary(log) and len(summary(log)) == 2


def test_folder_tool_fits_a_large_collection_in_parts(tmp_path):
    root = write_class_folder(str(tmp_path / 'data'), per_class=7)
    out = str(tmp_path / 'out')
    work = tmp_path / 'work'
    cmd = [
        PYTHON, 'tools/coseg_folder.py', root, '--batch', '--config', CONFIG,
        '--work-dir', str(work), '--out', out, '--classes', 'Dog'
    ]
    log = run(cmd + TINY + ['max_collection_size=3'])
    # 7 images, at most 3 a part: 3, 2 and 2, each fitted on its own
    assert 'Dog: part 1 of 3 (images 1-3 of 7)' in log
    assert 'Dog: part 3 of 3 (images 6-7 of 7)' in log
    assert [line.split('INFO - ')[-1] for line in log.splitlines()
            if 'mask targets set for' in line] == [
                'co-attention mask targets set for 3 images',
                'co-attention mask targets set for 2 images',
                'co-attention mask targets set for 2 images']
    assert sorted(p.name for p in (work / 'Dog').iterdir()) == [
        'part1of3', 'part2of3', 'part3of3']
    # one mask per image of the class, scored as one class
    assert len(glob.glob(osp.join(out, 'threshold', 'Dog', '*.png'))) == 7
    assert '| Dog               | 7 ' in log
    # --resume loads every part
    again = run(cmd + ['--resume'] + TINY + ['max_collection_size=3'])
    assert again.count('fitted before: ') == 3
    # a size that cannot make a collection: one line, nothing fitted
    proc = run_process(
        cmd[:6] + ['--work-dir', str(tmp_path / 'bad')] + TINY +
        ['max_collection_size=1'],
        cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        f'error: {CONFIG}: max_collection_size must be an integer of at '
        'least 2, or None for no limit; got 1')
    assert not osp.exists(str(tmp_path / 'bad' / 'Dog'))


def test_folder_tool_batch_mode_on_a_split(tmp_path):
    root = write_class_folder(str(tmp_path / 'data'), per_class=4)
    with open(osp.join(root, 'splits', 'some.txt'), 'w') as f:
        f.write('Cat/img_0000\nCat/img_0001\nCat/img_0002\n'
                'Dog/img_1001\nDog/img_1003\n')
    log = run([
        PYTHON, 'tools/coseg_folder.py', root, '--batch', '--config', CONFIG,
        '--work-dir',
        str(tmp_path / 'work'), '--split-file', 'splits/some.txt'
    ] + TINY)
    assert 'mask targets set for 3 images' in log
    assert 'mask targets set for 2 images' in log
    assert 'Dog: 2 images, fewer than the group size 5: groups of 2' in log
    assert '| mean over classes | 5 ' in log
    with open(osp.join(root, 'splits', 'one.txt'), 'w') as f:
        f.write('Cat/img_0000\nDog/img_1001\nDog/img_1002\n')
    bad = run_process([
        PYTHON, 'tools/coseg_folder.py', root, '--batch', '--config', CONFIG,
        '--work-dir',
        str(tmp_path / 'bad'), '--split-file', 'splits/one.txt'
    ],
                         cwd=REPO_ROOT,
                         capture_output=True,
                         text=True)
    assert bad.returncode == 2 and 'Traceback' not in bad.stderr
    last = bad.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and 'fewer than 2 images' in last
    assert "'Cat': 1" in last
    assert not osp.exists(str(tmp_path / 'bad' / 'Cat'))


def test_folder_tool_on_a_plain_folder(tmp_path):
    root = write_class_folder(str(tmp_path / 'data'), per_class=4)
    folder = osp.join(root, 'Dog', 'images')
    out = str(tmp_path / 'out')
    log = run([
        PYTHON, 'tools/coseg_folder.py', folder, '--config', CONFIG,
        '--work-dir',
        str(tmp_path / 'work'), '--out', out
    ] + TINY)
    # <Class>/images is written as <Class>, the layout score_masks.py reads
    masks = sorted(glob.glob(osp.join(out, 'threshold', 'Dog', '*.png')))
    assert len(masks) == 4
    mask = cv2.imread(masks[0], cv2.IMREAD_UNCHANGED)
    assert mask.shape == (40, 48) and set(np.unique(mask)) <= {0, 255}
    assert len(
        glob.glob(osp.join(out, 'threshold', 'Dog', 'overlay',
                           '*.png'))) == 4

    # Dog/masks exists: the tool scores its masks, as score_masks.py does
    def summary_row(text, label):
        line = [row for row in text.splitlines()
                if row.startswith(f'| {label} ')][-1]
        return [cell.strip() for cell in line.split('|')[1:-1]]

    scored = run([
        PYTHON, 'tools/analysis_tools/score_masks.py', root, '--pred-dir',
        osp.join(out, 'threshold'), '--classes', 'Dog'
    ])
    assert summary_row(log, 'Dog') == summary_row(scored, 'Dog')
    assert summary_row(log, 'threshold')[1] == '4'
    # a folder without masks next to it is only segmented
    photos = tmp_path / 'photos'
    shutil.copytree(folder, photos)
    log = run([
        PYTHON, 'tools/coseg_folder.py',
        str(photos), '--config', CONFIG, '--work-dir',
        str(tmp_path / 'work_photos'), '--out', out
    ] + TINY)
    assert len(glob.glob(osp.join(out, 'threshold', 'photos', '*.png'))) == 4
    assert '| threshold ' not in log


def test_folder_tool_rejects_bad_input_before_work(tmp_path):
    proc = run_process([
        PYTHON, 'tools/coseg_folder.py',
        str(tmp_path), '--config', CONFIG, '--postprocess', 'watershed'
    ],
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 2 and 'unknown post-processor' in proc.stderr
    assert 'Traceback' not in proc.stderr
    # options that do not go together; --debug shows where it was raised
    cmd = [
        PYTHON, 'tools/coseg_folder.py',
        str(tmp_path), '--config', CONFIG, '--split-file', 'splits/val.txt'
    ]
    proc = run_process(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        'error: --split-file needs --batch')
    proc = run_process(
        cmd + ['--debug'], cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 1 and 'UsageError' in proc.stderr
    # the config's options of an unknown post-processor
    proc = run_process([
        PYTHON, 'tools/coseg_folder.py',
        str(tmp_path), '--config', CONFIG, '--cfg-options',
        'postprocessors.watershed.level=1'
    ], cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert "postprocessors: unknown post-processor 'watershed'" in proc.stderr
    # and the options of a known one reach it
    proc = run_process([
        PYTHON, 'tools/coseg_folder.py',
        str(tmp_path), '--config', CONFIG, '--postprocess', 'grabcut',
        '--cfg-options', 'postprocessors.grabcut.border=0.7'
    ], cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and 'border must be in [0, 0.5)' in (
        proc.stderr)


def test_image_folder_dataset_validates_its_images(tmp_path):
    from cosegtools.datasets import CoSegImageFolderDataset
    from cosegtools.datasets.mask_io import DatasetFileError
    folder = tmp_path / 'birds'
    folder.mkdir()
    for i in range(2):
        cv2.imwrite(str(folder / f'{i}.jpg'), np.zeros((8, 8, 3), np.uint8))
    dataset = CoSegImageFolderDataset(data_root=str(folder))
    assert len(dataset) == 2 and dataset.metainfo['classes'] == ('birds', )
    (folder / 'broken.png').write_bytes(b'not an image')
    with pytest.raises(DatasetFileError, match='broken.png'):
        CoSegImageFolderDataset(data_root=str(folder))
    with pytest.raises(FileNotFoundError, match='not a directory'):
        CoSegImageFolderDataset(data_root=str(tmp_path / 'none'))


def test_exported_synthetic_scenes_form_a_valid_class_folder(tmp_path):
    from cosegtools.datasets import CoSegClassFolderDataset
    from cosegtools.datasets.mask_io import read_binary_mask
    run([
        PYTHON,
        osp.join(REPO_ROOT, 'tools', 'misc', 'export_synthetic.py'),
        str(tmp_path), '--num-classes', '5', '--images-per-class', '3',
        '--img-size', '48'
    ])
    dataset = CoSegClassFolderDataset(data_root=str(tmp_path), pipeline=[])
    assert len(dataset.metainfo['classes']) == 5 and len(dataset) == 15
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        image = cv2.imread(info['img_path'])
        mask = read_binary_mask(info['seg_map_path'])
        assert image.shape == (48, 48, 3) and mask.shape == (48, 48)
        # the class's own object is drawn, and it is not the whole image
        assert 0 < mask.mean() < 0.6


def test_loss_check_tool_reports_the_loss_of_reference_maps(tmp_path):
    root = write_class_folder(str(tmp_path / 'data'), per_class=4)

    def loss_check(folder, *options, config=CONFIG):
        return run_process([
            PYTHON, 'tools/analysis_tools/coattention_loss_check.py',
            osp.join(root, folder), '--config', config, *options
        ],
                              cwd=REPO_ROOT,
                              capture_output=True,
                              text=True)

    proc = loss_check('Cat', '--size', '64')
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    rows = {
        line.split('|')[1].strip(): [float(v) for v in line.split('|')[2:5]]
        for line in out.splitlines()
        if line.startswith('|') and 'mean d+' not in line
    }
    assert len(rows) == 7
    empty, full, half = rows['empty (S = 0)'], rows['full (S = 1)'], rows[
        'S = 0.5']
    # every object image is black: no object-to-object distance
    assert empty[0] == 0
    # S = 0 and S = 1 swap object and background: same figure-ground
    # distance; S = 0.5 makes them equal
    assert empty[1] == full[1] > 0 and half[1] == 0
    # loss = softplus(d+ - d-)
    assert abs(empty[2] - np.log1p(np.exp(-empty[1]))) < 1e-3
    assert '4 images of' in out
    with open(osp.join(root, 'splits', 'two.txt'), 'w') as f:
        f.write('Cat/img_0001\nCat/img_0003\nDog/img_1000\n')
    proc = loss_check('Cat', '--size', '64', '--split-file', 'splits/two.txt')
    assert proc.returncode == 0 and '2 images of' in proc.stdout
    bad = loss_check('Nope')
    assert bad.returncode != 0 and 'need at least 2 images' in bad.stderr
    paper = osp.join(
        REPO_ROOT, 'configs', 'coattention',
        'coattention_vgg16-fcn-r50_1xg5-60e_voc-class-384x384.py')
    if not osp.exists(
            osp.join(REPO_ROOT, 'checkpoints', 'resnet50_imagenet.pth')):
        bad = loss_check('Cat', config=paper)
        assert bad.returncode != 0
        assert 'resnet50_imagenet.pth' in bad.stderr
        assert 'does not exist' in bad.stderr


def test_mask_target_check_scores_the_prior_targets_per_class(tmp_path):
    root = write_class_folder(str(tmp_path / 'data'), per_class=3)

    def check(*options, config=FC_CONFIG):
        return run_process([
            PYTHON, 'tools/analysis_tools/check_mask_targets.py', root,
            '--config', config, *options
        ],
                           cwd=REPO_ROOT,
                           capture_output=True,
                           text=True)

    proc = check('--split-file', 'splits/val.txt')
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {
        line.split('|')[1].strip(): [float(v) for v in line.split('|')[3:7]]
        for line in proc.stdout.splitlines()
        if line.startswith('|') and 'images' not in line
    }
    assert set(rows) == {'Cat', 'Dog', 'mean over classes'}
    for prior, fixed, refined, ceiling in rows.values():
        assert all(0 <= v <= 100 for v in (prior, fixed, refined, ceiling))
        # no proposal is closer to the ground truth than the closest one
        assert ceiling >= fixed
    assert rows['mean over classes'][3] == pytest.approx(
        (rows['Cat'][3] + rows['Dog'][3]) / 2, abs=0.01)
    # the plain method's first targets come from its own fitted maps
    bad = check(config=CONFIG)
    assert bad.returncode != 0
    assert 'model.train_cfg.first_targets is not set' in bad.stderr
    bad = check('--classes', 'Cow')
    assert bad.returncode != 0 and "no class folder ['Cow']" in bad.stderr


def test_fit_loop_counts_epochs_and_a_killed_fit_resumes(tmp_path):
    # 11 images, groups of 5: 3 iterations an epoch, 12 in all; targets
    # set after 6, updated after 9 (not after the last)
    root = write_class_folder(str(tmp_path / 'data'), classes=('Cat', ),
                              per_class=11)
    folder = osp.join(root, 'Cat', 'images')

    def fit(work, *extra):
        return run([
            PYTHON, 'tools/coseg_folder.py', folder, '--config', CONFIG,
            '--work-dir',
            str(tmp_path / work), '--out',
            str(tmp_path / work / 'out')
        ] + list(extra) + TINY + ['default_hooks.checkpoint.interval=8'])

    log = fit('whole')
    assert 'fitting 11 images: 4 epochs of 3 iterations, targets after 6' \
        in log
    assert log.count('mask targets set for 11 images') == 1
    assert log.count('mask targets updated for 11 images') == 1
    # the run killed after iteration 8 (its checkpoint holds the targets
    # set at 6): resumed, it ends with the masks of the whole run
    killed = tmp_path / 'killed'
    shutil.copytree(tmp_path / 'whole', killed)
    shutil.rmtree(killed / 'out')
    (killed / 'iter_12.pth').unlink()
    (killed / 'last_checkpoint').write_text(str(killed / 'iter_8.pth'))
    log = fit('killed', '--resume')
    assert 'resumed' in log.lower() and 'mask targets set' not in log
    assert log.count('mask targets updated for 11 images') == 1
    masks = sorted(
        glob.glob(str(tmp_path / 'whole' / 'out' / '*' / 'Cat' / '*.png')))
    assert len(masks) == 11
    for path in masks:
        again = path.replace(str(tmp_path / 'whole'), str(killed))
        assert np.array_equal(cv2.imread(path), cv2.imread(again)), path


def test_fit_loop_caps_the_iterations_of_an_epoch(tmp_path):
    # 11 images, groups of 5 would be 3 iterations an epoch; capped at 2:
    # 8 in all, targets set after 4, updated after 6 (not after the last)
    root = write_class_folder(str(tmp_path / 'data'), classes=('Cat', ),
                              per_class=11)
    log = run([
        PYTHON, 'tools/coseg_folder.py',
        osp.join(root, 'Cat', 'images'), '--config', CONFIG, '--work-dir',
        str(tmp_path / 'work')
    ] + TINY + ['train_cfg.max_iters_per_epoch=2'])
    assert 'fitting 11 images: 4 epochs of 2 iterations, targets after 4' \
        in log
    assert log.count('mask targets set for 11 images') == 1
    assert log.count('mask targets updated for 11 images') == 1
    assert osp.isfile(str(tmp_path / 'work' / 'iter_8.pth'))


def test_proposals_are_computed_once_per_image_and_setting(tmp_path):
    from cosegtools.datasets import LoadObjectProposals
    image = two_objects()
    cache = str(tmp_path / 'cache')
    load = LoadObjectProposals(
        generator=dict(type='MergeProposalGenerator', levels=[8, 16],
                       max_side=48), cache_dir=cache)
    first = load(dict(img=image))['proposals']
    assert first.dtype == bool and first.ndim == 3 and len(first) > 0
    assert len(glob.glob(osp.join(cache, '*.npz'))) == 1
    # a second call reads the cache: the generator is not run again
    calls = []
    real = load.generator
    load.generator = lambda img: calls.append(1) or real(img)
    assert np.array_equal(load(dict(img=image))['proposals'], first)
    assert not calls
    # other settings or another image: their own entries
    LoadObjectProposals(
        generator=dict(type='MergeProposalGenerator', levels=[8],
                       max_side=48), cache_dir=cache)(dict(img=image))
    load(dict(img=np.ascontiguousarray(image[:, ::-1])))
    assert len(glob.glob(osp.join(cache, '*.npz'))) == 3
    assert not glob.glob(osp.join(cache, '*.tmp*'))


def test_fit_loop_iterator_starts_each_epoch_with_the_next_sampler_epoch():
    from torch.utils.data import DataLoader, Sampler

    from cosegtools.engine.loops import EpochIterator

    class EpochOrder(Sampler):
        """0, 1, 2 in an order that depends on the epoch."""

        def __init__(self):
            self.epoch = 0

        def set_epoch(self, epoch):
            self.epoch = epoch

        def __iter__(self):
            return iter(np.roll([0, 1, 2], self.epoch).tolist())

        def __len__(self):
            return 3

    loader = DataLoader(list(range(10, 13)), sampler=EpochOrder(),
                        batch_size=None)
    batches = EpochIterator(loader)
    seen = [int(next(batches)) for _ in range(8)]
    assert seen == [10, 11, 12, 12, 10, 11, 11, 12]
    assert batches.epoch == 2 and loader.sampler.epoch == 2


def test_coattention_predicts_through_the_shared_test_views():
    from mmseg.structures import SegDataSample

    from cosegtools.structures import CoSegDataSample
    model = build_model().eval()
    model.polarity.fill_(-1)
    torch.manual_seed(0)
    images = torch.randn(1, 2, 3, 64, 64)

    def predict():
        group = CoSegDataSample()
        group.image_samples = [
            SegDataSample(metainfo=dict(
                img_path=f'{k}.jpg', ori_shape=(64, 64), img_shape=(64, 64)))
            for k in range(2)
        ]
        model.predict(images, [group])
        return torch.stack([s.seg_logits.data for s in group.image_samples])

    with torch.no_grad():
        plain = predict()
        # the object side's probability (polarity -1: 1 - S)
        expected = 1 - model.attention_logits(images[0]).sigmoid()
        assert torch.allclose(plain, expected, atol=1e-6)
        mirrored = (1 - model.attention_logits(
            images[0].flip(-1)).sigmoid()).flip(-1)
        model.test_cfg = dict(flip=True)
        both = predict()
    assert torch.allclose(both, (plain + mirrored) / 2, atol=1e-6)
    assert not torch.allclose(both, plain, atol=1e-4)


def left_half_prior_batch(tmp_path):
    """Registers ``LeftHalfPrior`` (a training-free co-segmentor whose
    object is the left half) and returns a batch of two images whose
    proposals are the left and the right half, and the left half."""
    from mmengine.model import BaseModule
    from mmseg.structures import SegDataSample

    from cosegtools.registry import MODELS
    from cosegtools.structures import CoSegDataSample

    @MODELS.register_module(force=True)
    class LeftHalfPrior(BaseModule):

        def collection_probabilities(self, images):
            maps = []
            for image in images:
                prob = np.zeros(image.shape[:2], np.float32)
                prob[:, :image.shape[1] // 2] = 1
                maps.append(prob)
            return maps

    left = np.zeros((8, 8), bool)
    left[:, :4] = True
    proposals = torch.from_numpy(np.stack([left, ~left]))
    samples = []
    for k in range(2):
        path = str(tmp_path / f'{k}.png')
        cv2.imwrite(path, np.zeros((32, 32, 3), np.uint8))
        sample = SegDataSample(metainfo=dict(
            img_path=path, img_shape=(32, 32), ori_shape=(32, 32)))
        sample.proposals = proposals
        samples.append(sample)
    group = CoSegDataSample()
    group.image_samples = samples
    batch = dict(inputs=[torch.randint(0, 255, (2, 3, 32, 32),
                                       dtype=torch.uint8)],
                 data_samples=[group])
    return batch, [s.img_path for s in samples], torch.from_numpy(left)


def test_first_targets_follow_the_prior_maps(tmp_path):
    batch, paths, left = left_half_prior_batch(tmp_path)
    model = build_model(first_targets=dict(type='LeftHalfPrior'))
    model.update_targets([batch], first=True)
    for path in paths:
        fixed, refined = model.mask_targets[path]
        # the proposal of the prior's object, whatever S looks like
        assert torch.equal(fixed, left)
        assert torch.equal(refined, left)
    with pytest.raises(ValueError, match='first_targets'):
        build_model(first_targets=dict(type='NoSuchPrior'))


def test_prior_weight_keeps_the_prior_in_later_target_updates(tmp_path):
    batch, paths, left = left_half_prior_batch(tmp_path)

    def refined_after_update(weight, resumed=False):
        model = build_model(first_targets=dict(type='LeftHalfPrior'),
                            prior_weight=weight)
        model.update_targets([batch], first=True)
        # S's object side is the right half: the paper's update follows it
        model.polarity.fill_(1)
        model.attention_maps = lambda batches: {
            p: ((~left).float().numpy(), batch['data_samples'][0]
                .image_samples[0].proposals.numpy())
            for p in paths
        }
        if resumed:  # a fresh process: the prior's maps are not kept
            model._prior_maps = {}
        model.update_targets([batch], first=False)
        return [model.mask_targets[p][1] for p in paths]

    assert all(torch.equal(m, ~left) for m in refined_after_update(0.0))
    assert all(torch.equal(m, left) for m in refined_after_update(1.0))
    assert all(torch.equal(m, left)
               for m in refined_after_update(1.0, resumed=True))
    with pytest.raises(ValueError, match='prior_weight'):
        build_model(prior_weight=0.5)
    with pytest.raises(ValueError, match='prior_weight'):
        build_model(first_targets=dict(type='LeftHalfPrior'),
                    prior_weight=2)

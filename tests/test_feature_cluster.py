"""Training-free co-segmentation by clustering deep features."""
import glob
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from coseg_fixtures import REPO_ROOT
from test_tools import PYTHON, run

from cosegtools.registry import MODELS

CONFIG = osp.join(REPO_ROOT, 'configs', 'featcluster',
                  'featcluster_effnet-lite0_voc-class-320x320.py')


def build(**kwargs):
    return MODELS.build(
        dict(
            type='FeatureClusterCoSegmentor',
            backbone=dict(
                type='EfficientNetLite',
                arch='lite0',
                pretrained=kwargs.pop('pretrained', False),
                out_indices=(3, 4)),
            **kwargs))


def test_common_border_avoiding_clusters_are_the_foreground():
    model = build(num_clusters=4, min_images=0.6)
    images = []
    for i in range(4):
        lab = np.zeros((6, 6), int)  # cluster 0: everywhere, border too
        lab[2:4, 2:4] = 1  # cluster 1: the centre of every image
        lab[1, 1 + i % 3] = 3  # cluster 3: inner cells, every image
        images.append(lab)
    images[0][4, 4] = 2  # cluster 2: one image only
    # 0 lies on the border; 2 is in too few images; 1 and 3 remain
    assert model.foreground_clusters(images) == [1, 3]
    # no common cluster avoids the border enough (0: border ratio 0.93,
    # 1: border only): the common one least on the border
    ring = [np.zeros((6, 6), int) for _ in images]
    for lab in ring:
        lab[0, :3] = 1
    assert model.foreground_clusters(ring) == [0]


def test_a_shared_object_on_varied_backgrounds_is_found():
    rng = np.random.default_rng(0)
    images, masks = [], []
    for i in range(6):
        # a different textured background per image, one red disc
        img = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
        img = cv2.GaussianBlur(img, (0, 0), 1 + i % 3)
        mask = np.zeros((120, 160), np.uint8)
        cv2.circle(mask, (60 + 8 * i, 55 + 3 * i), 28, 1, -1)
        img[mask == 1] = (20, 20, 230)
        images.append(img)
        masks.append(mask)
    # two kinds of content: the object and everything else
    model = build(pretrained=True, img_scale=(160, 224), num_clusters=2)
    probs = model.collection_probabilities(images)
    assert [p.shape for p in probs] == [(120, 160)] * 6
    ious = []
    for prob, mask in zip(probs, masks):
        pred = prob > 0.5
        ious.append((pred & (mask == 1)).sum() / (pred | (mask == 1)).sum())
        # the predicted region is centred on the disc of this image
        ys, xs = np.nonzero(pred)
        assert mask[int(ys.mean()), int(xs.mean())] == 1
    # a 10x14 grid of cells (stride 16) around a 56-pixel disc: the blocky
    # map covers the disc and a margin (the post-processors refine it)
    assert np.mean(ious) > 0.4, ious
    with pytest.raises(ValueError, match='at least 2 images'):
        model.collection_probabilities(images[:1])


def test_folder_tool_runs_the_training_free_method(tmp_path):
    root = tmp_path / 'data'
    rng = np.random.default_rng(1)
    for cls in ('Cat', 'Dog'):
        os.makedirs(root / cls / 'images')
        os.makedirs(root / cls / 'masks')
        for i in range(3):
            img = rng.integers(60, 200, (64, 80, 3), dtype=np.uint8)
            mask = np.zeros((64, 80), np.uint8)
            mask[16:48, 20 + 4 * i:56] = 255
            img[mask > 0] = (30, 200, 30) if cls == 'Cat' else (200, 30, 30)
            cv2.imwrite(str(root / cls / 'images' / f'{i}.jpg'), img)
            cv2.imwrite(str(root / cls / 'masks' / f'{i}.png'), mask)
    out = str(tmp_path / 'out')
    log = run([
        PYTHON, 'tools/coseg_folder.py',
        str(root), '--batch', '--config', CONFIG, '--work-dir',
        str(tmp_path / 'work'), '--out', out, '--cfg-options',
        'model.img_scale=(128,160)'
    ])
    assert len(glob.glob(osp.join(out, 'threshold', '*', '*.png'))) == 6
    row = [line for line in log.splitlines()
           if line.startswith('| threshold ')][-1]
    # objects cover at most 32 x 36 of 64 x 80 pixels: predicting the whole
    # image would score J 22.5 at best
    assert float(row.split('|')[4]) > 30


def test_tuning_tool_scores_every_combination(tmp_path, capsys):
    import sys
    sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'analysis_tools'))
    from tune_featcluster import main

    from coseg_fixtures import write_class_folder
    root = write_class_folder(str(tmp_path / 'data'), per_class=3)
    options = ['model.img_scale=(64,64)', 'model.backbone.pretrained=False']
    # the config's post-processor options are used: a bad one is refused
    # before any image is read
    with pytest.raises(ValueError, match='border'):
        main([
            root, '--config', CONFIG, '--split-file', 'splits/val.txt',
            '--postprocess', 'grabcut', '--cfg-options',
            'postprocessors.grabcut.border=0.7'
        ] + options)
    capsys.readouterr()
    main([
        root, '--config', CONFIG, '--split-file', 'splits/val.txt',
        '--num-clusters', '2', '3', '--min-images', '0.5', '--postprocess',
        'threshold', 'grabcut', '--cfg-options'
    ] + options)
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith('| ')]
    assert len(rows) == 5  # header + one per combination and post-processor
    cells = [[c.strip() for c in r.split('|')[1:-1]] for r in rows[1:]]
    assert [(c[0], c[3]) for c in cells] == [('2', 'threshold'),
                                             ('2', 'grabcut'),
                                             ('3', 'threshold'),
                                             ('3', 'grabcut')]
    assert all(0 <= float(c[5]) <= 100 for c in cells)

import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from cosegtools.datasets import (CoSegGroupSampler, CoSegPairSampler,
                                 DatasetFileError, SyntheticCoSegDataset,
                                 read_binary_mask)
from cosegtools.datasets.samplers import balanced_parts, partition_class
from cosegtools.registry import DATASETS
from cosegtools.structures import CoSegDataSample
from coseg_fixtures import write_class_folder

LOAD_PIPELINE = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadCoSegMask'),
            dict(type='RandomFlip', prob=0.5),
        ]),
    dict(type='PackCoSegInputs'),
]


def build_folder_dataset(root, **kwargs):
    return DATASETS.build(
        dict(
            type='CoSegClassFolderDataset',
            data_root=root,
            pipeline=LOAD_PIPELINE,
            **kwargs))


# ---------------------------------------------------------------- synthetic
def test_synthetic_groups_share_exactly_one_class():
    ds = SyntheticCoSegDataset(
        num_classes=6, images_per_class=4, num_distractors=2, pipeline=[])
    per_class = ds.get_class_indices()
    group = per_class[2][:3]
    info = ds.get_group_info(group)
    assert info['has_common'] == [1, 1, 1]
    # every image has its own-class object marked
    assert all(m.sum() > 0 for m in info['gt_seg_map'])
    # distractor classes never repeat inside a group
    forbidden = {2}
    for idx in group:
        _, _, used = ds.render(idx, 2, set(forbidden))
        assert not set(used) & forbidden
        forbidden.update(used)


def test_synthetic_negative_group_has_empty_masks():
    ds = SyntheticCoSegDataset(
        num_classes=4, images_per_class=2, num_distractors=1, pipeline=[])
    info = ds.get_group_info([0, 2])  # classes 0 and 1
    assert info['has_common'] == [0, 0]
    assert all(m.sum() == 0 for m in info['gt_seg_map'])


def test_synthetic_is_deterministic_and_seed_dependent():
    a = SyntheticCoSegDataset(seed=3, pipeline=[]).get_group_info([0, 1])
    b = SyntheticCoSegDataset(seed=3, pipeline=[]).get_group_info([0, 1])
    c = SyntheticCoSegDataset(seed=4, pipeline=[]).get_group_info([0, 1])
    assert np.array_equal(a['img'][0], b['img'][0])
    assert not np.array_equal(a['img'][0], c['img'][0])


def test_synthetic_mask_is_the_common_object_only():
    ds = SyntheticCoSegDataset(
        num_classes=4,
        images_per_class=2,
        num_distractors=2,
        img_size=(96, 96),
        pipeline=[])
    img, mask, used = ds.render(0, 0, set())
    assert len(used) == 2 and 0 not in used
    # the masked pixels carry the class colour (modulated by its texture)
    colour = np.array(ds.class_spec(0)[2][::-1], np.float32)  # BGR
    pixels = img[mask == 1].astype(np.float32)
    ratio = pixels / np.maximum(colour, 1)
    assert np.median(ratio.std(axis=1)) < 0.1


def test_dataset_requires_a_group_sampler():
    ds = SyntheticCoSegDataset(pipeline=[])
    with pytest.raises(TypeError, match='CoSegPairSampler'):
        ds[0]
    with pytest.raises(ValueError, match='at least 2'):
        ds[(0, )]


# ------------------------------------------------------------- class folder
def test_class_folder_dataset_loads_groups(class_folder_root):
    ds = build_folder_dataset(class_folder_root, split_file='splits/train.txt')
    assert len(ds) == 6
    assert ds.metainfo['classes'] == ('Cat', 'Dog')
    out = ds[(0, 1)]
    assert out['inputs'].shape == (2, 3, 40, 48)
    group = out['data_samples']
    assert isinstance(group, CoSegDataSample)
    assert group.has_common == 1
    gt = group.image_samples[0].gt_sem_seg.data
    assert set(gt.unique().tolist()) == {0, 1}
    assert group.image_samples[0].img_id == 'Cat/img_0000'
    negative = ds[(0, 3)]
    assert negative['data_samples'].has_common == 0
    assert all(s.gt_sem_seg.data.sum() == 0
               for s in negative['data_samples'].image_samples)


def _first(root, kind, ext):
    return osp.join(root, 'Cat', kind, f'img_0000.{ext}')


@pytest.mark.parametrize('case, message', [
    ('corrupt_image', 'unreadable or corrupt image'),
    ('missing_mask', 'no mask for this image'),
    ('mask_size', 'differs from its image'),
    ('mask_values', 'mask values must be 0/255 or 0/1'),
    ('colour_mask', 'channels differ'),
])
def test_bad_files_are_reported_by_name(class_folder_root, case, message):
    img = _first(class_folder_root, 'images', 'jpg')
    mask = _first(class_folder_root, 'masks', 'png')
    bad = img if case == 'corrupt_image' else mask
    if case == 'corrupt_image':
        with open(img, 'wb') as f:
            f.write(b'not a jpeg at all')
    elif case == 'missing_mask':
        os.remove(mask)
        bad = img
    elif case == 'mask_size':
        cv2.imwrite(mask, np.zeros((10, 10), np.uint8))
    elif case == 'mask_values':
        cv2.imwrite(mask, np.full((40, 48), 128, np.uint8))
    elif case == 'colour_mask':
        colour = np.zeros((40, 48, 3), np.uint8)
        colour[..., 2] = 255
        cv2.imwrite(mask, colour)
    with pytest.raises(DatasetFileError, match=message) as err:
        build_folder_dataset(class_folder_root)
    assert err.value.path == bad
    assert bad in str(err.value)


def test_truncated_jpeg_is_reported(class_folder_root):
    img = _first(class_folder_root, 'images', 'jpg')
    data = open(img, 'rb').read()
    with open(img, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(DatasetFileError, match='corrupt') as err:
        build_folder_dataset(class_folder_root)
    assert err.value.path == img


def test_class_with_one_image_is_an_error(tmp_path):
    root = write_class_folder(str(tmp_path / 'd'), per_class=2)
    os.remove(osp.join(root, 'Dog', 'images', 'img_1001.jpg'))
    with pytest.raises(ValueError, match=r"fewer than 2 images.*'Dog': 1"):
        build_folder_dataset(root)


def test_empty_dataset_is_an_error(tmp_path):
    root = tmp_path / 'empty'
    (root / 'Cat' / 'images').mkdir(parents=True)
    with pytest.raises(ValueError, match='empty'):
        build_folder_dataset(str(root))
    with pytest.raises(FileNotFoundError, match='not a directory'):
        build_folder_dataset(str(tmp_path / 'missing'))


def test_split_file_naming_a_missing_image(class_folder_root):
    split = osp.join(class_folder_root, 'splits', 'bad.txt')
    with open(split, 'w') as f:
        f.write('Cat/img_0000\nCat/nope\n')
    with pytest.raises(FileNotFoundError, match='Cat/nope'):
        build_folder_dataset(class_folder_root, split_file='splits/bad.txt')
    with open(split, 'w') as f:
        f.write('just-a-stem\n')
    with pytest.raises(ValueError, match='bad.txt:1'):
        build_folder_dataset(class_folder_root, split_file='splits/bad.txt')


def test_split_line_of_a_class_without_folder_is_an_error(class_folder_root):
    split = osp.join(class_folder_root, 'splits', 'bad.txt')
    with open(split, 'w') as f:
        f.write('Cat/img_0000\nCat/img_0001\n\nDogs/img_1000\n')
    with pytest.raises(FileNotFoundError,
                       match="bad.txt:4: lists Dogs/img_1000 .* 'Dogs'"):
        build_folder_dataset(class_folder_root, split_file='splits/bad.txt')
    # a class left out with ``classes`` still drops its lines quietly
    ds = build_folder_dataset(
        class_folder_root,
        split_file='splits/train.txt',
        classes=['Cat'])
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert {info['class_name'] for info in infos} == {'Cat'}


def test_hidden_files_in_images_are_skipped(class_folder_root):
    fork = osp.join(class_folder_root, 'Cat', 'images', '._img_0000.jpg')
    with open(fork, 'wb') as f:
        f.write(b'\x00\x05\x16\x07 resource fork')
    ds = build_folder_dataset(class_folder_root)
    paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    assert len(paths) == 6
    assert not any(osp.basename(p).startswith('.') for p in paths)


def test_grayscale_rgba_and_palette_images_become_3_channels(
        class_folder_root):
    cat = osp.join(class_folder_root, 'Cat')
    gray = np.full((40, 48), 100, np.uint8)
    Image.fromarray(gray).save(osp.join(cat, 'images', 'img_0000.jpg'))
    rgba = np.zeros((40, 48, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 10
    os.remove(osp.join(cat, 'images', 'img_0001.jpg'))
    Image.fromarray(rgba, 'RGBA').save(osp.join(cat, 'images', 'img_0001.png'))
    palette = Image.fromarray(np.zeros((40, 48), np.uint8), 'P')
    palette.putpalette([0, 0, 255] * 256)
    os.remove(osp.join(cat, 'images', 'img_0002.jpg'))
    palette.save(osp.join(cat, 'images', 'img_0002.png'))
    ds = build_folder_dataset(class_folder_root)
    out = ds[(0, 1, 2)]
    images = out['inputs']
    assert images.shape == (3, 3, 40, 48)
    assert (images[0] == 100).all()  # grey replicated
    assert images[1][2].float().mean() == 200  # RGBA red -> BGR channel 2
    assert images[2][0].float().mean() == 255  # palette blue -> BGR ch. 0


def test_mask_conventions(tmp_path):
    path = str(tmp_path / 'm.png')
    cv2.imwrite(path, np.array([[0, 1], [1, 0]], np.uint8))
    assert read_binary_mask(path).tolist() == [[0, 1], [1, 0]]
    cv2.imwrite(path, np.array([[0, 255], [255, 0]], np.uint8))
    assert read_binary_mask(path).tolist() == [[0, 1], [1, 0]]
    pal = Image.fromarray(np.array([[0, 1], [0, 0]], np.uint8), 'P')
    pal.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    pal.save(path)
    assert read_binary_mask(path).tolist() == [[0, 1], [0, 0]]
    # stray grey values (the TSS kit's masks): refused by default, foreground
    # with nonzero_foreground (the kit's rule)
    cv2.imwrite(path, np.array([[0, 16], [255, 0]], np.uint8))
    with pytest.raises(DatasetFileError, match='0/255 or 0/1'):
        read_binary_mask(path)
    assert read_binary_mask(
        path, nonzero_foreground=True).tolist() == [[0, 1], [1, 0]]


def test_dataset_without_masks_reads_none(class_folder_root):
    import shutil
    from cosegtools.datasets import CoSegClassFolderDataset, LoadCoSegMask
    for name in ('Cat', 'Dog'):
        shutil.rmtree(osp.join(class_folder_root, name, 'masks'))
    with pytest.raises(DatasetFileError, match='no mask for this image'):
        CoSegClassFolderDataset(class_folder_root, pipeline=[])
    ds = CoSegClassFolderDataset(
        class_folder_root, with_masks=False, pipeline=[])
    info = ds.get_data_info(0)
    assert info['seg_map_path'] is None
    with pytest.raises(ValueError, match=r'img_0000.jpg: LoadCoSegMask needs'
                       r' a mask.*with_masks=False'):
        LoadCoSegMask()(dict(info, has_common=1))


def test_masks_from_a_mask_root(class_folder_root, tmp_path):
    """``mask_root`` reads <mask_root>/<Class>/<stem>.png (what
    tools/coseg_folder.py --out writes) instead of the dataset's masks."""
    from cosegtools.datasets import CoSegClassFolderDataset
    mask_root = tmp_path / 'pseudo'
    for name in ('Cat', 'Dog'):
        (mask_root / name).mkdir(parents=True)
        masks = osp.join(class_folder_root, name, 'masks')
        for file in os.listdir(masks):
            mask = cv2.imread(osp.join(masks, file), cv2.IMREAD_GRAYSCALE)
            cv2.imwrite(str(mask_root / name / file),
                        np.where(mask > 0, 0, 255).astype(np.uint8))
    own = build_folder_dataset(class_folder_root)
    pseudo = build_folder_dataset(class_folder_root, mask_root=str(mask_root))
    assert pseudo.get_data_info(0)['seg_map_path'] == str(
        mask_root / 'Cat' / 'img_0000.png')
    for index in range(len(own)):
        a = own[(index, index)]['data_samples'].image_samples[0]
        b = pseudo[(index, index)]['data_samples'].image_samples[0]
        flipped = a.metainfo['flip'] != b.metainfo['flip']
        gt = a.gt_sem_seg.data.flip(-1) if flipped else a.gt_sem_seg.data
        assert torch.equal(b.gt_sem_seg.data, 1 - gt)
    # a missing mask there is reported by name, before any training
    os.remove(mask_root / 'Dog' / 'img_1001.png')
    with pytest.raises(DatasetFileError,
                       match=r'img_1001.jpg: no mask .*pseudo.Dog.img_1001.png'):
        CoSegClassFolderDataset(
            class_folder_root, mask_root=str(mask_root), pipeline=[])
    with pytest.raises(FileNotFoundError, match='mask_root .*nowhere'):
        CoSegClassFolderDataset(
            class_folder_root, mask_root=str(tmp_path / 'nowhere'),
            pipeline=[])


# ------------------------------------------------------------------ samplers
def test_pair_sampler_positive_and_negative_groups():
    ds = SyntheticCoSegDataset(num_classes=5, images_per_class=20, pipeline=[])
    sampler = CoSegPairSampler(ds, neg_ratio=0.3, seed=1)
    groups = list(sampler)
    assert len(groups) == len(ds)
    classes = [[ds.get_data_info(i)['class_idx'] for i in g] for g in groups]
    negatives = sum(len(set(c)) > 1 for c in classes)
    assert 0.2 < negatives / len(groups) < 0.4
    assert all(len(set(g)) == 2 for g in groups)
    # each image anchors exactly one group per epoch
    assert sorted(g[0] for g in groups) == list(range(len(ds)))
    only_positive = list(CoSegPairSampler(ds, neg_ratio=0.0, seed=1))
    assert all(
        len({ds.get_data_info(i)['class_idx']
             for i in g}) == 1 for g in only_positive)


def test_pair_sampler_is_reproducible_and_reshuffles_each_epoch():
    ds = SyntheticCoSegDataset(
        num_classes=3, images_per_class=10, num_distractors=1, pipeline=[])
    a = CoSegPairSampler(ds, group_size=3, neg_ratio=0.2, seed=7)
    b = CoSegPairSampler(ds, group_size=3, neg_ratio=0.2, seed=7)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first
    assert all(len(g) == 3 for g in first)


def test_pair_sampler_shards_over_ranks():
    ds = SyntheticCoSegDataset(
        num_classes=3, images_per_class=5, num_distractors=1, pipeline=[])
    shards = []
    for rank in range(2):
        sampler = CoSegPairSampler(ds, seed=0)
        sampler.rank, sampler.world_size = rank, 2
        sampler.num_samples = 8
        shards.append(list(sampler))
    assert len(shards[0]) == len(shards[1]) == 8
    full = CoSegPairSampler(ds, seed=0).epoch_groups()
    assert shards[0][:7] == full[0::2][:7]
    assert shards[1][:7] == full[1::2][:7]


@pytest.mark.parametrize('num_items', range(1, 40))
@pytest.mark.parametrize('max_size', [2, 3, 5, 10, None])
def test_balanced_parts_cover_everything_in_as_few_even_parts(
        num_items, max_size):
    parts = balanced_parts(num_items, max_size)
    # consecutive, every item once
    assert parts[0][0] == 0 and parts[-1][1] == num_items
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
    sizes = [end - start for start, end in parts]
    limit = num_items if max_size is None else max_size
    assert max(sizes) <= limit and max(sizes) - min(sizes) <= 1
    # as few parts as the limit allows
    assert len(parts) == -(-num_items // limit)


def test_group_sampler_scores_every_image_once():
    assert partition_class([0, 1, 2, 3, 4], 2) == [(0, 1), (2, 3, 4)]
    assert partition_class([0, 1, 2], None) == [(0, 1, 2)]
    assert partition_class([0, 1, 2, 3], 3) == [(0, 1, 2, 3)]
    ds = SyntheticCoSegDataset(
        num_classes=3, images_per_class=5, num_distractors=1, pipeline=[])
    for size in (2, 3, None):
        groups = list(CoSegGroupSampler(ds, group_size=size))
        flat = sorted(i for g in groups for i in g)
        assert flat == list(range(len(ds)))
        assert all(len(g) >= 2 for g in groups)
    sampler = CoSegGroupSampler(ds, group_size=2)
    sampler.rank, sampler.world_size = 1, 2
    assert list(sampler) == CoSegGroupSampler(ds, 2).groups[1::2]


def test_pack_pads_groups_of_different_sizes():
    from cosegtools.datasets.transforms import PackCoSegInputs
    results = dict(
        img=[np.zeros((4, 6, 3), np.uint8),
             np.ones((5, 3, 3), np.uint8)],
        gt_seg_map=[np.ones((4, 6), np.uint8),
                    np.ones((5, 3), np.uint8)],
        img_path=['a', 'b'],
        has_common=[1, 1])
    packed = PackCoSegInputs().transform(results)
    assert packed['inputs'].shape == (2, 3, 5, 6)
    first, second = packed['data_samples'].image_samples
    assert first.padding_size == (0, 0, 0, 1)
    assert second.padding_size == (0, 3, 0, 0)
    # masks keep their image's size: a test mask is scored there, and the
    # data preprocessor pads training masks
    assert first.gt_sem_seg.shape == (4, 6)
    assert second.gt_sem_seg.shape == (5, 3)
    assert torch.equal(packed['inputs'][1, :, :, 3:],
                       torch.zeros(3, 5, 3, dtype=torch.uint8))


def test_exif_orientation_is_applied_by_the_check_and_the_loader(tmp_path):
    # a 40x60 (h x w) JPEG whose EXIF says: rotate 90 degrees to display;
    # viewers (and OpenCV) show it 60 high and 40 wide
    root = str(tmp_path / 'photos')
    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:, :30] = 200  # left half bright as stored: top half displayed
    exif = Image.Exif()
    exif[0x0112] = 6
    for name in ('Cat', 'Dog'):
        os.makedirs(osp.join(root, name, 'images'))
        os.makedirs(osp.join(root, name, 'masks'))
        for i in range(2):
            Image.fromarray(stored).save(
                osp.join(root, name, 'images', f'{i}.jpg'), exif=exif)
            # the mask drawn on the displayed photo: its top half
            mask = np.zeros((60, 40), np.uint8)
            mask[:30] = 255
            cv2.imwrite(osp.join(root, name, 'masks', f'{i}.png'), mask)
    ds = DATASETS.build(
        dict(
            type='CoSegClassFolderDataset',
            data_root=root,
            pipeline=[
                dict(
                    type='TransformBroadcaster',
                    transforms=[
                        dict(type='LoadImageFromFile'),
                        dict(type='LoadCoSegMask')
                    ])
            ]))
    group = ds.pipeline(ds.get_group_info([0, 1]))
    # the loader's image lines up with the mask: bright where the mask is
    for img, mask in zip(group['img'], group['gt_seg_map']):
        assert img.shape[:2] == mask.shape == (60, 40)
        assert img[mask == 1].mean() > 150 and img[mask == 0].mean() < 50
    # a mask drawn on the stored pixels does not fit the displayed photo
    cv2.imwrite(
        osp.join(root, 'Dog', 'masks', '1.png'), np.zeros((40, 60), np.uint8))
    with pytest.raises(DatasetFileError, match=r'Dog/masks/1.png: mask size '
                       r'60x40 differs from its image'):
        build_folder_dataset(root)


def write_png_header(path, width, height):
    """A PNG whose header claims width x height 8-bit gray pixels."""
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return (struct.pack('>I', len(data)) + body +
                struct.pack('>I', zlib.crc32(body) & 0xffffffff))

    ihdr = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) +
                chunk(b'IDAT', zlib.compress(b'\x00' * 16)) +
                chunk(b'IEND', b''))


def test_decompression_bomb_header_is_named(tmp_path):
    from cosegtools.datasets.mask_io import open_image
    path = str(tmp_path / 'huge.png')
    write_png_header(path, 14000, 14000)
    with pytest.raises(DatasetFileError, match='huge.png: too many pixels'):
        open_image(path)


def test_inference_reader_names_empty_and_corrupt_files(tmp_path):
    from cosegtools.apis.inference import _read
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match='empty.jpg: empty file'):
        _read(str(empty), 0)
    junk = tmp_path / 'junk.jpg'
    junk.write_bytes(b'\xff\xd8 not really a jpeg' * 10)
    with pytest.raises(ValueError, match='junk.jpg: unreadable'):
        _read(str(junk), 0)

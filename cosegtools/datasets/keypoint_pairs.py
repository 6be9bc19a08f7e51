"""Semantic matching benchmarks: image pairs with corresponding keypoints.

Each dataset lists *pairs*: entry ``2k`` and ``2k + 1`` of ``data_list`` are
the first and second image of pair k (an image in several pairs appears once
per pair), and :class:`CoSegPairListSampler` yields exactly these pairs.
Every entry carries ``keypoints`` (K, 2) in original pixels (x, y; NaN where
not annotated); the pair's second entry also ``pck_size``, the length PCK
thresholds are relative to (None on the first entry)
(see :mod:`cosegtools.evaluation.pck_metric`).

The data is not shipped with the toolbox; the loaders read the published
formats:

- TSS (Taniai et al., CVPR 2016): ``<pair>/image{1,2}.png``,
  ``mask{1,2}.png``, dense ground-truth ``flow1.flo`` (Middlebury format)
  from image 1 to image 2;
- PF-PASCAL and PF-WILLOW (Ham et al.): the pair CSV files of CNNGeometric /
  weakalign (``test_pairs_pf_pascal.csv``: ``source_image, target_image,
  class, XA, YA, XB, YB`` with ``;``-separated coordinates;
  ``test_pairs_pf.csv``: ``imageA, imageB`` then the x of A's keypoints,
  A's y, B's x, B's y in separate columns);
- SPair-71k (Min et al., 2019): ``PairAnnotation/<split>/*.json`` with
  ``src_imname, trg_imname, category, src_kps, trg_kps, trg_bndbox`` and
  images in ``JPEGImages/<category>/``.
"""
import csv
import glob
import json
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np

from cosegtools.registry import DATASETS
from .base_coseg_dataset import BaseCoSegDataset
from .mask_io import DatasetFileError, open_image, read_binary_mask

PCK_REFERENCES = ('mask_box', 'keypoint_box', 'annotated_box', 'image')
FLO_MAGIC = 202021.25
FLO_INVALID = 1e9


def read_flo(path: str) -> np.ndarray:
    """A Middlebury ``.flo`` file as (H, W, 2) float32 (u, v); unknown flow
    (|u| or |v| > 1e9) becomes NaN."""
    with open(path, 'rb') as f:
        header = np.fromfile(f, np.float32, count=1)
        if header.size != 1 or header[0] != FLO_MAGIC:
            raise DatasetFileError(path, 'not a .flo file (bad magic number)')
        width, height = np.fromfile(f, np.int32, count=2)
        data = np.fromfile(f, np.float32)
    if data.size != 2 * width * height:
        raise DatasetFileError(
            path, f'{data.size} values for a {width}x{height} flow (expected '
            f'{2 * width * height})')
    flow = data.reshape(height, width, 2).copy()
    flow[(np.abs(flow) > FLO_INVALID).any(-1)] = np.nan
    return flow


def box_size(points: np.ndarray) -> float:
    """max(h, w) of the bounding box of (K, 2) points (NaN rows ignored)."""
    points = points[~np.isnan(points).any(1)]
    if len(points) == 0:
        return float('nan')
    extent = points.max(0) - points.min(0)
    return float(extent.max())


def mask_box_size(mask: np.ndarray) -> float:
    """max(h, w) of the bounding box of a binary mask's foreground."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return float('nan')
    return float(max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1))


class KeypointPairDataset(BaseCoSegDataset):
    """Base class: subclasses implement :meth:`load_pairs`.

    Args:
        data_root (str): dataset root.
        pck_reference (str): what ``pck_size`` measures in the second image:
            'mask_box', 'keypoint_box', 'annotated_box' (max side of the
            object's bounding box from its mask, its keypoints or the
            annotation) or 'image' (max side of the image).
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments.
    """
    default_pck_reference = 'keypoint_box'

    def __init__(self,
                 data_root: str,
                 pck_reference: Optional[str] = None,
                 **kwargs):
        self.pck_reference = pck_reference or self.default_pck_reference
        if self.pck_reference not in PCK_REFERENCES:
            raise ValueError(f'pck_reference must be one of '
                             f'{PCK_REFERENCES}, got {pck_reference!r}')
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'data_root {data_root!r} is not a directory (the matching '
                'benchmarks are not shipped; see the MaCoSNet README)')
        kwargs.setdefault('test_mode', True)
        super().__init__(data_root=data_root, **kwargs)

    def load_pairs(self) -> List[dict]:
        """Pairs as dicts: ``first``/``second`` image paths, ``keypoints``
        (two (K, 2) arrays), ``class_name``, optional ``masks`` (two paths)
        and ``box`` (the second image's annotated box, x1 y1 x2 y2)."""
        raise NotImplementedError

    def pck_size(self, pair: dict) -> float:
        second = pair['second']
        if self.pck_reference == 'keypoint_box':
            size = box_size(pair['keypoints'][1])
        elif self.pck_reference == 'mask_box':
            if not pair.get('masks'):
                raise ValueError(f'{second}: no mask for pck_reference='
                                 "'mask_box'")
            size = mask_box_size(
                read_binary_mask(pair['masks'][1], nonzero_foreground=True))
        elif self.pck_reference == 'annotated_box':
            if pair.get('box') is None:
                raise ValueError(f'{second}: no annotated box for '
                                 "pck_reference='annotated_box'")
            x1, y1, x2, y2 = pair['box']
            size = float(max(x2 - x1, y2 - y1))
        else:
            image = open_image(second)
            size = float(max(image.width, image.height))
        if not size > 0:
            raise DatasetFileError(
                second, f'cannot measure its {self.pck_reference} for PCK')
        return size

    def load_data_list(self) -> List[dict]:
        pairs = self.load_pairs()
        if not pairs:
            raise ValueError(f'{type(self).__name__}: no pair found in '
                             f'{self.data_root!r}')
        classes = sorted({p['class_name'] for p in pairs})
        self._metainfo['classes'] = tuple(classes)
        data_list = []
        for k, pair in enumerate(pairs):
            first_kps, second_kps = (
                np.asarray(kps, np.float32).reshape(-1, 2)
                for kps in pair['keypoints'])
            if first_kps.shape != second_kps.shape:
                raise ValueError(
                    f'pair {k} ({pair["first"]}, {pair["second"]}): '
                    f'{len(first_kps)} and {len(second_kps)} keypoints')
            size = self.pck_size(pair)
            masks = pair.get('masks') or (None, None)
            for role, (path, kps, mask) in enumerate(
                    zip((pair['first'], pair['second']),
                        (first_kps, second_kps), masks)):
                if not osp.isfile(path):
                    raise DatasetFileError(path, 'file does not exist')
                info = dict(
                    img_path=path,
                    seg_map_path=mask,
                    img_id=f'{k}:{role}',
                    class_name=pair['class_name'],
                    class_idx=classes.index(pair['class_name']),
                    keypoints=kps,
                    seg_fields=[],
                    reduce_zero_label=False)
                info['pck_size'] = size if role == 1 else None
                data_list.append(info)
        return data_list

    @property
    def pairs(self) -> List[tuple]:
        """Index pairs of the data list, in benchmark order."""
        if not self._fully_initialized:
            self.full_init()
        return [(i, i + 1) for i in range(0, len(self), 2)]


@DATASETS.register_module()
class TSSDataset(KeypointPairDataset):
    """TSS pairs (``<data_root>/<pair>/``) with masks and dense flow.

    The keypoints are the points of a regular grid (``grid_step`` pixels)
    inside image 1's ground-truth flow region (which equals its mask), and
    their targets ``p + flow1(p)`` in image 2; at most ``max_points`` per pair
    (the step grows until they fit). The class of a pair is its folder name.
    ``pck_size`` defaults to the box of image 2's mask ('mask_box'); the TSS
    kit's own flow accuracy uses the image size ('image').
    """
    default_pck_reference = 'mask_box'

    def __init__(self,
                 data_root,
                 grid_step: int = 8,
                 max_points: int = 500,
                 **kwargs):
        self.grid_step = grid_step
        self.max_points = max_points
        super().__init__(data_root, **kwargs)

    def load_pairs(self) -> List[dict]:
        pairs = []
        for folder in sorted(glob.glob(osp.join(self.data_root, '*'))):
            flow_path = osp.join(folder, 'flow1.flo')
            if not osp.isfile(flow_path):
                continue
            flow = read_flo(flow_path)
            valid = ~np.isnan(flow).any(-1)
            step = self.grid_step
            while True:
                ys, xs = np.mgrid[step // 2:flow.shape[0]:step,
                                  step // 2:flow.shape[1]:step]
                keep = valid[ys, xs]
                if keep.sum() <= self.max_points:
                    break
                step += 1
            xs, ys = xs[keep].astype(np.float32), ys[keep].astype(np.float32)
            first = np.stack([xs, ys], 1)
            second = first + flow[ys.astype(int), xs.astype(int)]
            pairs.append(
                dict(
                    first=osp.join(folder, 'image1.png'),
                    second=osp.join(folder, 'image2.png'),
                    masks=(osp.join(folder, 'mask1.png'),
                           osp.join(folder, 'mask2.png')),
                    keypoints=(first, second),
                    class_name=osp.basename(folder)))
        return pairs


def _floats(text: str) -> np.ndarray:
    return np.array([float(v) for v in text.split(';') if v.strip()],
                    np.float32)


@DATASETS.register_module()
class PFPascalDataset(KeypointPairDataset):
    """PF-PASCAL pairs from a CNNGeometric/weakalign CSV (``ann_file``,
    relative to ``data_root``); image paths in the CSV are relative to
    ``data_root``. ``pck_size`` defaults to the box of the second image's
    keypoints."""

    def __init__(self,
                 data_root,
                 ann_file='test_pairs_pf_pascal.csv',
                 **kwargs):
        # mmengine joins ann_file to data_root
        super().__init__(data_root, ann_file=ann_file, **kwargs)

    def load_pairs(self) -> List[dict]:
        path = self.ann_file
        if not osp.isfile(path):
            raise FileNotFoundError(f'PF-PASCAL pair file {path!r} does not '
                                    'exist')
        pairs = []
        with open(path, newline='') as f:
            reader = csv.DictReader(f)
            need = {
                'source_image', 'target_image', 'class', 'XA', 'YA', 'XB', 'YB'
            }
            missing = need - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f'{path}: missing columns {sorted(missing)}')
            for line, row in enumerate(reader, 2):
                xa, ya, xb, yb = (
                    _floats(row[k]) for k in ('XA', 'YA', 'XB', 'YB'))
                if not len(xa) == len(ya) == len(xb) == len(yb):
                    raise ValueError(f'{path}:{line}: keypoint lists of '
                                     'different lengths')
                pairs.append(
                    dict(
                        first=osp.join(self.data_root, row['source_image']),
                        second=osp.join(self.data_root, row['target_image']),
                        keypoints=(np.stack([xa, ya], 1), np.stack([xb, yb],
                                                                   1)),
                        class_name=str(row['class'])))
        return pairs


@DATASETS.register_module()
class PFWillowDataset(KeypointPairDataset):
    """PF-WILLOW pairs from its CSV (``imageA, imageB``, then the columns of
    A's x, A's y, B's x and B's y, in that order, as many as keypoints);
    the class is the folder of image A. ``pck_size``: the box of the second
    image's keypoints (the usual PF-WILLOW protocol)."""

    def __init__(self, data_root, ann_file='test_pairs_pf.csv', **kwargs):
        # mmengine joins ann_file to data_root
        super().__init__(data_root, ann_file=ann_file, **kwargs)

    def load_pairs(self) -> List[dict]:
        path = self.ann_file
        if not osp.isfile(path):
            raise FileNotFoundError(f'PF-WILLOW pair file {path!r} does not '
                                    'exist')
        pairs = []
        with open(path, newline='') as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        values = len(header) - 2
        if values <= 0 or values % 4:
            raise ValueError(f'{path}: expected imageA, imageB and 4 columns '
                             f'per keypoint, got {len(header)} columns')
        k = values // 4
        for line, row in enumerate(body, 2):
            if len(row) != len(header):
                raise ValueError(f'{path}:{line}: {len(row)} columns, the '
                                 f'header has {len(header)}')
            coords = np.array(row[2:], np.float32).reshape(4, k)
            pairs.append(
                dict(
                    first=osp.join(self.data_root, row[0]),
                    second=osp.join(self.data_root, row[1]),
                    keypoints=(coords[:2].T, coords[2:].T),
                    class_name=osp.basename(osp.dirname(row[0]))))
        return pairs


@DATASETS.register_module()
class SPairDataset(KeypointPairDataset):
    """SPair-71k pairs of one split (``PairAnnotation/<split>/*.json``).
    ``pck_size`` defaults to the annotated box of the target image
    (``trg_bndbox``), SPair's protocol."""
    default_pck_reference = 'annotated_box'

    def __init__(self,
                 data_root,
                 split: str = 'test',
                 categories: Optional[Sequence[str]] = None,
                 **kwargs):
        self.split = split
        self.categories = categories
        super().__init__(data_root, **kwargs)

    def load_pairs(self) -> List[dict]:
        folder = osp.join(self.data_root, 'PairAnnotation', self.split)
        files = sorted(glob.glob(osp.join(folder, '*.json')))
        if not files:
            raise FileNotFoundError(f'no SPair-71k pair annotation in '
                                    f'{folder!r}')
        pairs = []
        for path in files:
            with open(path) as f:
                ann = json.load(f)
            missing = {
                'src_imname', 'trg_imname', 'category', 'src_kps', 'trg_kps',
                'trg_bndbox'
            } - set(ann)
            if missing:
                raise ValueError(f'{path}: missing keys {sorted(missing)}')
            if self.categories and ann['category'] not in self.categories:
                continue
            images = osp.join(self.data_root, 'JPEGImages', ann['category'])
            pairs.append(
                dict(
                    first=osp.join(images, ann['src_imname']),
                    second=osp.join(images, ann['trg_imname']),
                    keypoints=(np.asarray(ann['src_kps'], np.float32),
                               np.asarray(ann['trg_kps'], np.float32)),
                    box=ann['trg_bndbox'],
                    class_name=ann['category']))
        return pairs

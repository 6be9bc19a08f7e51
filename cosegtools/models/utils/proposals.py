"""Unsupervised object proposals and the proposal-based mask selection of
co-attention co-segmentation (Hsu et al., IJCAI 2018, Sec. 3.3).

The paper used geodesic object proposals (GOP). Here proposals come from a
superpixel-merging generator in the spirit of selective search (Uijlings et
al., IJCV 2013): the image is over-segmented (k-means on colour and position,
or Felzenszwalb and Huttenlocher's graph-based segmentation), and adjacent
regions are merged greedily, most similar first; every region of the
hierarchy is a proposal. Only OpenCV, numpy and scikit-image are needed.
"""
from typing import List

import cv2
import numpy as np

from cosegtools.registry import TASK_UTILS

OVERSEGMENTATIONS = ('kmeans', 'felzenszwalb')


@TASK_UTILS.register_module()
class MergeProposalGenerator:
    """Hierarchical region-merging proposals.

    Args:
        oversegmentation (str): how the image is cut into the regions that
            are merged: ``'kmeans'`` (k-means on Lab colour and position,
            split into connected parts) or ``'felzenszwalb'``
            (scikit-image's graph-based segmentation of the RGB image).
        levels (Sequence[float]): one over-segmentation, and so one
            hierarchy, per value (more diverse proposals): k of the k-means,
            or the ``scale`` of the Felzenszwalb segmentation (larger: fewer,
            larger regions).
        spatial_weight (float): weight of (x, y) against Lab colour in the
            k-means features (larger: more compact segments).
        fill_weight (float): weight of the fill term of selective search in
            the merge cost: the part of the two regions' joint bounding box
            that neither covers, as a fraction of the image. It merges
            regions that fill each other's gaps first, so compact,
            object-like regions form (0: colour and size only).
        max_side (int): the image is processed with its longer side resized
            to this; proposals have that size.
        min_area (float), max_area (float): kept proposals cover this
            fraction of the image.
        seed (int): k-means initialisation.
    """

    def __init__(self,
                 oversegmentation: str = 'kmeans',
                 levels=(16, 32, 64),
                 spatial_weight: float = 1.0,
                 fill_weight: float = 0.0,
                 max_side: int = 96,
                 min_area: float = 0.01,
                 max_area: float = 0.95,
                 seed: int = 0):
        if oversegmentation not in OVERSEGMENTATIONS:
            raise ValueError(f'oversegmentation must be one of '
                             f'{OVERSEGMENTATIONS}, got {oversegmentation!r}')
        self.oversegmentation = oversegmentation
        self.levels = tuple(levels)
        self.spatial_weight = spatial_weight
        self.fill_weight = fill_weight
        self.max_side = max_side
        self.min_area = min_area
        self.max_area = max_area
        self.seed = seed

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """BGR uint8 image (H, W, 3) -> proposals (P, h, w) bool, (h, w) the
        image resized to ``max_side``."""
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'expected a (H, W, 3) image, got {image.shape}')
        h, w = image.shape[:2]
        scale = self.max_side / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).astype(np.float32)
        found = []
        for level in self.levels:
            if self.oversegmentation == 'kmeans':
                labels = self.oversegment(lab, int(level))
            else:
                labels = self.felzenszwalb(small, level)
            found.extend(self.merge(lab, labels, self.fill_weight))
        area = np.array([p.mean() for p in found])
        keep = (area >= self.min_area) & (area <= self.max_area)
        proposals = [p for p, ok in zip(found, keep) if ok]
        if not proposals:
            return np.zeros((0, *small.shape[:2]), bool)
        # drop duplicates
        packed = {np.packbits(p).tobytes(): p for p in proposals}
        return np.stack(list(packed.values()))

    def oversegment(self, lab: np.ndarray, k: int) -> np.ndarray:
        """(h, w) labels of connected k-means segments."""
        h, w = lab.shape[:2]
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        spread = 255.0 / max(h, w) * self.spatial_weight
        feats = np.concatenate([
            lab.reshape(-1, 3), (xs * spread).reshape(-1, 1),
            (ys * spread).reshape(-1, 1)
        ],
                               axis=1).astype(np.float32)
        k = min(k, h * w)
        cv2.setRNGSeed(self.seed)
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10,
                    1.0)
        _, clusters, _ = cv2.kmeans(feats, k, None, criteria, 1,
                                    cv2.KMEANS_PP_CENTERS)
        clusters = clusters.reshape(h, w)
        labels = np.zeros((h, w), np.int32)
        count = 0
        for c in np.unique(clusters):
            n, comp = cv2.connectedComponents(
                (clusters == c).astype(np.uint8), connectivity=4)
            for i in range(1, n):
                labels[comp == i] = count
                count += 1
        return labels

    @staticmethod
    def felzenszwalb(image: np.ndarray, scale: float) -> np.ndarray:
        """(h, w) region labels of the BGR image by graph-based segmentation
        (sigma 0.8 as in selective search; regions of at least 1/400 of the
        image, so that a level gives tens of regions, not thousands)."""
        from skimage.segmentation import felzenszwalb
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        min_size = max(1, image.shape[0] * image.shape[1] // 400)
        labels = felzenszwalb(rgb, scale=scale, sigma=0.8, min_size=min_size)
        return labels.astype(np.int32)

    @staticmethod
    def merge(lab: np.ndarray,
              labels: np.ndarray,
              fill_weight: float = 0.0) -> List[np.ndarray]:
        """Greedy merging of adjacent regions by colour similarity, with a
        preference for small regions and (``fill_weight``) for regions that
        fill each other's bounding box; returns every region's mask."""
        n = labels.max() + 1
        masks = {i: labels == i for i in range(n)}
        colour = {i: lab[masks[i]].mean(0) for i in range(n)}
        size = {i: int(masks[i].sum()) for i in range(n)}
        box = {}  # (top, bottom, left, right), inclusive
        for i in range(n):
            ys, xs = np.nonzero(masks[i])
            box[i] = (ys.min(), ys.max(), xs.min(), xs.max())
        edges = set()
        for a, b in ((labels[:,
                             1:], labels[:, :-1]), (labels[1:], labels[:-1])):
            diff = a != b
            for u, v in zip(a[diff], b[diff]):
                edges.add((min(u, v), max(u, v)))
        total = labels.size
        regions = list(masks.values())

        def joint_box(u, v):
            a, b = box[u], box[v]
            return (min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]),
                    max(a[3], b[3]))

        def cost(u, v):
            value = (np.linalg.norm(colour[u] - colour[v]) / 100 +
                     (size[u] + size[v]) / total)
            if fill_weight:
                top, bottom, left, right = joint_box(u, v)
                gap = ((bottom - top + 1) * (right - left + 1) - size[u] -
                       size[v])
                value += fill_weight * gap / total
            return value

        while edges:
            u, v = min(edges, key=lambda e: cost(*e))
            new = max(masks) + 1
            masks[new] = masks[u] | masks[v]
            size[new] = size[u] + size[v]
            colour[new] = (colour[u] * size[u] +
                           colour[v] * size[v]) / size[new]
            box[new] = joint_box(u, v)
            regions.append(masks[new])
            edges = {
                (min(new if x in (u, v) else x, new if y in (u, v) else y),
                 max(new if x in (u, v) else x, new if y in (u, v) else y))
                for x, y in edges if {x, y} != {u, v}
            }
            edges = {e for e in edges if e[0] != e[1]}
            for old in (u, v):
                del masks[old], colour[old], size[old], box[old]
        return regions


def best_proposal(attention: np.ndarray, proposals: np.ndarray) -> int:
    """Index of argmin_O ||S - O||^2 over proposals (P, h, w) for a map S
    (h, w) in [0, 1]."""
    flat = proposals.reshape(len(proposals), -1).astype(np.float32)
    s = attention.reshape(-1).astype(np.float32)
    # ||S - O||^2 = ||S||^2 - 2 S.O + |O| (O binary)
    return int(np.argmin(flat.sum(1) - 2 * flat @ s))


def refine_object_mask(attention: np.ndarray,
                       proposals: np.ndarray) -> np.ndarray:
    """Object mask refinement (Sec. 3.3): merge non-overlapping proposals.

    Pick the proposal that best matches the map, add it to the mask, remove
    every proposal overlapping it, zero the map where it is below the mean
    of the map inside the picked proposal (and inside the mask, which the
    paper leaves implicit); repeat until the map is zero, no proposal is
    left, or the best one left no longer matches the map: merging it would
    raise ||S - M||^2 (not in the paper's text; with proposals of at least
    1% of the image and a few uncovered map pixels, its loop would merge
    disjoint proposals the map does not touch until the mask covers the
    image).

    Args:
        attention (np.ndarray): (h, w) co-attention map in [0, 1].
        proposals (np.ndarray): (P, h, w) bool.

    Returns:
        np.ndarray: (h, w) bool mask.
    """
    if proposals.shape[1:] != attention.shape:
        raise ValueError(f'proposals {proposals.shape[1:]} and map '
                         f'{attention.shape} differ in size')
    # flattened once: the loop only masks out what is used up, so the float
    # copy of the (often 1000+) proposals is made once, not per pick
    s = attention.astype(np.float32).reshape(-1)
    pool = proposals.reshape(len(proposals), -1).astype(bool)
    pool_float = pool.astype(np.float32)
    area = pool_float.sum(1)
    left = np.ones(len(pool), bool)
    mask = np.zeros(s.shape, bool)
    while left.any() and s.any():
        # best_proposal over the proposals left: ||S - O||^2 up to ||S||^2
        cost = area - 2 * (pool_float @ s)
        cost[~left] = np.inf
        index = int(np.argmin(cost))
        if mask.any() and cost[index] >= 0:
            break  # the best proposal left does not match what is left
        pick = pool[index]
        mask |= pick
        level = s[pick].mean() if pick.any() else 0
        left &= (pool_float @ pick.astype(np.float32)) == 0
        left[index] = False
        s[s < level] = 0
        # what the mask covers is explained: without this the map never
        # becomes zero and every remaining proposal would be merged
        s[mask] = 0
    return mask.reshape(attention.shape)

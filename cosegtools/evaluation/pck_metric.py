"""PCK (percentage of correct keypoints) of semantic matching.

A keypoint of the first image of a pair, transferred into the second image,
is correct if it lies within ``alpha * pck_size`` pixels of its annotated
position there. ``pck_size`` is set per pair by the dataset, for the second
image: ``max(h, w)`` of the object's bounding box (the convention of the
MaCoSNet paper; from the mask, the keypoints or the annotated box, see each
dataset) or of the whole image where a dataset has no box. PCK is computed
per pair and averaged over the pairs (and reported per class too).
"""
from collections import OrderedDict, defaultdict
from typing import Dict, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from terminaltables import AsciiTable

from cosegtools.registry import METRICS


def pck(predicted, target, size: float, alphas: Sequence[float]) -> Dict:
    """PCK of one pair.

    Args:
        predicted (array): (K, 2) transferred keypoints, pixels.
        target (array): (K, 2) annotated keypoints in the same image; rows
            with a NaN are not annotated and are skipped.
        size (float): the reference length (pixels).
        alphas (Sequence[float]): thresholds as fractions of ``size``.

    Returns:
        dict: alpha -> fraction of correct keypoints (None without any
        annotated keypoint).
    """
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1, 2)
    target = np.asarray(target, dtype=np.float64).reshape(-1, 2)
    if predicted.shape != target.shape:
        raise ValueError(f'{len(predicted)} transferred keypoints for '
                         f'{len(target)} annotated ones')
    if not size > 0:
        raise ValueError(f'the PCK reference size must be positive, got '
                         f'{size}')
    valid = ~np.isnan(target).any(1) & ~np.isnan(predicted).any(1)
    if not valid.any():
        return {alpha: None for alpha in alphas}
    error = np.linalg.norm(predicted[valid] - target[valid], axis=1)
    return {alpha: float((error <= alpha * size).mean()) for alpha in alphas}


def _field(sample: dict, key: str):
    value = sample.get(key)
    if value is None:
        raise KeyError(f'PCKMetric: image sample {sample.get("img_path")!r} '
                       f'has no {key!r}')
    if hasattr(value, 'cpu'):
        value = value.cpu().numpy()
    return value


@METRICS.register_module()
class PCKMetric(BaseMetric):
    """PCK@alpha of the pairs whose first image has ``pred_keypoints``.

    Each pair's first image sample carries ``pred_keypoints`` (K, 2) (set by
    the model, e.g. :class:`MaCoSNet`), its second ``keypoints`` (K, 2, the
    annotation) and ``pck_size``. Figures are percentages named
    ``PCK@<alpha>``.

    Args:
        alphas (Sequence[float]): thresholds (default 0.05, 0.1, 0.15).
    """
    default_prefix = None

    def __init__(self,
                 alphas: Sequence[float] = (0.05, 0.1, 0.15),
                 collect_device: str = 'cpu',
                 prefix=None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not alphas or min(alphas) <= 0:
            raise ValueError(f'alphas must be positive, got {alphas}')
        self.alphas = tuple(float(a) for a in alphas)

    def process(self, data_batch, data_samples: Sequence) -> None:
        for group in data_samples:
            samples = group['image_samples']
            first, second = samples[0], samples[1]
            if 'pred_keypoints' not in first:
                raise KeyError(
                    f'PCKMetric: the model set no pred_keypoints on '
                    f'{first.get("img_path")!r}; it needs a matching model '
                    "(type='MaCoSNet') and a dataset with keypoints")
            scores = pck(
                _field(first, 'pred_keypoints'), _field(second, 'keypoints'),
                float(_field(second, 'pck_size')), self.alphas)
            if scores[self.alphas[0]] is None:
                continue
            self.results.append(
                dict(
                    class_name=first.get('class_name', ''),
                    **{
                        f'{alpha:g}': value
                        for alpha, value in scores.items()
                    }))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        if not results:
            raise ValueError('PCKMetric: no pair with annotated keypoints')
        keys = [f'{alpha:g}' for alpha in self.alphas]
        per_class = OrderedDict()
        for row in sorted(results, key=lambda r: r['class_name']):
            per_class.setdefault(row['class_name'], defaultdict(list))
            for key in keys:
                per_class[row['class_name']][key].append(row[key])
        table = [['class', 'pairs'] + [f'PCK@{k}' for k in keys]]
        for name, values in per_class.items():
            table.append([name, len(values[keys[0]])] +
                         [f'{100 * np.mean(values[k]):.2f}' for k in keys])
        metrics = OrderedDict(
            (f'PCK@{k}', round(100 * float(np.mean([r[k]
                                                    for r in results])), 2))
            for k in keys)
        table.append(['mean over pairs', len(results)] +
                     [f'{v:.2f}' for v in metrics.values()])
        print_log('\n' + AsciiTable(table).table, logger=logger)
        return metrics

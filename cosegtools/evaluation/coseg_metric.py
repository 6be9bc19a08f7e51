"""Co-segmentation metric: Precision and Jaccard, per image, class and set.

Definitions (see also the README, "Evaluation protocol"):
    - predictions are compared with the ground truth at the image's original
      resolution; the foreground is where the predicted foreground
      probability exceeds 0.5 (the argmax of 2 classes);
    - P (precision) of an image = correctly labelled pixels (foreground and
      background) / all pixels;
    - J (Jaccard) of an image = |pred fg AND gt fg| / |pred fg OR gt fg|;
      when both are empty (e.g. an image of a negative pair predicted empty)
      J = 1, and when only the ground truth is empty J = 0;
    - per-class figures average the images of a class; ``mP``/``mJ`` average
      the classes (the papers' PASCAL-VOC protocol); ``aP``/``aJ`` average all
      images; ``pooled_J`` sums intersections and unions over all images.
Each image is scored once per role even if it appeared in several groups
(the first prediction counts): once as a member of a group that shares an
object and once as a member of a negative group. Figures are percentages.

On groups that mix positives and negatives (e.g. a ``CoSegPairSampler`` with
``neg_ratio=0.5`` as test sampler) the metric adds ``pos_mJ`` (``mJ`` over
the images of positive groups only) and ``neg_empty``: the percentage of the
images of negative groups predicted empty (no foreground pixel at all). A
co-segmentation model must leave an image that shares nothing with its group
empty; a saliency model segments it anyway.

Models with a decision gate (CoSegNet) also say whether the images of a
group share an object (``common_score`` on each image; the group's score is
their mean). On groups that mix positives and negatives (e.g. a
``CoSegPairSampler`` with ``neg_ratio=0.5`` as test sampler) the metric then
adds ``decision_acc``, ``decision_precision`` and ``decision_recall``
(positive = "shares an object"), each distinct group counted once.
"""
import warnings
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dist import broadcast_object_list, collect_results
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from terminaltables import AsciiTable

from cosegtools.registry import METRICS


def image_scores(pred: np.ndarray, gt: np.ndarray, ignore_index=255) -> dict:
    """Pixel counts of one image; ``pred`` and ``gt`` are (H, W) {0, 1}."""
    if pred.shape != gt.shape:
        raise ValueError(f'prediction {pred.shape} and ground truth '
                         f'{gt.shape} differ in size')
    valid = gt != ignore_index
    pred_fg = (pred == 1) & valid
    gt_fg = (gt == 1) & valid
    return dict(
        intersection=int((pred_fg & gt_fg).sum()),
        union=int((pred_fg | gt_fg).sum()),
        gt_fg=int(gt_fg.sum()),
        correct=int(((pred_fg == gt_fg) & valid).sum()),
        total=int(valid.sum()))


def jaccard(record: dict) -> float:
    if record['union'] == 0:
        return 1.0
    return record['intersection'] / record['union']


def precision(record: dict) -> float:
    return record['correct'] / max(record['total'], 1)


def summarise(records: List[dict]) -> dict:
    """Per-class and overall P/J (percent) from per-image records."""
    per_class = OrderedDict()
    for rec in sorted(records, key=lambda r: r['class_name']):
        per_class.setdefault(rec['class_name'], []).append(rec)
    class_rows = OrderedDict()
    for name, recs in per_class.items():
        class_rows[name] = dict(
            n=len(recs),
            P=100 * float(np.mean([precision(r) for r in recs])),
            J=100 * float(np.mean([jaccard(r) for r in recs])))
    inter = sum(r['intersection'] for r in records)
    union = sum(r['union'] for r in records)
    return dict(
        classes=class_rows,
        mP=float(np.mean([c['P'] for c in class_rows.values()])),
        mJ=float(np.mean([c['J'] for c in class_rows.values()])),
        aP=100 * float(np.mean([precision(r) for r in records])),
        aJ=100 * float(np.mean([jaccard(r) for r in records])),
        pooled_J=100 * inter / union if union else 100.0,
        num_images=len(records))


def sod_image_scores(prob: np.ndarray, gt: np.ndarray) -> dict:
    """pysodmetrics' per-image measures of a foreground probability map
    ``prob`` (H, W) in [0, 1] against a {0, 1} ground truth (pixels marked
    ``ignore_index`` must be removed by the caller)."""
    import py_sod_metrics as sod
    pred = np.clip(np.round(prob * 255), 0, 255).astype(np.uint8)
    mask = (gt > 0).astype(np.uint8) * 255
    with warnings.catch_warnings():
        # Fmeasure (the CoSOD papers' definition) warns that FmeasureV2 will
        # replace it
        warnings.simplefilter('ignore', UserWarning)
        measures = dict(
            fm=sod.Fmeasure(),
            em=sod.Emeasure(),
            sm=sod.Smeasure(),
            mae=sod.MAE())
    for measure in measures.values():
        measure.step(pred, mask)
    return dict(
        sod_fm=measures['fm'].get_results()['fm']['curve'].astype(np.float32),
        sod_em=measures['em'].get_results()['em']['curve'].astype(np.float32),
        sod_sm=float(measures['sm'].get_results()['sm']),
        sod_mae=float(measures['mae'].get_results()['mae']))


def sod_summary(records: List[dict]) -> dict:
    """Dataset figures from per-image :func:`sod_image_scores`: the curves
    are averaged over images, then their maximum and mean taken."""
    fm = np.mean([r['sod_fm'] for r in records], axis=0)
    em = np.mean([r['sod_em'] for r in records], axis=0)
    return {
        'S-measure': float(np.mean([r['sod_sm'] for r in records])),
        'maxF': float(fm.max()),
        'meanF': float(fm.mean()),
        'maxE': float(em.max()),
        'meanE': float(em.mean()),
        'MAE': float(np.mean([r['sod_mae'] for r in records])),
    }


def decision_scores(groups: List[dict]) -> dict:
    """Accuracy, precision and recall (percent) of group decisions;
    precision is 100 when nothing is predicted positive, recall 100 when
    there are no positives."""
    truth = np.array([g['has_common'] for g in groups], dtype=bool)
    pred = np.array([g['predicted'] for g in groups], dtype=bool)
    true_pos = int((truth & pred).sum())
    return dict(
        n=len(groups),
        positives=int(truth.sum()),
        decision_acc=100 * float((truth == pred).mean()),
        decision_precision=100 * true_pos /
        pred.sum() if pred.any() else 100.0,
        decision_recall=100 * true_pos / truth.sum() if truth.any() else 100.0)


def format_table(summary: dict) -> str:
    rows = [['class', 'images', 'P', 'J']]
    for name, row in summary['classes'].items():
        rows.append([name, row['n'], f"{row['P']:.2f}", f"{row['J']:.2f}"])
    rows.append([
        'mean over classes', summary['num_images'], f"{summary['mP']:.2f}",
        f"{summary['mJ']:.2f}"
    ])
    rows.append([
        'mean over images', summary['num_images'], f"{summary['aP']:.2f}",
        f"{summary['aJ']:.2f}"
    ])
    rows.append(
        ['pooled', summary['num_images'], '-', f"{summary['pooled_J']:.2f}"])
    table = AsciiTable(rows)
    table.inner_footing_row_border = True
    return table.table


@METRICS.register_module()
class CoSegMetric(BaseMetric):
    """Precision / Jaccard of co-segmentation, one record per image.

    See the module docstring for the definitions. Results: ``mP``, ``mJ``
    (class means), ``aP``, ``aJ`` (image means), ``pooled_J``; with negative
    groups also ``pos_mJ`` and ``neg_empty``.

    Args:
        ignore_index (int): ground-truth label not scored.
        decision_threshold (float): a group is judged to share an object
            when its mean ``common_score`` reaches it.
        sod_metrics (bool): add the co-salient object detection measures
            (needs the optional ``pysodmetrics``; see the module docstring).
        collect_device (str): 'cpu' or 'gpu'.
        prefix (str, optional): prefix of the result keys.
    """
    default_prefix: Optional[str] = None

    def __init__(self,
                 ignore_index: int = 255,
                 decision_threshold: float = 0.5,
                 sod_metrics: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ignore_index = ignore_index
        self.decision_threshold = decision_threshold
        self.sod_metrics = sod_metrics
        if sod_metrics:
            try:
                import py_sod_metrics  # noqa: F401
            except ImportError as err:
                raise ImportError(
                    'CoSegMetric(sod_metrics=True) needs the optional '
                    'package pysodmetrics: bash tools/install.sh --optional '
                    f'({err})') from None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Score every image of every group (as dicts, from the Evaluator)."""
        for group in data_samples:
            for sample in group['image_samples']:
                pred = sample['pred_sem_seg']['data'].squeeze(0).cpu().numpy()
                gt = sample['gt_sem_seg']['data'].squeeze(0).cpu().numpy()
                record = image_scores(pred, gt, self.ignore_index)
                if self.sod_metrics:
                    record.update(self.sod_scores(sample, gt))
                record.update(
                    pred_fg=int((pred == 1).sum()),
                    img_path=sample['img_path'],
                    class_name=sample.get('class_name', 'all'),
                    has_common=group.get('has_common', 1))
                for score in ('gate_score', 'common_score'):
                    if score in sample:
                        record[score] = float(sample[score])
                self.results.append(record)
            scores = [
                float(s['common_score']) for s in group['image_samples']
                if 'common_score' in s
            ]
            if scores:
                self.results.append(
                    dict(
                        group_key=tuple(s['img_path']
                                        for s in group['image_samples']),
                        has_common=int(group.get('has_common', 1)),
                        predicted=int(
                            np.mean(scores) >= self.decision_threshold)))

    def sod_scores(self, sample: dict, gt: np.ndarray) -> dict:
        if 'seg_logits' not in sample:
            raise KeyError('sod_metrics needs the predicted probabilities '
                           '(seg_logits) of each image sample')
        # the segmentor's own definition; imported here so that importing
        # the metric does not load the models package
        from cosegtools.models.segmentors.base import foreground_of_probs
        prob = foreground_of_probs(
            sample['seg_logits']['data'].float()).cpu().numpy()
        valid = gt != self.ignore_index
        if not valid.all():  # scored pixels only, as a flat "image"
            prob, gt = prob[valid][None], gt[valid][None]
        return sod_image_scores(prob, gt)

    def evaluate(self, size: int) -> dict:
        """Collect the records of all ranks and score each image once.

        ``BaseMetric.evaluate`` truncates results to the dataset size, which
        assumes one result per dataset item; here an item is an image and a
        group may repeat images, so all records are gathered and the
        duplicates dropped instead.
        """
        if len(self.results) == 0:
            print_log(
                f'{self.__class__.__name__} got no results: the dataloader '
                'produced nothing to score.',
                logger='current')
        results = collect_results(self.results, None, self.collect_device)
        metrics = {}
        if results is not None:  # rank 0
            metrics = self.compute_metrics(results)
            if self.prefix:
                metrics = {f'{self.prefix}/{k}': v for k, v in metrics.items()}
        self.results.clear()
        payload = [metrics]
        broadcast_object_list(payload)
        return payload[0]

    @staticmethod
    def unique_records(results: list):
        """The image records (each image once per role, the first
        prediction) and the group decision records (each group once)."""
        unique, groups = OrderedDict(), OrderedDict()
        for record in results:
            if 'group_key' in record:
                groups.setdefault(record['group_key'], record)
            else:
                key = (record['img_path'], int(record['has_common']))
                unique.setdefault(key, record)
        return list(unique.values()), list(groups.values())

    def compute_metrics(self, results: list) -> Dict[str, float]:
        records, groups = self.unique_records(results)
        summary = summarise(records)
        logger = MMLogger.get_current_instance()
        print_log('\n' + format_table(summary), logger=logger)
        metrics = {
            k: round(summary[k], 2)
            for k in ('mP', 'mJ', 'aP', 'aJ', 'pooled_J')
        }
        if self.sod_metrics:
            sod = sod_summary(records)
            print_log(
                'co-salient object detection measures: ' +
                ', '.join(f'{k} {v:.4f}' for k, v in sod.items()),
                logger=logger)
            metrics.update({k: round(v, 4) for k, v in sod.items()})
        negatives = [r for r in records if not r['has_common']]
        if negatives:
            positives = [r for r in records if r['has_common']]
            if positives:
                metrics['pos_mJ'] = round(summarise(positives)['mJ'], 2)
            empty = sum(r.get('pred_fg', 0) == 0 for r in negatives)
            metrics['neg_empty'] = round(100 * empty / len(negatives), 2)
            print_log(
                f'negative groups: {empty} of {len(negatives)} images '
                f'predicted empty (neg_empty {metrics["neg_empty"]:.2f}); '
                f'mJ over positive groups: {metrics.get("pos_mJ", "-")}',
                logger=logger)
        if groups:
            decisions = decision_scores(groups)
            print_log(
                'decision on {n} groups ({positives} positive): accuracy '
                '{decision_acc:.2f}, precision {decision_precision:.2f}, '
                'recall {decision_recall:.2f}'.format(**decisions),
                logger=logger)
            metrics.update({
                k: round(v, 2)
                for k, v in decisions.items() if k.startswith('decision')
            })
        return metrics

"""Choosing the threshold of a mask gate from one pass over mixed groups.

The model runs once with ``test_cfg.mask_gate.threshold=None`` (every image
scored, no mask emptied); :class:`MaskGateSweep` then scores the masks as
each candidate threshold would have left them: an image whose
``gate_score`` is below the threshold has its mask emptied. A learned
:class:`~cosegtools.models.utils.DecisionGate` is swept the same way, from
its ``common_score`` with its threshold at 0 (no mask emptied). Emptying
never raises the Jaccard index of an image with an object, and raising the
threshold only empties more images, so the mJ over positive groups falls and
the share of empty negative-group images grows with the threshold. The
chosen threshold is the highest one that costs at most ``max_pos_drop``
points of positive mJ.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger, print_log
from terminaltables import AsciiTable

from cosegtools.registry import METRICS
from .coseg_metric import CoSegMetric, summarise


def emptied(record: dict) -> dict:
    """The record of an image as if its mask had been emptied."""
    return dict(
        record,
        intersection=0,
        union=record['gt_fg'],
        correct=record['total'] - record['gt_fg'],
        pred_fg=0)


# where each gate's score is and the option that sets its threshold
GATE_SCORES = dict(
    DecisionGate=('common_score', 'model.decode_head.decision_gate.threshold'))
MASK_GATE_SCORE = ('gate_score', 'model.test_cfg.mask_gate.threshold')


def gated_figures(records: List[dict],
                  threshold: float,
                  key: str = 'gate_score') -> dict:
    """``pos_mJ``, ``neg_empty``, ``mJ``, ``pos_emptied`` and
    ``gate_acc`` (percent) of image records after the gate empties those
    whose score ``key`` is below ``threshold``. ``gate_acc`` is the share of
    images the gate decides right: kept in a positive group, emptied in a
    negative one (for a symmetric decision, the decision accuracy on
    pairs)."""
    gated = [emptied(r) if r[key] < threshold else r for r in records]
    positives = [r for r in gated if r['has_common']]
    negatives = [r for r in gated if not r['has_common']]
    return dict(
        threshold=threshold,
        pos_mJ=summarise(positives)['mJ'],
        neg_empty=100 * float(np.mean([r['pred_fg'] == 0 for r in negatives])),
        mJ=summarise(gated)['mJ'],
        pos_emptied=100 *
        float(np.mean([r[key] < threshold for r in positives])),
        gate_acc=100 * float(
            np.mean([(r[key] >= threshold) == bool(r['has_common'])
                     for r in records])))


@METRICS.register_module()
class MaskGateSweep(CoSegMetric):
    """Scores every threshold of a mask gate on groups that mix positives
    and negatives (see the module docstring).

    The results are those of the chosen threshold (``threshold``,
    ``pos_mJ``, ``neg_empty``, ``mJ``) and of no gate (``ungated_pos_mJ``,
    ``ungated_neg_empty``); a table of the sweep is logged.

    Args:
        max_pos_drop (float): points of positive mJ the gate may cost.
        table_rows (int): thresholds shown in the logged table (quantiles
            of the scores, plus the chosen one).
        gate (str): the type of the gate that scored the images (named in
            the table and in the command it prints): a mask gate
            (``gate_score``) or ``'DecisionGate'`` (``common_score``).
        **kwargs: :class:`CoSegMetric`'s arguments.
    """

    def __init__(self,
                 max_pos_drop: float = 1.0,
                 table_rows: int = 12,
                 gate: str = 'MaskConfidenceGate',
                 **kwargs):
        super().__init__(**kwargs)
        if max_pos_drop < 0:
            raise ValueError('MaskGateSweep: max_pos_drop must be >= 0, got '
                             f'{max_pos_drop!r}')
        self.max_pos_drop = max_pos_drop
        self.table_rows = table_rows
        self.gate = gate
        self.score_key, self.threshold_option = GATE_SCORES.get(
            gate, MASK_GATE_SCORE)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        records, _ = self.unique_records(results)
        key = self.score_key
        if not records or any(key not in r for r in records):
            raise ValueError(
                f'MaskGateSweep needs the {self.gate} score ({key}) of every '
                'image: set model.test_cfg.mask_gate (threshold None), or '
                'give the model a decision gate')
        if all(r['has_common'] for r in records) or not any(r['has_common']
                                                            for r in records):
            raise ValueError(
                'MaskGateSweep needs groups with and without a common '
                'object, e.g. test_dataloader.sampler.type=CoSegPairSampler '
                'test_dataloader.sampler.neg_ratio=0.5')
        scores = sorted({r[key] for r in records})
        # the lowest score keeps every mask (a mask is kept at or above it)
        ungated = gated_figures(records, scores[0], key)
        # half-way between neighbouring scores: the threshold survives
        # rounding
        between = [(a + b) / 2 for a, b in zip(scores, scores[1:])]
        sweep = [ungated] + [
            gated_figures(records, t, key)
            for t in between + [scores[-1] + 1e-3]
        ]
        allowed = [
            row for row in sweep
            if row['pos_mJ'] >= ungated['pos_mJ'] - self.max_pos_drop
        ]
        chosen = max(allowed, key=lambda row: row['threshold'])
        print_log(
            '\n' + self.format_sweep(sweep, chosen) +
            f"\nchosen threshold {chosen['threshold']:.6f}: test with "
            f'--cfg-options {self.test_options(chosen["threshold"])}',
            logger=MMLogger.get_current_instance())
        return dict(
            threshold=round(float(chosen['threshold']), 6),
            pos_mJ=round(chosen['pos_mJ'], 2),
            neg_empty=round(chosen['neg_empty'], 2),
            mJ=round(chosen['mJ'], 2),
            gate_acc=round(chosen['gate_acc'], 2),
            ungated_pos_mJ=round(ungated['pos_mJ'], 2),
            ungated_neg_empty=round(ungated['neg_empty'], 2))

    def test_options(self, threshold: float) -> str:
        """The ``--cfg-options`` that test with the gate at ``threshold``."""
        option = f'{self.threshold_option}={threshold:.6f}'
        if self.gate not in GATE_SCORES:  # a mask gate: name its type too
            option = f'model.test_cfg.mask_gate.type={self.gate} {option}'
        return option

    def format_sweep(self, sweep: Sequence[dict],
                     chosen: Optional[dict]) -> str:
        picks = np.unique(
            np.linspace(0,
                        len(sweep) - 1, max(self.table_rows,
                                            2)).round().astype(int))
        shown = [sweep[i] for i in picks]
        if chosen is not None and chosen not in shown:
            shown = sorted(shown + [chosen], key=lambda r: r['threshold'])
        rows = [[
            'threshold', 'pos_mJ', 'neg_empty', 'mJ', 'positives emptied %',
            'gate right %', ''
        ]]
        for row in shown:
            rows.append([
                f"{row['threshold']:.6f}", f"{row['pos_mJ']:.2f}",
                f"{row['neg_empty']:.2f}", f"{row['mJ']:.2f}",
                f"{row['pos_emptied']:.2f}", f"{row['gate_acc']:.2f}",
                'chosen' if row is chosen else ''
            ])
        title = (f' {self.gate} (it may cost '
                 f'{self.max_pos_drop:g} of positive mJ) ')
        return AsciiTable(rows, title).table

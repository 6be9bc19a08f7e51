"""Choose the threshold of a trained model's mask gate on mixed pairs.

    python tools/analysis_tools/sweep_mask_gate.py CONFIG CHECKPOINT \
        [--gate MaskConfidenceGate] [--max-pos-drop 1.0] [--flip]

The model predicts each of the config's val mixed pairs (the val dataset,
half of its pairs of two classes: ``CoSegPairSampler(neg_ratio=0.5,
seed=0)``) once, every image scored by the gate (``--gate``, or the type of
the config's ``model.test_cfg.mask_gate``; default
:class:`~cosegtools.models.utils.MaskConfidenceGate`) and none emptied;
:class:`~cosegtools.evaluation.MaskGateSweep` then prints,
for thresholds over the whole range of scores, the mJ over positive pairs
and the share of negative-pair images left empty, and gives the highest
threshold that costs at most ``--max-pos-drop`` points of positive mJ. Test
with it:

    python tools/test.py CONFIG CHECKPOINT \
        --cfg-options model.test_cfg.mask_gate.type=GATE \
        model.test_cfg.mask_gate.threshold=T

``--gate DecisionGate`` sweeps the threshold of a model's learned decision
gate instead (CoSegNet; ``model.decode_head.decision_gate``): the model runs
with that threshold at 0, so no mask is emptied, and each image is scored by
its ``common_score``. Test with the printed
``model.decode_head.decision_gate.threshold=T``.

Choose on val (the sweep's data); score the test split once.
"""
import argparse
import os.path as osp

import cosegtools  # noqa: F401  (applies the stack work-arounds first)
from mmengine.config import DictAction
from mmengine.model import is_model_wrapper

from cosegtools.engine import load_checkpoint_strict
from cosegtools.models.utils import MaskGate
from cosegtools.registry import TASK_UTILS
from cosegtools.utils import (UsageError, build_runner, load_run_config,
                              run_tool)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument(
        '--gate',
        help='a registered mask gate (MaskConfidenceGate, '
        'ObjectSimilarityGate), or DecisionGate for the model\'s learned '
        'decision gate; default: the config\'s '
        'model.test_cfg.mask_gate type, else MaskConfidenceGate')
    parser.add_argument(
        '--max-pos-drop',
        type=float,
        default=1.0,
        help='points of positive mJ the gate may cost')
    parser.add_argument(
        '--flip', action='store_true', help='test-time flip (test_cfg.flip)')
    parser.add_argument('--work-dir', help='where to save the log')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. '
        'model.test_cfg.mask_gate.levels=[-1]')
    parser.add_argument('--debug', action='store_true')
    return parser.parse_args()


def sweep(args):
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint file {args.checkpoint!r} not '
                                'found')
    cfg = load_run_config(args.config, args.cfg_options, args.work_dir)
    cfg.load_from = args.checkpoint
    test_cfg = cfg.model.setdefault('test_cfg', {})
    if args.gate == 'DecisionGate':
        decision_gate = cfg.model.get('decode_head', {}).get('decision_gate')
        if not decision_gate:
            raise UsageError(
                f'--gate DecisionGate: the model of {args.config} has no '
                'model.decode_head.decision_gate to sweep')
        decision_gate['threshold'] = 0.0  # every mask kept, every image scored
        gate_type = 'DecisionGate'
    else:
        gate_type = mask_gate_for_sweep(args, test_cfg)
    if args.flip:
        test_cfg['flip'] = True
    # the val set, in mixed pairs
    cfg.test_dataloader = dict(
        cfg.val_dataloader,
        sampler=dict(
            type='CoSegPairSampler', group_size=2, neg_ratio=0.5, seed=0))
    cfg.test_evaluator = dict(
        type='MaskGateSweep', max_pos_drop=args.max_pos_drop, gate=gate_type)
    runner = build_runner(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    # mmengine would only warn, and sweep a partly random model
    load_checkpoint_strict(model, args.checkpoint)
    runner.test()


def mask_gate_for_sweep(args, test_cfg) -> str:
    """Sets ``test_cfg.mask_gate`` to score without emptying; its type."""
    gate_cfg = dict(test_cfg.get('mask_gate') or {}, threshold=None)
    if args.gate:
        if args.gate != gate_cfg.get('type', args.gate):
            gate_cfg = dict(threshold=None)  # another gate's options
        gate_cfg['type'] = args.gate
    gate_cfg.setdefault('type', 'MaskConfidenceGate')
    gate_class = TASK_UTILS.get(gate_cfg['type'])
    if not (isinstance(gate_class, type) and issubclass(gate_class, MaskGate)):
        raise UsageError(
            f"mask gate {gate_cfg['type']!r} (--gate, or the config's "
            'model.test_cfg.mask_gate.type) is not a registered mask gate: '
            'MaskConfidenceGate or ObjectSimilarityGate (or DecisionGate)')
    test_cfg['mask_gate'] = gate_cfg
    return gate_cfg['type']


if __name__ == '__main__':
    run_tool(sweep, parse_args())

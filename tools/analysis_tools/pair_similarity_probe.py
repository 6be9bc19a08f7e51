"""How well do a backbone's pooled features tell if two images share a class?

    python tools/analysis_tools/pair_similarity_probe.py ROOT \
        [--split-file splits/val.txt] [--arch lite2] [--size 224]
    # the backbone of a trained segmentor instead of the ImageNet one, and
    # its features pooled over the segmentor's own predicted masks
    python tools/analysis_tools/pair_similarity_probe.py ROOT \
        --config CONFIG --checkpoint CKPT
    # also train a decision gate on the descriptors of the train split
    python tools/analysis_tools/pair_similarity_probe.py ROOT --train-gate-iters 3000

Every image of the split is described by the features of the backbone's
last two levels (ImageNet EfficientNet-Lite: strides 16 and 32; each
L2-normalised, the deeper map upsampled, concatenated), average-pooled over
the whole image, over its ground-truth mask (an upper bound for an
object-focused gate) and, with ``--checkpoint``, weighted by the
segmentor's predicted foreground probability (the image co-segmented with a
copy of itself: for a head that segments each image alone, as CoSegNet's,
its mask at test time). Every pair of images is a positive (same class) or
a negative; the table gives, for each pooling, the balanced accuracy
((TPR + TNR) / 2) of the best threshold on the pairs' cosine similarity. A
decision gate that thresholds the similarity of these features cannot do
better than this on the split.

``--train-gate-iters N`` also trains the project's
:class:`~cosegtools.models.utils.DecisionGate` (``pair_features='symmetric'``,
``train_pairs='batch'``; batches of 8 classes x 2 images) for N iterations
on the same descriptors of the ``--train-split`` images (each also
flipped) and reports its balanced accuracy on the split's pairs at its
threshold 0.5 and at the best threshold: how far a learned gate on these
features goes.

``--train-classifier-iters N`` also trains a linear classifier of the
train split's classes on the same descriptors (softmax, full batch, AdamW)
and calls a pair positive by the probability that both images are of one
class, ``sum_c p_i(c) p_j(c)``: best threshold, and the fixed rule "the
same most likely class". It asks whether class labels, which the
class-folder datasets carry, would give a gate more than pair labels do.
"""
import argparse

import cosegtools  # noqa: F401  (applies the stack work-arounds first)
import mmcv
import numpy as np
import torch
from mmengine.runner import load_checkpoint
from terminaltables import AsciiTable

from cosegtools.datasets import CoSegClassFolderDataset
from cosegtools.datasets.mask_io import read_binary_mask
from cosegtools.models.backbones.efficientnet_lite import EfficientNetLite
from cosegtools.models.segmentors.base import (foreground_of_probs,
                                               to_probabilities)
from cosegtools.models.utils import (DecisionGate, group_pairs,
                                     object_descriptors)
from cosegtools.registry import MODELS
from cosegtools.utils import UsageError, load_run_config, run_tool

POOLINGS = dict(
    whole='whole image',
    mask='ground-truth mask',
    predicted='predicted mask')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='class-folder dataset root')
    parser.add_argument('--split-file', default='splits/val.txt')
    parser.add_argument('--arch', default='lite2', choices=['lite0', 'lite2'])
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument(
        '--config',
        help='a segmentor config: probe its backbone (with '
        '--checkpoint: the trained one) instead of --arch')
    parser.add_argument('--checkpoint')
    parser.add_argument(
        '--train-gate-iters',
        type=int,
        default=0,
        help='also train a DecisionGate for this many iterations on the '
        '--train-split descriptors (0: no gate)')
    parser.add_argument(
        '--train-classifier-iters',
        type=int,
        default=0,
        help='also train a linear class classifier for this many full-batch '
        'iterations on the --train-split descriptors (0: none)')
    parser.add_argument('--train-split', default='splits/train.txt')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--debug', action='store_true')
    return parser.parse_args()


def best_balanced_accuracy(similarity: np.ndarray,
                           positive: np.ndarray) -> float:
    """Balanced accuracy (percent) of the best threshold: the pairs of the
    ``k`` highest similarities called positive, for every ``k``."""
    called = positive[np.argsort(-similarity, kind='stable')]
    true_pos = np.concatenate([[0], np.cumsum(called)])
    false_pos = np.concatenate([[0], np.cumsum(~called)])
    tpr = true_pos / max(called.sum(), 1)
    tnr = 1 - false_pos / max((~called).sum(), 1)
    return 100 * float((0.5 * (tpr + tnr)).max())


def balanced_accuracy(called: np.ndarray, positive: np.ndarray) -> float:
    """Balanced accuracy (percent) of fixed calls."""
    return 50 * float(called[positive].mean() + (~called[~positive]).mean())


def load_model(args):
    """``(segmentor or None, backbone, mean, std)``: the ImageNet
    EfficientNet-Lite of ``--arch``, or the segmentor of ``--config``
    (loaded from ``--checkpoint``) with its data preprocessor's
    normalisation; the segmentor is given only with a checkpoint (an
    untrained one predicts no object), its decision gate (if any) set to
    keep every image."""
    if args.checkpoint and not args.config:
        raise UsageError('--checkpoint needs --config')
    if not args.config:
        backbone = EfficientNetLite(
            arch=args.arch, pretrained=True, out_indices=(3, 4))
        return None, backbone.eval(), [127.0] * 3, [128.0] * 3
    cfg = load_run_config(args.config)
    model = MODELS.build(cfg.model)
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    else:
        model.init_weights()
    pre = cfg.model.data_preprocessor
    model.eval()
    gate = getattr(getattr(model, 'decode_head', None), 'decision_gate', None)
    if gate is not None:
        # the probe pools over the model's masks, not its decisions: a gate
        # that rejected an image paired with itself would empty its mask
        gate.threshold = 0.0
    return (model if args.checkpoint else None, model.backbone, pre['mean'],
            pre['std'])


def to_input(image: np.ndarray, mean, std) -> torch.Tensor:
    """A BGR uint8 image (H, W, 3) as a normalised RGB batch (1, 3, H, W)."""
    rgb = torch.from_numpy(image[:, :, ::-1].copy()).permute(2, 0, 1)
    return (rgb[None].float() - torch.tensor(mean).view(1, 3, 1, 1)) / \
        torch.tensor(std).view(1, 3, 1, 1)


def describe(backbone, mean, std, image: np.ndarray, mask: np.ndarray,
             segmentor=None) -> dict:
    """Descriptors of one BGR image for each pooling (``predicted`` only
    with a segmentor)."""
    x = to_input(image, mean, std)
    with torch.no_grad():
        feats = backbone(x)[-2:]
        out = dict(
            whole=object_descriptors(feats)[0],
            mask=object_descriptors(feats,
                                    torch.from_numpy(mask)[None].float())[0])
        if segmentor is not None:
            logits = segmentor.encode_decode(torch.stack([x[0], x[0]])[None])
            foreground = foreground_of_probs(to_probabilities(logits[:1]))
            out['predicted'] = object_descriptors(feats, foreground)[0]
    return out


def describe_split(args, split_file, flips=False):
    """Descriptors (per pooling, (n, C)) and classes (n, ) of a split; with
    ``flips`` every image also mirrored."""
    dataset = CoSegClassFolderDataset(
        data_root=args.root, split_file=split_file, test_mode=True)
    size = (args.size, args.size)
    descriptors, classes = {}, []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        image = mmcv.imresize(mmcv.imread(info['img_path']), size)
        mask = mmcv.imresize(
            read_binary_mask(info['seg_map_path']),
            size,
            interpolation='nearest')
        views = [(image, mask)]
        if flips:
            views.append((image[:, ::-1], mask[:, ::-1]))
        for view_image, view_mask in views:
            for pooling, vector in describe(args.backbone, args.mean,
                                            args.std, view_image,
                                            np.ascontiguousarray(view_mask),
                                            args.segmentor).items():
                descriptors.setdefault(pooling, []).append(vector)
            classes.append(info['class_idx'])
    return {k: torch.stack(v)
            for k, v in descriptors.items()}, np.array(classes)


def train_gate(descriptors: torch.Tensor,
               classes: np.ndarray,
               iters: int,
               seed: int = 0,
               classes_per_batch: int = 8) -> DecisionGate:
    """A :class:`DecisionGate` trained on descriptors (n, C) with their
    classes: every batch holds 2 images of each of ``classes_per_batch``
    random classes (fewer if the data has fewer), AdamW at 1e-3."""
    generator = np.random.default_rng(seed)
    torch.manual_seed(seed)
    by_class = {
        c: np.flatnonzero(classes == c)
        for c in np.unique(classes) if (classes == c).sum() >= 2
    }
    if len(by_class) < 2:
        raise UsageError('training a gate needs two classes with at least '
                         'two images each')
    gate = DecisionGate(
        in_channels=descriptors.shape[1],
        pair_features='symmetric',
        train_pairs='batch')
    optimizer = torch.optim.AdamW(gate.parameters(), lr=1e-3)
    feats = descriptors[:, :, None, None]
    for _ in range(iters):
        picked = generator.choice(
            list(by_class), min(classes_per_batch, len(by_class)),
            replace=False)
        rows = np.concatenate(
            [generator.choice(by_class[c], 2, replace=False) for c in picked])
        losses = gate.loss(feats[rows], [1] * len(picked),
                           classes[rows].tolist())
        optimizer.zero_grad()
        (losses['loss_decision'] + losses['loss_triplet']).backward()
        optimizer.step()
    return gate.eval()


def gate_probabilities(gate: DecisionGate,
                       descriptors: torch.Tensor) -> np.ndarray:
    """The gate's decision probability for every pair i < j
    (``np.triu_indices`` order)."""
    count = len(descriptors)
    with torch.no_grad():
        logits = gate.pair_logits(
            gate.embed(descriptors[:, :, None, None]), count)
        first, second = group_pairs(1, count, logits.device)
    probability = np.full((count, count), np.nan, dtype=np.float32)
    probability[first.numpy(), second.numpy()] = torch.sigmoid(logits).numpy()
    return probability[np.triu_indices(count, 1)]


def train_classifier(descriptors: torch.Tensor,
                     classes: np.ndarray,
                     iters: int,
                     seed: int = 0) -> torch.nn.Linear:
    """A linear softmax classifier of ``classes`` (n, ) on descriptors
    (n, C), trained full batch with AdamW (lr 1e-2, weight decay 1e-4)."""
    torch.manual_seed(seed)
    labels = torch.as_tensor(classes, dtype=torch.long)
    classifier = torch.nn.Linear(descriptors.shape[1], int(labels.max()) + 1)
    optimizer = torch.optim.AdamW(
        classifier.parameters(), lr=1e-2, weight_decay=1e-4)
    for _ in range(iters):
        loss = torch.nn.functional.cross_entropy(
            classifier(descriptors), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return classifier.eval()


def same_class_probabilities(classifier: torch.nn.Linear,
                             descriptors: torch.Tensor):
    """For every pair i < j (``np.triu_indices`` order): the probability
    that both are of one class, ``sum_c p_i(c) p_j(c)``, and whether their
    most likely classes agree."""
    with torch.no_grad():
        probs = classifier(descriptors).softmax(dim=1)
    upper = np.triu_indices(len(descriptors), 1)
    both = (probs @ probs.T).numpy()[upper]
    best = probs.argmax(dim=1).numpy()
    return both, (best[:, None] == best[None])[upper]


def probe(args):
    for option in ('train_gate_iters', 'train_classifier_iters'):
        if getattr(args, option) < 0:
            raise UsageError(f"--{option.replace('_', '-')} must be >= 0, "
                             f'got {getattr(args, option)}')
    args.segmentor, args.backbone, args.mean, args.std = load_model(args)
    descriptors, classes = describe_split(args, args.split_file)
    training = None
    if args.train_gate_iters or args.train_classifier_iters:
        training = describe_split(args, args.train_split, flips=True)
    upper = np.triu_indices(len(classes), 1)
    positive = (classes[:, None] == classes[None])[upper]
    header = ['pooling', 'pairs', 'positive', 'cosine: best balanced acc.']
    if args.train_gate_iters:
        header += ['gate at 0.5', 'gate: best']
    if args.train_classifier_iters:
        header += ['classes: same best class', 'classes: best']
    rows = [header]
    for pooling, stacked in descriptors.items():
        similarity = (stacked @ stacked.T).numpy()[upper]
        row = [
            POOLINGS[pooling],
            len(similarity),
            int(positive.sum()),
            f'{best_balanced_accuracy(similarity, positive):.2f}'
        ]
        if args.train_gate_iters:
            gate = train_gate(training[0][pooling], training[1],
                              args.train_gate_iters, args.seed)
            probability = gate_probabilities(gate, stacked)
            row += [
                f'{balanced_accuracy(probability > 0.5, positive):.2f}',
                f'{best_balanced_accuracy(probability, positive):.2f}'
            ]
        if args.train_classifier_iters:
            classifier = train_classifier(training[0][pooling], training[1],
                                          args.train_classifier_iters,
                                          args.seed)
            both, agree = same_class_probabilities(classifier, stacked)
            row += [
                f'{balanced_accuracy(agree, positive):.2f}',
                f'{best_balanced_accuracy(both, positive):.2f}'
            ]
        rows.append(row)
    print(AsciiTable(rows).table)


if __name__ == '__main__':
    run_tool(probe, parse_args())

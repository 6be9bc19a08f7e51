"""Several trained co-segmentors predicting as one: their foreground
probabilities averaged."""
import os.path as osp
from typing import List, Optional, Sequence

import torch
from mmengine.config import Config
from torch import Tensor, nn

from cosegtools.registry import MODELS
from .base import BaseCoSegmentor, foreground_of_probs


@MODELS.register_module()
class CoSegEnsemble(BaseCoSegmentor):
    """An ensemble of trained co-segmentors (test only).

    Every member relates the same groups; the ensemble's foreground
    probability is the (weighted) mean of the members' (a one-class
    sigmoid and a two-class softmax are averaged alike), its decision score
    the mean of those of the members that have one. Everything around the
    members comes from the ensemble's own ``test_cfg``: test-time views,
    group inference, post-processing, ``min_foreground`` and mask gates
    (:class:`BaseCoSegmentor`); the members' own prediction options are not
    used. Its predictions have two classes (background, object) and the
    mask threshold 0.5.

    Its checkpoint holds the members' weights under ``members.<i>.``:
    ``tools/model_converters/ensemble_checkpoint.py`` writes it from the
    members' own checkpoints, and ``tools/test.py`` then tests the ensemble
    like any model.

    Args:
        members (list[dict]): each ``dict(config=PATH)``, the config file
            of a trained co-segmentor (its ``model`` is built), in the order
            of the checkpoints given to the converter.
        weights (list[float], optional): each member's weight in the mean
            (normalised; default equal).
        data_preprocessor (dict, optional): default the first member's; all
            members must normalise images alike.
        test_cfg (dict, optional): :class:`BaseCoSegmentor`'s options.
    """

    def __init__(self,
                 members: Sequence[dict],
                 weights: Optional[Sequence[float]] = None,
                 data_preprocessor: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg=None):
        if not members or any(not isinstance(m, dict) or 'config' not in m
                              for m in members):
            raise ValueError('CoSegEnsemble: members must be a non-empty '
                             'list of dict(config=PATH)')
        configs = [self.member_config(m['config']) for m in members]
        if data_preprocessor is None:
            data_preprocessor = configs[0].model.get('data_preprocessor')
        for path, cfg in zip((m['config'] for m in members), configs):
            theirs = cfg.model.get('data_preprocessor') or {}
            for key in ('mean', 'std', 'bgr_to_rgb'):
                if theirs.get(key) != (data_preprocessor or {}).get(key):
                    raise ValueError(
                        f'CoSegEnsemble: member {path} normalises images '
                        f'with {key}={theirs.get(key)!r}, the ensemble with '
                        f'{(data_preprocessor or {}).get(key)!r}')
        if weights is None:
            weights = [1.0] * len(members)
        if len(weights) != len(members) or any(w < 0 for w in weights) \
                or sum(weights) <= 0:
            raise ValueError('CoSegEnsemble: weights must be one '
                             'non-negative number per member (not all 0), '
                             f'got {weights!r} for {len(members)} members')
        super().__init__(
            data_preprocessor=data_preprocessor,
            test_cfg=test_cfg,
            init_cfg=init_cfg)
        self.members = nn.ModuleList(
            MODELS.build(cfg.model) for cfg in configs)
        total = float(sum(weights))
        self.weights = [w / total for w in weights]
        self.align_corners = False
        self.num_classes = 2
        self.out_channels = 2

    @staticmethod
    def member_config(path: str) -> Config:
        if not isinstance(path, str) or not osp.isfile(path):
            raise FileNotFoundError(
                f'CoSegEnsemble: member config {path!r} not found (paths '
                'are relative to the directory the tool runs in)')
        cfg = Config.fromfile(path)
        if 'model' not in cfg:
            raise ValueError(f'CoSegEnsemble: member config {path} has no '
                             'model')
        return cfg

    # the members are trained on their own
    def loss(self, inputs: Tensor, data_samples) -> dict:
        raise RuntimeError(
            'CoSegEnsemble cannot be trained: train each member with its own '
            'config, then merge the checkpoints with '
            'tools/model_converters/ensemble_checkpoint.py')

    def encode(self, images: Tensor) -> List[Tensor]:
        """The members' encodings, concatenated (their counts kept for
        :meth:`relate`)."""
        encodings, self._counts = [], []
        for member in self.members:
            theirs = list(member.encode(images))
            self._counts.append(len(theirs))
            encodings.extend(theirs)
        return encodings

    def relate(self, encodings: Sequence[Tensor], group_size: int, size):
        foreground, scores, scored = 0, 0, 0
        start = 0
        for member, count, weight in zip(self.members, self._counts,
                                         self.weights):
            probs, theirs = member.relate(
                list(encodings[start:start + count]), group_size, size)
            start += count
            foreground = foreground + weight * foreground_of_probs(probs)
            if theirs is not None:
                scores = scores + theirs
                scored += 1
        probs = torch.stack([1 - foreground, foreground], dim=1)
        return probs, (scores / scored if scored else None)

    def encode_decode(self, inputs: Tensor, batch_img_metas=None) -> Tensor:
        """(N, G, 3, H, W) -> probabilities (N*G, 2, H, W)."""
        flat, group_size, _ = self.flatten(inputs)
        probs, _ = self.group_probabilities(flat, group_size)
        return probs

    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        return self.encode(inputs)

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        probs = self.encode_decode(inputs)
        return probs.view(inputs.shape[0], inputs.shape[1], *probs.shape[1:])

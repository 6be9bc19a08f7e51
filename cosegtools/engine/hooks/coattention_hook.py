"""The two-stage schedule of co-attention co-segmentation."""
import hashlib
import os
import os.path as osp
import time
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from cosegtools.models.utils.proposals import (best_proposal,
                                               refine_object_mask)
from cosegtools.registry import HOOKS, TASK_UTILS


@HOOKS.register_module()
class CoAttentionMaskHook(Hook):
    """Stage one: co-attention loss alone; stage two: + the mask loss.

    - Before training, object proposals are computed for every training
      image by ``proposal_generator`` and cached in ``cache_dir`` (one
      ``.npz`` per image, keyed by its path and the generator settings), so
      they are computed once per image across runs.
    - After ``stage_one_iters`` iterations the co-attention maps of all
      images are computed and, per image, the best-matching proposal M~ is
      fixed and the refined mask M (several non-overlapping proposals) set;
      the model's mask loss is on from then on.
    - Every ``update_interval`` iterations of stage two, M is refined again
      from the current maps (M~ stays).

    The targets are saved in checkpoints, so a resumed run continues with
    them.

    ``polarity_prior='border'`` decides, at the end of stage one, which side
    of the maps is the object, from the boundary prior of saliency detection
    (backgrounds touch the image border). Over the whole collection, if the
    maps are higher outside the central half-box of each image (the middle
    half of each side) than inside it, the object is the complement 1 - S:
    the model's ``polarity`` becomes -1, the proposals are matched to 1 - S
    and the model predicts 1 - S. The co-attention loss is blind to which
    side is which: with a small ImageNet extractor it often settles on the
    shared background (sky behind aeroplanes, water under boats). The paper
    has no such step (``'none'``).

    ``map_scaling='minmax'`` stretches each map to [0, 1] before it is
    matched to the proposals (the paper matches the raw map). A generator
    trained briefly gives maps of low contrast, e.g. values in [0.45, 0.6]:
    matched raw, every pixel above 0.5 counts as object, and when most of the
    map is above 0.5 the largest proposal wins. Stretched, the map's own high
    values decide.

    Args:
        stage_one_iters (int): iterations of stage one.
        update_interval (int): iterations between updates of M.
        proposal_generator (dict): a proposal generator config
            (``TASK_UTILS``).
        cache_dir (str, optional): proposal cache; default
            ``<work_dir>/proposals``.
        map_scaling (str): 'none' (the paper) or 'minmax' (per image).
        map_batch_size (int): images per forward pass of g when the maps
            are computed for the targets.
        polarity_prior (str): 'none' (the paper: S is the object) or
            'border' (see above).
    """

    priority = 'NORMAL'

    def __init__(
            self,
            stage_one_iters: int,
            update_interval: int,
            proposal_generator: dict = dict(type='MergeProposalGenerator'),
            cache_dir: Optional[str] = None,
            map_scaling: str = 'none',
            map_batch_size: int = 16,
            polarity_prior: str = 'none'):
        if stage_one_iters < 0 or update_interval < 1:
            raise ValueError('stage_one_iters must be >= 0 and '
                             'update_interval >= 1')
        if map_scaling not in ('none', 'minmax'):
            raise ValueError(f"map_scaling must be 'none' or 'minmax', got "
                             f'{map_scaling!r}')
        if polarity_prior not in ('none', 'border'):
            raise ValueError(f"polarity_prior must be 'none' or 'border', "
                             f'got {polarity_prior!r}')
        self.map_scaling = map_scaling
        self.polarity_prior = polarity_prior
        self.map_batch_size = map_batch_size
        self.stage_one_iters = stage_one_iters
        self.update_interval = update_interval
        self.generator_cfg = dict(proposal_generator)
        self.generator = TASK_UTILS.build(proposal_generator)
        self.cache_dir = cache_dir
        self.proposals = {}
        self.packed = {}
        #: wall seconds spent on proposals and on target updates
        self.seconds = dict(proposals=0.0, targets=0.0)

    # ------------------------------------------------------------ proposals
    @staticmethod
    def training_image(packed: dict) -> np.ndarray:
        """The image of a packed one-image group (BGR uint8, H x W x 3)."""
        inputs = packed['inputs'][0]
        return np.ascontiguousarray(inputs.permute(1, 2, 0).numpy())

    def cache_path(self, image: np.ndarray) -> str:
        key = hashlib.sha1(image.tobytes() + repr(image.shape).encode() +
                           repr(sorted(self.generator_cfg.items())).encode())
        return osp.join(self.cache_dir, f'{key.hexdigest()}.npz')

    def load_proposals(self, image: np.ndarray) -> np.ndarray:
        """Proposals of an image, from the cache or computed and cached."""
        path = self.cache_path(image)
        if osp.exists(path):
            with np.load(path) as data:
                shape = tuple(data['shape'])
                flat = np.unpackbits(data['bits'])[:int(np.prod(shape))]
                return flat.reshape(shape).astype(bool)
        proposals = self.generator(image)
        tmp = path[:-len('.npz')] + '.tmp.npz'
        np.savez_compressed(
            tmp, bits=np.packbits(proposals), shape=np.array(proposals.shape))
        os.replace(tmp, path)
        return proposals

    def before_train(self, runner) -> None:
        if self.cache_dir is None:
            self.cache_dir = osp.join(runner.work_dir, 'proposals')
        os.makedirs(self.cache_dir, exist_ok=True)
        dataset = runner.train_dataloader.dataset
        print_log(
            f'object proposals for {len(dataset)} images (cache: '
            f'{self.cache_dir})',
            logger='current')
        start = time.perf_counter()
        bar = ProgressBar(len(dataset))
        for index in range(len(dataset)):
            path = dataset.get_data_info(index)['img_path']
            # each image is read and processed once; the target updates of
            # stage two reuse it
            self.packed[path] = dataset.pipeline(
                dataset.get_group_info([index]))
            self.proposals[path] = self.load_proposals(
                self.training_image(self.packed[path]))
            bar.update()
        self.seconds['proposals'] += time.perf_counter() - start

    # ------------------------------------------------------------ targets
    def scale(self, attention: np.ndarray) -> np.ndarray:
        """The map as it is matched to the proposals (``map_scaling``)."""
        if self.map_scaling == 'none':
            return attention
        low, high = attention.min(), attention.max()
        return (attention - low) / max(high - low, 1e-6)

    @staticmethod
    def border_polarity(maps) -> int:
        """-1 if the maps are on average higher outside the central
        half-box of their images than inside it, else +1."""
        centre, border = [], []
        for image_map in maps:
            h, w = image_map.shape
            inner = np.zeros((h, w), bool)
            inner[h // 4:h - h // 4, w // 4:w - w // 4] = True
            centre.append(image_map[inner].mean())
            border.append(image_map[~inner].mean())
        return -1 if np.mean(border) > np.mean(centre) else 1

    @torch.no_grad()
    def attention_maps(self, runner) -> dict:
        """Co-attention maps of every training image at proposal size
        (stretched to [0, 1] with ``map_scaling='minmax'``)."""
        model = runner.model
        model = getattr(model, 'module', model)
        was_training = model.training
        model.eval()
        maps = {}
        # images of one size go through g together, a chunk at a time
        by_size = {}
        for path, packed in self.packed.items():
            by_size.setdefault(tuple(packed['inputs'][0].shape),
                               []).append(path)
        chunks = [
            paths[start:start + self.map_batch_size]
            for paths in by_size.values()
            for start in range(0, len(paths), self.map_batch_size)
        ]
        for chunk in chunks:
            batch = model.data_preprocessor(
                dict(
                    inputs=[self.packed[p]['inputs'] for p in chunk],
                    data_samples=[
                        self.packed[p]['data_samples'] for p in chunk
                    ]), False)
            attention = model.encode_decode(batch['inputs']).sigmoid()
            for path, image_map in zip(chunk, attention[:, 0]):
                size = self.proposals[path].shape[1:]
                image_map = torch.nn.functional.interpolate(
                    image_map[None, None], size=size, mode='bilinear')[0, 0]
                maps[path] = self.scale(image_map.cpu().numpy())
        model.train(was_training)
        return maps

    def update_targets(self, runner, first: bool) -> None:
        start = time.perf_counter()
        model = getattr(runner.model, 'module', runner.model)
        maps = self.attention_maps(runner)
        if first and self.polarity_prior == 'border':
            polarity = self.border_polarity(maps.values())
            model.polarity.fill_(polarity)
            print_log(
                'co-attention polarity: the object is '
                f'{"S" if polarity > 0 else "1 - S"} (boundary prior)',
                logger='current')
            if polarity < 0:  # min-max scaling commutes with 1 - S
                maps = {path: 1 - m for path, m in maps.items()}
        for path, attention in maps.items():
            proposals = self.proposals[path]
            if len(proposals) == 0:
                continue
            refined = torch.from_numpy(
                refine_object_mask(attention, proposals))
            if first:
                fixed = torch.from_numpy(proposals[best_proposal(
                    attention, proposals)])
            else:
                fixed = model.mask_targets[path][0]
            model.mask_targets[path] = (fixed, refined)
        self.seconds['targets'] += time.perf_counter() - start
        print_log(
            f'co-attention mask targets {"set" if first else "updated"} '
            f'for {len(model.mask_targets)} images',
            logger='current')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        done = runner.iter + 1
        if done == self.stage_one_iters:
            self.update_targets(runner, first=True)
        elif (done > self.stage_one_iters
              and (done - self.stage_one_iters) % self.update_interval == 0):
            self.update_targets(runner, first=False)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = getattr(runner.model, 'module', runner.model)
        # packed bits in uint8 tensors: small, and loadable with
        # torch.load(weights_only=True)
        checkpoint['coattention_targets'] = {
            path: (torch.from_numpy(np.packbits(a.numpy())),
                   torch.from_numpy(np.packbits(b.numpy())), list(a.shape))
            for path, (a, b) in model.mask_targets.items()
        }

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = getattr(runner.model, 'module', runner.model)
        for path, (a, b, shape) in checkpoint.get('coattention_targets',
                                                  {}).items():
            n = int(np.prod(shape))
            model.mask_targets[path] = tuple(
                torch.from_numpy(
                    np.unpackbits(bits.numpy())[:n].reshape(shape).astype(
                        bool)) for bits in (a, b))

"""Inference in the mmseg manner: ``init_model`` then ``cosegment``.

Example:
    >>> model = init_model('configs/docs/docs_....py', 'iter_1000.pth')
    >>> masks = cosegment(model, 'path/to/folder')  # one mask per image
"""
import copy
import os
import os.path as osp
from typing import List, Optional, Sequence, Union

import cv2
import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from cosegtools.datasets.class_folder_dataset import is_image_file
from cosegtools.datasets.samplers import partition_class
from cosegtools.engine.checkpoint import load_checkpoint_strict
from cosegtools.models.segmentors.coseg_segmentor import foreground_probability
from cosegtools.registry import MODELS
from cosegtools.utils import register_all_modules

# transforms that read files; inference feeds decoded images instead
FILE_LOADERS = ('LoadImageFromFile', 'LoadCoSegMask')


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None):
    """Build a co-segmentation model from a config and load a checkpoint."""
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config file {config!r} not found')
        config = Config.fromfile(config)
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a path or a Config, got '
                        f'{type(config)}')
    if cfg_options is not None:
        config.merge_from_dict(cfg_options)
    register_all_modules(init_default_scope=False)
    init_default_scope(config.get('default_scope', 'cosegtools'))
    model_cfg = copy.deepcopy(config.model)
    if checkpoint is not None and 'backbone' in model_cfg:
        # the checkpoint holds every weight: skip ImageNet loading
        model_cfg.backbone.pop('init_cfg', None)
        if model_cfg.backbone.get('type') == 'EfficientNetLite':
            model_cfg.backbone['pretrained'] = False
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint {checkpoint!r} not found')
        load_checkpoint_strict(model, checkpoint, map_location='cpu')
    model.cfg = config
    model.to(device)
    model.eval()
    return model


def list_images(folder: str) -> List[str]:
    """Image files of a folder, sorted by name."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{folder!r} is not a directory')
    files = [
        osp.join(folder, f) for f in sorted(os.listdir(folder))
        if is_image_file(f)
    ]
    if len(files) < 2:
        raise ValueError(f'{folder!r} holds {len(files)} image(s); '
                         'co-segmentation needs at least 2')
    return files


def _inference_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline without its file-loading transforms."""
    pipeline = []
    for step in copy.deepcopy(cfg.test_pipeline):
        if step['type'] == 'TransformBroadcaster':
            step['transforms'] = [
                t for t in step['transforms'] if t['type'] not in FILE_LOADERS
            ]
            if not step['transforms']:
                continue
        elif step['type'] in FILE_LOADERS:
            continue
        pipeline.append(step)
    return Compose(pipeline)


def _read(image, index):
    if isinstance(image, np.ndarray):
        return image, f'image_{index:04d}.png'
    if not osp.isfile(image):
        raise FileNotFoundError(f'image {image!r} not found')
    if osp.getsize(image) == 0:
        raise ValueError(f'{image}: empty file, not an image')
    try:
        array = mmcv.imread(image)
    except cv2.error as err:
        raise ValueError(f'{image}: unreadable or corrupt image '
                         f'({err.err})') from None
    if array is None:
        raise ValueError(f'{image}: unreadable or corrupt image')
    return array, image


@torch.no_grad()
def cosegment(model,
              images: Union[str, Sequence[Union[str, np.ndarray]]],
              group_size: Optional[int] = None,
              return_probs: bool = False) -> List[np.ndarray]:
    """Co-segment a folder or a list of images.

    Args:
        model: from :func:`init_model`.
        images (str | list[str | np.ndarray]): a folder, or image paths, or
            BGR arrays (H, W, 3).
        group_size (int, optional): images per group; None segments all
            images as one group. Groups are consecutive, the last absorbing a
            single left-over image.
        return_probs (bool): return each image's foreground probability
            (float32, original size) instead of its mask.

    Returns:
        list[np.ndarray]: one uint8 (H, W) mask {0, 1} per image, at the
        image's original size, in input order.
    """
    if isinstance(images, str):
        images = list_images(images)
    if len(images) < 2:
        raise ValueError('co-segmentation needs at least 2 images')
    decoded = [_read(image, i) for i, image in enumerate(images)]
    pipeline = _inference_pipeline(model.cfg)
    masks = []
    for group in partition_class(list(range(len(decoded))), group_size):
        arrays = [decoded[i][0] for i in group]
        results = dict(
            img=arrays,
            img_path=[decoded[i][1] for i in group],
            ori_shape=[a.shape[:2] for a in arrays],
            img_shape=[a.shape[:2] for a in arrays],
            has_common=[1] * len(group),
            swap_seg_labels=[None] * len(group),
            seg_fields=[[] for _ in group])
        packed = pipeline(results)
        outputs = model.test_step(
            dict(
                inputs=[packed['inputs']],
                data_samples=[packed['data_samples']]))
        for sample in outputs[0].image_samples:
            if return_probs:
                masks.append(
                    foreground_probability(sample).float().cpu().numpy())
            else:
                masks.append(sample.pred_sem_seg.data[0].cpu().numpy().astype(
                    np.uint8))
    return masks

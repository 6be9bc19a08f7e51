"""A hook for the distributed test: every rank saves its parameters."""
import os.path as osp

import torch
import torch.distributed as dist
from mmengine.hooks import Hook

from cosegtools.registry import HOOKS


@HOOKS.register_module()
class DumpRankParametersHook(Hook):

    def after_train(self, runner):
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        world = dist.get_world_size() if dist.is_initialized() else 1
        torch.save(
            dict(
                world_size=world,
                params={
                    k: v.detach().clone()
                    for k, v in model.named_parameters()
                }), osp.join(runner.work_dir, f'rank{runner.rank}_params.pth'))

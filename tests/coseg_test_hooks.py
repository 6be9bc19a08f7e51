"""Hooks for the distributed tests: every rank saves its parameters; a
rank freezes."""
import os
import os.path as osp
import signal

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


@HOOKS.register_module()
class FreezeRankHook(Hook):
    """Stops this process (SIGSTOP, as a frozen machine would) on ``rank``
    before iteration ``at_iter``: the other ranks must time out."""

    def __init__(self, rank=1, at_iter=1):
        self.rank = rank
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.rank == self.rank and runner.iter == self.at_iter:
            os.kill(os.getpid(), signal.SIGSTOP)

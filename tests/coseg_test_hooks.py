"""Hooks for the distributed tests: every rank saves its parameters; a
rank freezes."""
import os
import os.path as osp
import signal
import subprocess

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
    before iteration ``at_iter``: the other ranks must time out.

    ``kill_after`` seconds later a watchdog kills the stopped process: the
    test's own clean-up, so that the launcher, which gives a stopped worker
    30 s to answer its SIGTERM, ends soon after the other ranks have
    reported (set it above their timeout)."""

    def __init__(self, rank=1, at_iter=1, kill_after=None):
        self.rank = rank
        self.at_iter = at_iter
        self.kill_after = kill_after

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.rank == self.rank and runner.iter == self.at_iter:
            if self.kill_after is not None:
                # a session of its own: the launcher's signals to the
                # worker's process group do not reach it
                subprocess.Popen([
                    'sh', '-c',
                    f'sleep {self.kill_after}; kill -9 {os.getpid()}'
                ],
                                 start_new_session=True)
            os.kill(os.getpid(), signal.SIGSTOP)

"""Schedule length: ``tools/train.py --max-iters`` and ``--time-budget``."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner

import cosegtools.engine.hooks.time_budget_hook as time_budget_module
from cosegtools.engine import TimeBudgetHook
from cosegtools.utils import set_schedule_length
from coseg_fixtures import REPO_ROOT

LITE2_DOCS = osp.join(
    REPO_ROOT, 'configs/docs/docs-lovasz-ema_effnet-lite2_1xb8-2500_'
    'voc-pair-224x224.py')


def test_max_iters_scales_warm_up_and_decay_with_the_schedule():
    cfg = Config.fromfile(LITE2_DOCS)
    warm_up, decay = cfg.param_scheduler
    assert (warm_up.end, decay.begin, decay.end) == (100, 100, 2500)
    assert cfg.train_cfg.max_iters == 2500
    set_schedule_length(cfg, 20000)
    assert cfg.train_cfg.max_iters == 20000
    assert (warm_up.begin, warm_up.end) == (0, 800)
    assert (decay.begin, decay.end) == (800, 20000)
    # intervals shorter than the schedule are kept
    assert cfg.train_cfg.val_interval == 500
    # shorter than the warm-up was: every phase still has an iteration
    set_schedule_length(cfg, 2)
    assert warm_up.end > warm_up.begin and decay.end > decay.begin
    assert decay.end == 2
    with pytest.raises(ValueError, match='--max-iters must be >= 1'):
        set_schedule_length(cfg, 0)


def test_max_iters_scales_the_milestones_of_a_step_schedule():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/macosnet/'
                 'macosnet_r101_1xb16-adam5e-8_voc-weak-240x240.py'))
    assert cfg.param_scheduler[0].milestones == [20000]
    set_schedule_length(cfg, 40)  # a fortieth of the 40k schedule
    assert cfg.param_scheduler[0].milestones == [20]
    assert cfg.param_scheduler[0].end == 40


class FakeClock:
    """A clock on which each training iteration takes one second."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class LinearModel(BaseModel):

    def __init__(self, clock, slow_every=0, slow_seconds=0.0):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)
        self.clock = clock
        self.slow_every = slow_every
        self.slow_seconds = slow_seconds
        self.steps = 0

    def forward(self, inputs, mode='loss'):
        self.steps += 1
        self.clock.now += 1.0
        if self.slow_every and self.steps % self.slow_every == 0:
            self.clock.now += self.slow_seconds  # e.g. a validation
        return dict(loss=self.linear(inputs).pow(2).mean())


def train_with_budget(work_dir, clock, model, seconds, interval, max_iters,
                      eta_min=1e-3):
    runner = Runner(
        model=model,
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=[dict(inputs=torch.ones(2)) for _ in range(4)],
            sampler=dict(type='InfiniteSampler', shuffle=False),
            batch_size=1,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        param_scheduler=[
            dict(
                type='LinearLR',
                start_factor=0.5,
                begin=0,
                end=2,
                by_epoch=False),
            dict(
                type='PolyLR',
                eta_min=eta_min,
                power=1.0,
                begin=2,
                end=max_iters,
                by_epoch=False)
        ],
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        custom_hooks=[TimeBudgetHook(seconds=seconds, interval=interval)],
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook', interval=1000, by_epoch=False)))
    runner.train()
    return runner


def test_time_budget_stretches_the_schedule_to_fill_the_budget(
        tmp_path, monkeypatch):
    # one second per iteration: a 20 s budget is 20 iterations, not the
    # config's 4
    clock = FakeClock()
    monkeypatch.setattr(time_budget_module, 'perf_counter', clock)
    eta_min = 1e-3
    runner = train_with_budget(
        str(tmp_path), clock, LinearModel(clock), 20, 8, 4, eta_min=eta_min)
    assert runner.iter == 20
    warm_up, decay = runner.param_schedulers
    assert osp.isfile(osp.join(str(tmp_path), 'iter_20.pth'))
    # the old end was moved before the checkpoint hook saw it as the last
    assert not osp.exists(osp.join(str(tmp_path), 'iter_4.pth'))
    assert warm_up.end == 2 and decay.end == 20
    # the decay ran to its minimum at the new end, not at iteration 4
    lr = runner.optim_wrapper.get_lr()['lr'][0]
    assert lr == pytest.approx(eta_min, abs=1e-6)


def test_time_budget_counts_recurring_slow_iterations(tmp_path, monkeypatch):
    # every 100th iteration takes 100 s more (as a validation would).
    # Estimated from the last window of 50 iterations alone, the speed is 1 s
    # or 3 s an iteration depending on whether the window held a slow one:
    # that estimator ended this run at 1200 s; the average since the first
    # iteration ends it within 5 % of the budget
    clock = FakeClock()
    monkeypatch.setattr(time_budget_module, 'perf_counter', clock)
    model = LinearModel(clock, slow_every=100, slow_seconds=100.0)
    runner = train_with_budget(str(tmp_path), clock, model, 900, 50, 100)
    assert 900 * 0.95 <= clock.now <= 900 * 1.05
    assert runner.iter == runner.train_loop.max_iters > 400


def test_time_budget_rejects_a_budget_that_is_not_positive():
    with pytest.raises(ValueError, match='seconds must be > 0'):
        TimeBudgetHook(seconds=0)

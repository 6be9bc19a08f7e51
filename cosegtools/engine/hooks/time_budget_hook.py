from time import perf_counter
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from cosegtools.registry import HOOKS


@HOOKS.register_module()
class TimeBudgetHook(Hook):
    """Fits an iteration-based schedule into a wall-clock budget.

    It measures the seconds per training iteration, averaged over all
    iterations since the end of the first (start-up is not counted;
    validation during training is, in the proportion it will recur), and
    sets the loop's ``max_iters`` so that training ends when ``seconds``
    have passed since it started. The estimate is revised after windows of
    4, 8, 16, ... iterations (at most ``interval``) until ``freeze_after`` of
    the budget has passed (so the end does not move late), and at the last
    iteration of the schedule so far. Every parameter
    scheduler that ran to the old end of training is moved to the new end
    (warm-up and other early phases keep their iterations), so the learning
    rate still decays to its minimum; validation at the end of training and
    the last checkpoint follow the new end.

    The budget counts from the start of the process's training (a resumed
    run gets ``seconds`` again). For fixed-time comparisons and machines of
    unknown speed: ``tools/train.py --time-budget``.

    Args:
        seconds (float): Wall-clock budget of training (validation during
            training included).
        interval (int): The longest window between revisions. Defaults
            to 50.
        freeze_after (float): Fraction of the budget after which the end is
            no longer moved. Defaults to 0.8.
    """

    priority = 'LOW'  # before CheckpointHook (VERY_LOW)

    def __init__(self,
                 seconds: float,
                 interval: int = 50,
                 freeze_after: float = 0.8):
        if not seconds > 0:
            raise ValueError(f'TimeBudgetHook: seconds must be > 0, '
                             f'got {seconds}')
        if interval < 1:
            raise ValueError(f'TimeBudgetHook: interval must be >= 1, '
                             f'got {interval}')
        self.seconds = float(seconds)
        self.interval = int(interval)
        self.freeze_after = float(freeze_after)
        self._start: Optional[float] = None
        self._first: Optional[tuple] = None  # (iterations done, time)
        self._window = 4
        self._next = 0

    def before_train(self, runner) -> None:
        self._start = perf_counter()
        self._first = None
        self._window = min(4, self.interval)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        done = runner.iter + 1
        if self._first is None:  # the first iteration: start-up included
            self._first = (done, perf_counter())
            self._next = done + self._window
            return
        # revise at the end of a window, and at the schedule's last iteration
        # (before the checkpoint hook takes it for the last)
        if done < self._next and done < runner.train_loop.max_iters:
            return
        now = perf_counter()
        first_done, first_time = self._first
        per_iter = (now - first_time) / (done - first_done)
        self._window = min(2 * self._window, self.interval)
        self._next = done + self._window
        elapsed = now - self._start
        if elapsed > self.freeze_after * self.seconds:
            return
        left = max(self.seconds - elapsed, 0.0)
        self.set_max_iters(runner, max(done + int(left / per_iter), done + 1))

    @staticmethod
    def set_max_iters(runner, max_iters: int) -> None:
        """Sets the training loop's end to ``max_iters`` and moves the end of
        every parameter scheduler that ran to the old end with it."""
        loop = runner.train_loop
        old = loop.max_iters
        if max_iters == old:
            return
        schedulers = runner.param_schedulers
        if isinstance(schedulers, dict):
            schedulers = [s for group in schedulers.values() for s in group]
        for scheduler in schedulers or []:
            if scheduler.by_epoch or scheduler.end < old:
                continue  # an early phase such as warm-up
            scheduler.end = max_iters
            if hasattr(scheduler, 'total_iters'):
                scheduler.total_iters = max_iters - scheduler.begin - 1
        loop._max_iters = max_iters
        # a validation interval of the whole old schedule becomes the new one
        # (the loop sets val_interval from dynamic_intervals every iteration,
        # before it decides whether to validate)
        loop.dynamic_intervals = [
            max_iters if interval >= old else interval
            for interval in loop.dynamic_intervals
        ]
        print_log(
            f'TimeBudgetHook: training now ends at iteration {max_iters} '
            f'(was {old})',
            logger='current')

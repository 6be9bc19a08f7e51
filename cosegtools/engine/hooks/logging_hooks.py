"""Training-log hooks: the first iteration is logged, and learning rates
are named by the module they apply to."""
from mmengine.hooks import LoggerHook, RuntimeInfoHook
from mmengine.model import is_model_wrapper

from cosegtools.registry import HOOKS


@HOOKS.register_module()
class CoSegLoggerHook(LoggerHook):
    """mmengine's ``LoggerHook`` that also logs the first training
    iteration of a run (or of a resumed run), so that a short run or a slow
    start shows its losses before ``interval`` iterations have passed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._first_logged = False

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        first = not self._first_logged
        self._first_logged = True
        if not first or self.every_n_inner_iters(batch_idx, self.interval):
            super().after_train_iter(runner, batch_idx, data_batch, outputs)
            return
        tag, log_str = runner.log_processor.get_log_after_iter(
            runner, batch_idx, 'train')
        runner.logger.info(log_str)
        runner.visualizer.add_scalars(
            tag, step=runner.iter + 1, file_path=self.json_log_path)


@HOOKS.register_module()
class CoSegRuntimeInfoHook(RuntimeInfoHook):
    """mmengine's ``RuntimeInfoHook`` with the learning rates named.

    mmengine logs ``lr``, the rate of the optimizer's first parameter group,
    which with ``paramwise_cfg`` is a backbone parameter's scaled rate, next
    to ``base_lr``. This hook logs instead one ``<module>_lr`` per top-level
    module of the model (``backbone_lr``, ``decode_head_lr``): the rate of
    that module's first parameter group. ``base_lr`` stays the scheduled
    base rate.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self._module_of = {
            id(param): name.split('.')[0]
            for name, param in model.named_parameters()
        }

    def module_lrs(self, optimizer):
        """{module name: lr of its first parameter group}."""
        lrs = {}
        for group in optimizer.param_groups:
            for param in group['params']:
                name = self._module_of.get(id(param))
                if name is not None:
                    lrs.setdefault(name, group['lr'])
                    break
        return lrs

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        super().before_train_iter(runner, batch_idx, data_batch)
        optimizer = getattr(runner.optim_wrapper, 'optimizer', None)
        if optimizer is None:  # e.g. an OptimWrapperDict: keep mmengine's
            return
        lrs = self.module_lrs(optimizer)
        if not lrs:
            return
        runner.message_hub.log_scalars.pop('train/lr', None)
        for name, lr in lrs.items():
            runner.message_hub.update_scalar(f'train/{name}_lr', lr)

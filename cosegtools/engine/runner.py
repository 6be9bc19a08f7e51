"""The project's Runner: mmengine's, with a short console start-up.

At start-up mmengine logs the whole environment, the whole config, the hook
order and one line per parameter-wise optimizer setting (about 600 lines for
a DOCS config). :class:`CoSegRunner` keeps all of them in the run's log file
(``<work_dir>/<timestamp>/<timestamp>.log``; the config is also written to
the work dir) and shows on the console one line per kind with a count and
where the details are. ``log_level='DEBUG'`` shows everything on the console
as mmengine does.
"""
import logging
import platform
from collections import Counter

import torch
from mmengine.runner import Runner

from cosegtools.registry import RUNNERS

# (kind, test on the log message) of the records kept off the console
FILE_ONLY_RECORDS = (
    ('environment', lambda m: 'System environment:' in m),
    ('config', lambda m: m.startswith('Config:')),
    ('hook order', lambda m: 'Hooks will be executed in the following' in m),
    ('parameter-wise optimizer settings',
     lambda m: m.startswith('paramwise_options -- ')),
    ('frozen parameters left out of the optimizer',
     lambda m: m.endswith('is skipped since its requires_grad=False')),
    ('deprecation notices',
     lambda m: 'will be deprecated' in m or 'is the alias of' in m),
)


class FileOnlyFilter(logging.Filter):
    """Drops the records of :data:`FILE_ONLY_RECORDS` from a console handler
    and counts them by kind."""

    def __init__(self):
        super().__init__()
        self.counts = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for kind, matches in FILE_ONLY_RECORDS:
            if matches(message):
                self.counts[kind] += 1
                return False
        return True


@RUNNERS.register_module()
class CoSegRunner(Runner):
    """mmengine's ``Runner`` with a short console start-up (module
    docstring). Selected by ``runner_type='CoSegRunner'`` in the config."""

    def build_logger(self, log_level='INFO', log_file=None, **kwargs):
        logger = super().build_logger(log_level, log_file, **kwargs)
        self._console_filter = FileOnlyFilter()
        level = (
            log_level if isinstance(log_level, int) else logging.getLevelName(
                str(log_level).upper()))
        if level != logging.DEBUG:
            for handler in logger.handlers:
                if not isinstance(handler, logging.FileHandler):
                    handler.addFilter(self._console_filter)
        return logger

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.logger.info(
            f'Python {platform.python_version()}, torch {torch.__version__}'
            f', {self._device_name()}, seed {self.seed}, work dir '
            f'{self.work_dir}')
        self.report_file_only('start-up')

    @staticmethod
    def _device_name() -> str:
        if torch.cuda.is_available():
            return (f'{torch.cuda.device_count()} x '
                    f'{torch.cuda.get_device_name(0)}')
        threads = torch.get_num_threads()
        return f'CPU, {threads} thread' + ('s' if threads > 1 else '')

    def report_file_only(self, stage: str):
        """One console line for the records kept in the log file since the
        last report."""
        counts = self._console_filter.counts
        if not counts:
            return
        kinds = ', '.join(f'{kind} ({n})' if n > 1 else kind
                          for kind, n in counts.items())
        files = [
            h.baseFilename for h in self.logger.handlers
            if isinstance(h, logging.FileHandler)
        ]
        where = f'in the log file {files[0]}' if files else 'not shown'
        self.logger.info(f'{stage}: {kinds} are {where}')
        counts.clear()

    def build_optim_wrapper(self, optim_wrapper):
        built = super().build_optim_wrapper(optim_wrapper)
        self.report_file_only('optimizer')
        return built

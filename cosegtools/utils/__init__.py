from .runner_setup import (build_runner, load_run_config, set_schedule_length,
                           use_test_data_root)
from .setup_env import check_default_scope, register_all_modules
from .user_errors import (UsageError, report_user_errors, run_tool,
                          user_error_message)

__all__ = [
    'register_all_modules', 'check_default_scope', 'load_run_config',
    'set_schedule_length',
    'use_test_data_root', 'build_runner', 'report_user_errors',
    'run_tool', 'user_error_message', 'UsageError'
]

from .logging_hooks import CoSegLoggerHook, CoSegRuntimeInfoHook
from .output_hook import CoSegOutputHook
from .time_budget_hook import TimeBudgetHook

__all__ = [
    'CoSegLoggerHook', 'CoSegOutputHook', 'CoSegRuntimeInfoHook',
    'TimeBudgetHook'
]

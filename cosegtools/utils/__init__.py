from .setup_env import check_default_scope, register_all_modules

__all__ = ['register_all_modules', 'check_default_scope']

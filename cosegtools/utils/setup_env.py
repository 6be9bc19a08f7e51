import importlib

from mmengine.registry import DefaultScope

KNOWN_SCOPES = ('cosegtools', 'mmseg', 'mmengine')


def register_all_modules(init_default_scope=True):
    """Import every cosegtools module that registers components.

    Args:
        init_default_scope (bool): Make ``cosegtools`` the current default
            scope if no scope is set yet.
    """
    import cosegtools.datasets  # noqa: F401
    import cosegtools.engine  # noqa: F401
    import cosegtools.evaluation  # noqa: F401
    import cosegtools.models  # noqa: F401
    if init_default_scope and DefaultScope.get_current_instance() is None:
        DefaultScope.get_instance('cosegtools', scope_name='cosegtools')


def check_default_scope(cfg):
    """Fail loudly on a misspelt ``default_scope`` (mmengine only warns).

    Raises:
        ValueError: if the scope is not a known or importable package.
    """
    scope = cfg.get('default_scope', None)
    if scope is None or scope in KNOWN_SCOPES:
        return
    try:
        importlib.import_module(f'{scope}.registry')
    except ImportError:
        raise ValueError(
            f'config {cfg.filename!r}: default_scope={scope!r} is neither '
            f'one of {KNOWN_SCOPES} nor a package with a "registry" module. '
            "Use default_scope='cosegtools'.") from None

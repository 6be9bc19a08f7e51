"""Loading a checkpoint into the model it was written for, or stopping.

mmengine's ``load_checkpoint`` (and so ``tools/test.py`` and ``--resume``
through the Runner) only warns when keys or shapes differ, which turns a
checkpoint of another model into a partly random model that still prints a
plausible table. :func:`load_checkpoint_strict` refuses that with one line
naming the first mismatched keys.
"""
import pickle
import zipfile
from collections import OrderedDict

from mmengine.runner.checkpoint import _load_checkpoint

SHOWN_KEYS = 3


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or does not fit the model."""


def _first(keys):
    shown = ', '.join(keys[:SHOWN_KEYS])
    return shown + (f' (and {len(keys) - SHOWN_KEYS} more)'
                    if len(keys) > SHOWN_KEYS else '')


def read_checkpoint(filename: str, map_location='cpu') -> dict:
    """The checkpoint dict of ``filename`` (safe loading, see
    :mod:`cosegtools.compat`); raises :class:`CheckpointError` for a file that
    is not a PyTorch checkpoint or holds objects safe loading refuses."""
    try:
        checkpoint = _load_checkpoint(filename, map_location=map_location)
    except FileNotFoundError:
        raise
    except EOFError:
        raise CheckpointError(f'{filename}: empty or truncated, not a '
                              'checkpoint')
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError,
            UnicodeDecodeError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else (
            type(err).__name__)
        if 'Weights only load failed' in reason:
            reason = ('it holds objects that safe loading refuses (a '
                      'checkpoint of another program, or a malicious file)')
        raise CheckpointError(f'{filename}: not a checkpoint cosegtools can '
                              f'load: {reason}')
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'{filename}: holds a {type(checkpoint)}, not '
                              'a checkpoint dict')
    return checkpoint


def shape_mismatches(own: dict, state: dict, whose: str) -> dict:
    """Key -> ``'key (checkpoint shape) vs <whose> (own shape)'`` for every
    key of ``state`` that ``own`` has with another shape."""
    return {
        k: f'{k} {tuple(v.shape)} vs {whose} {tuple(own[k].shape)}'
        for k, v in state.items()
        if k in own and hasattr(v, 'shape') and v.shape != own[k].shape
    }


def load_checkpoint_strict(model, filename: str, map_location='cpu') -> dict:
    """Loads every weight of ``model`` from ``filename`` or raises
    :class:`CheckpointError` naming the first keys whose shapes differ, that
    the model lacks, or that the checkpoint lacks (``num_batches_tracked``
    of BN layers excepted). Key remaps that modules define
    (``_load_from_state_dict``, e.g. old DOCS head names) apply. Returns the
    checkpoint dict."""
    checkpoint = read_checkpoint(filename, map_location)
    state = checkpoint.get('state_dict', checkpoint)
    state = OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state.items())
    mismatched = list(
        shape_mismatches(model.state_dict(), state, "the model's").values())
    if mismatched:
        raise CheckpointError(
            f'{filename} does not fit the model ({type(model).__name__} of '
            f'this config): {len(mismatched)} weights differ in shape: '
            f'{_first(mismatched)}')
    result = model.load_state_dict(state, strict=False)
    missing = [
        k for k in result.missing_keys if not k.endswith('num_batches_tracked')
    ]
    problems = []
    if missing:
        problems.append(f'{len(missing)} weights of the model are not in '
                        f'it: {_first(missing)}')
    if result.unexpected_keys:
        problems.append(f'{len(result.unexpected_keys)} of its weights are '
                        f'not in the model: {_first(result.unexpected_keys)}')
    if problems:
        raise CheckpointError(f'{filename} does not fit the model '
                              f'({type(model).__name__} of this config): ' +
                              '; '.join(problems))
    return checkpoint

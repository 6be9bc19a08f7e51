"""``init_cfg=dict(type='Pretrained', ...)`` that loads every weight or
stops.

mmengine's ``Pretrained`` loads with ``strict=False`` and only logs what did
not fit, so a checkpoint in another naming (torchvision's VGG16 into this
project's VGG16) loads nothing and the network trains from scratch without
anyone noticing. This one (registered under the same name in the
cosegtools scope) converts known layouts, ignores the ImageNet classifier,
and raises :class:`CheckpointError` listing the missing and unexpected keys
unless ``allow_partial=True``.
"""
from collections import OrderedDict
from typing import Optional

from mmengine.logging import print_log
from mmengine.model.weight_init import update_init_info

from cosegtools.engine.checkpoint import (CheckpointError, read_checkpoint,
                                         shape_mismatches)
from cosegtools.registry import WEIGHT_INITIALIZERS

#: top-level names of ImageNet classifiers in torchvision, mmpretrain and
#: timm checkpoints; a backbone has none of them
CLASSIFIER_KEYS = ('fc.', 'classifier.', 'head.', 'neck.')
SHOWN = 5


def _listed(keys):
    keys = sorted(keys)
    shown = ', '.join(keys[:SHOWN])
    return shown + (f' (and {len(keys) - SHOWN} more)'
                    if len(keys) > SHOWN else '')


@WEIGHT_INITIALIZERS.register_module(name='Pretrained')
class StrictPretrainedInit:
    """Load a checkpoint into the module whose ``init_cfg`` names it.

    Steps: the checkpoint's ``state_dict`` (or the file's dict itself), a
    leading ``module.`` removed; with ``prefix``, only the keys under it
    (``prefix='backbone'`` takes a whole model's backbone); without it, a
    leading ``backbone.`` is removed when every key the module has would
    otherwise be missing (an mmpretrain classifier checkpoint); the
    module's own ``convert_checkpoint(state)`` when it has one (e.g.
    :class:`VGG16` maps torchvision's and mmpretrain's names); classifier
    weights the module lacks (``fc.``, ``classifier.``, ``head.``,
    ``neck.``) are dropped. Layers a module declares new in
    ``layers_not_pretrained`` (key prefixes, e.g. DOCS's conv6) keep their
    initialisation. Anything else that does not fit raises.

    Args:
        checkpoint (str): path of the checkpoint file.
        prefix (str, optional): load only the keys under this prefix.
        map_location (str): where tensors are loaded.
        allow_partial (bool): load what fits and log the rest instead of
            raising.
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: Optional[str] = None,
                 map_location: str = 'cpu',
                 allow_partial: bool = False):
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.map_location = map_location
        self.allow_partial = allow_partial

    def state_for(self, module) -> OrderedDict:
        """The checkpoint's weights in the module's naming."""
        loaded = read_checkpoint(self.checkpoint, self.map_location)
        state = loaded.get('state_dict', loaded)
        state = OrderedDict(
            (k[len('module.'):] if k.startswith('module.') else k, v)
            for k, v in state.items())
        own = module.state_dict()
        if self.prefix:
            start = self.prefix.rstrip('.') + '.'
            state = OrderedDict((k[len(start):], v) for k, v in state.items()
                                if k.startswith(start))
            if not state:
                raise CheckpointError(f'{self.checkpoint}: no weights under '
                                      f'prefix {self.prefix!r}')
        elif not set(state) & set(own) and any(
                k.startswith('backbone.') for k in state):
            state = OrderedDict((k[len('backbone.'):], v)
                                for k, v in state.items()
                                if k.startswith('backbone.'))
        if hasattr(module, 'convert_checkpoint'):
            state = module.convert_checkpoint(state)
        return OrderedDict(
            (k, v) for k, v in state.items()
            if k in own or not k.startswith(CLASSIFIER_KEYS))

    def __call__(self, module) -> None:
        name = type(module).__name__
        state = self.state_for(module)
        own = module.state_dict()
        mismatched = shape_mismatches(own, state, name)
        if mismatched and not self.allow_partial:
            raise CheckpointError(
                f'{self.checkpoint} does not fit {name}: {len(mismatched)} '
                f'weights differ in shape: {_listed(mismatched.values())}')
        for key in mismatched:  # allow_partial: they keep their init
            del state[key]
        result = module.load_state_dict(state, strict=False)
        new = tuple(getattr(module, 'layers_not_pretrained', ()))
        missing = [
            k for k in result.missing_keys
            if not k.endswith('num_batches_tracked') and not k.startswith(new)
        ]
        unexpected = list(result.unexpected_keys)
        problems = []
        if missing:
            problems.append(f'{len(missing)} of the {len(own)} weights of '
                            f'{name} are not in it: {_listed(missing)}')
        if unexpected:
            problems.append(f'{len(unexpected)} of its weights are not in '
                            f'{name}: {_listed(unexpected)}')
        if problems and not self.allow_partial:
            raise CheckpointError(
                f'{self.checkpoint} does not fit {name}: ' +
                '; '.join(problems) + ". Point init_cfg at this module's "
                "checkpoint, give prefix='...' for a part of a larger "
                'model, or set allow_partial=True to load what fits')
        loaded = len(state) - len(unexpected)
        print_log(
            f'{name}: loaded {loaded} weights from {self.checkpoint}' +
            (f' (partial: {"; ".join(problems)})' if problems else ''),
            logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(
                module,
                init_info=f'Pretrained: loaded from {self.checkpoint}')

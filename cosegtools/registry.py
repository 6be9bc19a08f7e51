"""cosegtools registries: children of mmseg's, scope ``cosegtools``.

A config with ``default_scope='cosegtools'`` finds cosegtools' components
first and falls back to mmseg's and mmengine's (``type='ResNetV1c'`` and
``type='CrossEntropyLoss'`` still resolve). ``locations`` are imported lazily
the first time a registry is searched.
"""
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS as \
    MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TASK_UTILS as MMSEG_TASK_UTILS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import \
    WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

SCOPE = 'cosegtools'


def _child(name, parent, locations=()):
    return Registry(
        name, parent=parent, scope=SCOPE, locations=list(locations))


RUNNERS = _child('runner', MMSEG_RUNNERS, ['cosegtools.engine'])
LOOPS = _child('loop', MMSEG_LOOPS, ['cosegtools.engine'])
HOOKS = _child('hook', MMSEG_HOOKS, ['cosegtools.engine.hooks'])
DATASETS = _child('dataset', MMSEG_DATASETS, ['cosegtools.datasets'])
DATA_SAMPLERS = _child('data sampler', MMSEG_DATA_SAMPLERS,
                       ['cosegtools.datasets.samplers'])
TRANSFORMS = _child('transform', MMSEG_TRANSFORMS,
                    ['cosegtools.datasets.transforms'])
MODELS = _child('model', MMSEG_MODELS, ['cosegtools.models'])
MODEL_WRAPPERS = _child('model_wrapper', MMSEG_MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child('weight initializer', MMSEG_WEIGHT_INITIALIZERS,
                             ['cosegtools.models'])
OPTIMIZERS = _child('optimizer', MMSEG_OPTIMIZERS)
OPTIM_WRAPPERS = _child('optim_wrapper', MMSEG_OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMSEG_OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child('parameter scheduler', MMSEG_PARAM_SCHEDULERS)
METRICS = _child('metric', MMSEG_METRICS, ['cosegtools.evaluation'])
EVALUATOR = _child('evaluator', MMSEG_EVALUATOR)
TASK_UTILS = _child('task util', MMSEG_TASK_UTILS,
                    ['cosegtools.models.postprocessors'])
VISUALIZERS = _child('visualizer', MMSEG_VISUALIZERS)
VISBACKENDS = _child('vis_backend', MMSEG_VISBACKENDS)
LOG_PROCESSORS = _child('log_processor', MMSEG_LOG_PROCESSORS)

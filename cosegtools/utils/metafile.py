"""Checks of the OpenMMLab model index (``model-index.yml`` and the
``configs/<method>/metafile.yaml`` files it imports), so the recorded figures
stay readable by tools: every file parses, every model names a config that
exists, and datasets and metrics use the project's exact names."""
import os.path as osp
from typing import List

import yaml

DATASETS = (
    'PASCAL-VOC co-seg 3:1:1 test (pairs)',
    'PASCAL-VOC co-seg 3:1:1 test (whole classes)',
    'PASCAL-VOC co-seg 3:1:1 val (pairs)',
    'PASCAL-VOC co-seg 3:1:1 val (mixed pairs)',
    'PASCAL-VOC co-seg 3:1:1 test (mixed pairs)',
    'PASCAL-VOC co-seg all 1037',
    'TSS samples',
    'PASCAL-VOC known warps (test)',
)
METRICS = ('mP', 'mJ', 'aP', 'aJ', 'pooled_J', 'pos_mJ', 'PCK@0.05',
           'PCK@0.1', 'PCK@0.15', 'S-measure', 'maxF', 'meanF', 'maxE',
           'meanE', 'MAE', 'decision_acc', 'neg_empty')


def check_model_index(root: str) -> List[str]:
    """Problems found in ``<root>/model-index.yml`` and its metafiles, one
    line each naming the file (an empty list when all is well)."""
    index_path = osp.join(root, 'model-index.yml')
    if not osp.isfile(index_path):
        return [f'{index_path}: not found']
    with open(index_path) as f:
        index = yaml.safe_load(f) or {}
    problems = []
    for rel in index.get('Import', []):
        path = osp.join(root, rel)
        if not osp.isfile(path):
            problems.append(f'{index_path}: imports {rel}, which does not '
                            'exist')
            continue
        try:
            with open(path) as f:
                meta = yaml.safe_load(f) or {}
        except yaml.YAMLError as err:
            problems.append(f'{path}: not valid YAML ({err})')
            continue
        problems += _check_metafile(root, path, meta)
    return problems


def _check_metafile(root, path, meta) -> List[str]:
    problems = []
    collections = {c.get('Name') for c in meta.get('Collections', [])}
    if not collections:
        problems.append(f'{path}: no Collections')
    for model in meta.get('Models', []):
        name = model.get('Name', '?')
        where = f'{path}: model {name}'
        if model.get('In Collection') not in collections:
            problems.append(f'{where}: In Collection '
                            f'{model.get("In Collection")!r} is not a '
                            'collection of this file')
        config = model.get('Config')
        if not config or not osp.isfile(osp.join(root, config)):
            problems.append(f'{where}: config {config!r} does not exist')
        elif osp.splitext(osp.basename(config))[0] != name:
            problems.append(f'{where}: the name differs from its config '
                            f'file {osp.basename(config)}')
        for result in model.get('Results', []):
            dataset = result.get('Dataset')
            if dataset not in DATASETS:
                problems.append(f'{where}: unknown dataset {dataset!r}')
            for metric, value in (result.get('Metrics') or {}).items():
                if metric not in METRICS:
                    problems.append(f'{where}: unknown metric {metric!r}')
                if not isinstance(value, (int, float)):
                    problems.append(f'{where}: {metric} is not a number')
    return problems

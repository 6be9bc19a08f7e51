from .coattention_losses import BootstrappedMaskLoss, CoAttentionLoss
from .macosnet_losses import (CrossNetworkConsistencyLoss,
                              CycleConsistencyLoss, ForegroundMatchingLoss,
                              TransitivityConsistencyLoss, WarpRegressionLoss)

__all__ = [
    'BootstrappedMaskLoss', 'CoAttentionLoss', 'CrossNetworkConsistencyLoss',
    'CycleConsistencyLoss', 'ForegroundMatchingLoss',
    'TransitivityConsistencyLoss', 'WarpRegressionLoss'
]

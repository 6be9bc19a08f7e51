from .coattention_losses import BootstrappedMaskLoss, CoAttentionLoss

__all__ = ['BootstrappedMaskLoss', 'CoAttentionLoss']

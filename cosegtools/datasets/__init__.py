from .base_coseg_dataset import BaseCoSegDataset
from .class_folder_dataset import CoSegClassFolderDataset
from .image_folder_dataset import CoSegImageFolderDataset
from .keypoint_pairs import (KeypointPairDataset, PFPascalDataset,
                             PFWillowDataset, SPairDataset, TSSDataset,
                             read_flo)
from .mask_io import DatasetFileError, read_binary_mask
from .samplers import (CoSegGroupSampler, CoSegPairListSampler,
                       CoSegPairSampler)
from .synthetic import SyntheticCoSegDataset
from .transforms import LoadCoSegMask, LoadObjectProposals, PackCoSegInputs

__all__ = [
    'BaseCoSegDataset', 'CoSegClassFolderDataset', 'CoSegImageFolderDataset',
    'SyntheticCoSegDataset', 'CoSegPairSampler', 'CoSegGroupSampler',
    'LoadCoSegMask', 'LoadObjectProposals', 'PackCoSegInputs',
    'DatasetFileError', 'read_binary_mask',
    'CoSegPairListSampler', 'KeypointPairDataset', 'TSSDataset',
    'PFPascalDataset', 'PFWillowDataset', 'SPairDataset', 'read_flo'
]

import os
import os.path as osp
from typing import List

from cosegtools.registry import DATASETS
from .base_coseg_dataset import BaseCoSegDataset
from .class_folder_dataset import is_image_file
from .mask_io import open_image


@DATASETS.register_module()
class CoSegImageFolderDataset(BaseCoSegDataset):
    """The images of one folder, one class, no masks: the collection an
    unsupervised method (co-attention) co-segments.

    Every image is opened when the dataset is built; an unreadable one stops
    it with the file's name.

    Args:
        data_root (str): the folder (images directly inside, by extension:
            jpg, jpeg, png, bmp, tif, tiff).
        **kwargs: see mmengine's ``BaseDataset`` (``pipeline``, ...).
    """

    def __init__(self, data_root: str, **kwargs):
        if not osp.isdir(data_root):
            raise FileNotFoundError(f'{data_root!r} is not a directory')
        name = osp.basename(osp.normpath(data_root))
        kwargs.setdefault('metainfo', dict(classes=(name, )))
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        files = sorted(
            f for f in os.listdir(self.data_root)
            if is_image_file(f))
        if len(files) < 2:
            raise ValueError(f'{self.data_root!r} holds {len(files)} '
                             'image(s); co-segmentation needs at least 2')
        name = self.metainfo['classes'][0]
        data_list = []
        for f in files:
            path = osp.join(self.data_root, f)
            open_image(path)
            data_list.append(
                dict(
                    img_path=path,
                    img_id=f'{name}/{osp.splitext(f)[0]}',
                    class_name=name,
                    class_idx=0,
                    seg_fields=[],
                    reduce_zero_label=False))
        return data_list

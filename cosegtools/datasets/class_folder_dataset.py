import os
import os.path as osp
from typing import List, Optional

from cosegtools.registry import DATASETS
from .base_coseg_dataset import BaseCoSegDataset
from .mask_io import check_image_mask_pair, open_image

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')


def is_image_file(name: str) -> bool:
    """Whether a file name is an image the datasets read: one of
    :data:`IMG_EXTENSIONS`, and not hidden (macOS' ``._name.png`` resource
    forks and other dot-files are skipped like non-image files)."""
    return (osp.splitext(name)[1].lower() in IMG_EXTENSIONS
            and not osp.basename(name).startswith('.'))


def list_class_folder(data_root, img_dir='images', mask_dir='masks'):
    """Class names and, per class, the sorted image stems with their paths.

    Returns:
        dict: ``{class_name: [(stem, img_path, mask_dir_path), ...]}``.
    """
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'data_root {data_root!r} is not a directory')
    layout = {}
    for name in sorted(os.listdir(data_root)):
        class_img_dir = osp.join(data_root, name, img_dir)
        if not osp.isdir(class_img_dir):
            continue
        entries = []
        for file in sorted(os.listdir(class_img_dir)):
            stem = osp.splitext(file)[0]
            if is_image_file(file):
                entries.append((stem, osp.join(class_img_dir, file)))
        layout[name] = entries
    if not layout:
        raise FileNotFoundError(
            f'data_root {data_root!r} holds no class folder with an '
            f'"{img_dir}/" sub-folder (expected <root>/<Class>/{img_dir}/*.jpg'
            f' and <root>/<Class>/{mask_dir}/*.png)')
    return layout


def read_split_file(path):
    """Read ``<Class>/<stem>`` lines; returns a list of (class, stem)."""
    return [(c, stem) for _, c, stem in read_split_lines(path)]


def read_split_lines(path):
    """(line number, class, stem) of each ``<Class>/<stem>`` line."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'split file {path!r} does not exist')
    items = []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            parts = line.split('/')
            if len(parts) != 2 or not all(parts):
                raise ValueError(
                    f'{path}:{line_no}: expected "<Class>/<stem>", got '
                    f'{line!r}')
            items.append((line_no, parts[0], parts[1]))
    return items


@DATASETS.register_module()
class CoSegClassFolderDataset(BaseCoSegDataset):
    """A class-folder co-segmentation dataset.

    Layout (PASCAL-VOC co-seg, iCoseg, MSRC, Internet)::

        data_root/<Class>/images/<stem>.jpg
        data_root/<Class>/masks/<stem>.png    # 0/255 or 0/1, same size

    Every image of a class contains that class's object; the mask marks it.
    All files of the selected images are checked when the dataset is built,
    before any training starts (see :mod:`cosegtools.datasets.mask_io`).

    Args:
        data_root (str): dataset root.
        split_file (str, optional): file of ``<Class>/<stem>`` lines, relative
            to ``data_root`` unless absolute. None uses every image.
        classes (Sequence[str], optional): restrict to these classes.
        img_dir (str): image sub-folder of each class.
        mask_dir (str): mask sub-folder of each class.
        mask_root (str, optional): read the masks from
            ``<mask_root>/<Class>/<stem><mask_suffix>`` instead of
            ``data_root/<Class>/<mask_dir>/``: the layout that
            ``tools/coseg_folder.py --out OUT`` writes per post-processor
            (``OUT/<post-processor>``), e.g. to train on the masks of a
            mask-free method. Relative paths are taken as they are (from the
            working directory), not from ``data_root``.
        mask_suffix (str): mask file extension.
        validate (bool): check every image/mask file at start-up.
        with_masks (bool): the images have masks. False for weakly
            supervised and unsupervised training: no mask is looked for,
            checked or read (``seg_map_path`` is None), so the masks need not
            exist.
        **kwargs: passed to :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``test_mode``, ``lazy_init``, ...).
    """

    def __init__(self,
                 data_root: str,
                 split_file: Optional[str] = None,
                 classes: Optional[List[str]] = None,
                 img_dir: str = 'images',
                 mask_dir: str = 'masks',
                 mask_root: Optional[str] = None,
                 mask_suffix: str = '.png',
                 validate: bool = True,
                 with_masks: bool = True,
                 **kwargs):
        self.split_file = split_file
        self.img_dir = img_dir
        self.mask_dir = mask_dir
        if mask_root is not None and not osp.isdir(mask_root):
            raise FileNotFoundError(
                f'mask_root {mask_root!r} is not a directory (expected '
                f'<mask_root>/<Class>/<stem>{mask_suffix})')
        self.mask_root = mask_root
        self.mask_suffix = mask_suffix
        self.validate = validate
        self.with_masks = with_masks
        self._layout = list_class_folder(data_root, img_dir, mask_dir)
        self._all_classes = set(self._layout)
        if classes is not None:
            unknown = sorted(set(classes) - set(self._layout))
            if unknown:
                raise ValueError(
                    f'classes {unknown} have no folder in {data_root}')
            self._layout = {c: self._layout[c] for c in classes}
        kwargs.setdefault('metainfo', dict(classes=tuple(self._layout)))
        super().__init__(data_root=data_root, **kwargs)

    def _selected(self):
        """(class, stem, img_path) of the images in the split."""
        if self.split_file is None:
            return [(c, stem, path) for c, entries in self._layout.items()
                    for stem, path in entries]
        split_path = self.split_file
        if not osp.isabs(split_path):
            split_path = osp.join(self.data_root, split_path)
        index = {
            (c, stem): path
            for c, entries in self._layout.items()
            for stem, path in entries
        }
        selected = []
        for line_no, class_name, stem in read_split_lines(split_path):
            if class_name not in self._all_classes:
                raise FileNotFoundError(
                    f'{split_path}:{line_no}: lists {class_name}/{stem} but '
                    f'{self.data_root} has no class folder {class_name!r} '
                    f'(with an {self.img_dir}/ sub-folder)')
            if class_name not in self._layout:
                continue  # class filtered out by ``classes``
            if (class_name, stem) not in index:
                raise FileNotFoundError(
                    f'{split_path}: lists {class_name}/{stem} but '
                    f'{osp.join(self.data_root, class_name, self.img_dir)} '
                    f'has no image with that stem')
            selected.append((class_name, stem, index[(class_name, stem)]))
        return selected

    def mask_path(self, class_name: str, stem: str) -> str:
        if self.mask_root is not None:
            return osp.join(self.mask_root, class_name,
                            stem + self.mask_suffix)
        return osp.join(self.data_root, class_name, self.mask_dir,
                        stem + self.mask_suffix)

    def load_data_list(self) -> List[dict]:
        classes = list(self.metainfo['classes'])
        data_list = []
        for class_name, stem, img_path in self._selected():
            mask_path = None
            if self.with_masks:
                mask_path = self.mask_path(class_name, stem)
            if self.validate and self.with_masks:
                check_image_mask_pair(img_path, mask_path)
            elif self.validate:
                open_image(img_path)
            data_list.append(
                dict(
                    img_path=img_path,
                    seg_map_path=mask_path,
                    img_id=f'{class_name}/{stem}',
                    class_name=class_name,
                    class_idx=classes.index(class_name),
                    seg_fields=[],
                    reduce_zero_label=False))
        where = self.split_file or self.data_root
        if not data_list:
            raise ValueError(f'dataset {where!r} is empty: no images found')
        counts = {c: 0 for c in classes}
        for info in data_list:
            counts[info['class_name']] += 1
        too_small = {c: n for c, n in counts.items() if n == 1}
        if too_small:
            raise ValueError(
                f'dataset {where!r}: classes with fewer than 2 images cannot '
                f'form a co-segmentation group: {too_small}')
        return data_list

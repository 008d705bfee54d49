"""Data pipeline: splitting and scaling, datasets and loaders, image augmentation.

``numnet.data`` imports only NumPy; the geometric augmentations import
``scipy.ndimage`` when they are first called.
"""

from numnet.data import augment
from numnet.data.augment import ImageDataGenerator
from numnet.data.loader import (
    ArrayDataset,
    DataLoader,
    Dataset,
    GeneratorDataset,
    IterableDataset,
)
from numnet.data.split import (
    MinMaxScaler,
    Standardizer,
    one_hot,
    split_indices,
    train_dev_test_split,
)

__all__ = [
    "ArrayDataset",
    "DataLoader",
    "Dataset",
    "GeneratorDataset",
    "ImageDataGenerator",
    "IterableDataset",
    "MinMaxScaler",
    "Standardizer",
    "augment",
    "one_hot",
    "split_indices",
    "train_dev_test_split",
]

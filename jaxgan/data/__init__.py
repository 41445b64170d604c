"""Data: labelled image sources (tfds, without TensorFlow) and per-process batches."""

from jaxgan.data.idx import IdxFormatError
from jaxgan.data.idx import read_idx
from jaxgan.data.idx import write_idx
from jaxgan.data.images import IMAGE_EXTENSIONS
from jaxgan.data.images import ImageReadError
from jaxgan.data.images import convert_channels
from jaxgan.data.images import load_image
from jaxgan.data.images import resize
from jaxgan.data.images import to_float
from jaxgan.data.images import to_uint8
from jaxgan.data.loader import BatchLoader
from jaxgan.data.loader import labelled_transform
from jaxgan.data.sources import DatasetNotPreparedError
from jaxgan.data.sources import LabelledSource
from jaxgan.data.sources import SOURCE_FACTORIES
from jaxgan.data.sources import labelled_source
from jaxgan.data.subsets import HIDDEN_LABEL
from jaxgan.data.subsets import SubsetSource
from jaxgan.data.subsets import all_labels
from jaxgan.data.subsets import balanced_labeled_indices
from jaxgan.data.subsets import semi_supervised_sources

__all__ = [
    'IMAGE_EXTENSIONS',
    'BatchLoader',
    'DatasetNotPreparedError',
    'IdxFormatError',
    'ImageReadError',
    'LabelledSource',
    'SOURCE_FACTORIES',
    'convert_channels',
    'labelled_source',
    'labelled_transform',
    'load_image',
    'read_idx',
    'resize',
    'to_float',
    'to_uint8',
    'write_idx',
    'HIDDEN_LABEL',
    'SubsetSource',
    'all_labels',
    'balanced_labeled_indices',
    'semi_supervised_sources',
]

"""Data: labelled and paired image sources (tfds, without TensorFlow) and per-process batches."""

from jaxgan.data.idx import IdxFormatError, read_idx, write_idx
from jaxgan.data.images import (
    IMAGE_EXTENSIONS,
    ImageReadError,
    convert_channels,
    load_image,
    resize,
    to_float,
    to_uint8,
)
from jaxgan.data.jitter import PREPROCESS, PREPROCESS_MODES
from jaxgan.data.loader import BatchLoader, labelled_transform
from jaxgan.data.paired import (
    PAIRED_SPEC_FORMS,
    PairedSource,
    paired_source,
    paired_transform,
)
from jaxgan.data.sources import (
    SOURCE_FACTORIES,
    DatasetNotPreparedError,
    LabelledSource,
    labelled_source,
)
from jaxgan.data.subsets import (
    HIDDEN_LABEL,
    SubsetSource,
    all_labels,
    balanced_labeled_indices,
    semi_supervised_sources,
)

__all__ = [
    'HIDDEN_LABEL',
    'IMAGE_EXTENSIONS',
    'PAIRED_SPEC_FORMS',
    'PREPROCESS',
    'PREPROCESS_MODES',
    'SOURCE_FACTORIES',
    'BatchLoader',
    'DatasetNotPreparedError',
    'IdxFormatError',
    'ImageReadError',
    'LabelledSource',
    'PairedSource',
    'SubsetSource',
    'all_labels',
    'balanced_labeled_indices',
    'convert_channels',
    'labelled_source',
    'labelled_transform',
    'load_image',
    'paired_source',
    'paired_transform',
    'read_idx',
    'resize',
    'semi_supervised_sources',
    'to_float',
    'to_uint8',
    'write_idx',
]

"""Data: labelled, paired, unpaired and HR image sources (tfds, without TensorFlow) and per-process batches."""

from jaxgan.data.hr_crops import (
  HRSource,
  hr_source,
  modcrop,
  sr_crop_transform,
  sr_eval_batches,
  sr_eval_transform,
)
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
from jaxgan.data.unpaired import (
  UNPAIRED_SPEC_FORMS,
  DomainSource,
  UnpairedBatches,
  unpaired_batches,
  unpaired_sources,
  unpaired_transform,
)

__all__ = [
  "HIDDEN_LABEL",
  "IMAGE_EXTENSIONS",
  "PAIRED_SPEC_FORMS",
  "PREPROCESS",
  "PREPROCESS_MODES",
  "SOURCE_FACTORIES",
  "UNPAIRED_SPEC_FORMS",
  "BatchLoader",
  "DatasetNotPreparedError",
  "DomainSource",
  "HRSource",
  "IdxFormatError",
  "ImageReadError",
  "LabelledSource",
  "PairedSource",
  "SubsetSource",
  "UnpairedBatches",
  "all_labels",
  "balanced_labeled_indices",
  "convert_channels",
  "hr_source",
  "labelled_source",
  "labelled_transform",
  "load_image",
  "modcrop",
  "paired_source",
  "paired_transform",
  "read_idx",
  "resize",
  "semi_supervised_sources",
  "sr_crop_transform",
  "sr_eval_batches",
  "sr_eval_transform",
  "to_float",
  "to_uint8",
  "unpaired_batches",
  "unpaired_sources",
  "unpaired_transform",
  "write_idx",
]

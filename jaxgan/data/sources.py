"""Labelled image data sources: one entry point for every kind of labelled data.

``labelled_source(spec, split=..., data_dir=...)`` accepts

* ``digits``                scikit-learn's 8x8 digits (built into data_dir once);
* ``idx:PATH``              a directory of MNIST-format IDX files (or a registered name:
                            ``idx:fashion_mnist``, see :mod:`jaxgan.download`);
* ``folder:PATH``           an image folder with class sub-folders;
* ``tfds:NAME`` or ``NAME`` a tfds catalogue dataset already prepared in data_dir
                            in array_record format (nothing is downloaded).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow_datasets as tfds

from jaxgan import download
from jaxgan.data import builders
from jaxgan.data.record_source import RecordSource

SPEC_FORMS = ("digits", "idx:PATH", "folder:PATH", "tfds:NAME", "NAME (a tfds name)")


class DatasetNotPreparedError(FileNotFoundError):
  """A tfds catalogue dataset that is not prepared in the data dir."""


class LabelledSource(RecordSource):
  """Random access to ``{'image': uint8 HxWxC, 'label': int}`` examples.

  Attributes:
    name: a readable name of the data (the spec it was made from).
    num_classes: number of classes.
    class_names: the class names (label i is ``class_names[i]``).
    image_shape: (H, W, C); H and W are None when images differ in size.
  """

  def __init__(
    self,
    data_source,
    *,
    name: str,
    class_names: Sequence[str],
    image_shape: tuple[int | None, int | None, int],
    batched_reads: bool = True,
  ):
    super().__init__(data_source, batched_reads=batched_reads)
    self.name = name
    self.class_names = tuple(class_names)
    self.num_classes = len(self.class_names)
    self.image_shape = tuple(image_shape)

  def _example(self, raw, index: int) -> dict[str, object]:
    del index
    image = np.asarray(raw["image"])
    if image.ndim == 2:
      image = image[..., None]
    return {"image": image, "label": int(raw["label"])}

  def __repr__(self) -> str:
    return (
      f"LabelledSource({self.name!r}, {len(self)} examples, {self.num_classes} classes, image_shape={self.image_shape})"
    )


def _split_base(split: str) -> str:
  return split.split("[", 1)[0]


def _from_builder(builder, *, split: str, name: str) -> LabelledSource:
  builders.prepared(builder)
  splits = list(builder.info.splits.keys())
  if _split_base(split) not in splits:
    raise ValueError(f"{name} has no split {split!r}; its splits are {splits}")
  features = builder.info.features
  return LabelledSource(
    builder.as_data_source(split=split),
    name=name,
    class_names=features["label"].names,
    image_shape=features["image"].shape,
  )


def _digits(arg: str, *, split: str, data_dir) -> LabelledSource:
  del arg
  return _from_builder(builders.digits_builder(data_dir), split=split, name="digits")


def spec_folder(spec: str, path: str) -> str:
  """The folder of a data spec's ``PREFIX:path``: a path, or a registered name such as ``bsd68``
  (:func:`jaxgan.download.resolve_flag`). Errors name the whole spec; a name not downloaded
  raises :class:`jaxgan.download.NotAvailableError` with the command."""
  return download.resolve_flag(path, flag="--dataset", kind="dir", shown=f"--dataset={spec}")


def _idx(path: str, *, split: str, data_dir) -> LabelledSource:
  folder = spec_folder(f"idx:{path}", path)
  return _from_builder(builders.idx_builder(folder, data_dir), split=split, name=f"idx:{path}")


def _folder(
  path: str, *, split: str, data_dir, channels: int = 3, image_size: int | tuple[int, int] | None = None
) -> LabelledSource:
  builder = builders.folder_builder(path, data_dir, channels=channels, image_size=image_size)
  return _from_builder(builder, split=split, name=f"folder:{path}")


def _not_prepared_message(name: str, data_dir) -> str:
  return (
    f"tfds dataset {name!r} is not prepared in {data_dir}. jaxgan reads tfds "
    "catalogue datasets without TensorFlow but cannot build them; prepare it "
    "once with TensorFlow installed:\n"
    '  pip install "jaxgan[tf]"\n'
    f"  tfds build {name} --data_dir {data_dir} --file_format array_record"
  )


def open_tfds_split(name: str, *, split: str, data_dir, hint: str = "") -> tuple[object, bool]:
  """``(random-access source, batched reads work)`` of a prepared tfds catalogue split.

  Raises ValueError for an unknown name or an unreadable split (``hint`` says what the
  split should look like), :class:`DatasetNotPreparedError` with the build command when
  the dataset is not prepared in ``data_dir``. Nothing is downloaded.
  """
  try:
    source = tfds.data_source(name, split=split, data_dir=data_dir, download=False)
  except tfds.core.registered.DatasetNotFoundError as e:
    raise ValueError(f"{name!r} is not a tfds catalogue dataset") from e
  except Exception as e:  # tfds raises several types for data it cannot read.
    if not tfds.builder(name, data_dir=data_dir).is_prepared():
      raise DatasetNotPreparedError(_not_prepared_message(name, data_dir)) from e
    raise ValueError(
      f"cannot read split {split!r} of tfds dataset {name!r} in {data_dir} as a "
      f"random-access source ({hint + ', ' if hint else ''}it must be prepared with --file_format "
      f"array_record): {e}"
    ) from e
  return source, _batched_reads_work(source)


def _tfds(name: str, *, split: str, data_dir) -> LabelledSource:
  source, batched_reads = open_tfds_split(name, split=split, data_dir=data_dir)
  features = source.dataset_info.features
  missing = {"image", "label"} - set(features.keys())
  if missing:
    raise ValueError(
      f"tfds dataset {name!r} has no {sorted(missing)} feature(s); its features are {sorted(features.keys())}"
    )
  return LabelledSource(
    source,
    name=f"tfds:{name}",
    class_names=features["label"].names,
    image_shape=features["image"].shape,
    batched_reads=batched_reads,
  )


def _batched_reads_work(source) -> bool:
  """False where ``__getitems__`` is broken, as under ``tfds.testing.mock_data``."""
  try:
    source.__getitems__([0] if len(source) else [])
  except TypeError:
    return False
  return True


# spec prefix -> factory(argument, *, split, data_dir, **options)
SOURCE_FACTORIES: dict[str, Callable[..., LabelledSource]] = {
  "digits": _digits,
  "idx": _idx,
  "folder": _folder,
  "tfds": _tfds,
}
_NEEDS_ARGUMENT = ("idx", "folder", "tfds")


def parse_spec(spec: str) -> tuple[str, str]:
  """Splits a spec into (prefix, argument); a bare name is ('tfds', name)."""
  if not isinstance(spec, str) or not spec:
    raise ValueError(f"bad data spec {spec!r}; accepted forms: {', '.join(SPEC_FORMS)}")
  prefix, sep, argument = spec.partition(":")
  if not sep:
    return (prefix, "") if prefix == "digits" else ("tfds", prefix)
  if prefix not in SOURCE_FACTORIES or prefix == "digits":
    raise ValueError(f"unknown data spec {spec!r}; accepted forms: {', '.join(SPEC_FORMS)}")
  if prefix in _NEEDS_ARGUMENT and not argument:
    raise ValueError(f'data spec {spec!r} needs a value after "{prefix}:"')
  return prefix, argument


def labelled_source(spec: str, *, split: str, data_dir: str | os.PathLike, **options) -> LabelledSource:
  """Opens labelled images named by ``spec`` (see the module docstring).

  Data from local files is built into ``data_dir`` on first use and read from there
  afterwards; a changed folder is rebuilt. ``options`` go to the builder: for
  ``folder:`` they are ``channels`` (1 or 3, default 3) and ``image_size`` (int or
  (h, w): resize at build time; default keep each image's size).

  Raises:
    ValueError: an unknown spec, naming it and the accepted forms.
    DatasetNotPreparedError: a tfds dataset not prepared in ``data_dir``.
  """
  prefix, argument = parse_spec(spec)
  return SOURCE_FACTORIES[prefix](argument, split=split, data_dir=os.fspath(data_dir), **options)

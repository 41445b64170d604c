"""tfds builders for labelled images from local data, built without TensorFlow.

Each builder writes ``array_record`` files into a data dir and is read back with
``builder.as_data_source()`` (random access, no TensorFlow). Images are stored as
PNG encoded here with Pillow: tfds encodes numpy images with TensorFlow, but
passes already-encoded bytes through. Examples keep the order in which they are
generated (``disable_shuffling=True``); shuffling is the loader's job.

Builders over user paths get a config whose name holds a fingerprint of the
resolved path, the files' names, sizes and mtimes and the build options
(:mod:`jaxgan.data.fingerprint`), so each folder state is cached on its own and a
changed folder is rebuilt. tfds writes into an ``incomplete.*`` directory and
renames it when done, so an interrupted build is never read back; the
``incomplete.*`` directories that a killed build leaves are removed before the
dataset is built again.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from jaxgan.data import fingerprint, folders, idx
from jaxgan.data import images as images_lib

FILE_FORMAT = "array_record"
DIGITS_TEST_EVERY = 5

Example = tuple[str, dict[str, object]]


class LocalDatasetInfo(tfds.core.DatasetInfo):
  """DatasetInfo of a dataset built from local files: never looked up on GCS.

  A builder of a not-yet-prepared dataset calls ``initialize_from_bucket`` on
  construction, and tfds (4.9) makes a ``tmp*tfds`` directory there before it learns
  that there is nothing to fetch, and never removes it: one leaked directory in the
  system temp dir per builder.
  """

  def initialize_from_bucket(self) -> None:
    pass


def _labelled_features(image_shape, class_label) -> tfds.features.FeaturesDict:
  return tfds.features.FeaturesDict(
    {
      "image": tfds.features.Image(shape=tuple(image_shape), encoding_format="png"),
      "label": class_label,
    }
  )


def _examples(pixels: Iterator[np.ndarray], labels, ids) -> Iterator[Example]:
  for image, label, key in zip(pixels, labels, ids):
    yield str(key), {"image": images_lib.encode_png(image), "label": int(label)}


# ------------------------------------------------------------------ digits


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
  """scikit-learn's 1797 8x8 digits as uint8 (N, 8, 8, 1) (0..16 -> 0..255) and labels."""
  from sklearn.datasets import load_digits  # pylint: disable=g-import-not-at-top

  digits = load_digits()
  pixels = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
  return pixels, digits.target.astype(np.int64)


def digits_test_mask(labels: np.ndarray) -> np.ndarray:
  """True for every 5th image of each class (ranks 4, 9, ... in file order)."""
  mask = np.zeros(len(labels), bool)
  for label in np.unique(labels):
    (members,) = np.nonzero(labels == label)
    mask[members[DIGITS_TEST_EVERY - 1 :: DIGITS_TEST_EVERY]] = True
  return mask


class JaxganDigits(tfds.core.GeneratorBasedBuilder):
  """scikit-learn's digits: 8x8x1, 10 classes; 'test' is every 5th image per class."""

  VERSION = tfds.core.Version("1.0.0")

  def _info(self) -> tfds.core.DatasetInfo:
    return LocalDatasetInfo(
      builder=self,
      description=self.__doc__,
      features=_labelled_features((8, 8, 1), tfds.features.ClassLabel(num_classes=10)),
      supervised_keys=("image", "label"),
      disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    pixels, labels = digits_arrays()
    test = digits_test_mask(labels)
    ids = np.arange(len(labels))
    return {
      "train": self._generate_examples(pixels[~test], labels[~test], ids[~test]),
      "test": self._generate_examples(pixels[test], labels[test], ids[test]),
    }

  def _generate_examples(self, pixels, labels, ids):
    return _examples(pixels, labels, ids)


# ------------------------------------------------------------------ IDX


@dataclasses.dataclass(eq=False)
class IdxConfig(tfds.core.BuilderConfig):
  """A directory of MNIST-format IDX files (see :mod:`jaxgan.data.idx`)."""

  path: str = ""
  image_shape: tuple[int, int, int] = (0, 0, 0)
  num_classes: int = 0


def idx_config(directory: str | os.PathLike) -> IdxConfig:
  """Inspects the IDX files in ``directory`` (headers and labels only)."""
  files = idx.find_idx_files(directory)
  shapes, num_classes = set(), 0
  for images_path, labels_path in files.values():
    shape = idx.read_idx_shape(images_path)
    if len(shape) not in (3, 4):
      raise idx.IdxFormatError(images_path, f"expected images of shape (N, H, W[, C]), got {shape}")
    shapes.add(tuple(shape[1:3]) + (shape[3] if len(shape) == 4 else 1,))
    labels = idx.read_idx(labels_path)
    if labels.size:
      num_classes = max(num_classes, int(labels.max()) + 1)
  if len(shapes) != 1:
    raise ValueError(f"IDX files in {directory} have different image shapes {shapes}")
  (image_shape,) = shapes
  if image_shape[-1] not in (1, 3):
    raise ValueError(f"IDX images in {directory} have {image_shape[-1]} channels")
  all_files = [f for pair in files.values() for f in pair]
  key = fingerprint.files_fingerprint(directory, all_files)
  return IdxConfig(
    name=fingerprint.config_name(directory, key),
    description=f"IDX files in {pathlib.Path(directory).resolve()}",
    path=os.fspath(pathlib.Path(directory).resolve()),
    image_shape=image_shape,
    num_classes=max(num_classes, 1),
  )


class JaxganIdx(tfds.core.GeneratorBasedBuilder):
  """Labelled images from MNIST-format IDX files; splits 'train' and 'test'."""

  VERSION = tfds.core.Version("1.0.0")

  def _info(self) -> tfds.core.DatasetInfo:
    config: IdxConfig = self.builder_config
    return LocalDatasetInfo(
      builder=self,
      description=config.description,
      features=_labelled_features(config.image_shape, tfds.features.ClassLabel(num_classes=config.num_classes)),
      supervised_keys=("image", "label"),
      disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    files = idx.find_idx_files(self.builder_config.path)
    return {split: self._generate_examples(*pair) for split, pair in files.items()}

  def _generate_examples(self, images_path, labels_path):
    pixels, labels = idx.read_idx_pair(images_path, labels_path)
    return _examples(pixels, labels, range(len(labels)))


# ------------------------------------------------------------------ folders


@dataclasses.dataclass(eq=False)
class FolderConfig(tfds.core.BuilderConfig):
  """An image folder with class sub-folders (see :mod:`jaxgan.data.folders`)."""

  layout: folders.FolderLayout | None = dataclasses.field(default=None, repr=False)  # logged by tfds: keep short
  channels: int = 3
  image_size: tuple[int, int] | None = None


def folder_config(
  root: str | os.PathLike,
  *,
  channels: int = 3,
  image_size: int | tuple[int, int] | None = None,
) -> FolderConfig:
  """Scans ``root`` and names its cache entry after its files and the options."""
  if channels not in (1, 3):
    raise ValueError(f"channels must be 1 or 3, got {channels!r}")
  if image_size is not None:
    image_size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(image_size) != 2 or min(image_size) <= 0:
      raise ValueError(f"image_size must be positive (h, w), got {image_size!r}")
  layout = folders.scan_folder(root)
  options = {"channels": channels, "image_size": image_size, "classes": layout.class_names}
  key = fingerprint.files_fingerprint(root, layout.all_files(), options)
  return FolderConfig(
    name=fingerprint.config_name(root, key),
    description=f"image folder {pathlib.Path(root).resolve()}",
    layout=layout,
    channels=channels,
    image_size=image_size,
  )


class JaxganImageFolder(tfds.core.GeneratorBasedBuilder):
  """Labelled images from root/<class>/ or root/<split>/<class>/ folders.

  Images are converted to the config's channels and, when it has an image_size,
  resized to it (bicubic); otherwise they keep their own sizes (shape None x None).
  """

  VERSION = tfds.core.Version("1.0.0")

  def _info(self) -> tfds.core.DatasetInfo:
    config: FolderConfig = self.builder_config
    height, width = config.image_size or (None, None)
    return LocalDatasetInfo(
      builder=self,
      description=config.description,
      features=_labelled_features(
        (height, width, config.channels), tfds.features.ClassLabel(names=list(config.layout.class_names))
      ),
      supervised_keys=("image", "label"),
      disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    return {split: self._generate_examples(items) for split, items in self.builder_config.layout.splits.items()}

  def _generate_examples(self, items):
    config: FolderConfig = self.builder_config
    for path, label in items:
      image = images_lib.load_image(path, channels=config.channels)
      if config.image_size is not None:
        image = images_lib.resize(image, config.image_size)
      key = os.path.relpath(path, config.layout.root)
      yield key, {"image": images_lib.encode_png(image), "label": label}


# ------------------------------------------------------------------ building


def remove_incomplete_builds(builder: tfds.core.DatasetBuilder) -> list[str]:
  """Removes the ``incomplete.*`` directories of ``builder``'s dataset; returns their paths.

  tfds builds ``<name>/[<config>/]<version>`` in a sibling ``incomplete.XXXXXX_<version>``
  and removes it itself on an exception, but a killed build (``kill -9``, OOM) leaves it
  behind for good. Only directories named ``incomplete.*`` next to this dataset's version
  directory (``<name>/[<config>/]``) are removed: other datasets, other configs and files
  are left alone.
  """
  parent = pathlib.Path(builder.data_dir).parent
  if not parent.is_dir():
    return []
  removed = sorted(os.fspath(p) for p in parent.glob("incomplete.*") if p.is_dir() and not p.is_symlink())
  for path in removed:
    shutil.rmtree(path)
  if removed:
    print(
      f"jaxgan: removed {len(removed)} unfinished build(s) of {builder.name} "
      f"left by a killed run: {', '.join(removed)}",
      flush=True,
    )
  return removed


def prepared(builder: tfds.core.DatasetBuilder) -> tfds.core.DatasetBuilder:
  """Builds ``builder``'s dataset unless its data dir already holds it.

  Leftovers of a killed build are removed first. Several processes of one run build once,
  on process 0 (:func:`jaxgan.methods.runner.built_by_process0_first`): the others find
  the dataset prepared and touch nothing.
  """
  if not builder.is_prepared():
    remove_incomplete_builds(builder)
    builder.download_and_prepare()
  return builder


def digits_builder(data_dir: str | os.PathLike) -> JaxganDigits:
  return JaxganDigits(data_dir=os.fspath(data_dir), file_format=FILE_FORMAT)


def idx_builder(path: str | os.PathLike, data_dir: str | os.PathLike) -> JaxganIdx:
  return JaxganIdx(config=idx_config(path), data_dir=os.fspath(data_dir), file_format=FILE_FORMAT)


def folder_builder(
  path: str | os.PathLike,
  data_dir: str | os.PathLike,
  *,
  channels: int = 3,
  image_size: int | tuple[int, int] | None = None,
) -> JaxganImageFolder:
  config = folder_config(path, channels=channels, image_size=image_size)
  return JaxganImageFolder(config=config, data_dir=os.fspath(data_dir), file_format=FILE_FORMAT)

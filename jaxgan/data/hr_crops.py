"""High-resolution images for super-resolution (SRResNet / SRGAN, Johnson et al.'s SR).

``hr_source(root, data_dir)`` opens a folder of HR images (its visible top-level image
files, sorted by name; e.g. BSD68, Set5, Set14: ``jaxgan.download.resolve('bsd68')``). The
folder is built once into ``data_dir`` as a tfds ``array_record`` dataset with one
split, 'train' (named after a fingerprint of the files as in
:mod:`jaxgan.data.builders`; a changed folder is rebuilt; slices like 'train[:8]'
work) and read back without TensorFlow. Examples are ``{'image': uint8 HxWx3, 'name':
file name}``: every file is stored as RGB (:func:`jaxgan.data.images.load_image`
converts grey files such as Set14's ``bridge.png``, alpha, palette and 16-bit ones).
Whether a folder trains or evaluates is the transform's choice:

* :func:`sr_crop_transform` (training): a random ``crop_size`` HR crop (96, the
  SRGAN paper's), optionally flipped / rotated by multiples of 90 degrees (off by
  default: the paper does not mention augmentation), and its LR by bicubic
  downscaling by ``scale``;
* :func:`sr_eval_transform` (evaluation): the whole image, cut to a multiple of
  ``scale`` (:func:`modcrop`, the SR benchmarks' ``modcrop``), and its LR;
  :func:`sr_eval_batches` yields them one image at a time.

The LR image is MATLAB's bicubic ``imresize(hr, 1 / scale)`` (:func:`jaxgan.imresize.matlab_imresize`:
Keys' cubic, a = -0.5, antialiased), the degradation the SR literature trains and
evaluates with. By default it is made from the uint8 HR image and rounded to uint8,
as the benchmark LR files are (``quantize=False`` keeps it unrounded, clipped to
[0, 1]).

Transformed examples are ``{'lr': float32 (h, w, 3) in [0, 1], 'hr': float32 (h s, w s, 3)
in [-1, 1]}``: the SRGAN paper's scaling ("LR input images to [0, 1] and HR images to
[-1, 1]"), the convention of :mod:`jaxgan.models.srresnet` and
:mod:`jaxgan.models.transformer_net`'s SR presets; ``hr`` is
:func:`jaxgan.data.images.to_float` of the uint8 pixels.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from collections.abc import Callable, Iterator

import numpy as np
import tensorflow_datasets as tfds

from jaxgan import imresize as resize_lib
from jaxgan.data import builders, fingerprint
from jaxgan.data import images as images_lib
from jaxgan.data.record_source import RecordSource, decode_name

SRGAN_CROP_SIZE = 96
SPLIT = "train"

Example = dict[str, object]


# ------------------------------------------------------------------ the folder


def scan_hr_folder(root: str | os.PathLike) -> tuple[str, ...]:
  """The visible top-level image files of ``root``, sorted by name.

  Raises:
    FileNotFoundError / NotADirectoryError: naming a missing or non-folder root.
    ValueError: naming the folder, when it has no image files.
  """
  root = pathlib.Path(root)
  if not root.exists():
    raise FileNotFoundError(f"HR image folder {root} does not exist")
  if not root.is_dir():
    raise NotADirectoryError(f"HR image folder {root} is not a directory")
  files = sorted(
    p
    for p in root.iterdir()
    if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in images_lib.IMAGE_EXTENSIONS
  )
  if not files:
    raise ValueError(f"HR image folder {root} has no image files (extensions {', '.join(images_lib.IMAGE_EXTENSIONS)})")
  return tuple(os.fspath(f) for f in files)


@dataclasses.dataclass(eq=False)
class HRConfig(tfds.core.BuilderConfig):
  """A folder of HR images."""

  root: str = ""
  files: tuple[str, ...] = dataclasses.field(default=(), repr=False)  # logged by tfds: keep short


def hr_config(root: str | os.PathLike) -> HRConfig:
  """Scans ``root`` and names its cache entry after its files."""
  files = scan_hr_folder(root)
  key = fingerprint.files_fingerprint(root, files, {"layout": "hr_images", "channels": 3})
  return HRConfig(
    name=fingerprint.config_name(root, key),
    description=f"HR images in {pathlib.Path(root).resolve()}",
    root=os.fspath(pathlib.Path(root).resolve()),
    files=files,
  )


class JaxganHrImages(tfds.core.GeneratorBasedBuilder):
  """HR images of a folder: {'image': RGB of its own size, 'name': file name}; split 'train'."""

  VERSION = tfds.core.Version("1.0.0")

  def _info(self) -> tfds.core.DatasetInfo:
    return builders.LocalDatasetInfo(
      builder=self,
      description=self.builder_config.description,
      features=tfds.features.FeaturesDict(
        {"image": tfds.features.Image(shape=(None, None, 3), encoding_format="png"), "name": tfds.features.Text()}
      ),
      disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    return {SPLIT: self._generate_examples(self.builder_config.files)}

  def _generate_examples(self, files):
    for path in files:
      name = os.path.basename(path)
      image = images_lib.load_image(path, channels=3)
      yield name, {"image": images_lib.encode_png(image), "name": name}


def hr_builder(root: str | os.PathLike, data_dir: str | os.PathLike) -> JaxganHrImages:
  """The (possibly not yet prepared) builder of the HR images in ``root``."""
  return JaxganHrImages(config=hr_config(root), data_dir=os.fspath(data_dir), file_format=builders.FILE_FORMAT)


class HRSource(RecordSource):
  """Random access to ``{'image': uint8 HxWx3, 'name': str}`` examples of an HR folder."""

  def __init__(self, data_source, *, root: str, split: str):
    super().__init__(data_source)
    self.root = root
    self.split = split

  def _example(self, raw, index: int) -> Example:
    del index
    return {"image": np.asarray(raw["image"]), "name": decode_name(raw["name"])}

  def __repr__(self) -> str:
    return f"HRSource({self.root!r}, split={self.split!r}, {len(self)} images)"


def hr_source(root: str | os.PathLike, data_dir: str | os.PathLike, *, split: str = SPLIT) -> HRSource:
  """Opens the HR images in folder ``root`` (built into ``data_dir`` on first use).

  ``split`` is 'train' (the folder's only split) or a tfds slice of it ('train[:60]').

  Raises:
    ValueError: naming the value, for a bad split or folder (see :func:`scan_hr_folder`).
    ImageReadError: naming the file, for an unreadable image.
  """
  base = split.partition("[")[0] if isinstance(split, str) else split
  if base != SPLIT:
    raise ValueError(
      f"an HR image folder has one split, {SPLIT!r} (or a slice of it such as '{SPLIT}[:10]'), got split={split!r}"
    )
  builder = builders.prepared(hr_builder(root, data_dir))
  return HRSource(builder.as_data_source(split=split), root=os.fspath(root), split=split)


# ------------------------------------------------------------------ transforms


def _check_scale(scale) -> int:
  if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
    raise ValueError(f"scale must be a positive integer, got {scale!r}")
  return int(scale)


def modcrop(image: np.ndarray, scale: int) -> np.ndarray:
  """The top-left part of ``image`` whose sides are multiples of ``scale`` (MATLAB's ``modcrop``)."""
  scale = _check_scale(scale)
  h, w = np.shape(image)[:2]
  if h < scale or w < scale:
    raise ValueError(f"image size {h}x{w} is smaller than the scale {scale}")
  return image[: h - h % scale, : w - w % scale]


def lr_hr_pair(hr: np.ndarray, scale: int, *, quantize: bool = True) -> Example:
  """``{'lr': [0, 1], 'hr': [-1, 1]}`` float32 from uint8 ``hr`` (sides multiples of ``scale``)."""
  hr = np.asarray(hr)
  if hr.dtype != np.uint8 or hr.ndim != 3:
    raise ValueError(f"expected a uint8 HxWxC HR image, got {hr.dtype} {hr.shape}")
  if quantize:
    lr = resize_lib.bicubic_downscale(hr, scale).astype(np.float32) / np.float32(255.0)
  else:
    lr = np.clip(resize_lib.bicubic_downscale(hr.astype(np.float64) / 255.0, scale), 0.0, 1.0)
  return {"lr": np.asarray(lr, np.float32), "hr": images_lib.to_float(hr)}


def _image(example: Example) -> np.ndarray:
  return images_lib.convert_channels(np.asarray(example["image"]), 3)


def _where(example: Example) -> str:
  name = example.get("name")
  return f" ({name})" if name is not None else ""


def sr_crop_transform(
  *, scale: int = 4, crop_size: int = SRGAN_CROP_SIZE, flip: bool = False, rot90: bool = False, quantize: bool = True
) -> Callable[[Example, np.random.Generator | None], Example]:
  """Random HR crops and their bicubic LR, for training.

  Returns ``transform(example, rng=None) -> {'lr': float32 (crop_size / scale,) * 2 + (3,)
  in [0, 1], 'hr': float32 (crop_size, crop_size, 3) in [-1, 1]}``. From ``rng`` it draws
  the crop's top row, then its left column (uniform over all crops inside the image),
  then, if ``flip``, a horizontal flip (probability 1/2), then, if ``rot90``, a rotation
  by k * 90 degrees (k uniform in 0..3); flips and rotations together give the 8
  symmetries of the square. The LR is made from the augmented HR crop. With ``rng=None``
  the crop is centred (offsets ``(side - crop_size) // 2``) and nothing is flipped or rotated.

  Raises:
    ValueError: for a ``crop_size`` that is not a positive multiple of ``scale``; when
      called, naming the sizes, for an image smaller than the crop.
  """
  scale = _check_scale(scale)
  if (
    isinstance(crop_size, bool)
    or not isinstance(crop_size, (int, np.integer))
    or (crop_size < scale or crop_size % scale)
  ):
    raise ValueError(f"crop_size must be a positive multiple of scale {scale}, got {crop_size!r}")
  crop_size = int(crop_size)

  def transform(example: Example, rng: np.random.Generator | None = None) -> Example:
    image = _image(example)
    h, w = image.shape[:2]
    if h < crop_size or w < crop_size:
      raise ValueError(f"image{_where(example)} of size {h}x{w} is smaller than the HR crop {crop_size}x{crop_size}")
    if rng is None:
      top, left = (h - crop_size) // 2, (w - crop_size) // 2
    else:
      top = int(rng.integers(0, h - crop_size + 1))
      left = int(rng.integers(0, w - crop_size + 1))
    hr = image[top : top + crop_size, left : left + crop_size]
    if rng is not None and flip and rng.random() < 0.5:
      hr = hr[:, ::-1]
    if rng is not None and rot90:
      hr = np.rot90(hr, int(rng.integers(0, 4)))
    return lr_hr_pair(np.ascontiguousarray(hr), scale, quantize=quantize)

  return transform


def sr_eval_transform(
  *, scale: int = 4, quantize: bool = True
) -> Callable[[Example, np.random.Generator | None], Example]:
  """Whole images for evaluation: ``{'lr', 'hr'}`` (as :func:`sr_crop_transform`) plus 'name'.

  The HR image is :func:`modcrop`-ped to a multiple of ``scale`` and the LR made from it;
  ``rng`` is ignored. Images differ in size: batch them one at a time
  (:func:`sr_eval_batches`).
  """
  scale = _check_scale(scale)

  def transform(example: Example, rng: np.random.Generator | None = None) -> Example:
    del rng  # deterministic
    out = lr_hr_pair(modcrop(_image(example), scale), scale, quantize=quantize)
    if "name" in example:
      out["name"] = example["name"]
    return out

  return transform


def sr_eval_batches(source, *, scale: int = 4, quantize: bool = True) -> Iterator[Example]:
  """Yields each image of ``source`` as a batch of one, in order.

  Items are ``{'lr': float32 [1, h, w, 3] in [0, 1], 'hr': float32 [1, h s, w s, 3] in
  [-1, 1], 'name': str}`` (see :func:`sr_eval_transform`).
  """
  transform = sr_eval_transform(scale=scale, quantize=quantize)
  for index in range(len(source)):
    example = transform(source[index])
    yield {"lr": example["lr"][None], "hr": example["hr"][None], "name": example.get("name", str(index))}

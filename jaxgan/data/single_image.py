"""One training image and its SinGAN pyramid (Shaham et al. 2019, official ``adjust_scales2image``).

The image goes through the tfds layer like every other dataset: :func:`single_image_source`
builds a one-example ``array_record`` dataset (RGB: alpha dropped, grey replicated, see
:func:`jaxgan.data.images.load_image`) named after the file's fingerprint, and reads it back.

The official pyramid rule (:func:`pyramid_spec`), with ``max_size`` 250, ``min_size`` 25 and
``scale_factor`` 0.75::

    num_scales = ceil(log_{0.75}(min_size / min(H, W))) + 1
    scale2stop = ceil(log_{0.75}(min(max_size, max(H, W)) / max(H, W)))
    stop_scale = num_scales - scale2stop            # index of the finest scale
    scale1     = min(max_size / max(H, W), 1)       # the image is first resized by this
    factor     = (min_size / min(H1, W1)) ** (1 / stop_scale)   # refitted per image
    scale i (0 = coarsest) = imresize(image1, factor ** (stop_scale - i))

``imresize`` is MATLAB's (:func:`jaxgan.imresize.imresize`), sides ``ceil(scale * side)``, clamped
to [-1, 1] as the official one is (:func:`imresize_clamped`). The
super-resolution variant (:func:`sr_pyramid_spec`, the official ``adjust_scales2image_SR``)
uses ``min_size`` 18, the factor ``(1/2)^(1/3)`` and truncating ``int`` instead of ``ceil``; it
also measures ``scale2stop`` from the width alone (the official code takes
``max(shape[0], shape[3])`` of an NCHW tensor, i.e. ``max(1, W)``), which is kept.
"""

from __future__ import annotations

import dataclasses
import math
import os
import pathlib

import numpy as np
import tensorflow_datasets as tfds

from jaxgan.data import builders, fingerprint
from jaxgan.data import images as images_lib
from jaxgan.imresize import imresize, output_side

MAX_SIZE = 250
MIN_SIZE = 25
SCALE_FACTOR = 0.75
SR_MIN_SIZE = 18
SR_STEP = 0.5 ** (1 / 3)  # the official SR pyramid step (in_scale = 2^(1/3))


@dataclasses.dataclass(frozen=True)
class PyramidSpec:
  """Where the pyramid of an ``in_shape`` image lies. ``shapes[0]`` is the coarsest scale."""

  in_shape: tuple[int, int]
  scale1: float
  scale_factor: float
  stop_scale: int
  shapes: tuple[tuple[int, int], ...]

  @property
  def num_scales(self) -> int:
    return self.stop_scale + 1

  @property
  def top_shape(self) -> tuple[int, int]:
    """The image's size after the first resize (``scale1``): the finest scale's."""
    return self.shapes[-1]


def _check_shape(h, w) -> tuple[int, int]:
  for name, v in (("height", h), ("width", w)):
    if not isinstance(v, (int, np.integer)) or v < 1:
      raise ValueError(f"image {name} must be a positive integer, got {v!r}")
  return int(h), int(w)


def _log(x: float, base: float) -> float:
  # Rounded so that exact powers (e.g. log_{0.75} 0.5625 = 2) do not land a hair above.
  return round(math.log(x) / math.log(base), 9)


def _spec(h: int, w: int, *, scale1: float, stop_scale: int, min_size: float) -> PyramidSpec:
  if stop_scale < 1:
    raise ValueError(
      f"an image of {h}x{w} gives a SinGAN pyramid of {stop_scale + 1} scale(s) with "
      f"min_size {min_size}: it needs at least 2; use a larger image or a smaller "
      "min_size"
    )
  top = (output_side(h, scale1), output_side(w, scale1))
  if min(top) <= min_size:
    raise ValueError(
      f"an image of {h}x{w} ({top[0]}x{top[1]} after fitting the longer side to "
      f"max_size) has a shorter side <= min_size {min_size}: no pyramid to learn; "
      "use a larger image or a smaller --min_size"
    )
  factor = (min_size / min(top)) ** (1 / stop_scale)
  shapes = tuple(
    (output_side(top[0], factor ** (stop_scale - i)), output_side(top[1], factor ** (stop_scale - i)))
    for i in range(stop_scale + 1)
  )
  return PyramidSpec((h, w), scale1, factor, stop_scale, shapes)


def pyramid_spec(
  h: int, w: int, *, max_size: int = MAX_SIZE, min_size: int = MIN_SIZE, scale_factor: float = SCALE_FACTOR
) -> PyramidSpec:
  """The official training pyramid of an ``h x w`` image (see the module docstring)."""
  h, w = _check_shape(h, w)
  if not 0 < scale_factor < 1:
    raise ValueError(f"scale_factor must be in (0, 1), got {scale_factor}")
  if min_size < 1 or max_size < min_size:
    raise ValueError(f"need 1 <= min_size <= max_size, got min_size={min_size}, max_size={max_size}")
  num_scales = math.ceil(_log(min_size / min(h, w), scale_factor)) + 1
  scale2stop = math.ceil(_log(min(max_size, max(h, w)) / max(h, w), scale_factor))
  return _spec(h, w, scale1=min(max_size / max(h, w), 1.0), stop_scale=num_scales - scale2stop, min_size=min_size)


def sr_pyramid_spec(
  h: int, w: int, *, max_size: int = MAX_SIZE, min_size: int = SR_MIN_SIZE, scale_factor: float = SR_STEP
) -> PyramidSpec:
  """The official super-resolution pyramid (``adjust_scales2image_SR``)."""
  h, w = _check_shape(h, w)
  num_scales = int(_log(min_size / min(h, w), scale_factor)) + 1
  scale2stop = int(_log(min(max_size, max(h, w)) / max(1, w), scale_factor))
  return _spec(h, w, scale1=min(max_size / max(h, w), 1.0), stop_scale=num_scales - scale2stop, min_size=min_size)


def to_model_range(image: np.ndarray) -> np.ndarray:
  """uint8 HxWx3 -> float32 in [-1, 1] (the official ``norm``)."""
  return image.astype(np.float32) / 127.5 - 1.0


def imresize_clamped(images, scale: float | None = None, *, output_shape: tuple[int, int] | None = None):
  """SinGAN's ``imresize``: MATLAB bicubic (numpy or JAX), clamped to [-1, 1].

  The cubic kernel overshoots at sharp edges (a black/white edge reaches about -1.1 and 1.2);
  the official ``imresize`` / ``imresize_to_shape`` end in ``np2torch``, whose ``norm`` clamps
  every resized image: pyramid levels, between-scale upsampling, the applications' inputs.
  :func:`jaxgan.imresize.imresize` itself stays unclamped for its other users.
  """
  return imresize(images, scale, output_shape=output_shape).clip(-1.0, 1.0)


def build_pyramid(image: np.ndarray, spec: PyramidSpec) -> list[np.ndarray]:
  """float32 ``[h, w, c]`` images of every scale, coarsest first (``image`` in [-1, 1]).

  Every resize is clamped to [-1, 1] (:func:`imresize_clamped`), the first one included, as
  the official ``adjust_scales2image`` and ``creat_reals_pyramid``.
  """
  if image.ndim != 3 or image.shape[:2] != spec.in_shape:
    raise ValueError(f"image of shape {image.shape} does not match the spec's {spec.in_shape}")
  top = imresize_clamped(image, spec.scale1)
  reals = []
  for i in range(spec.num_scales):
    reals.append(imresize_clamped(top, spec.scale_factor ** (spec.stop_scale - i)))
    if reals[-1].shape[:2] != spec.shapes[i]:  # pragma: no cover - both use output_side
      raise AssertionError(f"scale {i}: {reals[-1].shape} != {spec.shapes[i]}")
  return reals


# ------------------------------------------------------------------ tfds layer


@dataclasses.dataclass(eq=False)
class SingleImageConfig(tfds.core.BuilderConfig):
  path: str = ""


def single_image_config(path: str | os.PathLike) -> SingleImageConfig:
  path = pathlib.Path(path)
  if not path.is_file():
    raise FileNotFoundError(f"--image {path}: no such file")
  key = fingerprint.files_fingerprint(path.parent, [path], {"channels": 3})
  name = fingerprint.config_name(path.with_suffix(""), key)
  return SingleImageConfig(name=name, description=f"the image {path.resolve()}", path=str(path))


class JaxganSingleImage(tfds.core.GeneratorBasedBuilder):
  """One image as one example ``{'image': RGB, 'name': file name}`` in a 'train' split."""

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
    return {"train": self._generate_examples()}

  def _generate_examples(self):
    path = self.builder_config.path
    image = images_lib.load_image(path, channels=3)
    yield os.path.basename(path), {"image": images_lib.encode_png(image), "name": os.path.basename(path)}


def single_image_builder(path: str | os.PathLike, data_dir: str | os.PathLike) -> JaxganSingleImage:
  return JaxganSingleImage(
    config=single_image_config(path), data_dir=os.fspath(data_dir), file_format=builders.FILE_FORMAT
  )


def single_image_source(path: str | os.PathLike, data_dir: str | os.PathLike) -> np.ndarray:
  """The image at ``path`` as uint8 HxWx3, built into (then read from) ``data_dir``.

  Raises:
    FileNotFoundError: naming the path, when there is no such file.
    ImageReadError: naming the path, for an unreadable image.
  """
  builder = builders.prepared(single_image_builder(path, data_dir))
  source = builder.as_data_source(split="train")
  return np.asarray(source[0]["image"])

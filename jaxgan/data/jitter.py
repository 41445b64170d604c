"""Paired jitter: the same resize, crop and flip applied to an input and its target.

Follows ``get_params`` and ``get_transform`` of the official pix2pix code
(junyanz/pytorch-CycleGAN-and-pix2pix, ``data/base_dataset.py``) on uint8 HxWxC
arrays. The preprocess modes (``--preprocess``):

* ``resize_and_crop``: resize to load_size x load_size, then crop crop_size;
* ``crop``: crop crop_size from the image as it is;
* ``scale_width``: width to load_size keeping the aspect ratio, height
  ``int(max(load_size * h / w, crop_size))`` (kept as is when the width is
  already load_size and the height at least crop_size);
* ``scale_width_and_crop``: scale_width, then crop crop_size;
* ``none``: each side rounded to a multiple of 4 (``round(side / 4) * 4`` with
  Python's rounding, at least 4), resized only when that changes it;

each followed by a horizontal flip. Resizing is Pillow's bicubic, per channel.

The parameters are drawn once per pair from a ``np.random.Generator`` as the
official ``get_params`` draws them from ``random``, whatever the mode: crop x,
crop y (``randint(0, max(0, side - crop_size))``, both ends included, the sides
after the resize step of the cropping modes, the original sides otherwise), then
the flip (``random() > 0.5``, used only when flipping is on). Differences from
the official code: a crop larger than the image raises ``ValueError`` (the
official code pads with black, or skips the crop when both sides are too small);
without a generator the crop is centred (offsets ``(side - crop_size) // 2``)
and nothing is flipped: the test-time version.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from jaxgan.data import images as images_lib

PREPROCESS: dict[str, str] = {
  "resize_and_crop": "resize to load_size x load_size, random crop crop_size",
  "crop": "random crop crop_size",
  "scale_width": "width to load_size keeping the aspect (height >= crop_size)",
  "scale_width_and_crop": "scale_width, then random crop crop_size",
  "none": "sides rounded to multiples of 4",
}
PREPROCESS_MODES: tuple[str, ...] = tuple(PREPROCESS)
POWER_BASE = 4


@dataclasses.dataclass(frozen=True)
class JitterParams:
  """One draw of the jitter: the crop's top-left corner (x, y) and the flip."""

  crop_pos: tuple[int, int]
  flip: bool


def _positive_int(name: str, value) -> int:
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
    raise ValueError(f"{name} must be a positive integer, got {value!r}")
  return int(value)


def _make_power_2(side: int, base: int = POWER_BASE) -> int:
  return max(base, int(round(side / base) * base))


@dataclasses.dataclass(frozen=True)
class Jitter:
  """The official pix2pix geometric preprocessing with one set of options.

  Attributes:
    preprocess: one of :data:`PREPROCESS_MODES`.
    load_size: the side (or the width, for scale_width) of the resize step.
    crop_size: the side of the square crop.
    flip: whether to flip horizontally with probability 0.5.
  """

  preprocess: str
  load_size: int = 286
  crop_size: int = 256
  flip: bool = True

  def __post_init__(self):
    if self.preprocess not in PREPROCESS_MODES:
      raise ValueError(f"unknown preprocess {self.preprocess!r}; choose from {PREPROCESS_MODES}")
    _positive_int("load_size", self.load_size)
    _positive_int("crop_size", self.crop_size)
    if self.preprocess in ("resize_and_crop", "scale_width_and_crop") and (self.crop_size > self.load_size):
      raise ValueError(
        f"crop_size {self.crop_size} is larger than load_size {self.load_size} (preprocess={self.preprocess!r})"
      )

  @property
  def crops(self) -> bool:
    """Whether the mode crops (after its resize step)."""
    return "crop" in self.preprocess

  def resized_size(self, size: tuple[int, int]) -> tuple[int, int]:
    """(h, w) of an image of size ``size = (h, w)`` after the resize step."""
    h, w = (int(s) for s in size)
    if self.preprocess == "resize_and_crop":
      return self.load_size, self.load_size
    if self.preprocess.startswith("scale_width"):
      if w == self.load_size and h >= self.crop_size:
        return h, w
      return int(max(self.load_size * h / w, self.crop_size)), self.load_size
    if self.preprocess == "none":
      return _make_power_2(h), _make_power_2(w)
    return h, w

  def params(self, size: tuple[int, int], rng: np.random.Generator | None) -> JitterParams:
    """Draws the crop and flip of an image of size ``(h, w)`` (the official get_params).

    Raises:
      ValueError: naming the sizes, when the mode crops more than the image has.
    """
    h, w = self.resized_size(size)
    c = self.crop_size
    if self.crops and (h < c or w < c):
      raise ValueError(
        f"cannot crop {c}x{c} from a {size[0]}x{size[1]} image ({h}x{w} after "
        f"the resize step of preprocess={self.preprocess!r}, "
        f"load_size={self.load_size})"
      )
    if rng is None:
      return JitterParams(crop_pos=(max(0, w - c) // 2, max(0, h - c) // 2), flip=False)
    # The official get_params: the size the crop is drawn in is the resized one
    # in the cropping modes (equal to resized_size there) and the original one
    # otherwise (where the offsets are unused but still drawn).
    h, w = (int(s) for s in size)
    if self.preprocess == "resize_and_crop":
      h = w = self.load_size
    elif self.preprocess == "scale_width_and_crop":
      h, w = self.load_size * h // w, self.load_size
    x = int(rng.integers(0, max(0, w - c) + 1))
    y = int(rng.integers(0, max(0, h - c) + 1))
    flip = bool(rng.random() > 0.5)
    return JitterParams(crop_pos=(x, y), flip=self.flip and flip)

  def __call__(self, image: np.ndarray, params: JitterParams) -> np.ndarray:
    """Resizes, crops and flips uint8 HxWxC ``image`` as ``params`` say."""
    image = np.asarray(image)
    size = self.resized_size(image.shape[:2])
    if size != image.shape[:2]:
      image = images_lib.resize(image, size)
    if self.crops:
      (x, y), c = params.crop_pos, self.crop_size
      h, w = size
      if not (0 <= x <= w - c and 0 <= y <= h - c):
        raise ValueError(
          f"a {c}x{c} crop at (x={x}, y={y}) does not fit in a {h}x{w} image "
          f"(preprocess={self.preprocess!r}, load_size={self.load_size})"
        )
      image = image[y : y + c, x : x + c]
    if params.flip:
      image = image[:, ::-1]
    return np.ascontiguousarray(image)

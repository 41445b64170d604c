"""Reading, converting and resizing images as uint8 ``HxWxC`` numpy arrays.

Every pixel mode Pillow can open is converted explicitly (see :func:`load_image`),
so the rest of the library only ever sees ``uint8`` arrays with 1 or 3 channels,
and float32 arrays in ``[-1, 1]`` for the models (:func:`to_float`).
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
from PIL import Image

IMAGE_EXTENSIONS: tuple[str, ...] = (
  ".png",
  ".jpg",
  ".jpeg",
  ".bmp",
  ".gif",
  ".tif",
  ".tiff",
  ".webp",
  ".ppm",
  ".pgm",
  ".pbm",
  ".pnm",
)

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")


class ImageReadError(ValueError):
  """An image file that is missing, not an image, truncated or corrupt."""

  def __init__(self, path: str | os.PathLike, reason: str):
    self.path = os.fspath(path)
    super().__init__(f"cannot read image {self.path}: {reason}")


def _check_channels(channels: int) -> None:
  if channels not in (1, 3):
    raise ValueError(f"channels must be 1 or 3, got {channels!r}")


def _to_l_or_rgb(img: Image.Image) -> np.ndarray:
  """Returns the pixels of any Pillow image as uint8 HxW (grey) or HxWx3 (colour)."""
  mode = img.mode
  if mode in _SIXTEEN_BIT_MODES:
    # 'I' is what Pillow uses for 16-bit PNG/PGM/TIFF samples, so both are read
    # as 16-bit values: clip into [0, 65535] and keep the high byte.
    pixels = np.asarray(img).astype(np.int64)
    return (np.clip(pixels, 0, 65535) >> 8).astype(np.uint8)
  if mode == "F":
    # Float images are taken to hold intensities in [0, 1].
    pixels = np.asarray(img, dtype=np.float64)
    return np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8)
  if mode == "L":
    return np.asarray(img, dtype=np.uint8)
  if mode == "1":
    return np.asarray(img.convert("L"), dtype=np.uint8)
  if mode in ("LA", "La"):
    return np.asarray(img.convert("LA"), dtype=np.uint8)[..., 0]
  if mode == "RGB":
    return np.asarray(img, dtype=np.uint8)
  if mode == "P":
    has_alpha = "transparency" in img.info
    img = img.convert("RGBA" if has_alpha else "RGB")
    return np.asarray(img, dtype=np.uint8)[..., :3]
  if mode in _ALPHA_MODES:
    return np.asarray(img.convert("RGBA"), dtype=np.uint8)[..., :3]
  # CMYK, YCbCr, RGBX, LAB, HSV ...: Pillow's own conversion to RGB.
  return np.asarray(img.convert("RGB"), dtype=np.uint8)


def convert_channels(image: np.ndarray, channels: int) -> np.ndarray:
  """Converts uint8 HxW or HxWxC (C in 1, 2, 3, 4) to HxWx``channels``.

  An alpha channel (C = 2 or 4) is dropped. Grey to colour replicates the channel;
  colour to grey uses the ITU-R 601 luma of Pillow's ``'L'`` conversion.
  """
  _check_channels(channels)
  image = np.asarray(image)
  if image.dtype != np.uint8:
    raise ValueError(f"expected a uint8 image, got dtype {image.dtype}")
  if image.ndim == 2:
    image = image[..., None]
  if image.ndim != 3 or image.shape[-1] not in (1, 2, 3, 4):
    raise ValueError(f"expected an HxWxC image with C in 1..4, got {image.shape}")
  if image.shape[-1] in (2, 4):
    image = image[..., :-1]
  if image.shape[-1] == channels:
    return np.ascontiguousarray(image)
  if channels == 3:
    return np.ascontiguousarray(np.repeat(image, 3, axis=-1))
  grey = Image.fromarray(np.ascontiguousarray(image), mode="RGB").convert("L")
  return np.asarray(grey, dtype=np.uint8)[..., None]


def load_image(path: str | os.PathLike, *, channels: int) -> np.ndarray:
  """Reads an image file as uint8 HxWx``channels`` (``channels`` is 1 or 3).

  Modes are converted explicitly:

  * RGB and L are kept; '1' becomes 0/255 grey;
  * RGBA, LA and palette images with transparency: the alpha channel is simply
    dropped (no compositing on a background);
  * palette ('P') images are expanded to their RGB colours;
  * 16-bit images ('I;16*' and 'I', which Pillow uses for 16-bit samples) keep
    their high byte (``v >> 8``, so 65535 -> 255), values clipped to [0, 65535];
  * float ('F') images are taken to hold [0, 1] and become ``round(255 v)``;
  * CMYK, YCbCr and the rest go through Pillow's conversion to RGB.

  Grey to 3 channels replicates the channel; colour to 1 channel uses the
  ITU-R 601 luma (Pillow's 'L'). Multi-frame files give their first frame.

  Raises:
    ImageReadError: naming the path, for a missing, unreadable, non-image,
      truncated or corrupt file.
  """
  _check_channels(channels)
  try:
    with Image.open(path) as img:
      img.load()  # decode now, so truncation is detected here
      pixels = _to_l_or_rgb(img)
  except FileNotFoundError as e:
    raise ImageReadError(path, "no such file") from e
  except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
    # UnidentifiedImageError is an OSError; truncated data raises OSError.
    raise ImageReadError(path, f"{type(e).__name__}: {e}") from e
  return convert_channels(pixels, channels)


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
  """Resizes uint8 HxWxC to ``size = (h, w)`` with Pillow's antialiased bicubic.

  Any number of channels is kept (each channel is resized on its own).
  """
  image = np.asarray(image)
  if image.dtype != np.uint8 or image.ndim != 3:
    raise ValueError(f"expected a uint8 HxWxC image, got {image.dtype} {image.shape}")
  h, w = (int(s) for s in size)
  if h <= 0 or w <= 0:
    raise ValueError(f"size must be positive, got {size!r}")
  if image.shape[:2] == (h, w):
    return image.copy()
  planes = [
    np.asarray(Image.fromarray(np.ascontiguousarray(image[..., c])).resize((w, h), Image.Resampling.BICUBIC))
    for c in range(image.shape[-1])
  ]
  return np.stack(planes, axis=-1).astype(np.uint8)


def to_float(x: np.ndarray) -> np.ndarray:
  """uint8 [0, 255] -> float32 [-1, 1] as ``x / 127.5 - 1``."""
  return np.asarray(x, dtype=np.float32) / np.float32(127.5) - np.float32(1.0)


def to_uint8(x: np.ndarray) -> np.ndarray:
  """float [-1, 1] -> uint8, clipped and rounded; the inverse of :func:`to_float`."""
  x = np.asarray(x, dtype=np.float32)
  return np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
  body = kind + data
  return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def encode_png(image: np.ndarray) -> bytes:
  """Encodes uint8 HxWxC (C in 1, 3) as an 8-bit grey or RGB PNG.

  Written directly with zlib: several times faster than Pillow for the many tiny
  images of MNIST-like data sets (Pillow and every PNG reader decode it).
  """
  image = np.asarray(image)
  if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] not in (1, 3):
    raise ValueError(f"expected a uint8 HxWx1 or HxWx3 image, got {image.dtype} {image.shape}")
  height, width, channels = image.shape
  colour_type = 0 if channels == 1 else 2
  rows = np.zeros((height, 1 + width * channels), np.uint8)  # filter byte 0: none
  rows[:, 1:] = image.reshape(height, width * channels)
  header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
  return b"".join(
    (
      b"\x89PNG\r\n\x1a\n",
      _png_chunk(b"IHDR", header),
      _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
      _png_chunk(b"IEND", b""),
    )
  )

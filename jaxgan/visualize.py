"""Image grids and PNG files from batches of images in [-1, 1]."""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image

from jaxgan.data.images import to_uint8


def make_grid(images, *, ncol: int | None = None, pad: int = 2, pad_value: int = 255) -> np.ndarray:
  """Tile ``[N, H, W, C]`` (or ``[rows, cols, H, W, C]``) images in [-1, 1] into one uint8 image.

  With a 5-D input the grid keeps its rows and columns (e.g. one interpolation strip a row).
  """
  x = np.asarray(images)
  if x.ndim == 5:
    rows, ncol = x.shape[:2]
    x = x.reshape((-1,) + x.shape[2:])
  elif x.ndim == 4:
    ncol = ncol or int(math.ceil(math.sqrt(x.shape[0])))
    rows = int(math.ceil(x.shape[0] / ncol))
  else:
    raise ValueError(f"make_grid expects [N,H,W,C] or [R,C,H,W,C] images, got shape {x.shape}")
  n, h, w, c = x.shape
  if c not in (1, 3):
    raise ValueError(f"make_grid expects 1 or 3 channels, got {c}")
  tiles = to_uint8(x)
  grid = np.full((rows * (h + pad) + pad, ncol * (w + pad) + pad, c), pad_value, np.uint8)
  for i in range(n):
    r, k = divmod(i, ncol)
    top, left = pad + r * (h + pad), pad + k * (w + pad)
    grid[top:top + h, left:left + w] = tiles[i]
  return grid


def save_png(path: str | os.PathLike, image: np.ndarray) -> str:
  """Write a uint8 HxWxC (C in 1, 3) image as PNG, atomically (temp file + rename)."""
  path = os.fspath(path)
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  img = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
  tmp = path + ".tmp"
  Image.fromarray(img).save(tmp, format="PNG")
  os.replace(tmp, path)
  return path

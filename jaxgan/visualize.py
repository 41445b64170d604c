"""Image grids and PNG files from batches of images in [-1, 1]; HTML pages of results, and inline copies of them."""

from __future__ import annotations

import base64
import html
import math
import mimetypes
import os
import re

import numpy as np
from PIL import Image

from jaxgan import atomic
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
    grid[top : top + h, left : left + w] = tiles[i]
  return grid


def save_png(path: str | os.PathLike, image: np.ndarray) -> str:
  """Write a uint8 HxWxC (C in 1, 3) image as PNG, atomically (temp file + rename)."""
  img = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
  with atomic.replacing(path) as tmp:
    Image.fromarray(img).save(tmp, format="PNG")
  return os.fspath(path)


def save_html_table(
  path: str | os.PathLike, *, title: str, columns: list[str], rows: list[tuple[str, list[str]]]
) -> str:
  """Write an HTML page with one table row per ``(name, [image paths relative to the page])``.

  Each row shows its name, then one image per column (e.g. input | output | target);
  written atomically. Names and paths are HTML-escaped.
  """
  head = "".join(f"<th>{html.escape(c)}</th>" for c in ["name", *columns])
  body = []
  for name, images in rows:
    if len(images) != len(columns):
      raise ValueError(f"row {name!r} has {len(images)} images for {len(columns)} columns")
    cells = "".join(
      f'<td><a href="{html.escape(p, quote=True)}"><img src="{html.escape(p, quote=True)}" '
      f'style="max-width:256px"></a></td>'
      for p in images
    )
    body.append(f"<tr><td>{html.escape(name)}</td>{cells}</tr>")
  page = (
    f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
    f'<body><h1>{html.escape(title)}</h1>\n<table border="1">\n<tr>{head}</tr>\n'
    + "\n".join(body)
    + "\n</table></body></html>\n"
  )
  return atomic.write_text(path, page)


_ROW = re.compile(r"<tr>.*?</tr>", re.S)
_LINKED_IMAGE = re.compile(r'<a href="[^"]*">(<img [^>]*>)</a>')
_IMAGE_SOURCE = re.compile(r'(<img [^>]*?src=")([^"]*)(")')


def inline_html(page: str | os.PathLike, *, max_rows: int | None = None) -> str:
  """The page ``page`` (an ``index.html`` of :func:`save_html_table`) with its images embedded as
  ``data:`` URIs, for a notebook to show inline (Colab and Jupyter do not resolve the page's
  relative paths). ``max_rows``: keep the header and the first rows of the table, and say how many
  were left out. A source that is not a file beside the page is left as it is.
  """
  folder = os.path.dirname(os.path.abspath(page))
  with open(page, encoding="utf-8") as f:
    text = f.read()
  rows = _ROW.findall(text)
  if max_rows is not None and len(rows) > max_rows + 1:
    kept, left = rows[: max_rows + 1], len(rows) - 1 - max_rows
    start, end = text.index(rows[0]), text.index(rows[-1]) + len(rows[-1])
    note = f'<tr><td colspan="99">{left} more rows in {html.escape(os.fspath(page))}</td></tr>'
    text = text[:start] + "\n".join(kept) + "\n" + note + text[end:]

  def embed(match: re.Match) -> str:
    path = os.path.join(folder, html.unescape(match.group(2)))
    if "://" in match.group(2) or match.group(2).startswith("data:") or not os.path.isfile(path):
      return match.group(0)
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    with open(path, "rb") as f:
      data = base64.b64encode(f.read()).decode("ascii")
    return f"{match.group(1)}data:{kind};base64,{data}{match.group(3)}"

  return _IMAGE_SOURCE.sub(embed, _LINKED_IMAGE.sub(r"\1", text))

"""Tiled inference: images of any size through a network, tile by tile, in batches.

:func:`translate_tiled` reflection-pads the image to the network's stride (and minimum size),
cuts it into overlapping ``tile x tile`` tiles on a grid whose origins are multiples of the
stride (so every tile sees the strided layers' sampling grid of the whole image), translates
the tiles ``batch`` at a time (split over the devices), blends them with a smooth window and
crops the padding off. Device memory is bounded by the tile batch; the host holds the image and
the output.

**Whole-image statistics.** Norm layers that normalise by the statistics of the image they are
given (instance norm; batch norm with batch statistics, the official pix2pix/CycleGAN test
behaviour) use the statistics of the whole (padded) image, as the untiled network would, never a
tile's. They are gathered first, norm call (*site*) after site
(:mod:`jaxgan.inference.norm_statistics`): for site ``k``, every tile runs the network up to that
call with the whole-image statistics of the ``k`` sites before it, and adds the moments of its
*core* (the pixels it owns in a partition of the image: each overlap is split at its middle) to
float64 running sums; then the final pass runs every tile with all of them. Site ``k``'s input
depends only on the statistics of the sites before it, so each is exact in turn. For ``N`` sites
this costs the network up to each site once plus the final pass, about ``N / 2 + 1`` passes over
the tiles (``Tiler.passes`` counts ``N + 1``), and ``N + 1`` compilations, kept for images of the
same size (video frames compile once). A network without such layers (SR, batch norm with running
statistics) takes one pass; an image that fits in one tile is translated whole. (Tried and
dropped: whole-network passes that refine every site's estimate at once, from each tile's own
statistics. On a ResNet generator the estimates kept changing by 0.3-7% per pass until every site
before them was exact, so they too needed ``N + 1`` passes, each a full one: twice the cost.)

**Blending.** Along each axis a tile's weight is 0 for the ``overlap // 4`` pixels next to an
edge it shares with a neighbour, then rises as a raised cosine over the next
``overlap - 2 (overlap // 4)`` pixels to 1 (nothing at the image's own borders); the weights of
the tiles covering a pixel are normalised to sum to 1, so a constant output stays constant. The
2-D weight is the product of the two axes'.

**When tiled == untiled.** Exactly (up to float rounding) when every output pixel depends only on
input pixels within ``r <= overlap // 4`` of it (receptive field ``2 r + 1``), with ``overlap``
after rounding up to the stride: each weighted pixel is then at least ``r`` from any cut
edge, so it sees what it sees in the whole image; a core pixel is farther still, so the
statistics are the whole image's too. Networks with larger receptive fields (the 9-block
CycleGAN generator: hundreds of pixels; a U-Net: the whole 256 x 256 input) give results that
differ near the tiles' overlaps; larger overlaps shrink the difference. Dropout (pix2pix's test
default) draws its masks per tile. Only the norm layers of :mod:`jaxgan.nn.norm` are treated as
whole-image operations.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import numpy as np

from jaxgan.inference import norm_statistics
from jaxgan.inference.translator import Translator, fit_image
from jaxgan.train import compiler


def check_tiling(tile: int, overlap: int, *, names=("tile", "overlap")) -> None:
  """ValueError naming ``names`` unless ``tile > 0``, ``overlap >= 0`` and ``tile > overlap``."""
  tile_name, overlap_name = names
  if isinstance(tile, bool) or not isinstance(tile, int) or tile <= 0:
    raise ValueError(f"{tile_name}={tile!r} must be a positive number of pixels")
  if isinstance(overlap, bool) or not isinstance(overlap, int) or overlap < 0:
    raise ValueError(f"{overlap_name}={overlap!r} must be >= 0")
  if tile <= overlap:
    raise ValueError(f"{tile_name}={tile} must be larger than {overlap_name}={overlap}")


@dataclasses.dataclass(frozen=True)
class Axis:
  """The tiles along one axis of length ``length``: their ``origins``, side ``tile`` and the
  nominal ``overlap``."""

  length: int
  tile: int
  overlap: int
  origins: tuple[int, ...]

  @classmethod
  def plan(cls, length: int, tile: int, overlap: int, stride: int) -> Axis:
    """Tiles evenly spread over ``length`` (a multiple of ``stride``, as ``tile`` and ``overlap``),
    neighbours overlapping by at least ``overlap``; one tile of side ``length`` if it fits."""
    if length <= tile:
      return cls(length, length, overlap, (0,))
    units, step = (length - tile) // stride, (tile - overlap) // stride
    gaps = -(-units // step)
    return cls(length, tile, overlap, tuple(stride * (i * units // gaps) for i in range(gaps + 1)))

  def cores(self) -> list[tuple[int, int]]:
    """``[start, end)`` of the pixels each tile owns: each overlap is split at its middle."""
    bounds = [0] + [(a + b + self.tile) // 2 for a, b in zip(self.origins[1:], self.origins)] + [self.length]
    return list(zip(bounds[:-1], bounds[1:]))

  def weights(self, scale: int = 1) -> np.ndarray:
    """``[tiles, tile * scale]``: each tile's normalised blending weight at output resolution."""
    n, side, overlap = len(self.origins), self.tile * scale, self.overlap * scale
    margin = overlap // 4
    ramp = overlap - 2 * margin
    d = np.arange(side, dtype=np.float64)
    rise = np.clip((d - margin + 1) / (ramp + 1), 0.0, 1.0)
    rise = 0.5 - 0.5 * np.cos(np.pi * rise)
    w = np.ones((n, side))
    w[1:] *= rise  # edges shared with the previous tile
    w[:-1] *= rise[::-1]  # and with the next
    total = np.zeros(self.length * scale)
    for o, wi in zip(self.origins, w):
      total[o * scale : o * scale + side] += wi
    for i, o in enumerate(self.origins):
      w[i] /= total[o * scale : o * scale + side]
    return w.astype(np.float32)

  def core_masks(self) -> np.ndarray:
    """``[tiles, tile]``: 1 where the tile's pixel is in its core."""
    masks = np.zeros((len(self.origins), self.tile), np.float32)
    for i, (o, (start, end)) in enumerate(zip(self.origins, self.cores())):
      masks[i, start - o : end - o] = 1
    return masks


def plan_tiles(shape: tuple[int, int], *, tile: int, overlap: int, stride: int) -> tuple[Axis, Axis]:
  """The two axes' tiles of an image of ``shape`` (multiples of ``stride``): ``tile`` rounded
  down and ``overlap`` up to multiples of the stride (ValueError naming them if the tile is then
  not larger than the overlap)."""
  check_tiling(tile, overlap)
  t, o = tile // stride * stride, -(-overlap // stride) * stride
  if t <= o:
    raise ValueError(
      f"tile={tile} and overlap={overlap} become {t} and {o} at the network's stride {stride}: the tile must be "
      "larger than the overlap (raise the tile)"
    )
  return tuple(Axis.plan(n, t, o, stride) for n in shape)


class Tiler:
  """Translates images tile by tile with ``translator`` (see the module docstring).

  The compiled passes are kept for the tile shape, so images of one size (video frames) compile
  once. After each image, :attr:`passes` is the number of passes over its tiles and
  :attr:`statistics` the whole-image ``(mean, variance)`` of each site.
  """

  def __init__(self, translator: Translator, *, tile: int, overlap: int, batch: int = 8):
    check_tiling(tile, overlap)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch <= 0:
      raise ValueError(f"batch={batch!r} must be a positive number of tiles")
    if tile < translator.min_size:
      raise ValueError(f"tile={tile} is smaller than the network's smallest input side {translator.min_size}")
    self.translator = translator
    self.tile, self.overlap = tile, overlap
    self.batch = translator.batch_size(batch)
    self.passes = 0
    self.statistics: list[tuple[np.ndarray, np.ndarray]] = []

  @functools.cached_property
  def _gather(self):
    """``(arrays, tiles, masks, fixed) -> moments of site len(fixed)``: the network up to that site."""
    t = self.translator
    return compiler.jit(
      lambda arrays, x, masks, fixed: norm_statistics.run_with(t.apply, arrays, x, fixed, masks=masks)
    )

  @functools.cached_property
  def _output(self):
    t = self.translator
    return compiler.jit(lambda arrays, x, fixed: norm_statistics.run_with(t.apply, arrays, x, fixed))

  @functools.lru_cache(maxsize=8)  # noqa: B019 -- one entry per tile shape, for the Tiler's life
  def _sites(self, tile_shape: tuple[int, int, int]) -> int:
    t = self.translator
    x = jax.ShapeDtypeStruct((self.batch, *tile_shape), np.float32)
    return norm_statistics.count_sites(t.apply, t.arrays, x)

  def __call__(self, image: np.ndarray) -> np.ndarray:
    """Float ``[H, W, C]`` -> the network's output ``[H s, W s, C']``."""
    t = self.translator
    padded, undo = fit_image(np.asarray(image, np.float32), multiple=t.stride, minimum=t.min_size)
    grid = plan_tiles(padded.shape[:2], tile=self.tile, overlap=self.overlap, stride=t.stride)
    self.statistics = []
    if all(len(axis.origins) == 1 for axis in grid):
      self.passes = 1
      return undo(t.translate(padded), t.scale)
    fixed = []
    for _ in range(self._sites((grid[0].tile, grid[1].tile, padded.shape[-1]))):
      moments = norm_statistics.Moments()
      for _, tiles, masks in self._batches(padded, grid):
        moments.add(*self._gather(t.placed_arrays, tiles, masks, fixed))
      self.statistics.append(moments.statistics())
      fixed.append(t.replicated(self.statistics[-1]))
    self.passes = len(fixed) + 1
    return undo(self._blend(padded, grid, fixed), t.scale)

  def _batches(self, padded: np.ndarray, grid: tuple[Axis, Axis]):
    """``(tile indices, tiles, core masks)``: batches of ``self.batch`` tiles on the devices (the
    last batch filled with empty tiles)."""
    rows, cols = grid
    indices = [(i, j) for i in range(len(rows.origins)) for j in range(len(cols.origins))]
    row_masks, col_masks = rows.core_masks(), cols.core_masks()
    for start in range(0, len(indices), self.batch):
      chunk = indices[start : start + self.batch]
      tiles = np.zeros((self.batch, rows.tile, cols.tile, padded.shape[-1]), np.float32)
      masks = np.zeros((self.batch, rows.tile, cols.tile), np.float32)
      for k, (i, j) in enumerate(chunk):
        y, x = rows.origins[i], cols.origins[j]
        tiles[k] = padded[y : y + rows.tile, x : x + cols.tile]
        masks[k] = row_masks[i][:, None] * col_masks[j][None, :]
      yield (chunk, *self.translator.placed((tiles, masks)))

  def _blend(self, padded: np.ndarray, grid: tuple[Axis, Axis], fixed: list) -> np.ndarray:
    """The final pass: every tile's output with all the statistics, weighted (see the module docstring)."""
    t, s = self.translator, self.translator.scale
    rows, cols = grid
    row_w, col_w = rows.weights(s), cols.weights(s)
    out = None
    for chunk, tiles, _ in self._batches(padded, grid):
      result = np.asarray(self._output(t.placed_arrays, tiles, fixed))
      if out is None:
        out = np.zeros((padded.shape[0] * s, padded.shape[1] * s, result.shape[-1]), np.float32)
      for (i, j), y_out in zip(chunk, result):
        y, x = rows.origins[i] * s, cols.origins[j] * s
        weight = row_w[i][:, None, None] * col_w[j][None, :, None]
        out[y : y + y_out.shape[0], x : x + y_out.shape[1]] += weight * y_out
    return out


def translate_tiled(
  translator: Translator, image: np.ndarray, *, tile: int, overlap: int, batch: int = 8
) -> np.ndarray:
  """Float ``[H, W, C]`` (any size) -> ``translator``'s output, ``tile x tile`` tiles at a time
  (see the module docstring for the blending, the whole-image statistics and when the result
  equals the untiled one). For many images of one size, keep a :class:`Tiler`."""
  return Tiler(translator, tile=tile, overlap=overlap, batch=batch)(image)

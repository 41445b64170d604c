"""Normalisation layers run with statistics given from outside: whole-image statistics for tiles.

Instance norm, and batch norm with batch statistics (the official pix2pix/CycleGAN test
behaviour), normalise each image by statistics of that image. A tile of an image has other
statistics, so a network run tile by tile would not compute what it computes on the whole image.
Here each such call of a norm layer (a *site*, numbered in the order the network makes them)
can take per-channel statistics supplied from outside instead:

* :func:`count_sites` traces the network once (no compilation) and counts the sites;
* :func:`run_with` runs the network with the first ``len(fixed)`` sites normalised by given
  statistics ``fixed`` (``[(mean [C], var [C])]``) and, with ``masks``, returns the moments of
  site ``len(fixed)``'s input over the masked pixels of each image of the batch,
  ``(count [B], mean [B, C], M2 [B, C])`` (``M2``: sum of squared deviations from the mean),
  instead of the output. The outputs after that site are not asked for, so XLA drops their
  computation: gathering site ``k`` costs the network up to site ``k``;
* :class:`Moments` adds such per-tile moments in float64 (Chan et al.'s pairwise update, no
  cancellation) and gives the whole image's mean and biased variance;
* :func:`image_statistics` records the statistics each site uses in a plain run on a whole image
  (what the gathered ones must equal).

The masks are given at the network's input resolution; at a site whose activations are ``f``
times smaller they are subsampled (``mask[::f, ::f]``), ``f`` times larger repeated: masks that
partition the image (tile cores) partition every layer's pixels the same way when the tiles'
origins are multiples of the network's stride (:mod:`jaxgan.inference.tiled`).

Layers are swapped in a copy of the module merged inside the traced function (the network's own
definition is untouched); the swap recognises the layers of :mod:`jaxgan.nn.norm` (every
generator of pix2pix, CycleGAN, fast style transfer and SR uses them). Modules with a ``remat``
switch have it turned off: inference has no backward pass.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxgan.nn.norm import BatchNorm, InstanceNorm

NORM_LAYERS = (InstanceNorm, BatchNorm)


class _Sites:
  """What the swapped layers do in one trace: count, normalise by ``fixed``, collect or record moments."""

  def __init__(self, fixed=(), *, masks=None, input_shape=None, record: bool = False):
    self.fixed = list(fixed)
    self.masks = masks
    self.input_shape = input_shape
    self.count = 0
    self.moments = None
    self.recorded = [] if record else None

  def visit(self, norm: nnx.Module, x: jax.Array, train: bool) -> jax.Array:
    k = self.count
    self.count += 1
    if k < len(self.fixed):
      mean, var = self.fixed[k]
      return norm.normalize_with(x, mean, var)
    if self.recorded is not None:
      count, mean, m2 = masked_moments(x.reshape(1, -1, 1, x.shape[-1]), jnp.ones((1, x[..., 0].size, 1)))
      self.recorded.append((mean[0], m2[0] / count[0]))
    elif self.masks is not None and k == len(self.fixed):
      self.moments = masked_moments(x, _resampled(self.masks, x.shape[1:3], self.input_shape))
    return norm(x, train=train)  # a site not given: the layer's own statistics


class _Site(nnx.Module):
  """A norm layer whose calls with per-image statistics go through :class:`_Sites`."""

  def __init__(self, norm: nnx.Module, sites: _Sites):
    self.norm = norm
    self.sites = sites

  def __call__(self, x: jax.Array, *, train: bool = True) -> jax.Array:
    if not self.norm.uses_image_statistics(train):
      return self.norm(x, train=train)
    return self.sites.visit(self.norm, x, train)


def _child(node, key):
  return node[key] if isinstance(key, int) else getattr(node, key)


def _swap_norms(model: nnx.Module, sites: _Sites) -> None:
  """Route every norm layer of ``model`` (in place) through ``sites``; turn ``remat`` off."""
  found = []
  for path, node in nnx.iter_graph(model):
    if isinstance(node, NORM_LAYERS) and path:
      found.append(path)
    elif isinstance(node, nnx.Module) and getattr(node, "remat", None) is True:
      node.remat = False
  for path in found:
    parent = model
    for key in path[:-1]:
      parent = _child(parent, key)
    layer = _Site(_child(parent, path[-1]), sites)
    if isinstance(path[-1], int):
      parent[path[-1]] = layer
    else:
      setattr(parent, path[-1], layer)


def _resampled(masks: jax.Array, size: tuple[int, int], input_size: tuple[int, int]) -> jax.Array:
  """``masks [B, H, W]`` at the resolution of an activation of spatial ``size``."""
  for axis, (n, n_in) in enumerate(zip(size, input_size), start=1):
    if n < n_in:
      if n_in % n:
        raise ValueError(f"an activation of side {n} inside a network given side {n_in}: not an integer stride")
      masks = jax.lax.slice_in_dim(masks, 0, n_in, n_in // n, axis=axis)
    elif n > n_in:
      if n % n_in:
        raise ValueError(f"an activation of side {n} inside a network given side {n_in}: not an integer factor")
      masks = jnp.repeat(masks, n // n_in, axis=axis)
  return masks


def masked_moments(x: jax.Array, masks: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  """``(count [B], mean [B, C], M2 [B, C])`` of NHWC ``x`` over the pixels where ``masks [B, H, W]`` is 1."""
  x = x.astype(jnp.promote_types(x.dtype, jnp.float32))
  m = masks.astype(x.dtype)[..., None]
  count = jnp.sum(m, axis=(1, 2))  # [B, 1]
  mean = jnp.sum(m * x, axis=(1, 2)) / jnp.maximum(count, 1.0)
  m2 = jnp.sum(m * jnp.square(x - mean[:, None, None, :]), axis=(1, 2))
  return count[:, 0], mean, m2


def run_with(apply, model_args: tuple, x: jax.Array, fixed=(), *, masks: jax.Array | None = None):
  """``apply(*model_args, x, edit=...)`` with the first ``len(fixed)`` sites normalised by
  ``fixed`` (``[(mean [C], var [C])]``); with ``masks`` ``[B, H, W]``, the moments of site
  ``len(fixed)`` (see the module docstring) instead of the output. Call inside a traced function."""
  sites = _Sites(fixed, masks=masks, input_shape=x.shape[1:3])
  out = apply(*model_args, x, edit=lambda model: _swap_norms(model, sites))
  if masks is None:
    return out
  if sites.moments is None:
    raise ValueError(f"the network has {sites.count} norm sites with per-image statistics; no site {len(fixed)}")
  return sites.moments


def count_sites(apply, model_args: tuple, x_shape: jax.ShapeDtypeStruct) -> int:
  """How many norm calls with per-image statistics one run of the network makes (traced, not run)."""
  counted = []

  def trace(args, x):
    sites = _Sites()
    out = apply(*args, x, edit=lambda model: _swap_norms(model, sites))
    counted.append(sites.count)
    return out

  jax.eval_shape(trace, model_args, x_shape)
  return counted[-1]


def image_statistics(apply, model_args: tuple, x: jax.Array) -> list[tuple[jax.Array, jax.Array]]:
  """``[(mean [C], biased variance [C])]`` of each site's input in the network's own run on the
  batch ``x`` (over all its images and pixels: for one image, the statistics its norm layers use)."""
  sites = _Sites(record=True)
  apply(*model_args, x, edit=lambda model: _swap_norms(model, sites))
  return sites.recorded


@dataclasses.dataclass
class Moments:
  """Running count, mean and M2 per channel (float64), added tile by tile."""

  count: float = 0.0
  mean: Any = 0.0
  m2: Any = 0.0

  def add(self, count, mean, m2) -> None:
    """Add per-tile ``(count [B], mean [B, C], M2 [B, C])`` (tiles with count 0 add nothing)."""
    for n_b, mean_b, m2_b in zip(np.asarray(count, np.float64), np.asarray(mean, np.float64), np.asarray(m2)):
      if n_b <= 0:
        continue
      total = self.count + n_b
      delta = mean_b - self.mean
      self.mean = self.mean + delta * (n_b / total)
      self.m2 = self.m2 + np.asarray(m2_b, np.float64) + np.square(delta) * (self.count * n_b / total)
      self.count = total

  def statistics(self) -> tuple[np.ndarray, np.ndarray]:
    """``(mean [C], biased variance [C])`` as float32."""
    if self.count <= 0:
      raise ValueError("no pixels were counted")
    return np.asarray(self.mean, np.float32), np.asarray(self.m2 / self.count, np.float32)

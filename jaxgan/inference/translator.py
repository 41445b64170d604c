"""A trained image-to-image network, ready to translate images of any size in batches.

:class:`Translator` holds a network's static half (:class:`jaxgan.train.state.Network`), its
arrays and how the method calls it at test time (batch statistics or running ones, a dropout
key, the input range). Images are float ``[H, W, C]`` in [-1, 1]; outputs are in the network's
output range ([-1, 1] for every generator here), ``scale`` times larger for SR networks.

Whole images (:meth:`Translator.translate_batch`) are reflection-padded to the network's stride
and minimum size and cropped back, as ``--size_policy=pad``; each image of a batch is run as a
batch of one (``jax.vmap``), so batch norm with batch statistics (the official test behaviour)
normalises each image by its own statistics, as the official test script's batch of one does.
Batches are split over all devices of a ``data`` mesh (:mod:`jaxgan.train.sharding`), the
arrays replicated; a batch that does not fill the compiled size is padded and the padding dropped.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.train import compiler
from jaxgan.train import sharding as sharding_lib
from jaxgan.train.state import ModelState, Network


def fit_image(image: np.ndarray, *, multiple: int = 1, minimum: int = 1):
  """Reflection-pad ``[H, W, C]`` to sides that are multiples of ``multiple`` and at least ``minimum``.

  Returns ``(padded, undo)``, ``undo(output, scale=1)`` cropping an output of the padded size
  (times ``scale``) back to ``H x W`` (times ``scale``); the padding is split evenly between
  both sides, the odd pixel at the end. A side of 1 pixel cannot be reflected: it is repeated.
  """
  h, w = image.shape[:2]
  if h < 1 or w < 1:
    raise ValueError(f"cannot translate an empty image of size {h}x{w}")
  size = lambda n: max(-(-n // multiple) * multiple, -(-minimum // multiple) * multiple)
  ph, pw = size(h) - h, size(w) - w
  pads = ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2))
  padded = image
  for axis, n in ((0, h), (1, w)):
    width = [(0, 0)] * image.ndim
    width[axis] = pads[axis]
    padded = np.pad(padded, width, mode="reflect" if n > 1 else "edge")

  def undo(out, scale: int = 1):
    return out[ph // 2 * scale : (ph // 2 + h) * scale, pw // 2 * scale : (pw // 2 + w) * scale]

  return padded, undo


@dataclasses.dataclass(frozen=True, eq=False)
class Translator:
  """A network and its arrays, called as the method calls it at test time.

  Args:
    network: the static half (graph definition, compute dtype) of the generator.
    params, stats: its arrays (a :class:`ModelState`'s ``params`` and ``stats``).
    train: batch norm with batch statistics (``True``: pix2pix/CycleGAN's official test
      behaviour, ``--test_batch_stats``) or running ones; instance norm is the same either way.
    key: dropout key (pix2pix's ``--test_dropout``); None: no dropout.
    unit_input: the network takes inputs in [0, 1] (SR networks) rather than [-1, 1].
    stride, min_size, in_channels: input sides must be multiples of ``stride`` and at least
      ``min_size`` (read from the module by :meth:`of`).
    scale: output side / input side (SR: the upscaling factor).
  """

  network: Network
  params: Any
  stats: Any
  train: bool = False
  key: jax.Array | None = None
  unit_input: bool = False
  stride: int = 1
  min_size: int = 1
  in_channels: int = 3
  scale: int = 1

  @classmethod
  def of(cls, network: Network, ms: ModelState, **options) -> Translator:
    """The translator of a network's state; ``stride``, ``min_size``, ``in_channels`` and ``scale``
    read from the module (its ``stride``, ``min_size``, ``in_channels`` attributes; the scale of
    its output's shape)."""
    module = network.module(ms.params, ms.stats)
    stride = int(getattr(module, "stride", 1))
    geometry = {
      "stride": stride,
      "min_size": int(getattr(module, "min_size", stride)),
      "in_channels": int(getattr(module, "in_channels", 3)),
    }
    probe = cls(network, ms.params, ms.stats, **{**options, **geometry})
    side = max(geometry["min_size"], stride)
    side = -(-side // stride) * stride
    x = jax.ShapeDtypeStruct((1, side, side, geometry["in_channels"]), jnp.float32)
    out = jax.eval_shape(lambda params, stats, x: probe.apply(params, stats, x), ms.params, ms.stats, x)
    if out.shape[1] % side or out.shape[2] % side or out.shape[1] != out.shape[2]:
      raise ValueError(f"the network maps {side}x{side} inputs to {out.shape[1]}x{out.shape[2]}: not an integer scale")
    return dataclasses.replace(probe, scale=out.shape[1] // side)

  @property
  def arrays(self) -> tuple:
    """What the compiled functions take: ``(params, stats)``."""
    return self.params, self.stats

  def apply(self, params, stats, x: jax.Array, *, edit: Callable | None = None) -> jax.Array:
    """The network on a batch ``x`` in [-1, 1] (pure; the whole batch at once)."""
    if self.unit_input:
      x = (x + 1.0) * 0.5
    kwargs = {"train": self.train}
    if self.key is not None:
      kwargs["key"] = self.key
    return self.network.apply(params, stats, x, edit=edit, **kwargs)[0]

  def apply_each(self, params, stats, x: jax.Array) -> jax.Array:
    """The network on each image of ``x`` as a batch of one (per-image batch statistics)."""
    return jax.vmap(lambda image: self.apply(params, stats, image[None])[0])(x)

  @functools.cached_property
  def _translate_each(self):
    return compiler.jit(self.apply_each)

  @functools.cached_property
  def mesh(self) -> jax.sharding.Mesh:
    return sharding_lib.make_mesh()

  def batch_size(self, batch: int) -> int:
    """``batch`` rounded up to a multiple of the devices."""
    devices = self.mesh.size
    return -(-batch // devices) * devices

  def placed(self, tree):
    """``tree``'s arrays split on their first axis over the mesh."""
    return jax.device_put(tree, sharding_lib.batch_shardings(tree, self.mesh))

  def replicated(self, tree):
    """``tree``'s arrays replicated over the mesh."""
    return jax.device_put(tree, sharding_lib.replicated(self.mesh))

  @functools.cached_property
  def placed_arrays(self) -> tuple:
    """``(params, stats)`` replicated over the mesh."""
    return self.replicated(self.arrays)

  def translate_batch(self, images: np.ndarray, *, batch: int | None = None) -> np.ndarray:
    """Float images ``[N, H, W, C]`` of one size -> outputs ``[N, H s, W s, C']`` (``s``: scale).

    Run ``batch`` images per call (default N, rounded up to a multiple of the devices).
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4:
      raise ValueError(f"expected images [N, H, W, C], got shape {images.shape}")
    padded = np.stack([fit_image(x, multiple=self.stride, minimum=self.min_size)[0] for x in images])
    undo = fit_image(images[0], multiple=self.stride, minimum=self.min_size)[1]
    size = self.batch_size(batch or len(images))
    outputs = []
    for start in range(0, len(padded), size):
      chunk = padded[start : start + size]
      full = np.concatenate([chunk, np.zeros((size - len(chunk), *chunk.shape[1:]), chunk.dtype)])
      out = np.asarray(self._translate_each(*self.placed_arrays, self.placed(full)))
      outputs.extend(undo(y, self.scale) for y in out[: len(chunk)])
    return np.stack(outputs)

  def translate(self, image: np.ndarray) -> np.ndarray:
    """One float image ``[H, W, C]`` -> its output ``[H s, W s, C']``."""
    return self.translate_batch(np.asarray(image)[None], batch=1)[0]

"""Spatial padding of NHWC images with PyTorch's ``nn.*Pad2d`` semantics.

``PADDINGS`` maps the official CycleGAN ``padding_type`` choices to functions
``(x, p) -> x`` padded by ``p`` pixels on each side of H and W:

* ``reflect``: ``ReflectionPad2d``: mirrored about the edge pixel, which is not repeated
  (``[a b c d]`` -> ``[c b | a b c d | c b]``, NumPy's ``'reflect'`` mode); like PyTorch,
  ``p`` must be smaller than each padded side;
* ``replicate``: ``ReplicationPad2d``: the edge pixel repeated (NumPy's ``'edge'``);
* ``zero``: zeros (what ``Conv2d(padding=p)`` does; the official ResNet block uses the
  convolution's own padding for this choice, which gives the same result).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp


def _hw_pads(x: jax.Array, p: int) -> tuple[tuple[int, int], ...]:
  if x.ndim != 4:
    raise ValueError(f"expected NHWC images [B, H, W, C], got shape {x.shape}")
  if not isinstance(p, int) or p < 0:
    raise ValueError(f"padding must be a non-negative integer, got {p!r}")
  return ((0, 0), (p, p), (p, p), (0, 0))


def reflect_pad(x: jax.Array, p: int) -> jax.Array:
  """``ReflectionPad2d(p)`` of NHWC ``x``; ``p`` must be smaller than H and W."""
  pads = _hw_pads(x, p)
  h, w = x.shape[1:3]
  if p >= h or p >= w:
    raise ValueError(f"reflection padding {p} needs images larger than {p}x{p}, got {h}x{w} (PyTorch refuses it too)")
  return jnp.pad(x, pads, mode="reflect")


def replicate_pad(x: jax.Array, p: int) -> jax.Array:
  """``ReplicationPad2d(p)`` of NHWC ``x``: edge pixels repeated."""
  return jnp.pad(x, _hw_pads(x, p), mode="edge")


def zero_pad(x: jax.Array, p: int) -> jax.Array:
  """``ZeroPad2d(p)`` of NHWC ``x``."""
  return jnp.pad(x, _hw_pads(x, p))


PADDINGS: dict[str, Callable[[jax.Array, int], jax.Array]] = {
  "reflect": reflect_pad,
  "replicate": replicate_pad,
  "zero": zero_pad,
}


def check_padding(mode: str) -> str:
  if mode not in PADDINGS:
    raise ValueError(f"padding_type must be one of {sorted(PADDINGS)}, got {mode!r}")
  return mode


def pad(x: jax.Array, p: int, mode: str) -> jax.Array:
  """Pad H and W of NHWC ``x`` by ``p`` pixels per side with the ``padding_type`` ``mode``."""
  return PADDINGS[check_padding(mode)](x, p)

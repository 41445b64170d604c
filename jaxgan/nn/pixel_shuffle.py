"""Sub-pixel convolution's rearrangement (Shi et al. 2016) and PReLU (He et al. 2015), PyTorch-style.

``pixel_shuffle(x, r)`` is ``torch.nn.PixelShuffle(r)`` on NHWC arrays: channel
``c * r * r + i * r + j`` of input pixel ``(h, w)`` goes to output pixel
``(h * r + i, w * r + j)``, channel ``c``::

    out[n, h * r + i, w * r + j, c] = x[n, h, w, c * r * r + i * r + j]

which is PyTorch's ``out[n, c, h r + i, w r + j] = x[n, c r^2 + i r + j, h, w]`` with the
channel axis moved last. A convolution feeding it therefore keeps PyTorch's output-channel
order, and its weights carry over from a PyTorch checkpoint by the usual
(O, I, H, W) -> (H, W, I, O) transpose. :func:`pixel_unshuffle` is the inverse
(``torch.nn.PixelUnshuffle``).

``PReLU(num_parameters)`` is ``torch.nn.PReLU``: ``max(0, x) + a * min(0, x)`` with
learnable slopes ``a`` initialised to 0.25, one shared by all channels
(``num_parameters=1``, PyTorch's default) or one per channel (the last axis here).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

PRELU_INIT = 0.25  # torch.nn.PReLU(init=0.25), He et al. 2015


def _check_factor(r) -> int:
  if isinstance(r, bool) or not isinstance(r, int) or r < 1:
    raise ValueError(f"the pixel shuffle factor must be a positive integer, got {r!r}")
  return r


def pixel_shuffle(x: jax.Array, r: int) -> jax.Array:
  """``[B, H, W, C r^2]`` -> ``[B, H r, W r, C]`` in ``torch.nn.PixelShuffle``'s order.

  Raises:
    ValueError: naming the shape, unless ``x`` is 4-D with channels divisible by ``r^2``.
  """
  r = _check_factor(r)
  if x.ndim != 4 or x.shape[-1] % (r * r):
    raise ValueError(
      f"pixel_shuffle({r}) needs NHWC input whose channels are a multiple of {r * r}, got shape {x.shape}"
    )
  b, h, w, crr = x.shape
  c = crr // (r * r)
  y = x.reshape(b, h, w, c, r, r)  # [b, h, w, c, i, j]
  y = y.transpose(0, 1, 4, 2, 5, 3)  # [b, h, i, w, j, c]
  return y.reshape(b, h * r, w * r, c)


def pixel_unshuffle(x: jax.Array, r: int) -> jax.Array:
  """The inverse of :func:`pixel_shuffle`: ``[B, H r, W r, C]`` -> ``[B, H, W, C r^2]``."""
  r = _check_factor(r)
  if x.ndim != 4 or x.shape[1] % r or x.shape[2] % r:
    raise ValueError(f"pixel_unshuffle({r}) needs NHWC input whose sides are multiples of {r}, got shape {x.shape}")
  b, hr, wr, c = x.shape
  y = x.reshape(b, hr // r, r, wr // r, r, c)  # [b, h, i, w, j, c]
  y = y.transpose(0, 1, 3, 5, 2, 4)  # [b, h, w, c, i, j]
  return y.reshape(b, hr // r, wr // r, c * r * r)


class PReLU(nnx.Module):
  """``torch.nn.PReLU(num_parameters, init)`` on channels-last inputs.

  Attributes:
    weight: the slopes of the negative part, shape ``[num_parameters]`` (PyTorch's
      ``weight`` as it is).
  """

  def __init__(self, num_parameters: int = 1, *, init: float = PRELU_INIT, rngs: nnx.Rngs | None = None):
    del rngs  # nothing random
    if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) or num_parameters < 1:
      raise ValueError(f"num_parameters must be a positive integer, got {num_parameters!r}")
    self.num_parameters = num_parameters
    self.weight = nnx.Param(jnp.full((num_parameters,), init, jnp.float32))

  def __call__(self, x: jax.Array) -> jax.Array:
    if self.num_parameters != 1 and (x.ndim == 0 or x.shape[-1] != self.num_parameters):
      raise ValueError(
        f"PReLU with {self.num_parameters} parameters needs {self.num_parameters} "
        f"channels (the last axis), got shape {x.shape}"
      )
    a = self.weight[...].astype(x.dtype)
    return jnp.where(x >= 0, x, a * x)

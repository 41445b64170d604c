"""Normalisation layers of the pix2pix / CycleGAN family, with PyTorch's semantics.

``NORMS`` maps the official ``--norm`` choices to layers that all take ``(x, *, train)``:

* ``batch``: ``BatchNorm2d(affine=True)``: batch statistics when ``train``, running
  statistics otherwise; momentum 0.1 and eps 1e-5 (PyTorch's defaults); scale N(1, 0.02)
  and bias 0 (the official ``init_weights``). Flax keeps the running variance of the
  biased batch variance where PyTorch keeps the unbiased one: with the batch sizes of
  these models (1 .. 16 images of 256x256) the two differ by a factor (n - 1) / n with
  n >= 65,536 pixels. Loading a PyTorch checkpoint copies its running statistics as they are.
* ``instance``: ``InstanceNorm2d(affine=False, track_running_stats=False)``: each
  image's channel is normalised by its own mean and biased variance, in training and at
  test time alike; no parameters.
* ``none``: the identity.

The official code gives the convolution before a norm a bias only when the norm is
``instance`` (``use_bias = norm_layer == InstanceNorm2d``: the batch norm's own bias
makes one redundant, and the ``none`` choice inherits ``False``): :func:`conv_bias`.

Statistics from outside (tiled inference, :mod:`jaxgan.inference.norm_statistics`): every layer
says whether a call normalises by statistics of the image it is given
(``uses_image_statistics(train)``: instance norm always, batch norm with ``train``) and
normalises by given per-channel statistics (``normalize_with(x, mean, var)``), as the call
would have with those statistics.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from flax import nnx

from jaxgan.nn.init import batchnorm_scale_init
from jaxgan.nn.layers import TORCH_BATCHNORM_EPSILON, TORCH_BATCHNORM_MOMENTUM

INSTANCE_NORM_EPSILON = 1e-5


def normalize(x: jax.Array, mean: jax.Array, var: jax.Array, epsilon: float) -> jax.Array:
  """``(x - mean) / sqrt(var + epsilon)`` (statistics broadcast against ``x``)."""
  return (x - mean) * jax.lax.rsqrt(var + epsilon)


def instance_norm(x: jax.Array, epsilon: float = INSTANCE_NORM_EPSILON) -> jax.Array:
  """Normalise each (image, channel) of NHWC ``x`` over its pixels (biased variance)."""
  dtype, shape = x.dtype, x.shape
  # Pixels flattened into one axis: XLA:CPU reduces one axis 1.4-2.2x faster than two (forward
  # and backward; measured on CycleGAN's shapes), and the values are the same.
  x = x.reshape(shape[0], -1, shape[-1]).astype(jnp.promote_types(dtype, jnp.float32))
  mean = jnp.mean(x, axis=1, keepdims=True)
  var = jnp.mean(jnp.square(x - mean), axis=1, keepdims=True)
  return normalize(x, mean, var, epsilon).astype(dtype).reshape(shape)


class InstanceNorm(nnx.Module):
  """``InstanceNorm2d``; with ``affine=True`` a per-channel scale (1) and bias (0) follow."""

  def __init__(
    self, features: int, *, affine: bool = False, epsilon: float = INSTANCE_NORM_EPSILON, rngs: nnx.Rngs | None = None
  ):
    del rngs  # nothing random
    self.epsilon = epsilon
    self.scale = nnx.Param(jnp.ones((features,))) if affine else None
    self.bias = nnx.Param(jnp.zeros((features,))) if affine else None

  def __call__(self, x: jax.Array, *, train: bool = True) -> jax.Array:
    del train  # the same in training and at test time
    return self._affine(instance_norm(x, self.epsilon), x.dtype)

  def _affine(self, y: jax.Array, dtype) -> jax.Array:
    if self.scale is not None:
      y = y * self.scale[...] + self.bias[...]
    return y.astype(dtype)

  def uses_image_statistics(self, train: bool) -> bool:
    del train
    return True

  def normalize_with(self, x: jax.Array, mean: jax.Array, var: jax.Array) -> jax.Array:
    """The layer's output with per-channel ``mean`` and ``var`` ``[C]`` in place of each image's own."""
    return self._affine(normalize(x.astype(jnp.promote_types(x.dtype, jnp.float32)), mean, var, self.epsilon), x.dtype)


class KeepDtypeBatchNorm(nnx.BatchNorm):
  """``nnx.BatchNorm`` whose output has its input's dtype (statistics stay float32), so that
  bfloat16 activations stay bfloat16 (``--precision``); the same parameters and statistics."""

  def __call__(self, x: jax.Array, *args, **kwargs) -> jax.Array:
    # Statistics over one flattened axis (batch x pixels): faster on XLA:CPU, the same values.
    y = super().__call__(x.reshape(-1, x.shape[-1]), *args, **kwargs)
    return y.reshape(x.shape).astype(x.dtype)


class BatchNorm(nnx.Module):
  """``BatchNorm2d`` with PyTorch's momentum and epsilon and the official N(1, 0.02) scale.

  ``scale_init=nnx.initializers.ones`` gives PyTorch's own default (scale 1).
  """

  def __init__(self, features: int, *, scale_init=None, rngs: nnx.Rngs):
    self.norm = KeepDtypeBatchNorm(
      features,
      momentum=TORCH_BATCHNORM_MOMENTUM,
      epsilon=TORCH_BATCHNORM_EPSILON,
      scale_init=scale_init or batchnorm_scale_init(),
      rngs=rngs,
    )

  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    return self.norm(x, use_running_average=not train)

  def uses_image_statistics(self, train: bool) -> bool:
    """Batch statistics (``train``) are those of the images given; running ones are not."""
    return train

  def normalize_with(self, x: jax.Array, mean: jax.Array, var: jax.Array) -> jax.Array:
    """The training-mode output with per-channel ``mean`` and ``var`` ``[C]`` in place of the batch's."""
    norm = self.norm
    y = normalize(x.astype(jnp.promote_types(x.dtype, jnp.float32)), mean, var, norm.epsilon)
    return (y * norm.scale[...] + norm.bias[...]).astype(x.dtype)


class NoNorm(nnx.Module):
  """The ``none`` choice: the identity."""

  def __init__(self, features: int, *, rngs: nnx.Rngs | None = None):
    del features, rngs

  def __call__(self, x: jax.Array, *, train: bool = True) -> jax.Array:
    del train
    return x

  def uses_image_statistics(self, train: bool) -> bool:
    del train
    return False


NORMS: dict[str, Callable[..., nnx.Module]] = {
  "batch": BatchNorm,
  "instance": InstanceNorm,
  "none": NoNorm,
}


def check_norm(norm: str) -> str:
  if norm not in NORMS:
    raise ValueError(f"norm must be one of {sorted(NORMS)}, got {norm!r}")
  return norm


def make_norm(norm: str, features: int, rngs: nnx.Rngs) -> nnx.Module:
  """The ``--norm`` layer for ``features`` channels."""
  return NORMS[check_norm(norm)](features, rngs=rngs)


def conv_bias(norm: str) -> bool:
  """Whether the official code gives a convolution followed by ``norm`` a bias."""
  return check_norm(norm) == "instance"

"""Weight normalisation (Salimans & Kingma 2016) for fully connected layers.

A weight-normalised dense layer stores a direction ``v`` ``[in, out]`` and a length ``g``
``[out]`` per output unit and uses the kernel

    w[:, j] = g[j] * v[:, j] / ||v[:, j]||        (norm over the input axis)

so the column norms of ``w`` are exactly ``|g|`` and the output does not depend on the scale
of ``v``. This is the ``DenseLayer`` / ``l2normalize`` of the improved-GAN code (Salimans et
al. 2016, ``mnist_svhn_cifar10/nn.py``).

Not implemented here: the papers' *data-dependent initialisation* (one forward pass over a
data batch that sets ``g <- g / std`` and ``b <- -mean / std`` of each unit's
pre-activation, so that every unit starts with zero mean and unit variance). It is a
one-off initialisation step that a method can run on the split params; the layer itself
starts from ``g = init_scale`` and ``b = 0``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

# The improved-GAN ``WeightNormLayer`` initialises the direction from N(0, 0.05^2); its
# MNIST discriminator's dense layers use N(0, 0.1^2). The scale of ``v`` does not change
# the layer's function, only the size of its gradient steps.
WEIGHT_NORM_DIRECTION_STDDEV = 0.05


class WeightNormDense(nnx.Module):
  """``y = x @ (g * v / ||v||) + b`` with params ``v`` ``[in, out]``, ``g`` ``[out]``, ``b``.

  Args:
    in_features, out_features: sizes of the input and output.
    init_scale: initial value of every ``g`` (the initial column norm of the kernel).
    use_bias: whether to add ``b`` ``[out]`` (initialised to 0).
    epsilon: added to ``||v||^2`` under the square root. The improved-GAN MNIST
      discriminator uses none (0, so the column norms of ``w`` are exactly ``g``); its
      generator's output layer (``l2normalize``) uses 1e-6.
    kernel_init: initialiser of the direction ``v``.
  """

  def __init__(
    self,
    in_features: int,
    out_features: int,
    *,
    init_scale: float = 1.0,
    use_bias: bool = True,
    epsilon: float = 0.0,
    kernel_init: jax.nn.initializers.Initializer = jax.nn.initializers.normal(WEIGHT_NORM_DIRECTION_STDDEV),
    rngs: nnx.Rngs,
  ):
    self.in_features = in_features
    self.out_features = out_features
    self.epsilon = epsilon
    self.v = nnx.Param(kernel_init(rngs.params(), (in_features, out_features), jnp.float32))
    self.g = nnx.Param(jnp.full((out_features,), init_scale, jnp.float32))
    self.b = nnx.Param(jnp.zeros((out_features,), jnp.float32)) if use_bias else None

  def kernel(self) -> jax.Array:
    """The effective kernel ``w = g * v / ||v||`` ``[in, out]``."""
    v = self.v[...]
    sq_norm = jnp.sum(jnp.square(v), axis=0)
    return v * (self.g[...] * jax.lax.rsqrt(sq_norm + self.epsilon))

  def __call__(self, x: jax.Array) -> jax.Array:
    if x.shape[-1] != self.in_features:
      raise ValueError(f"WeightNormDense expects {self.in_features} input features, got shape {x.shape}")
    y = x @ self.kernel()
    return y if self.b is None else y + self.b[...]

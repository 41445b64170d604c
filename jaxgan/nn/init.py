"""Weight initialisers used by the classic GAN papers' official code.

All initialisers follow the ``jax.nn.initializers`` signature
``init(key, shape, dtype=jnp.float32) -> jax.Array``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

# DCGAN (Radford et al. 2015), pix2pix, CycleGAN: "all weights were initialized from a
# zero-centered Normal distribution with standard deviation 0.02".
DCGAN_INIT_STDDEV = 0.02


def normal_init(stddev: float = DCGAN_INIT_STDDEV) -> jax.nn.initializers.Initializer:
  """Kernel initialiser N(0, stddev^2); stddev 0.02 as in DCGAN / pix2pix."""
  return jax.nn.initializers.normal(stddev=stddev)


def batchnorm_scale_init(
  stddev: float = DCGAN_INIT_STDDEV,
) -> jax.nn.initializers.Initializer:
  """Batch-norm scale initialiser N(1, stddev^2).

  This is the PyTorch DCGAN example's ``weights_init`` (``normal_(weight, 1.0, 0.02)``
  on BatchNorm layers; their biases start at zero, which is Flax's default).
  """

  def init(key, shape, dtype=jnp.float32):
    return 1.0 + stddev * jax.random.normal(key, shape, dtype)

  return init


def symmetric_uniform_init(irange: float) -> jax.nn.initializers.Initializer:
  """U[-irange, irange], pylearn2's ``irange`` initialisation (Goodfellow et al. 2014)."""

  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, minval=-irange, maxval=irange)

  return init

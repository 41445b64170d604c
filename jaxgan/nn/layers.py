"""Small layers and constants shared by several GAN models."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

# Slope of the LeakyReLU used in DCGAN, pix2pix and CycleGAN discriminators.
LEAKY_RELU_SLOPE = 0.2

# PyTorch BatchNorm defaults: running = (1 - 0.1) * running + 0.1 * batch, eps 1e-5.
# Flax's ``momentum`` is the weight of the *old* running value, so 0.9 here.
TORCH_BATCHNORM_MOMENTUM = 0.9
TORCH_BATCHNORM_EPSILON = 1e-5


def leaky_relu(x: jax.Array) -> jax.Array:
  """LeakyReLU with the GAN papers' slope of 0.2."""
  return jax.nn.leaky_relu(x, negative_slope=LEAKY_RELU_SLOPE)


def torch_conv_padding(padding: int, ndim: int = 2) -> tuple[tuple[int, int], ...]:
  """Explicit Flax ``Conv`` padding equal to PyTorch ``Conv2d(padding=p)``.

  Flax ``Conv`` with explicit padding is the same cross-correlation as PyTorch, so the
  kernels match after transposing (O, I, H, W) -> (H, W, I, O).
  """
  return ((padding, padding),) * ndim


def torch_conv_transpose_padding(
    kernel_size: int, padding: int, ndim: int = 2
) -> tuple[tuple[int, int], ...]:
  """Explicit Flax ``ConvTranspose`` padding equal to PyTorch ``ConvTranspose2d``.

  PyTorch's transposed convolution with padding ``p`` (and output_padding 0) is a
  convolution of the stride-dilated input, padded by ``k - 1 - p`` on each side, with
  the spatially *flipped* kernel. ``flax.nnx.ConvTranspose`` (``transpose_kernel=False``)
  computes that convolution with its kernel unflipped, so with this padding the output
  shape and alignment are PyTorch's, and a PyTorch weight ``W`` of shape (I, O, H, W)
  maps to the Flax kernel ``W[:, :, ::-1, ::-1].transpose(2, 3, 0, 1)``.
  For k=4, s=2, p=1 the output is exactly twice the input.
  """
  pad = kernel_size - 1 - padding
  if pad < 0:
    raise ValueError(f'padding {padding} is larger than kernel_size - 1 = {kernel_size - 1}')
  return ((pad, pad),) * ndim


class Maxout(nnx.Module):
  """Maxout layer (Goodfellow et al. 2013): max over ``pieces`` affine maps per unit.

  The affine output of size ``units * pieces`` is grouped as ``[units, pieces]``
  (piece index fastest, pylearn2's ``z[:, i::pieces]`` arrangement).
  """

  def __init__(
      self,
      in_features: int,
      units: int,
      pieces: int,
      *,
      kernel_init: jax.nn.initializers.Initializer = nnx.initializers.lecun_normal(),
      rngs: nnx.Rngs,
  ):
    self.units = units
    self.pieces = pieces
    self.linear = nnx.Linear(
        in_features, units * pieces, kernel_init=kernel_init, rngs=rngs
    )

  def __call__(self, x: jax.Array) -> jax.Array:
    z = self.linear(x)
    z = z.reshape(*z.shape[:-1], self.units, self.pieces)
    return jnp.max(z, axis=-1)


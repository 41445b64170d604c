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


def check_nhwc(x: jax.Array, channels: int, name: str = "x") -> None:
  """A clear error unless ``x`` is a batch of images ``[B, H, W, channels]``."""
  if x.ndim != 4 or x.shape[-1] != channels:
    raise ValueError(f"{name} must have shape [B, H, W, {channels}], got {x.shape}")


def check_multiple(x: jax.Array, stride: int, network: str) -> None:
  """A clear error unless the sides of the images ``x`` are multiples of ``stride``.

  Networks that downsample by ``stride`` and upsample back only return their input's size
  for such sides; the message names the next size that works.
  """
  h, w = x.shape[1:3]
  if h % stride or w % stride:
    raise ValueError(
      f"image size {h}x{w} is not a multiple of {stride}, the stride of {network} "
      f"(the next size that is: {-(-h // stride) * stride}x{-(-w // stride) * stride}): "
      f"pad or crop it"
    )


def leaky_relu(x: jax.Array) -> jax.Array:
  """LeakyReLU with the GAN papers' slope of 0.2."""
  return jax.nn.leaky_relu(x, negative_slope=LEAKY_RELU_SLOPE)


def torch_conv_padding(padding: int, ndim: int = 2) -> tuple[tuple[int, int], ...]:
  """Explicit Flax ``Conv`` padding equal to PyTorch ``Conv2d(padding=p)``.

  Flax ``Conv`` with explicit padding is the same cross-correlation as PyTorch, so the
  kernels match after transposing (O, I, H, W) -> (H, W, I, O).
  """
  return ((padding, padding),) * ndim


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
    self.linear = nnx.Linear(in_features, units * pieces, kernel_init=kernel_init, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    z = self.linear(x)
    z = z.reshape(*z.shape[:-1], self.units, self.pieces)
    return jnp.max(z, axis=-1)

"""DCGAN (Radford et al. 2015), as in the PyTorch DCGAN example, at any 2^k >= 16.

Generator (64x64 shown; ``n = log2(resolution) - 2`` stride-2 upsamplings):

    z [B, nz] -> [B, 1, 1, nz]
    ConvT 4x4 s1 VALID -> 4x4,   ngf*8, BN, ReLU
    ConvT 4x4 s2 p1    -> 8x8,   ngf*4, BN, ReLU
    ConvT 4x4 s2 p1    -> 16x16, ngf*2, BN, ReLU
    ConvT 4x4 s2 p1    -> 32x32, ngf,   BN, ReLU
    ConvT 4x4 s2 p1    -> 64x64, nc,    tanh

Discriminator:

    Conv 4x4 s2 p1 -> 32x32, ndf,   LeakyReLU(0.2)       (no BN on the first layer)
    Conv 4x4 s2 p1 -> 16x16, ndf*2, BN, LeakyReLU(0.2)
    Conv 4x4 s2 p1 -> 8x8,   ndf*4, BN, LeakyReLU(0.2)
    Conv 4x4 s2 p1 -> 4x4,   ndf*8, BN, LeakyReLU(0.2)
    Conv 4x4 s1 VALID -> 1x1, 1 logit -> [B]

No conv biases; kernels N(0, 0.02), BN scale N(1, 0.02), BN bias 0; BN momentum and
epsilon are PyTorch's defaults. Transposed convolutions are ``jaxgan.nn.ConvTranspose``:
PyTorch's ``ConvTranspose2d(4, 2, 1)`` alignment, kernels in PyTorch's orientation
(a PyTorch weight (I, O, kh, kw) loads as ``W.transpose(2, 3, 0, 1)``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from flax import nnx

from jaxgan.nn import (
  TORCH_BATCHNORM_EPSILON,
  TORCH_BATCHNORM_MOMENTUM,
  Conv,
  ConvTranspose,
  batchnorm_scale_init,
  leaky_relu,
  normal_init,
  torch_conv_padding,
)
from jaxgan.nn.norm import KeepDtypeBatchNorm
from jaxgan.nn.remat import remat_call

KERNEL_SIZE = 4
MIN_RESOLUTION = 16


def num_upsamplings(resolution: int) -> int:
  """Stride-2 layers between 4x4 and ``resolution``; ValueError if not 2^k >= 16."""
  if not isinstance(resolution, int) or resolution < MIN_RESOLUTION or resolution & (resolution - 1):
    raise ValueError(f"DCGAN resolution must be a power of two >= {MIN_RESOLUTION}, got {resolution!r}")
  return resolution.bit_length() - 1 - 2


def _batch_norm(features: int, rngs: nnx.Rngs) -> nnx.BatchNorm:
  return KeepDtypeBatchNorm(
    features,
    momentum=TORCH_BATCHNORM_MOMENTUM,
    epsilon=TORCH_BATCHNORM_EPSILON,
    scale_init=batchnorm_scale_init(),
    rngs=rngs,
  )


def _conv_transpose(cin: int, cout: int, stride: int, padding: int, rngs: nnx.Rngs):
  return ConvTranspose(
    cin, cout, KERNEL_SIZE, stride=stride, padding=padding, use_bias=False, kernel_init=normal_init(), rngs=rngs
  )


def _conv(cin: int, cout: int, stride: int, padding: int, rngs: nnx.Rngs):
  return Conv(
    cin,
    cout,
    (KERNEL_SIZE, KERNEL_SIZE),
    strides=(stride, stride),
    padding=torch_conv_padding(padding),
    use_bias=False,
    kernel_init=normal_init(),
    rngs=rngs,
  )


class DCGANGenerator(nnx.Module):
  """z ``[B, nz]`` -> images ``[B, resolution, resolution, out_channels]`` in [-1, 1]."""

  def __init__(
    self,
    *,
    resolution: int = 64,
    nz: int = 100,
    ngf: int = 64,
    out_channels: int = 3,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    n = num_upsamplings(resolution)
    self.remat = remat  # recompute each layer in the backward pass (jaxgan.nn.remat)
    self.nz = nz
    self.resolution = resolution
    # Channels at 4x4, 8x8, ... up to resolution/2: ngf*2^(n-1), ..., ngf.
    widths = [ngf * 2 ** (n - 1 - i) for i in range(n)]
    self.project = _conv_transpose(nz, widths[0], stride=1, padding=0, rngs=rngs)
    self.project_bn = _batch_norm(widths[0], rngs)
    self.ups = nnx.List(
      [_conv_transpose(a, b, stride=2, padding=1, rngs=rngs) for a, b in zip(widths[:-1], widths[1:])]
    )
    self.up_bns = nnx.List([_batch_norm(b, rngs) for b in widths[1:]])
    self.to_image = _conv_transpose(widths[-1], out_channels, stride=2, padding=1, rngs=rngs)

  def __call__(self, z: jax.Array, *, train: bool) -> jax.Array:
    if z.ndim != 2 or z.shape[-1] != self.nz:
      raise ValueError(f"z must have shape [B, {self.nz}], got {z.shape}")
    h = z.reshape(z.shape[0], 1, 1, self.nz)
    unit = functools.partial(remat_call, _conv_bn_act, enabled=self.remat, train=train, act=jax.nn.relu)
    h = unit((self.project, self.project_bn), h)
    for up, bn in zip(self.ups, self.up_bns):
      h = unit((up, bn), h)
    return jnp.tanh(self.to_image(h))


class DCGANDiscriminator(nnx.Module):
  """Images ``[B, resolution, resolution, in_channels]`` -> logits ``[B]``."""

  def __init__(
    self,
    *,
    resolution: int = 64,
    ndf: int = 64,
    in_channels: int = 3,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    n = num_upsamplings(resolution)
    self.remat = remat  # recompute each layer in the backward pass (jaxgan.nn.remat)
    self.resolution = resolution
    self.in_channels = in_channels
    widths = [in_channels] + [ndf * 2**i for i in range(n)]
    self.downs = nnx.List([_conv(a, b, stride=2, padding=1, rngs=rngs) for a, b in zip(widths[:-1], widths[1:])])
    # The first down-sampling layer has no batch norm.
    self.down_bns = nnx.List([_batch_norm(b, rngs) for b in widths[2:]])
    self.to_logit = _conv(widths[-1], 1, stride=1, padding=0, rngs=rngs)

  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    expected = (self.resolution, self.resolution, self.in_channels)
    if x.ndim != 4 or tuple(x.shape[1:]) != expected:
      raise ValueError(f"x must have shape [B, *{expected}], got {x.shape}")
    unit = functools.partial(remat_call, _conv_bn_act, enabled=self.remat, train=train, act=leaky_relu)
    h = unit((self.downs[0], None), x)
    for down, bn in zip(self.downs[1:], self.down_bns):
      h = unit((down, bn), h)
    return self.to_logit(h).reshape(x.shape[0])


# Presets: model variants as partials (pass rngs=... and any overrides).
def _conv_bn_act(layers, h, *, train, act):
  """A DCGAN layer: (transposed) convolution, batch norm (if any), activation."""
  conv, bn = layers
  h = conv(h)
  return act(h if bn is None else bn(h, use_running_average=not train))


dcgan_generator_32 = functools.partial(DCGANGenerator, resolution=32)
dcgan_generator_64 = functools.partial(DCGANGenerator, resolution=64)
dcgan_generator_128 = functools.partial(DCGANGenerator, resolution=128)
dcgan_discriminator_32 = functools.partial(DCGANDiscriminator, resolution=32)
dcgan_discriminator_64 = functools.partial(DCGANDiscriminator, resolution=64)
dcgan_discriminator_128 = functools.partial(DCGANDiscriminator, resolution=128)

"""The pix2pix / CycleGAN discriminators: N-layer PatchGAN, PixelGAN, ImageGAN.

N-layer PatchGAN (the official ``NLayerDiscriminator``), on NHWC images::

    Conv 4x4 s2 p1 (in -> ndf, bias) -> LeakyReLU(0.2)
    for n in 1 .. n_layers-1: Conv 4x4 s2 p1 (-> ndf * min(2^n, 8)) -> norm -> LeakyReLU(0.2)
    Conv 4x4 s1 p1 (-> ndf * min(2^n_layers, 8)) -> norm -> LeakyReLU(0.2)
    Conv 4x4 s1 p1 (-> 1, bias)                       one logit per patch

``n_layers=3`` is the 70x70 PatchGAN (a 30x30 map of logits on 256x256 inputs),
``n_layers=1`` the 16x16 one, and ``n_layers=5`` the paper's 286x286 "ImageGAN": every
output sees the whole 256x256 image (its receptive field is larger than the image).
PixelGAN (``PixelDiscriminator``) is three 1x1 convolutions: a 1x1 receptive field.

Convolutions followed by a norm have a bias only with instance norm
(:func:`jaxgan.nn.norm.conv_bias`), and so has PixelGAN's last convolution (the official
``bias=use_bias``); the N-layer PatchGAN's first and last ones always have one. Kernels
N(0, 0.02). In pix2pix D sees ``concat(A, B)`` (6 channels for RGB pairs); in CycleGAN
one domain's images (3 channels).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
from flax import nnx

from jaxgan.models.unet import conv4x4
from jaxgan.nn import Conv, leaky_relu, normal_init
from jaxgan.nn.layers import check_nhwc
from jaxgan.nn.norm import conv_bias, make_norm
from jaxgan.nn.remat import conv_norm_act, remat_call

Layer = tuple[int, int, int]  # (kernel, stride, padding)


def receptive_field(layers: Sequence[Layer]) -> int:
  """Side of the input window one output of a stack of convolutions sees."""
  field = 1
  for kernel, stride, _ in reversed(layers):
    field = (field - 1) * stride + kernel
  return field


def output_size(size: int, layers: Sequence[Layer]) -> int:
  """Output side of a stack of convolutions for an input side ``size``."""
  for kernel, stride, padding in layers:
    size = (size + 2 * padding - kernel) // stride + 1
  return size


def patchgan_layers(n_layers: int) -> list[Layer]:
  """(kernel, stride, padding) of each convolution of an ``n_layers`` PatchGAN."""
  return [(4, 2, 1)] * n_layers + [(4, 1, 1)] * 2


class _ConvStack(nnx.Module):
  """What every discriminator here shares: its (kernel, stride, padding) layers and input check."""

  in_channels: int
  layers: tuple[Layer, ...]

  @property
  def receptive_field(self) -> int:
    return receptive_field(self.layers)

  def _check(self, x: jax.Array) -> None:
    check_nhwc(x, self.in_channels)
    size = min(x.shape[1:3])
    if output_size(size, self.layers) < 1:
      raise ValueError(f"{size}x{size} is too small for this {type(self).__name__}: its output would be empty")


class PatchGANDiscriminator(_ConvStack):
  """Images ``[B, H, W, in_channels]`` -> patch logits ``[B, H', W']``."""

  def __init__(
    self,
    *,
    in_channels: int = 6,
    ndf: int = 64,
    n_layers: int = 3,
    norm: str = "batch",
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    if not isinstance(n_layers, int) or n_layers < 1:
      raise ValueError(f"n_layers must be an integer >= 1, got {n_layers!r}")
    bias = conv_bias(norm)
    widths = [ndf * min(2**n, 8) for n in range(n_layers + 1)]
    self.in_channels = in_channels
    self.n_layers = n_layers
    self.remat = remat  # recompute each layer in the backward pass (jaxgan.nn.remat)
    self.first = conv4x4(in_channels, ndf, use_bias=True, rngs=rngs)
    self.convs = nnx.List(
      [
        conv4x4(widths[n - 1], widths[n], use_bias=bias, stride=2 if n < n_layers else 1, rngs=rngs)
        for n in range(1, n_layers + 1)
      ]
    )
    self.norms = nnx.List([make_norm(norm, widths[n], rngs) for n in range(1, n_layers + 1)])
    self.to_logits = conv4x4(widths[-1], 1, use_bias=True, stride=1, rngs=rngs)

  @property
  def layers(self) -> tuple[Layer, ...]:
    return tuple(patchgan_layers(self.n_layers))

  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    self._check(x)
    unit = functools.partial(remat_call, conv_norm_act, enabled=self.remat, train=train, act=leaky_relu)
    h = unit((self.first, None), x)
    for conv, norm in zip(self.convs, self.norms):
      h = unit((conv, norm), h)
    return self.to_logits(h)[..., 0]


class PixelDiscriminator(_ConvStack):
  """PixelGAN: 1x1 convolutions, one logit per pixel ``[B, H, W]``."""

  def __init__(self, *, in_channels: int = 6, ndf: int = 64, norm: str = "batch", remat: bool = False, rngs: nnx.Rngs):
    conv = functools.partial(Conv, kernel_size=(1, 1), kernel_init=normal_init(), rngs=rngs)
    self.in_channels = in_channels
    self.remat = remat
    self.first = conv(in_channels, ndf, use_bias=True)
    self.hidden = conv(ndf, 2 * ndf, use_bias=conv_bias(norm))
    self.norm = make_norm(norm, 2 * ndf, rngs)
    self.to_logits = conv(2 * ndf, 1, use_bias=conv_bias(norm))  # official: bias=use_bias

  layers = ((1, 1, 0),) * 3

  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    self._check(x)
    unit = functools.partial(remat_call, conv_norm_act, enabled=self.remat, train=train, act=leaky_relu)
    h = unit((self.hidden, self.norm), unit((self.first, None), x))
    return self.to_logits(h)[..., 0]


# The official --netD choices, plus the paper's 16x16 PatchGAN and 286x286 ImageGAN
# (pass rngs=... and any overrides; ``n_layers`` builds any depth).
DISCRIMINATORS = {
  "basic": functools.partial(PatchGANDiscriminator, n_layers=3),
  "n_layers": PatchGANDiscriminator,
  "pixel": PixelDiscriminator,
  "patch16": functools.partial(PatchGANDiscriminator, n_layers=1),
  "image": functools.partial(PatchGANDiscriminator, n_layers=5),
}

"""The CycleGAN ResNet generator (Zhu et al. 2017), as in the official PyTorch code.

Johnson et al.'s image-transformation network, the official ``ResnetGenerator``::

    ReflectionPad(3) -> Conv 7x7 (in_channels -> ngf) -> norm -> ReLU
    2 downsamplings:    Conv 3x3 s2 p1 (-> 2 ngf, -> 4 ngf) -> norm -> ReLU
    n_blocks ResNet blocks at 4 ngf channels, each x + block(x) with block =
        pad(1) -> Conv 3x3 -> norm -> ReLU (-> Dropout(0.5)) -> pad(1) -> Conv 3x3 -> norm
    2 upsamplings:      ConvTranspose 3x3 s2 p1 output_padding 1 (-> 2 ngf, -> ngf) -> norm -> ReLU
    ReflectionPad(3) -> Conv 7x7 (ngf -> out_channels, bias) -> tanh

The blocks pad with ``padding_type`` (``reflect``, ``replicate`` or ``zero``; see
:mod:`jaxgan.nn.padding`). CycleGAN uses ``resnet_9blocks`` (256x256 images; the paper's
``resnet_6blocks`` is for 128x128) with instance norm and no dropout; pix2pix can use
them too (``--netG resnet_9blocks``).

Convolutions have a bias only with instance norm (see :func:`jaxgan.nn.norm.conv_bias`),
except the last one, which always has one. Kernels N(0, 0.02), biases 0, batch-norm
scale N(1, 0.02). Transposed convolutions are :class:`jaxgan.nn.ConvTranspose` (kernels
stored in PyTorch's orientation).

Image sides must be multiples of 4 (the official data pipeline makes them so): the
official network maps a side ``n`` to ``4 ceil(n / 4)``, so other sizes would come out
resized; here they raise a ``ValueError``. With reflection padding in the blocks the
sides must also be at least 8 (PyTorch cannot reflect-pad the 1x1 bottleneck of 4x4
images).

Call ``G(x, train=..., key=...)``: ``train`` selects batch statistics in batch norm
(instance norm is the same in both modes); dropout (only with ``use_dropout``) is on
exactly when a ``key`` is given.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from flax import nnx

from jaxgan.nn import Conv, ConvTranspose, normal_init, torch_conv_padding
from jaxgan.nn.layers import check_multiple, check_nhwc
from jaxgan.nn.norm import conv_bias, make_norm
from jaxgan.nn.padding import check_padding, pad, reflect_pad
from jaxgan.nn.remat import block_call, conv_norm_act, remat_call

N_DOWNSAMPLING = 2
OUTER_KERNEL = 7  # the first and last convolutions, each after a ReflectionPad(3)
DROPOUT_RATE = 0.5


def resnet_stride() -> int:
  """Input sides must be multiples of this (each downsampling halves them)."""
  return 2**N_DOWNSAMPLING


def _conv(
  cin: int, cout: int, kernel: int, *, use_bias: bool, rngs: nnx.Rngs, stride: int = 1, padding: int = 0
) -> nnx.Conv:
  return Conv(
    cin,
    cout,
    (kernel, kernel),
    strides=(stride, stride),
    padding=torch_conv_padding(padding),
    use_bias=use_bias,
    kernel_init=normal_init(),
    rngs=rngs,
  )


def _dropout(h: jax.Array, key: jax.Array) -> jax.Array:
  keep = jax.random.bernoulli(key, 1.0 - DROPOUT_RATE, h.shape)
  return jnp.where(keep, h / (1.0 - DROPOUT_RATE), 0.0)


class ResnetBlock(nnx.Module):
  """The official ``ResnetBlock``: ``x + conv_block(x)`` at ``dim`` channels."""

  def __init__(self, dim: int, *, norm: str, padding_type: str, use_dropout: bool, use_bias: bool, rngs: nnx.Rngs):
    self.padding_type = check_padding(padding_type)
    self.use_dropout = use_dropout
    self.conv1 = _conv(dim, dim, 3, use_bias=use_bias, rngs=rngs)
    self.norm1 = make_norm(norm, dim, rngs)
    self.conv2 = _conv(dim, dim, 3, use_bias=use_bias, rngs=rngs)
    self.norm2 = make_norm(norm, dim, rngs)

  def __call__(self, x: jax.Array, key: jax.Array | None = None, *, train: bool) -> jax.Array:
    h = jax.nn.relu(self.norm1(self.conv1(pad(x, 1, self.padding_type)), train=train))
    if self.use_dropout and key is not None:
      h = _dropout(h, key)
    h = self.norm2(self.conv2(pad(h, 1, self.padding_type)), train=train)
    return x + h


class ResnetGenerator(nnx.Module):
  """Images ``[B, H, W, in_channels]`` -> ``[B, H, W, out_channels]`` in [-1, 1].

  ``H`` and ``W`` must be multiples of 4 (and at least 8 with reflection padding).
  """

  def __init__(
    self,
    *,
    in_channels: int = 3,
    out_channels: int = 3,
    ngf: int = 64,
    norm: str = "instance",
    use_dropout: bool = False,
    n_blocks: int = 9,
    padding_type: str = "reflect",
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    if not isinstance(n_blocks, int) or n_blocks < 0:
      raise ValueError(f"n_blocks must be an integer >= 0, got {n_blocks!r}")
    bias = conv_bias(norm)
    check_padding(padding_type)
    self.in_channels = in_channels
    self.n_blocks = n_blocks
    self.padding_type = padding_type
    self.use_dropout = use_dropout
    self.remat = remat  # recompute each block in the backward pass (jaxgan.nn.remat)
    widths = [ngf * 2**i for i in range(N_DOWNSAMPLING + 1)]  # ngf, 2 ngf, 4 ngf
    self.first = _conv(in_channels, ngf, OUTER_KERNEL, use_bias=bias, rngs=rngs)
    self.first_norm = make_norm(norm, ngf, rngs)
    self.downs = nnx.List(
      [_conv(widths[i], widths[i + 1], 3, stride=2, padding=1, use_bias=bias, rngs=rngs) for i in range(N_DOWNSAMPLING)]
    )
    self.down_norms = nnx.List([make_norm(norm, widths[i + 1], rngs) for i in range(N_DOWNSAMPLING)])
    self.blocks = nnx.List(
      [
        ResnetBlock(widths[-1], norm=norm, padding_type=padding_type, use_dropout=use_dropout, use_bias=bias, rngs=rngs)
        for _ in range(n_blocks)
      ]
    )
    # Upsampling i goes from widths[-1 - i] to widths[-2 - i] channels.
    self.ups = nnx.List(
      [
        ConvTranspose(
          widths[-1 - i],
          widths[-2 - i],
          3,
          stride=2,
          padding=1,
          output_padding=1,
          use_bias=bias,
          kernel_init=normal_init(),
          rngs=rngs,
        )
        for i in range(N_DOWNSAMPLING)
      ]
    )
    self.up_norms = nnx.List([make_norm(norm, widths[-2 - i], rngs) for i in range(N_DOWNSAMPLING)])
    self.last = _conv(ngf, out_channels, OUTER_KERNEL, use_bias=True, rngs=rngs)

  @property
  def stride(self) -> int:
    return resnet_stride()

  @property
  def min_size(self) -> int:
    """Smallest image side: the 1x1 bottleneck of 4x4 images cannot be reflect-padded."""
    return 2 * self.stride if self.n_blocks and self.padding_type == "reflect" else self.stride

  def _check(self, x: jax.Array) -> None:
    check_nhwc(x, self.in_channels)
    check_multiple(x, self.stride, "the ResNet generator (the official network returns the next size)")
    h, w = x.shape[1:3]
    if min(h, w) < self.min_size:
      raise ValueError(
        f"image size {h}x{w} is too small for the ResNet generator with "
        f"{self.padding_type} padding: sides must be at least {self.min_size}"
      )

  def __call__(self, x: jax.Array, *, train: bool, key: jax.Array | None = None) -> jax.Array:
    self._check(x)
    pad_outer = (OUTER_KERNEL - 1) // 2
    unit = functools.partial(remat_call, conv_norm_act, enabled=self.remat, train=train, act=jax.nn.relu)
    h = unit((self.first, self.first_norm), reflect_pad(x, pad_outer))
    for conv, norm in zip(self.downs, self.down_norms):
      h = unit((conv, norm), h)
    keys = jax.random.split(key, self.n_blocks) if key is not None and self.use_dropout else [None] * self.n_blocks
    for block, k in zip(self.blocks, keys):
      h = remat_call(block_call, block, h, k, enabled=self.remat, train=train)
    for conv, norm in zip(self.ups, self.up_norms):
      h = unit((conv, norm), h)
    return jnp.tanh(self.last(reflect_pad(h, pad_outer)))


resnet_9blocks = functools.partial(ResnetGenerator, n_blocks=9)
resnet_6blocks = functools.partial(ResnetGenerator, n_blocks=6)
GENERATORS = {"resnet_9blocks": resnet_9blocks, "resnet_6blocks": resnet_6blocks}

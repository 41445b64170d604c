"""Image transformation networks of Johnson et al. 2016 (perceptual losses), NHWC.

One residual architecture serves fast style transfer and Johnson's super-resolution::

    ReflectionPad(4) -> Conv 9x9 (in -> c) -> norm -> ReLU
    n_down times:   ReflectionPad(1) -> Conv 3x3 s2 (doubling the channels) -> norm -> ReLU
    n_blocks residual blocks, each h + [pad1 Conv3x3 -> norm -> ReLU -> pad1 Conv3x3 -> norm](h)
    n_up times:     upsample x2 (halving the channels back to c, then staying at c) -> norm -> ReLU
    ReflectionPad(4) -> Conv 9x9 (c -> out)  -> output activation

Every convolution has a bias and every one but the last is followed by the norm and a
ReLU (none after the residual sum). Reflection padding everywhere, as the PyTorch
``fast_neural_style`` example (the paper pads the input by 40 pixels instead and uses
unpadded convolutions in the residual blocks, cropping the skip; this keeps the size).

Upsampling (``upsample``):

* ``'nearest'``: nearest-neighbour x2, then ReflectionPad(1) + Conv 3x3 (the PyTorch
  example's ``UpsampleConvLayer``, free of checkerboard artefacts);
* ``'transpose'``: ``ConvTranspose2d(3, stride=2, padding=1, output_padding=1)``,
  the paper's "fractionally-strided convolution with stride 1/2" (jcjohnson's
  ``fast-neural-style`` ``u`` layer). Both have the same parameters.

Norms (``norm``): ``'instance'`` (affine ``InstanceNorm2d``, Ulyanov et al., as in the
PyTorch example and Johnson's later code) or ``'batch'`` (the paper's batch norm:
PyTorch's ``BatchNorm2d`` defaults, ``jaxgan.models.srresnet.TorchBatchNorm``).
Both have a scale and a bias per channel, so the counts do not depend on the choice.

Presets and their parameter counts (measured here with ``jax.eval_shape``):

* :data:`style_transformer` (c = 32, 2 down, 5 blocks at 128, 2 nearest upsamplings,
  instance norm): **1,679,235**, the PyTorch example's ``TransformerNet``. Input sides
  must be multiples of 4 (each stride-2 convolution maps n to ceil(n / 2), so other
  sizes would not come back) and at least 8; other sizes raise ``ValueError``.
* :data:`johnson_sr_x4` / :data:`johnson_sr_x8` (the paper's supplementary: c = 64, no
  downsampling, 4 residual blocks, log2(f) stride-1/2 convolutions at 64 channels,
  batch norm): **401,859** (x4) and **438,915** (x8); ``norm='instance'`` or
  ``upsample='nearest'`` leave them unchanged. LR input sides must be at least 5.

Value ranges (``output``): ``'tanh'`` (default) ends with ``tanh``, so outputs lie in
[-1, 1], the paper's "scaled tanh" rescaled to this library's image range; ``'none'``
leaves the last convolution linear, as the PyTorch example (which works in 0..255 and
clamps when saving). Style networks take and return images in [-1, 1]; the SR presets
take LR images in [0, 1] and return HR images in [-1, 1], the convention of
:mod:`jaxgan.models.srresnet` and :mod:`jaxgan.data.hr_crops` (with instance norm right
after the first convolution the input's scale and offset hardly matter).

Initialisation: Flax's defaults (LeCun-normal kernels, zero biases); the paper does
not specify one. Call ``net(x, train=...)``: ``train`` selects batch statistics in batch
norm; instance norm is the same in both modes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
from flax import nnx

from jaxgan.models.srresnet import TorchBatchNorm
from jaxgan.nn import Conv, ConvTranspose
from jaxgan.nn.layers import check_multiple, check_nhwc
from jaxgan.nn.norm import InstanceNorm
from jaxgan.nn.padding import reflect_pad
from jaxgan.nn.remat import block_call, conv_norm_act, remat_call

OUTER_KERNEL = 9
NORMS: dict[str, Callable[..., nnx.Module]] = {
  "instance": functools.partial(InstanceNorm, affine=True),
  "batch": TorchBatchNorm,
}
UPSAMPLES = ("nearest", "transpose")
OUTPUTS: dict[str, Callable[[jax.Array], jax.Array]] = {
  "tanh": jnp.tanh,
  "none": lambda x: x,
}


def _choice(name: str, value, choices) -> str:
  if value not in choices:
    raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
  return value


def _count(name: str, value, minimum: int = 0) -> int:
  if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
    raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
  return value


class ConvLayer(nnx.Module):
  """``ReflectionPad2d(k // 2)`` then ``Conv2d(k, stride)`` with a bias (the example's ``ConvLayer``)."""

  def __init__(self, cin: int, cout: int, kernel: int, *, stride: int = 1, rngs: nnx.Rngs):
    self.pad = kernel // 2
    self.conv = Conv(cin, cout, (kernel, kernel), strides=(stride, stride), padding="VALID", rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    return self.conv(reflect_pad(x, self.pad))


class UpsampleLayer(nnx.Module):
  """x2 upsampling: nearest + ConvLayer 3x3, or a 3x3 stride-2 transposed convolution."""

  def __init__(self, cin: int, cout: int, *, mode: str, rngs: nnx.Rngs):
    self.mode = _choice("upsample", mode, UPSAMPLES)
    if mode == "nearest":
      self.conv = ConvLayer(cin, cout, 3, rngs=rngs)
    else:
      self.conv = ConvTranspose(
        cin, cout, 3, stride=2, padding=1, output_padding=1, kernel_init=nnx.initializers.lecun_normal(), rngs=rngs
      )

  def __call__(self, x: jax.Array) -> jax.Array:
    if self.mode == "nearest":
      x = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)
    return self.conv(x)


class ResidualBlock(nnx.Module):
  """``h + norm(conv(relu(norm(conv(h)))))``, 3x3 reflection-padded convolutions."""

  def __init__(self, channels: int, *, norm: str, rngs: nnx.Rngs):
    self.conv1 = ConvLayer(channels, channels, 3, rngs=rngs)
    self.norm1 = NORMS[norm](channels, rngs=rngs)
    self.conv2 = ConvLayer(channels, channels, 3, rngs=rngs)
    self.norm2 = NORMS[norm](channels, rngs=rngs)

  def __call__(self, h: jax.Array, *, train: bool) -> jax.Array:
    y = jax.nn.relu(self.norm1(self.conv1(h), train=train))
    return h + self.norm2(self.conv2(y), train=train)


class TransformerNet(nnx.Module):
  """Images ``[B, H, W, in_channels]`` -> ``[B, H f, W f, out_channels]``, ``f = 2^(n_up - n_down)``.

  Args:
    channels: width ``c`` of the first convolution; each downsampling doubles it.
    n_down: stride-2 convolutions (input sides must be multiples of ``2^n_down``).
    n_blocks: residual blocks at ``c 2^n_down`` channels.
    n_up: x2 upsamplings (at least ``n_down``); they halve the channels back to ``c``.
    norm: ``'instance'`` (affine) or ``'batch'``.
    upsample: ``'nearest'`` (upsample + conv) or ``'transpose'`` (stride-1/2 conv).
    output: ``'tanh'`` (outputs in [-1, 1]) or ``'none'`` (linear).
  """

  def __init__(
    self,
    *,
    in_channels: int = 3,
    out_channels: int = 3,
    channels: int = 32,
    n_down: int = 2,
    n_blocks: int = 5,
    n_up: int = 2,
    norm: str = "instance",
    upsample: str = "nearest",
    output: str = "tanh",
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    _count("channels", channels, 1)
    self.remat = remat  # recompute each layer and block in the backward pass (jaxgan.nn.remat)
    self.n_down = _count("n_down", n_down)
    self.n_blocks = _count("n_blocks", n_blocks)
    self.n_up = _count("n_up", n_up)
    if n_up < n_down:
      raise ValueError(f"n_up ({n_up}) must be at least n_down ({n_down}): the network does not shrink images")
    _choice("norm", norm, NORMS)
    _choice("upsample", upsample, UPSAMPLES)
    self.output = _choice("output", output, OUTPUTS)
    self.in_channels = in_channels
    make_norm = NORMS[norm]
    down_widths = [channels * 2**i for i in range(n_down + 1)]
    up_widths = [channels * 2 ** max(n_down - 1 - i, 0) for i in range(n_up)]
    self.first = ConvLayer(in_channels, channels, OUTER_KERNEL, rngs=rngs)
    self.first_norm = make_norm(channels, rngs=rngs)
    self.downs = nnx.List(
      [ConvLayer(down_widths[i], down_widths[i + 1], 3, stride=2, rngs=rngs) for i in range(n_down)]
    )
    self.down_norms = nnx.List([make_norm(w, rngs=rngs) for w in down_widths[1:]])
    self.blocks = nnx.List([ResidualBlock(down_widths[-1], norm=norm, rngs=rngs) for _ in range(n_blocks)])
    self.ups = nnx.List(
      [
        UpsampleLayer(cin, cout, mode=upsample, rngs=rngs)
        for cin, cout in zip([down_widths[-1]] + up_widths[:-1], up_widths)
      ]
    )
    self.up_norms = nnx.List([make_norm(w, rngs=rngs) for w in up_widths])
    self.last = ConvLayer(([down_widths[-1]] + up_widths)[-1], out_channels, OUTER_KERNEL, rngs=rngs)

  @property
  def factor(self) -> int:
    """Output side / input side."""
    return 2 ** (self.n_up - self.n_down)

  @property
  def stride(self) -> int:
    """Input sides must be multiples of this."""
    return 2**self.n_down

  @property
  def min_size(self) -> int:
    """Smallest input side: every reflection padding needs a side larger than the pad."""
    smallest = OUTER_KERNEL // 2 + 1
    if self.n_blocks:  # the blocks reflect-pad the bottleneck by 1
      smallest = max(smallest, 2 * self.stride)
    return max(smallest, self.stride)

  def _check(self, x: jax.Array) -> None:
    check_nhwc(x, self.in_channels)
    check_multiple(x, self.stride, f"this TransformerNet ({self.n_down} stride-2 convolutions)")
    h, w = x.shape[1:3]
    if min(h, w) < self.min_size:
      raise ValueError(
        f"image size {h}x{w} is too small for this TransformerNet: sides must be "
        f"at least {self.min_size} (reflection padding)"
      )

  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    self._check(x)
    unit = functools.partial(remat_call, conv_norm_act, enabled=self.remat, train=train, act=jax.nn.relu)
    h = unit((self.first, self.first_norm), x)
    for conv, norm in zip(self.downs, self.down_norms):
      h = unit((conv, norm), h)
    for block in self.blocks:
      h = remat_call(block_call, block, h, enabled=self.remat, train=train)
    for up, norm in zip(self.ups, self.up_norms):
      h = unit((up, norm), h)
    return OUTPUTS[self.output](self.last(h))


def johnson_sr(factor: int, **overrides) -> TransformerNet:
  """Johnson et al.'s x``factor`` super-resolution network (a power of 2 >= 2); pass rngs=..."""
  if isinstance(factor, bool) or not isinstance(factor, int) or factor < 2 or factor & (factor - 1):
    raise ValueError(f"factor must be a power of 2 (2, 4, 8, ...), got {factor!r}")
  kwargs = {
    "channels": 64,
    "n_down": 0,
    "n_blocks": 4,
    "n_up": int(math.log2(factor)),
    "norm": "batch",
    "upsample": "transpose",
    **overrides,
  }
  return TransformerNet(**kwargs)


# Presets (pass rngs=... and any overrides).
style_transformer = functools.partial(
  TransformerNet, channels=32, n_down=2, n_blocks=5, n_up=2, norm="instance", upsample="nearest"
)
johnson_sr_x4 = functools.partial(johnson_sr, 4)
johnson_sr_x8 = functools.partial(johnson_sr, 8)
PRESETS = {"style_transformer": style_transformer, "johnson_sr_x4": johnson_sr_x4, "johnson_sr_x8": johnson_sr_x8}

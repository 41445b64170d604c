"""SinGAN's per-scale generator and discriminator (Shaham et al. 2019, official code).

Both are five 3x3 convolutions without padding (the official ``num_layer=5``,
``ker_size=3``, ``padd_size=0``)::

    head:  Conv 3x3 (channels -> nfc) -> BatchNorm -> LeakyReLU(0.2)
    body:  3 x [Conv 3x3 (-> max(nfc / 2^(i+1), min_nfc)) -> BatchNorm -> LeakyReLU(0.2)]
    tail:  Conv 3x3 (-> channels) -> tanh        (generator)
           Conv 3x3 (-> 1)                       (discriminator: a WGAN critic map)

so each shrinks its input by 10 pixels per side pair (receptive field 11). The generator is
residual: ``G(z, prev) = tail(...(z)) + prev`` with ``prev`` cropped by 5 pixels on each side;
callers pass ``z`` and ``prev`` already zero-padded by :data:`PAD` pixels (the official
``m_noise`` / ``m_image``). The official defaults ``nfc = min_nfc = 32`` doubling every
:data:`SCALES_PER_DOUBLING` scales up to :data:`MAX_NFC` make every layer ``nfc`` wide
(:func:`channels_at_scale`): G 29,763 / D 29,185 parameters at 32 channels, 114,819 / 113,665
at 64 and 450,819 / 448,513 at 128.

Initialisation as the official ``weights_init``: conv kernels N(0, 0.02), batch-norm scale
N(1, 0.02) and bias 0; conv biases keep PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
Batch norm uses batch statistics when ``train`` (the scale being trained) and running
statistics otherwise (the official code switches finished scales to ``eval()``).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from flax import nnx

from jaxgan.nn import Conv, leaky_relu, normal_init
from jaxgan.nn.layers import check_nhwc
from jaxgan.nn.norm import BatchNorm
from jaxgan.nn.remat import block_call, remat_call

NUM_LAYER = 5
KERNEL = 3
PAD = (KERNEL - 1) * NUM_LAYER // 2  # 5: the zero padding of noise and image inputs
RECEPTIVE_FIELD = KERNEL + (KERNEL - 1) * (NUM_LAYER - 1)  # 11
NFC = 32
MIN_NFC = 32
MAX_NFC = 128
SCALES_PER_DOUBLING = 4


def channels_at_scale(scale: int, *, nfc: int = NFC, min_nfc: int = MIN_NFC) -> tuple[int, int]:
  """The official ``(nfc, min_nfc)`` of scale ``scale`` (0 = coarsest): x2 every 4 scales, <= 128."""
  if scale < 0:
    raise ValueError(f"scale must be >= 0, got {scale}")
  factor = 2 ** (scale // SCALES_PER_DOUBLING)
  return min(nfc * factor, MAX_NFC), min(min_nfc * factor, MAX_NFC)


def layer_widths(nfc: int, min_nfc: int, num_layer: int = NUM_LAYER) -> list[int]:
  """Output channels of the head and body convolutions (the official ``max(N, min_nfc)``)."""
  widths = [nfc]
  for i in range(num_layer - 2):
    widths.append(max(int(nfc / 2 ** (i + 1)), min_nfc))
  return widths


def _torch_bias_init(fan_in: int):
  bound = 1.0 / math.sqrt(fan_in)

  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -bound, bound)

  return init


def _conv(cin: int, cout: int, rngs: nnx.Rngs) -> nnx.Conv:
  return Conv(
    cin,
    cout,
    (KERNEL, KERNEL),
    padding="VALID",
    kernel_init=normal_init(),
    bias_init=_torch_bias_init(cin * KERNEL * KERNEL),
    rngs=rngs,
  )


class ConvBlock(nnx.Module):
  """Conv 3x3 (no padding) -> BatchNorm -> LeakyReLU(0.2)."""

  def __init__(self, cin: int, cout: int, *, rngs: nnx.Rngs):
    self.conv = _conv(cin, cout, rngs)
    self.norm = BatchNorm(cout, rngs=rngs)

  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    return leaky_relu(self.norm(self.conv(x), train=train))


class _Trunk(nnx.Module):
  """Head and body blocks shared by G and D."""

  def __init__(self, channels: int, nfc: int, min_nfc: int, num_layer: int, remat: bool, rngs: nnx.Rngs):
    if num_layer < 2:
      raise ValueError(f"num_layer must be >= 2, got {num_layer}")
    widths = layer_widths(nfc, min_nfc, num_layer)
    self.channels = channels
    self.num_layer = num_layer
    self.remat = remat  # recompute each block in the backward pass (jaxgan.nn.remat)
    self.blocks = nnx.List([ConvBlock(cin, cout, rngs=rngs) for cin, cout in zip([channels] + widths[:-1], widths)])
    self.out_width = widths[-1]

  @property
  def shrink(self) -> int:
    """Pixels lost per spatial dimension (both sides together)."""
    return (KERNEL - 1) * self.num_layer

  def _check(self, x: jax.Array, name: str) -> None:
    check_nhwc(x, self.channels, name)
    if min(x.shape[1:3]) <= self.shrink:
      raise ValueError(
        f"{name} of size {x.shape[1]}x{x.shape[2]} is too small: the "
        f"{self.num_layer} unpadded 3x3 convolutions need sides > {self.shrink}"
      )

  def features(self, x: jax.Array, *, train: bool) -> jax.Array:
    for block in self.blocks:
      x = remat_call(block_call, block, x, enabled=self.remat, train=train)
    return x


class SinGANGenerator(_Trunk):
  """``G(z, prev) = tanh(convs(z)) + crop(prev)``; ``z`` and ``prev`` padded by :data:`PAD`."""

  def __init__(
    self,
    *,
    channels: int = 3,
    nfc: int = NFC,
    min_nfc: int = MIN_NFC,
    num_layer: int = NUM_LAYER,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    super().__init__(channels, nfc, min_nfc, num_layer, remat, rngs)
    self.tail = _conv(self.out_width, channels, rngs)

  def __call__(self, z: jax.Array, prev: jax.Array, *, train: bool) -> jax.Array:
    self._check(z, "z")
    if prev.shape != z.shape:
      raise ValueError(f"prev must have the shape of z {z.shape}, got {prev.shape}")
    x = jnp.tanh(self.tail(self.features(z, train=train)))
    c = (z.shape[1] - x.shape[1]) // 2
    return x + prev[:, c : prev.shape[1] - c, c : prev.shape[2] - c, :]


class SinGANDiscriminator(_Trunk):
  """The official ``WDiscriminator``: images -> a map of critic values (``H-10 x W-10``)."""

  def __init__(
    self,
    *,
    channels: int = 3,
    nfc: int = NFC,
    min_nfc: int = MIN_NFC,
    num_layer: int = NUM_LAYER,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    super().__init__(channels, nfc, min_nfc, num_layer, remat, rngs)
    self.tail = _conv(self.out_width, 1, rngs)

  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    self._check(x, "x")
    return self.tail(self.features(x, train=train))


def generator_at_scale(scale: int, *, nfc: int = NFC, min_nfc: int = MIN_NFC, **kw):
  """A constructor (``rngs=...`` still to pass) for scale ``scale``'s generator."""
  width, min_width = channels_at_scale(scale, nfc=nfc, min_nfc=min_nfc)
  return functools.partial(SinGANGenerator, nfc=width, min_nfc=min_width, **kw)


def discriminator_at_scale(scale: int, *, nfc: int = NFC, min_nfc: int = MIN_NFC, **kw):
  width, min_width = channels_at_scale(scale, nfc=nfc, min_nfc=min_nfc)
  return functools.partial(SinGANDiscriminator, nfc=width, min_nfc=min_width, **kw)

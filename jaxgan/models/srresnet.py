"""SRResNet generator and SRGAN discriminator (Ledig et al. 2017, Fig. 4), NHWC.

Generator (``k`` kernel, ``n`` channels, ``s`` stride; "same" zero padding everywhere)::

    Conv k9n64s1 -> PReLU                                     = x0
    B = 16 residual blocks, each  h + [Conv k3n64s1 -> BN -> PReLU -> Conv k3n64s1 -> BN](h)
    Conv k3n64s1 -> BN, + x0                                  (the long skip)
    log2(scale) times: Conv k3n256s1 -> PixelShuffle x2 -> PReLU
    Conv k9n3s1                                               (linear output)

Discriminator (LeakyReLU slope 0.2, 3x3 kernels, padding 1)::

    Conv n64s1 -> LReLU
    7 blocks Conv -> BN -> LReLU, (n, s) = (64, 2), (128, 1), (128, 2), (256, 1),
                                           (256, 2), (512, 1), (512, 2)
    Dense 1024 -> LReLU -> Dense 1        (a logit: the paper's sigmoid belongs to the loss)

Parameter counts (trainable: kernels, biases, BN scale and bias, PReLU slopes):

* SRResNet x4: **1,549,462**. This is the count with a bias in every convolution
  (also the ones followed by BN) and a *single-parameter* PReLU in each of its 19
  places, as in the widely used PyTorch ports (``nn.PReLU()``). One slope per channel
  (``prelu_per_channel=True``) gives 1,550,659 (64 instead of 1 for each of the 19).
  x2: 1,401,749; x8: 1,697,175 (each stage is 147,713 parameters).
* SRGAN discriminator at 96x96 inputs: **23,565,505**, again with a bias in every
  convolution (23,563,649 without the 1,856 biases of the seven convolutions under
  BN). The dense layer flattens the last ``ceil(H / 16) x ceil(W / 16) x 512``
  feature map (6x6x512 for the paper's 96x96 HR crops), so the count depends on the
  input size: the discriminator is built for one ``image_size`` and refuses others.

Value ranges, following the paper ("we scaled the range of the LR input images to
[0, 1] and for the HR images to [-1, 1]"; the MSE is computed on images in [-1, 1]):
the generator takes LR images in **[0, 1]** and returns HR images in **[-1, 1]**
scale with no final activation (the paper's network ends with a plain convolution; some
ports add a tanh). The discriminator sees HR images (real or generated) in [-1, 1].
:mod:`jaxgan.data.hr_crops` makes ``{'lr': [0, 1], 'hr': [-1, 1]}`` examples.

Batch norm is PyTorch's ``BatchNorm2d`` (momentum 0.1, eps 1e-5, scale 1, bias 0):
call the networks with ``train=True`` for batch statistics, ``train=False`` for the
running ones. The paper does not state an initialisation: kernels and dense weights
use Flax's defaults (LeCun normal), biases zero.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import jax
from flax import nnx

from jaxgan.nn import Conv, leaky_relu, torch_conv_padding
from jaxgan.nn.norm import BatchNorm
from jaxgan.nn.pixel_shuffle import PReLU, pixel_shuffle
from jaxgan.nn.remat import block_call, conv_norm_act, remat_call

SRRESNET_CHANNELS = 64
SRRESNET_BLOCKS = 16
UPSAMPLE_FACTOR = 2  # each stage: Conv k3n256 -> PixelShuffle x2
SCALES = (2, 4, 8)  # the presets; any power of 2 >= 2 works
DISCRIMINATOR_CHANNELS = 64
# (channels, stride) of the conv-BN-LeakyReLU blocks after the first convolution.
DISCRIMINATOR_BLOCKS: tuple[tuple[int, int], ...] = (
  (64, 2),
  (128, 1),
  (128, 2),
  (256, 1),
  (256, 2),
  (512, 1),
  (512, 2),
)
DISCRIMINATOR_DENSE = 1024
HR_CROP_SIZE = 96  # the paper's HR training crops


# ``torch.nn.BatchNorm2d`` defaults (momentum 0.1, eps 1e-5, scale 1, bias 0); ``(x, *, train)``.
TorchBatchNorm = functools.partial(BatchNorm, scale_init=nnx.initializers.ones)


def _conv(cin: int, cout: int, kernel: int, *, rngs: nnx.Rngs, stride: int = 1) -> nnx.Conv:
  """``Conv2d(cin, cout, kernel, stride, padding=kernel // 2)`` with a bias."""
  return Conv(cin, cout, (kernel, kernel), strides=(stride, stride), padding=torch_conv_padding(kernel // 2), rngs=rngs)


def check_scale(scale) -> int:
  """``scale`` as an int; a ``ValueError`` naming it unless it is a power of 2 (>= 2)."""
  if isinstance(scale, bool) or not isinstance(scale, int) or scale < 2 or scale & (scale - 1):
    raise ValueError(f"scale must be a power of 2 (2, 4, 8, ...), got {scale!r}")
  return scale


class ResidualBlock(nnx.Module):
  """``h + BN(Conv(PReLU(BN(Conv(h)))))`` at ``channels`` channels (3x3 convolutions)."""

  def __init__(self, channels: int, *, prelu_per_channel: bool, rngs: nnx.Rngs):
    self.conv1 = _conv(channels, channels, 3, rngs=rngs)
    self.bn1 = TorchBatchNorm(channels, rngs=rngs)
    self.act = PReLU(channels if prelu_per_channel else 1)
    self.conv2 = _conv(channels, channels, 3, rngs=rngs)
    self.bn2 = TorchBatchNorm(channels, rngs=rngs)

  def __call__(self, h: jax.Array, *, train: bool) -> jax.Array:
    y = self.act(self.bn1(self.conv1(h), train=train))
    return h + self.bn2(self.conv2(y), train=train)


class UpsampleStage(nnx.Module):
  """Conv 3x3 (``channels`` -> 4 ``channels``) -> PixelShuffle x2 -> PReLU."""

  def __init__(self, channels: int, *, prelu_per_channel: bool, rngs: nnx.Rngs):
    self.conv = _conv(channels, channels * UPSAMPLE_FACTOR**2, 3, rngs=rngs)
    self.act = PReLU(channels if prelu_per_channel else 1)

  def __call__(self, h: jax.Array) -> jax.Array:
    return self.act(pixel_shuffle(self.conv(h), UPSAMPLE_FACTOR))


class SRResNet(nnx.Module):
  """LR images ``[B, h, w, in_channels]`` in [0, 1] -> HR ``[B, h s, w s, out_channels]`` ([-1, 1] scale).

  Args:
    scale: the upscaling factor, a power of 2 (the paper: 4); ``log2(scale)``
      sub-pixel stages.
    channels: width of the trunk (64).
    n_blocks: residual blocks (the paper's B = 16).
    prelu_per_channel: one PReLU slope per channel instead of one per layer (the
      default, single slope, gives the 1,549,462 parameters of x4).
  """

  def __init__(
    self,
    *,
    scale: int = 4,
    in_channels: int = 3,
    out_channels: int = 3,
    channels: int = SRRESNET_CHANNELS,
    n_blocks: int = SRRESNET_BLOCKS,
    prelu_per_channel: bool = False,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    self.scale = check_scale(scale)
    self.remat = remat  # recompute each block in the backward pass (jaxgan.nn.remat)
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, int) or n_blocks < 0:
      raise ValueError(f"n_blocks must be an integer >= 0, got {n_blocks!r}")
    self.in_channels = in_channels
    self.out_channels = out_channels
    n = channels if prelu_per_channel else 1
    self.first = _conv(in_channels, channels, 9, rngs=rngs)
    self.first_act = PReLU(n)
    self.blocks = nnx.List(
      [ResidualBlock(channels, prelu_per_channel=prelu_per_channel, rngs=rngs) for _ in range(n_blocks)]
    )
    self.trunk_conv = _conv(channels, channels, 3, rngs=rngs)
    self.trunk_bn = TorchBatchNorm(channels, rngs=rngs)
    self.upsample = nnx.List(
      [
        UpsampleStage(channels, prelu_per_channel=prelu_per_channel, rngs=rngs)
        for _ in range(int(math.log2(self.scale)))
      ]
    )
    self.last = _conv(channels, out_channels, 9, rngs=rngs)

  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    if x.ndim != 4 or x.shape[-1] != self.in_channels:
      raise ValueError(f"x must have shape [B, H, W, {self.in_channels}], got {x.shape}")
    x0 = self.first_act(self.first(x))
    h = x0
    for block in self.blocks:
      h = remat_call(block_call, block, h, enabled=self.remat, train=train)
    h = x0 + self.trunk_bn(self.trunk_conv(h), train=train)
    for stage in self.upsample:
      h = stage(h)
    return self.last(h)


def discriminator_feature_size(image_size: int) -> int:
  """Side of the discriminator's last feature map: each stride-2 block maps n -> ceil(n / 2)."""
  for _, stride in DISCRIMINATOR_BLOCKS:
    image_size = -(-image_size // stride)
  return image_size


def _image_hw(image_size: int | Sequence[int]) -> tuple[int, int]:
  hw = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
  if len(hw) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in hw):
    raise ValueError(f"image_size must be a positive int or (height, width), got {image_size!r}")
  return hw


class SRGANDiscriminator(nnx.Module):
  """HR images ``[B, H, W, in_channels]`` in [-1, 1] -> logits ``[B]``.

  Built for one input size ``image_size`` (int or (H, W); the paper's 96x96 HR crops):
  its dense layer takes the flattened ``ceil(H / 16) x ceil(W / 16) x 512`` features.
  """

  def __init__(
    self,
    *,
    image_size: int | Sequence[int] = HR_CROP_SIZE,
    in_channels: int = 3,
    channels: int = DISCRIMINATOR_CHANNELS,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    self.image_size = _image_hw(image_size)
    self.remat = remat  # recompute each layer in the backward pass (jaxgan.nn.remat)
    self.in_channels = in_channels
    widths = [channels * c // DISCRIMINATOR_CHANNELS for c, _ in DISCRIMINATOR_BLOCKS]
    self.first = _conv(in_channels, channels, 3, rngs=rngs)
    self.convs = nnx.List(
      [
        _conv(cin, cout, 3, stride=s, rngs=rngs)
        for cin, cout, (_, s) in zip([channels] + widths[:-1], widths, DISCRIMINATOR_BLOCKS)
      ]
    )
    self.norms = nnx.List([TorchBatchNorm(c, rngs=rngs) for c in widths])
    fh, fw = (discriminator_feature_size(s) for s in self.image_size)
    self.dense = nnx.Linear(fh * fw * widths[-1], DISCRIMINATOR_DENSE, rngs=rngs)
    self.to_logit = nnx.Linear(DISCRIMINATOR_DENSE, 1, rngs=rngs)

  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    h_in, w_in = self.image_size
    if x.ndim != 4 or x.shape[1:] != (h_in, w_in, self.in_channels):
      raise ValueError(
        f"this SRGAN discriminator was built for [B, {h_in}, {w_in}, "
        f"{self.in_channels}] images (its dense layer depends on the size), "
        f"got shape {x.shape}"
      )
    unit = functools.partial(remat_call, conv_norm_act, enabled=self.remat, train=train, act=leaky_relu)
    h = unit((self.first, None), x)
    for conv, norm in zip(self.convs, self.norms):
      h = unit((conv, norm), h)
    h = leaky_relu(self.dense(h.reshape(h.shape[0], -1)))
    return self.to_logit(h)[:, 0]


# Presets (pass rngs=... and any overrides).
srresnet_x2 = functools.partial(SRResNet, scale=2)
srresnet_x4 = functools.partial(SRResNet, scale=4)
srresnet_x8 = functools.partial(SRResNet, scale=8)
srgan_discriminator = functools.partial(SRGANDiscriminator, image_size=HR_CROP_SIZE)
GENERATORS = {"srresnet_x2": srresnet_x2, "srresnet_x4": srresnet_x4, "srresnet_x8": srresnet_x8}

"""The pix2pix U-Net generator (Isola et al. 2017), as in the official PyTorch code.

``num_downs`` stride-2 encoder blocks, each mirrored by a decoder block, with a skip
connection from each encoder level to its decoder level. With widths
``w = [ngf, 2 ngf, 4 ngf, 8 ngf, 8 ngf, ...]`` (``num_downs`` entries)::

    encoder block 0:      Conv 4x4 s2 p1 (in_channels -> w0)
    encoder block i > 0:  LeakyReLU(0.2) -> Conv 4x4 s2 p1 (w[i-1] -> w[i]) -> norm
                          (no norm on the innermost block)
    decoder block i:      ReLU -> ConvTranspose 4x4 s2 p1 -> norm (-> Dropout(0.5))
                          input: the innermost encoder output (innermost block), else
                          concat(skip i+1, decoder output i+1) (2 w[i] channels)
    decoder block 0:      ReLU -> ConvTranspose 4x4 s2 p1 (2 w0 -> out_channels, bias) -> tanh

``unet_256`` has 8 blocks (256x256 -> 1x1 at the bottleneck), ``unet_128`` 7. Dropout
sits in the 8ngf blocks between the 4th and the innermost (``num_downs - 5`` blocks,
the three innermost decoder blocks apart from the innermost one for unet_256).

The skip connection of block ``i > 0`` carries ``LeakyReLU(encoder output i-1)``, not
the raw encoder output: the official block applies its in-place LeakyReLU to the tensor
it then concatenates (``torch.cat([x, self.model(x)], 1)`` after ``model`` starts with
``LeakyReLU(0.2, True)``), as did the original Lua code. This network reproduces that,
so official checkpoints give the official outputs.

Convolutions have a bias only with instance norm (see :func:`jaxgan.nn.norm.conv_bias`),
except the outermost transposed convolution, which always has one. Kernels N(0, 0.02),
batch-norm scale N(1, 0.02). Transposed convolutions are :class:`jaxgan.nn.ConvTranspose`
(kernels stored in PyTorch's orientation).

With ``remat=True`` each encoder and decoder block is recomputed in the backward pass
(:func:`jaxgan.nn.remat.remat_call`): the same outputs and gradients, less memory.

Call ``G(x, train=..., key=...)``: ``train`` selects batch statistics in batch norm (the
official test script also runs in train mode unless ``--eval`` is given); dropout is on
exactly when a ``key`` is given.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from flax import nnx

from jaxgan.nn import Conv, ConvTranspose, leaky_relu, normal_init, torch_conv_padding
from jaxgan.nn.layers import check_multiple, check_nhwc
from jaxgan.nn.norm import conv_bias, make_norm
from jaxgan.nn.remat import remat_call

KERNEL_SIZE = 4
DROPOUT_RATE = 0.5
MIN_DOWNS = 5


def unet_widths(num_downs: int, ngf: int) -> list[int]:
  """Output channels of each encoder block."""
  return [ngf * min(2**i, 8) for i in range(num_downs)]


def dropout_blocks(num_downs: int) -> range:
  """Indices of the decoder blocks with dropout (the official ``num_downs - 5`` 8ngf blocks)."""
  return range(4, num_downs - 1)


def unet_stride(num_downs: int) -> int:
  """Input sides must be multiples of this (each block halves them)."""
  return 2**num_downs


def conv4x4(cin: int, cout: int, *, use_bias: bool, rngs: nnx.Rngs, stride: int = 2) -> nnx.Conv:
  """The 4x4 convolution of pix2pix / CycleGAN blocks (PyTorch padding 1, N(0, 0.02))."""
  return Conv(
    cin,
    cout,
    (KERNEL_SIZE, KERNEL_SIZE),
    strides=(stride, stride),
    padding=torch_conv_padding(1),
    use_bias=use_bias,
    kernel_init=normal_init(),
    rngs=rngs,
  )


def _conv_transpose(cin: int, cout: int, *, use_bias: bool, rngs: nnx.Rngs) -> ConvTranspose:
  return ConvTranspose(
    cin, cout, KERNEL_SIZE, stride=2, padding=1, use_bias=use_bias, kernel_init=normal_init(), rngs=rngs
  )


class UNetGenerator(nnx.Module):
  """Images ``[B, H, W, in_channels]`` -> ``[B, H, W, out_channels]`` in [-1, 1].

  ``H`` and ``W`` must be multiples of ``2**num_downs``.
  """

  def __init__(
    self,
    *,
    in_channels: int = 3,
    out_channels: int = 3,
    num_downs: int = 8,
    ngf: int = 64,
    norm: str = "batch",
    use_dropout: bool = True,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    if not isinstance(num_downs, int) or num_downs < MIN_DOWNS:
      raise ValueError(f"num_downs must be an integer >= {MIN_DOWNS}, got {num_downs!r}")
    bias = conv_bias(norm)
    w = unet_widths(num_downs, ngf)
    self.num_downs = num_downs
    self.in_channels = in_channels
    self.use_dropout = use_dropout
    self.remat = remat
    self.downs = nnx.List(
      [conv4x4(in_channels if i == 0 else w[i - 1], w[i], use_bias=bias, rngs=rngs) for i in range(num_downs)]
    )
    # Encoder norms of blocks 1 .. num_downs - 2 (none on the outermost and innermost).
    self.down_norms = nnx.List([make_norm(norm, w[i], rngs) for i in range(1, num_downs - 1)])
    innermost = num_downs - 1
    self.ups = nnx.List(
      [
        _conv_transpose(
          w[i] if i == innermost else 2 * w[i], out_channels if i == 0 else w[i - 1], use_bias=bias or i == 0, rngs=rngs
        )
        for i in range(num_downs)
      ]
    )
    # Decoder norms of blocks 1 .. num_downs - 1 (none on the outermost).
    self.up_norms = nnx.List([make_norm(norm, w[i - 1], rngs) for i in range(1, num_downs)])

  @property
  def stride(self) -> int:
    return unet_stride(self.num_downs)

  def _check(self, x: jax.Array) -> None:
    check_nhwc(x, self.in_channels)
    check_multiple(x, self.stride, f"a U-Net with {self.num_downs} downsamplings")

  def __call__(self, x: jax.Array, *, train: bool, key: jax.Array | None = None) -> jax.Array:
    self._check(x)
    n = self.num_downs
    unit = functools.partial(remat_call, enabled=self.remat, train=train)
    # Encoder: skips[i] is block i+1's input, LeakyReLU(encoder output i), as the official
    # in-place LeakyReLU leaves it; each unit maps one skip to the next (a checkpointed unit
    # keeps only its input, and the skips are kept for the decoder anyway).
    skips = [unit(_down, (self.downs[0], None), x, act=leaky_relu)]
    for i in range(1, n - 1):
      skips.append(unit(_down, (self.downs[i], self.down_norms[i - 1]), skips[-1], act=leaky_relu))
    h = unit(_down, (self.downs[n - 1], None), skips[-1], act=lambda h: h)  # the innermost block
    keys = jax.random.split(key, n) if key is not None else [None] * n
    for i in range(n - 1, 0, -1):
      drop = self.use_dropout and i in dropout_blocks(n) and keys[i] is not None
      skip = skips[i] if i < n - 1 else None  # the innermost decoder block has no skip input
      h = unit(_up, (self.ups[i], self.up_norms[i - 1]), skip, h, keys[i] if drop else None)
    return jnp.tanh(self.ups[0](jax.nn.relu(jnp.concatenate([skips[0], h], axis=-1))))


def _down(layers, h, *, train, act):
  """Encoder block: conv, norm (none on the outermost and innermost blocks), ``act``."""
  conv, norm = layers
  h = conv(h)
  return act(h if norm is None else norm(h, train=train))


def _up(layers, skip, h, key, *, train):
  """Decoder block: concatenation with the skip (if any), ReLU, transposed conv, norm, dropout
  where ``key`` is given."""
  conv, norm = layers
  if skip is not None:
    h = jnp.concatenate([skip, h], axis=-1)
  h = norm(conv(jax.nn.relu(h)), train=train)
  if key is not None:
    keep = jax.random.bernoulli(key, 1.0 - DROPOUT_RATE, h.shape)
    h = jnp.where(keep, h / (1.0 - DROPOUT_RATE), 0.0)
  return h


# Presets of the official --netG choices (pass rngs=... and any overrides).
unet_128 = functools.partial(UNetGenerator, num_downs=7)
unet_256 = functools.partial(UNetGenerator, num_downs=8)
GENERATORS = {"unet_128": unet_128, "unet_256": unet_256}

"""VGG16 / VGG19 convolutional feature extractors (Simonyan & Zisserman 2015).

The convolutional part of configurations D (VGG16) and E (VGG19) of the paper, as in
torchvision's ``vgg16`` / ``vgg19`` ``features`` and Keras' ``VGG16`` / ``VGG19`` with
``include_top=False``::

    block 1:  2 x [Conv 3x3 pad 1 (-> 64)  -> ReLU]   -> MaxPool 2x2 stride 2
    block 2:  2 x [Conv 3x3 pad 1 (-> 128) -> ReLU]   -> MaxPool 2x2 stride 2
    block 3:  3 (VGG19: 4) x [Conv 3x3 pad 1 (-> 256) -> ReLU] -> MaxPool 2x2 stride 2
    block 4:  3 (VGG19: 4) x [Conv 3x3 pad 1 (-> 512) -> ReLU] -> MaxPool 2x2 stride 2
    block 5:  3 (VGG19: 4) x [Conv 3x3 pad 1 (-> 512) -> ReLU]

Every convolution has a bias; no batch norm. Max pooling drops an odd last row / column
(PyTorch's ``MaxPool2d(2, 2)`` and Keras' ``padding='valid'``). The pooling after block
5 has no ReLU after it and is left out: the feature maps end at ``relu5_3`` / ``relu5_4``.
The convolutions hold 14,714,688 (VGG16) and 20,024,384 (VGG19) parameters.

The network returns a dict of ReLU activations named ``relu{block}_{conv}`` (the names
of Johnson et al. 2016 and of the Caffe/Torch literature: ``relu2_2`` is the output of
the second convolution of block 2, after its ReLU), and runs only as deep as the
deepest requested layer (a loss on ``relu2_2`` computes 4 convolutions, not 13).
Its parameters are stored under Keras' layer names (``convs/block1_conv1/kernel`` HWIO,
``.../bias``); :mod:`jaxgan.interop.vgg` loads the torchvision and Keras ImageNet
weights and adds each convention's input preprocessing. The network itself takes
images already preprocessed for its weights (NHWC, float).

Random initialisation (only useful for tests: a perceptual loss needs trained weights)
is torchvision's: kernels He-normal with fan-out, biases zero.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxgan.nn.conv import Conv
from jaxgan.nn.remat import conv_norm_act, remat_call

# Number of convolutions in each of the 5 blocks.
BLOCK_CONVS: dict[int, tuple[int, ...]] = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
BLOCK_WIDTHS = (64, 128, 256, 512, 512)
KERNEL_SIZE = 3
POOL = 2


def check_depth(depth: int) -> int:
  if depth not in BLOCK_CONVS:
    raise ValueError(f"VGG depth must be one of {sorted(BLOCK_CONVS)}, got {depth!r}")
  return depth


def conv_names(depth: int) -> tuple[str, ...]:
  """Keras' names of the convolutions, in order: ``block1_conv1``, ..., ``block5_conv3``."""
  return tuple(f"block{b}_conv{c}" for b, n in enumerate(BLOCK_CONVS[check_depth(depth)], 1) for c in range(1, n + 1))


def layer_names(depth: int) -> tuple[str, ...]:
  """The ReLU activations, in order: ``relu1_1``, ``relu1_2``, ..., ``relu5_3`` / ``relu5_4``."""
  return tuple(f"relu{b}_{c}" for b, n in enumerate(BLOCK_CONVS[check_depth(depth)], 1) for c in range(1, n + 1))


LAYER_NAMES: dict[int, tuple[str, ...]] = {d: layer_names(d) for d in BLOCK_CONVS}
CONV_NAMES: dict[int, tuple[str, ...]] = {d: conv_names(d) for d in BLOCK_CONVS}


def check_layers(layers: Sequence[str] | str, depth: int) -> tuple[str, ...]:
  """``layers`` as a tuple, after checking that each is a ReLU of VGG``depth``."""
  if isinstance(layers, str):
    layers = (layers,)
  layers = tuple(layers)
  valid = LAYER_NAMES[check_depth(depth)]
  unknown = [name for name in layers if name not in valid]
  if unknown:
    raise ValueError(f"unknown VGG{depth} layer(s) {unknown}; the layers are {list(valid)}")
  if not layers:
    raise ValueError("layers must name at least one VGG layer, got an empty sequence")
  return layers


def max_pool(x: jax.Array) -> jax.Array:
  """2x2 max pooling, stride 2, an odd last row / column dropped (floor mode)."""
  return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, POOL, POOL, 1), (1, POOL, POOL, 1), "VALID")


class VGG(nnx.Module):
  """The convolutional layers of VGG``depth``: images ``[B, H, W, in_channels]`` -> ReLU maps.

  ``net(x)`` returns every ReLU activation, ``net(x, layers=('relu2_2', 'relu4_3'))``
  only those (and computes nothing past the deepest one), as a dict in network order.
  ``x`` must already be preprocessed for the weights (see :mod:`jaxgan.interop.vgg`).
  A layer of block ``b`` needs image sides of at least ``2 ** (b - 1)``.
  """

  def __init__(self, *, depth: int = 16, in_channels: int = 3, dtype=None, rngs: nnx.Rngs):
    self.depth = check_depth(depth)
    self.in_channels = in_channels
    kernel_init = jax.nn.initializers.variance_scaling(2.0, "fan_out", "normal")
    convs = {}
    cin = in_channels
    for b, n in enumerate(BLOCK_CONVS[depth], 1):
      for c in range(1, n + 1):
        cout = BLOCK_WIDTHS[b - 1]
        convs[f"block{b}_conv{c}"] = Conv(
          cin,
          cout,
          (KERNEL_SIZE, KERNEL_SIZE),
          padding=((1, 1), (1, 1)),
          kernel_init=kernel_init,
          bias_init=nnx.initializers.zeros,
          dtype=dtype,
          rngs=rngs,
        )
        cin = cout
    self.convs = nnx.Dict(convs)

  @property
  def layer_names(self) -> tuple[str, ...]:
    return LAYER_NAMES[self.depth]

  def __call__(
    self, x: jax.Array, *, layers: Sequence[str] | str | None = None, remat: bool = False
  ) -> dict[str, jax.Array]:
    """``remat``: recompute each convolution in the backward pass (:mod:`jaxgan.nn.remat`)."""
    names = self.layer_names if layers is None else check_layers(layers, self.depth)
    if x.ndim != 4 or x.shape[-1] != self.in_channels:
      raise ValueError(f"x must have shape [B, H, W, {self.in_channels}], got {x.shape}")
    wanted = set(names)
    deepest = max(self.layer_names.index(name) for name in names)
    out = {}
    h = x
    i = 0
    for b, n in enumerate(BLOCK_CONVS[self.depth], 1):
      if b > 1:
        if min(h.shape[1:3]) < POOL:
          raise ValueError(
            f"images of size {x.shape[1]}x{x.shape[2]} are too small for layer "
            f"{self.layer_names[deepest]}: block {b} needs sides of at least "
            f"{POOL ** (b - 1)}"
          )
        h = max_pool(h)
      for c in range(1, n + 1):
        h = remat_call(
          conv_norm_act, (self.convs[f"block{b}_conv{c}"], None), h, enabled=remat, train=False, act=jax.nn.relu
        )
        name = f"relu{b}_{c}"
        if name in wanted:
          out[name] = h
        if i == deepest:
          return out
        i += 1
    return out


# Presets (pass rngs=...).
vgg16 = functools.partial(VGG, depth=16)
vgg19 = functools.partial(VGG, depth=19)

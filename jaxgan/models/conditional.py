"""Conditional GAN (Mirza & Osindero 2014): G(z, y) and D(x, y) for a class label y.

The condition ``y`` is a one-hot ``[B, K]`` float array; integer labels ``[B]`` are
accepted as well and converted with ``num_classes`` (see :func:`one_hot_labels`).

MLP networks (the paper's MNIST model, section 4.1)::

    G: z [B, 100] -> Linear 200 -> ReLU  ┐
       y [B, K]   -> Linear 1000 -> ReLU ┴ concat (1200) -> Linear 1200 -> ReLU
       -> Linear prod(out_shape) -> tanh -> [B, *out_shape]
    D: flatten(x) -> Maxout(240 units, 5 pieces) ┐
       y          -> Maxout(50 units, 5 pieces)  ┴ concat (290)
       -> Maxout(240 units, 4 pieces) -> Linear 1 -> logit [B]

The paper's numbers: "z with dimensionality 100 drawn from a uniform distribution
within the unit hypercube"; G maps z and y to hidden ReLU layers of sizes 200 and 1000,
then a combined ReLU layer of 1200 and a sigmoid output of 784; D maps x to a maxout
layer of 240 units and 5 pieces, y to a maxout layer of 50 units and 5 pieces, both to
a joint maxout layer of 240 units and 4 pieces and then a sigmoid output; dropout 0.5
"applied to both the generator and discriminator"; SGD, batch 100, learning rate 0.1
decayed to 1e-6 (factor 1.00004), momentum 0.5 increased to 0.7. The output here is tanh
because jaxgan images are in [-1, 1].

The simple description "y concatenated to z in G, and to the flattened image in D" is
the same model up to where the first layer sits: each branch is a linear map of its
input, and the branches join by concatenation, so the joint layer sees
``concat(f(z), g(y))``; keeping the branches separate is what gives the paper's layer
sizes and parameter counts.

Dropout (driven by the call-time ``key``; no RNG state lives in the modules):

* D: 0.2 on the image input (as in the GAN paper's pylearn2 D), 0.5 on the hidden
  layers' outputs (before the joint maxout and before the output). The one-hot label is
  not dropped by default (``label_dropout=0.0``): dropping its single non-zero entry
  would hide the condition from D; the paper does not say. All rates are arguments.
* G: the paper also uses dropout 0.5 in G, but jaxgan generators take no key by
  default; ``dropout=0.5`` turns it on (on the three hidden layers' outputs), and then
  ``key`` is required when ``train=True``.

Initialisation: the paper does not give it; the defaults are the pylearn2 ranges of
the GAN paper's MNIST model (:mod:`jaxgan.models.mlp`): U[-0.05, 0.05] in G,
U[-0.005, 0.005] in D, biases 0.

Convolutional networks: :class:`ConditionalDCGANGenerator` is the DCGAN generator fed
``concat(z, y)`` (nz + K input channels of its first transposed convolution);
:class:`ConditionalDCGANDiscriminator` is the DCGAN discriminator fed ``concat(x, y
broadcast to K constant label maps)`` (in_channels + K input channels).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxgan.models.dcgan import DCGANDiscriminator, DCGANGenerator
from jaxgan.models.mlp import DISCRIMINATOR_IRANGE, GENERATOR_IRANGE
from jaxgan.nn import Maxout, symmetric_uniform_init
from jaxgan.nn.remat import dropout_dense, remat_call


def one_hot_labels(y: jax.Array, num_classes: int, batch_size: int | None = None) -> jax.Array:
  """Integer labels ``[B]`` or one-hot ``[B, K]`` -> float32 one-hot ``[B, K]``.

  Raises ``ValueError`` for any other shape, or if ``batch_size`` is given and differs.
  """
  y = jnp.asarray(y)
  if y.ndim == 1 and jnp.issubdtype(y.dtype, jnp.integer):
    out = jax.nn.one_hot(y, num_classes, dtype=jnp.float32)
  elif y.ndim == 2 and y.shape[-1] == num_classes:
    out = y.astype(jnp.float32)
  else:
    raise ValueError(
      f"y must be integer labels [B] or one-hot [B, {num_classes}], got shape {y.shape} and dtype {y.dtype}"
    )
  if batch_size is not None and out.shape[0] != batch_size:
    raise ValueError(f"y has batch size {out.shape[0]}, expected {batch_size}")
  return out


def _dropout_keys(key: jax.Array | None, n: int, *, train: bool, needed: bool, who: str):
  if not train or not needed:
    return [None] * n
  if key is None:
    raise ValueError(f"{who} needs a dropout `key` when train=True")
  return list(jax.random.split(key, n))


class ConditionalMLPGenerator(nnx.Module):
  """``(z [B, nz], y)`` -> images ``[B, *out_shape]`` in [-1, 1]."""

  def __init__(
    self,
    *,
    nz: int = 100,
    num_classes: int = 10,
    z_hidden: int = 200,
    y_hidden: int = 1000,
    joint_hidden: int = 1200,
    out_shape: Sequence[int] = (28, 28, 1),
    dropout: float = 0.0,
    irange: float = GENERATOR_IRANGE,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    self.remat = remat  # recompute each layer in the backward pass (jaxgan.nn.remat)
    self.nz = nz
    self.num_classes = num_classes
    self.out_shape = tuple(out_shape)
    init = symmetric_uniform_init(irange)
    self.z_layer = nnx.Linear(nz, z_hidden, kernel_init=init, rngs=rngs)
    self.y_layer = nnx.Linear(num_classes, y_hidden, kernel_init=init, rngs=rngs)
    self.joint = nnx.Linear(z_hidden + y_hidden, joint_hidden, kernel_init=init, rngs=rngs)
    self.output = nnx.Linear(joint_hidden, math.prod(self.out_shape), kernel_init=init, rngs=rngs)
    # Dropout on the joint layer's input (both branches) and on the output's input.
    self.dropouts = nnx.List([nnx.Dropout(dropout) for _ in range(2)])

  def __call__(self, z: jax.Array, y: jax.Array, *, train: bool, key: jax.Array | None = None) -> jax.Array:
    """Images ``[B, *out_shape]``; ``key`` is needed only for ``train`` with dropout > 0."""
    if z.ndim != 2 or z.shape[-1] != self.nz:
      raise ValueError(f"z must have shape [B, {self.nz}], got {z.shape}")
    y = one_hot_labels(y, self.num_classes, z.shape[0]).astype(z.dtype)
    keys = _dropout_keys(key, 2, train=train, needed=self.dropouts[0].rate > 0, who="ConditionalMLPGenerator")
    h = jnp.concatenate([jax.nn.relu(self.z_layer(z)), jax.nn.relu(self.y_layer(y))], -1)
    unit = functools.partial(remat_call, dropout_dense, enabled=self.remat, train=train)
    h = unit((self.dropouts[0], self.joint), h, keys[0], act=jax.nn.relu)
    x = unit((self.dropouts[1], self.output), h, keys[1], act=jnp.tanh)
    return x.reshape(z.shape[0], *self.out_shape)


class ConditionalMLPDiscriminator(nnx.Module):
  """``(x [B, *in_shape], y)`` -> logits ``[B]``, maxout units with dropout."""

  def __init__(
    self,
    *,
    in_shape: Sequence[int] = (28, 28, 1),
    num_classes: int = 10,
    x_units: int = 240,
    x_pieces: int = 5,
    y_units: int = 50,
    y_pieces: int = 5,
    joint_units: int = 240,
    joint_pieces: int = 4,
    input_dropout: float = 0.2,
    label_dropout: float = 0.0,
    hidden_dropout: float = 0.5,
    irange: float = DISCRIMINATOR_IRANGE,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    self.remat = remat  # recompute each layer in the backward pass (jaxgan.nn.remat)
    self.in_shape = tuple(in_shape)
    self.num_classes = num_classes
    init = symmetric_uniform_init(irange)
    self.x_layer = Maxout(math.prod(self.in_shape), x_units, x_pieces, kernel_init=init, rngs=rngs)
    self.y_layer = Maxout(num_classes, y_units, y_pieces, kernel_init=init, rngs=rngs)
    self.joint = Maxout(x_units + y_units, joint_units, joint_pieces, kernel_init=init, rngs=rngs)
    self.output = nnx.Linear(joint_units, 1, kernel_init=init, rngs=rngs)
    # Dropout on the inputs of: x branch, y branch, joint layer, output layer.
    rates = (input_dropout, label_dropout, hidden_dropout, hidden_dropout)
    self.dropouts = nnx.List([nnx.Dropout(rate) for rate in rates])

  def __call__(self, x: jax.Array, y: jax.Array, *, train: bool, key: jax.Array | None = None) -> jax.Array:
    """Returns logits ``[B]``. ``key`` drives dropout and is required when training."""
    if tuple(x.shape[1:]) != self.in_shape:
      raise ValueError(f"x must have shape [B, *{self.in_shape}], got {x.shape}")
    y = one_hot_labels(y, self.num_classes, x.shape[0]).astype(x.dtype)
    keys = _dropout_keys(key, len(self.dropouts), train=train, needed=True, who="ConditionalMLPDiscriminator")
    unit = functools.partial(remat_call, dropout_dense, enabled=self.remat, train=train)
    d = self.dropouts
    hx = unit((d[0], self.x_layer), x.reshape(x.shape[0], -1), keys[0])
    hy = unit((d[1], self.y_layer), y, keys[1])
    h = unit((d[2], self.joint), jnp.concatenate([hx, hy], axis=-1), keys[2])
    return unit((d[3], self.output), h, keys[3])[:, 0]


class ConditionalDCGANGenerator(nnx.Module):
  """``(z [B, nz], y)`` -> images ``[B, resolution, resolution, out_channels]``.

  The DCGAN generator (``self.net``) with ``nz + num_classes`` input channels, applied
  to ``concat(z, y)``.
  """

  def __init__(
    self,
    *,
    resolution: int = 64,
    nz: int = 100,
    num_classes: int = 10,
    ngf: int = 64,
    out_channels: int = 3,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    self.nz = nz
    self.num_classes = num_classes
    self.resolution = resolution
    self.net = DCGANGenerator(
      resolution=resolution,
      nz=nz + num_classes,
      ngf=ngf,
      out_channels=out_channels,
      remat=remat,
      rngs=rngs,
    )

  def __call__(self, z: jax.Array, y: jax.Array, *, train: bool) -> jax.Array:
    if z.ndim != 2 or z.shape[-1] != self.nz:
      raise ValueError(f"z must have shape [B, {self.nz}], got {z.shape}")
    y = one_hot_labels(y, self.num_classes, z.shape[0]).astype(z.dtype)
    return self.net(jnp.concatenate([z, y], axis=-1), train=train)


class ConditionalDCGANDiscriminator(nnx.Module):
  """``(x [B, resolution, resolution, in_channels], y)`` -> logits ``[B]``.

  The DCGAN discriminator (``self.net``) with ``in_channels + num_classes`` input
  channels, applied to ``x`` concatenated with ``K`` constant maps holding ``y``.
  """

  def __init__(
    self,
    *,
    resolution: int = 64,
    num_classes: int = 10,
    ndf: int = 64,
    in_channels: int = 3,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    self.num_classes = num_classes
    self.resolution = resolution
    self.in_channels = in_channels
    self.net = DCGANDiscriminator(
      resolution=resolution, ndf=ndf, in_channels=in_channels + num_classes, remat=remat, rngs=rngs
    )

  def __call__(self, x: jax.Array, y: jax.Array, *, train: bool) -> jax.Array:
    expected = (self.resolution, self.resolution, self.in_channels)
    if x.ndim != 4 or tuple(x.shape[1:]) != expected:
      raise ValueError(f"x must have shape [B, *{expected}], got {x.shape}")
    y = one_hot_labels(y, self.num_classes, x.shape[0]).astype(x.dtype)
    maps = jnp.broadcast_to(y[:, None, None, :], (*x.shape[:3], self.num_classes))
    return self.net(jnp.concatenate([x, maps], axis=-1), train=train)

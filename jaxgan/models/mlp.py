"""Fully connected GAN of Goodfellow et al. 2014 for MNIST.

Sizes, activations, dropout and initial ranges follow the paper's released pylearn2
config ``adversarial/mnist.yaml``:

* G: z (nz=100) -> ReLU 1200 -> ReLU 1200 -> 784. The paper's output is a sigmoid on
  [0, 1] data; jaxgan images are in [-1, 1], so the output is tanh. Weights
  U[-0.05, 0.05], biases 0 (the paper initialises the output bias from the data's
  pixel marginals; set ``generator.output.bias`` after construction to do that).
* D: flatten -> Maxout(240 units, 5 pieces) -> Maxout(240, 5) -> Linear 1 logit.
  Weights U[-0.005, 0.005]. Dropout on the input of every layer: include probability
  0.8 on the image (rate 0.2) and 0.5 elsewhere, with pylearn2 input scales 1.25 and
  2, i.e. exactly inverted dropout as ``nnx.Dropout`` does it.

Dropout randomness: no RNG state lives in the modules. ``MLPDiscriminator.__call__``
takes ``key``, a ``jax.random`` key used (split per layer) only when ``train=True``,
so the module splits/merges into plain arrays and a pure jitted step passes a fresh
key per call (e.g. ``jax.random.fold_in(state.rng, state.step)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxgan.nn import Maxout, symmetric_uniform_init
from jaxgan.nn.remat import conv_norm_act, dropout_dense, remat_call

GENERATOR_IRANGE = 0.05
DISCRIMINATOR_IRANGE = 0.005


class MLPGenerator(nnx.Module):
  """z ``[B, nz]`` -> images ``[B, *out_shape]`` in [-1, 1]."""

  def __init__(
    self,
    *,
    nz: int = 100,
    hidden: Sequence[int] = (1200, 1200),
    out_shape: Sequence[int] = (28, 28, 1),
    irange: float = GENERATOR_IRANGE,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    self.remat = remat  # recompute each layer in the backward pass (jaxgan.nn.remat)
    self.nz = nz
    self.out_shape = tuple(out_shape)
    init = symmetric_uniform_init(irange)
    sizes = [nz, *hidden]
    self.hidden = nnx.List([nnx.Linear(a, b, kernel_init=init, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:])])
    self.output = nnx.Linear(sizes[-1], math.prod(self.out_shape), kernel_init=init, rngs=rngs)

  def __call__(self, z: jax.Array, *, train: bool) -> jax.Array:
    del train  # no train-dependent layers; kept for a uniform model interface
    if z.ndim != 2 or z.shape[-1] != self.nz:
      raise ValueError(f"z must have shape [B, {self.nz}], got {z.shape}")
    h = z
    for layer in self.hidden:
      h = remat_call(conv_norm_act, (layer, None), h, enabled=self.remat, train=True, act=jax.nn.relu)
    x = jnp.tanh(self.output(h))
    return x.reshape(z.shape[0], *self.out_shape)


class MLPDiscriminator(nnx.Module):
  """Images ``[B, *in_shape]`` -> logits ``[B]``, with maxout units and dropout."""

  def __init__(
    self,
    *,
    in_shape: Sequence[int] = (28, 28, 1),
    units: int = 240,
    pieces: int = 5,
    num_hidden: int = 2,
    input_dropout: float = 0.2,
    hidden_dropout: float = 0.5,
    irange: float = DISCRIMINATOR_IRANGE,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    self.remat = remat  # recompute each layer in the backward pass (jaxgan.nn.remat)
    self.in_shape = tuple(in_shape)
    init = symmetric_uniform_init(irange)
    sizes = [math.prod(self.in_shape)] + [units] * num_hidden
    self.hidden = nnx.List([Maxout(a, units, pieces, kernel_init=init, rngs=rngs) for a in sizes[:-1]])
    # One dropout before each layer (hidden layers and the output layer).
    rates = [input_dropout] + [hidden_dropout] * num_hidden
    self.dropouts = nnx.List([nnx.Dropout(rate) for rate in rates])
    self.output = nnx.Linear(sizes[-1], 1, kernel_init=init, rngs=rngs)

  def __call__(self, x: jax.Array, *, train: bool, key: jax.Array | None = None) -> jax.Array:
    """Returns logits ``[B]``. ``key`` drives dropout and is required when training."""
    if tuple(x.shape[1:]) != self.in_shape:
      raise ValueError(f"x must have shape [B, *{self.in_shape}], got {x.shape}")
    if train and key is None:
      raise ValueError("MLPDiscriminator needs a dropout `key` when train=True")
    keys = list(jax.random.split(key, len(self.dropouts))) if train else [None] * len(self.dropouts)
    h = x.reshape(x.shape[0], -1)
    layers = [*self.hidden, self.output]
    for dropout, layer, k in zip(self.dropouts, layers, keys):
      h = remat_call(dropout_dense, (dropout, layer), h, k, enabled=self.remat, train=train)
    return h[:, 0]

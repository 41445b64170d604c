"""Semi-supervised GAN networks for MNIST of Salimans et al. 2016 ("Improved Techniques
for Training GANs"), as in the official ``mnist_svhn_cifar10/train_mnist_feature_matching.py``.

Discriminator / classifier (every dense layer weight-normalised, see
:class:`jaxgan.nn.WeightNormDense`; direction init N(0, 0.1^2), ``g = 1``, ``b = 0``)::

    x [B, 28*28*C] -> + N(0, 0.3^2)
    -> WN Dense 1000 -> ReLU -> + N(0, 0.5^2)
    -> WN Dense  500 -> ReLU -> + N(0, 0.5^2)
    -> WN Dense  250 -> ReLU -> + N(0, 0.5^2)
    -> WN Dense  250 -> ReLU -> + N(0, 0.5^2)
    -> WN Dense  250 -> ReLU  (= the features used by feature matching) -> + N(0, 0.5^2)
    -> WN Dense K logits

With ``num_outputs = K`` (10, the default) this is the paper's K-class head whose
"fake" logit is implicitly 0 (D(x) = Z(x) / (Z(x) + 1), Z = sum exp logits);
``num_outputs = K + 1`` gives the explicit K+1-class head. The official code's
feature-matching loss matches the batch means of ``layers[-3]``, the ReLU output of the
last 250-unit layer *before* its noise layer, which is what ``return_features=True``
returns. The Gaussian noise is added only when ``train=True``, drawn from the call-time
``key`` (no RNG state lives in the module).

Differences from the official code, all deliberate:

* In the official discriminator only the output layer's ``g`` is trainable
  (``train_scale=True``); the hidden layers' ``g`` stay at the values the data-dependent
  initialisation gives them. Here every ``g`` is an ``nnx.Param``; a method that wants
  the official behaviour masks the hidden ``g`` out of its optimiser. Official trainable
  count = ``count_params(D) - sum(hidden)``.
* No data-dependent initialisation (see :mod:`jaxgan.nn.weight_norm`).
* The official inputs are pixels in [0, 1]; jaxgan's are in [-1, 1], twice the range,
  so the default input noise (std 0.3) is half as strong relative to the data; pass
  ``input_noise_std=0.6`` for the official relative strength.

Generator::

    z [B, 100] (uniform U[0, 1) in the official code; the latent distribution is the
    method's choice) -> Dense 500 (no bias) -> BatchNorm (shift only) -> softplus
    -> Dense 500 (no bias) -> BatchNorm (shift only) -> softplus
    -> WN Dense 28*28*C (``g`` trainable, ``||v||^2 + 1e-6``) -> tanh -> [B, 28, 28, C]

The official output is a sigmoid on [0, 1] pixels; jaxgan images are in [-1, 1], so it
is tanh here. The official batch norm (``nn.batch_norm(..., g=None)``) has a learned
shift and no scale, epsilon 1e-6 and running averages ``0.9 * old + 0.1 * batch``
(Flax ``momentum=0.9``); its running variance uses the unbiased batch variance where
Flax uses the biased one (only evaluation-mode outputs differ, by a factor B/(B-1)).
Dense kernels are Glorot-uniform (Lasagne's default).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxgan.nn.norm import KeepDtypeBatchNorm
from jaxgan.nn.remat import remat_call
from jaxgan.nn.weight_norm import WeightNormDense

DISCRIMINATOR_DIRECTION_STDDEV = 0.1
GENERATOR_BATCHNORM_EPSILON = 1e-6
GENERATOR_BATCHNORM_MOMENTUM = 0.9
GENERATOR_WEIGHT_NORM_EPSILON = 1e-6


def _noise_stds(
  hidden: Sequence[int], input_noise_std: float, hidden_noise_std: float | Sequence[float]
) -> tuple[float, ...]:
  if isinstance(hidden_noise_std, (int, float)):
    hidden_stds = (float(hidden_noise_std),) * len(hidden)
  else:
    hidden_stds = tuple(float(s) for s in hidden_noise_std)
    if len(hidden_stds) != len(hidden):
      raise ValueError(f"hidden_noise_std needs one value per hidden layer ({len(hidden)}), got {len(hidden_stds)}")
  return (float(input_noise_std), *hidden_stds)


class SSLMLPDiscriminator(nnx.Module):
  """Images ``[B, *in_shape]`` -> class logits ``[B, num_outputs]`` (and features)."""

  def __init__(
    self,
    *,
    in_shape: Sequence[int] = (28, 28, 1),
    hidden: Sequence[int] = (1000, 500, 250, 250, 250),
    num_outputs: int = 10,
    input_noise_std: float = 0.3,
    hidden_noise_std: float | Sequence[float] = 0.5,
    direction_stddev: float = DISCRIMINATOR_DIRECTION_STDDEV,
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    if not hidden:
      raise ValueError("SSLMLPDiscriminator needs at least one hidden layer")
    self.remat = remat  # recompute each layer in the backward pass (jaxgan.nn.remat)
    self.in_shape = tuple(in_shape)
    self.num_outputs = num_outputs
    # One noise std before every dense layer: the input's, then each hidden output's.
    self.noise_stds = _noise_stds(hidden, input_noise_std, hidden_noise_std)
    init = jax.nn.initializers.normal(direction_stddev)
    sizes = [math.prod(self.in_shape), *hidden]
    self.hidden = nnx.List([WeightNormDense(a, b, kernel_init=init, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:])])
    self.output = WeightNormDense(sizes[-1], num_outputs, kernel_init=init, rngs=rngs)

  def __call__(
    self,
    x: jax.Array,
    *,
    train: bool,
    key: jax.Array | None = None,
    return_features: bool = False,
  ) -> jax.Array | tuple[jax.Array, jax.Array]:
    """Logits ``[B, num_outputs]``; with ``return_features`` also ``[B, hidden[-1]]``.

    ``key`` drives the Gaussian noise and is required when ``train=True``.
    """
    if tuple(x.shape[1:]) != self.in_shape:
      raise ValueError(f"x must have shape [B, *{self.in_shape}], got {x.shape}")
    if train and key is None:
      raise ValueError("SSLMLPDiscriminator needs a noise `key` when train=True")
    keys = list(jax.random.split(key, len(self.noise_stds))) if train else [None] * len(self.noise_stds)

    h = x.reshape(x.shape[0], -1)
    for layer, std, k in zip(self.hidden, self.noise_stds[:-1], keys[:-1]):
      h = remat_call(_noisy_dense_relu, layer, h, k, enabled=self.remat, std=std)
    features = h
    logits = self.output(_noise(h, self.noise_stds[-1], keys[-1]))
    return (logits, features) if return_features else logits


def _noise(h: jax.Array, std: float, key: jax.Array | None) -> jax.Array:
  if key is None or std == 0:
    return h
  # Drawn in float32 whatever h's dtype: the same noise under --precision=bfloat16.
  return h + (std * jax.random.normal(key, h.shape)).astype(h.dtype)


def _noisy_dense_relu(layer, h, key, *, std):
  return jax.nn.relu(layer(_noise(h, std, key)))


def _dense_bn_softplus(layers, h, *, train):
  layer, bn = layers
  return jax.nn.softplus(bn(layer(h), use_running_average=not train))


class SSLMLPGenerator(nnx.Module):
  """z ``[B, nz]`` -> images ``[B, *out_shape]`` in [-1, 1]."""

  def __init__(
    self,
    *,
    nz: int = 100,
    hidden: Sequence[int] = (500, 500),
    out_shape: Sequence[int] = (28, 28, 1),
    remat: bool = False,
    rngs: nnx.Rngs,
  ):
    self.remat = remat  # recompute each layer in the backward pass (jaxgan.nn.remat)
    self.nz = nz
    self.out_shape = tuple(out_shape)
    init = jax.nn.initializers.glorot_uniform()
    sizes = [nz, *hidden]
    self.hidden = nnx.List(
      [nnx.Linear(a, b, use_bias=False, kernel_init=init, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:])]
    )
    self.bns = nnx.List(
      [
        KeepDtypeBatchNorm(
          b,
          use_scale=False,
          momentum=GENERATOR_BATCHNORM_MOMENTUM,
          epsilon=GENERATOR_BATCHNORM_EPSILON,
          rngs=rngs,
        )
        for b in hidden
      ]
    )
    self.output = WeightNormDense(
      sizes[-1],
      math.prod(self.out_shape),
      epsilon=GENERATOR_WEIGHT_NORM_EPSILON,
      kernel_init=init,
      rngs=rngs,
    )

  def __call__(self, z: jax.Array, *, train: bool) -> jax.Array:
    if z.ndim != 2 or z.shape[-1] != self.nz:
      raise ValueError(f"z must have shape [B, {self.nz}], got {z.shape}")
    h = z
    for layer, bn in zip(self.hidden, self.bns):
      h = remat_call(_dense_bn_softplus, (layer, bn), h, enabled=self.remat, train=train)
    x = jnp.tanh(self.output(h))
    return x.reshape(z.shape[0], *self.out_shape)

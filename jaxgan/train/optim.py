"""Optimisers of the methods, their config fields (declared once here) and their schedules."""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import optax

from jaxgan.config import NON_NEGATIVE, POSITIVE, PROBABILITY, field


def adam_fields(
  *,
  learning_rate: float | None,
  beta1: float = 0.5,
  beta2: float = 0.999,
  learning_rate_help: str = "Adam learning rate.",
) -> type:
  """A config mixin with Adam's fields at a method's defaults: ``learning_rate`` (unless None: a
  config whose learning rate is another optimiser's), ``beta1``, ``beta2``."""
  fields = (
    []
    if learning_rate is None
    else [("learning_rate", float, field(learning_rate, learning_rate_help, check=POSITIVE))]
  )
  fields += [
    ("beta1", float, field(beta1, "Adam beta1.", check=PROBABILITY)),
    ("beta2", float, field(beta2, "Adam beta2.", check=PROBABILITY)),
  ]
  return dataclasses.make_dataclass("AdamFields", fields, frozen=True, kw_only=True)


def adam(config, learning_rate=None) -> optax.GradientTransformation:
  """Adam with a config's ``beta1``/``beta2`` at ``learning_rate`` (a number or a schedule;
  default the config's ``learning_rate``)."""
  return optax.adam(config.learning_rate if learning_rate is None else learning_rate, b1=config.beta1, b2=config.beta2)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pylearn2SGD:
  """Config fields of the SGD of the pylearn2-era papers (GAN, cGAN): decayed rate, ramped
  momentum, max-norm D."""

  learning_rate: float = field(0.1, "Initial SGD learning rate.", check=POSITIVE)
  lr_decay_factor: float = field(
    1.000004, "Learning rate divided by this every step.", check=(lambda v: v >= 1, "must be >= 1")
  )
  min_learning_rate: float = field(1e-6, "Floor of the decayed learning rate.", check=POSITIVE)
  momentum: float = field(0.5, "Initial momentum.", check=PROBABILITY)
  final_momentum: float = field(0.7, "Momentum reached after --momentum_steps.", check=PROBABILITY)
  momentum_steps: int = field(150_000, "Steps of the linear momentum ramp.", check=POSITIVE)
  d_max_col_norm: float = field(
    1.9365,
    "Max norm of each D unit's weights after every update (pylearn2's max_col_norm; 0: off).",
    check=NON_NEGATIVE,
  )


def pylearn2_sgd(config: Pylearn2SGD) -> optax.GradientTransformation:
  """SGD with the decayed rate and ramped momentum of a config with the :class:`Pylearn2SGD` fields."""
  return sgd_momentum(
    learning_rate=exponential_decay(
      config.learning_rate, decay_factor=config.lr_decay_factor, min_value=config.min_learning_rate
    ),
    momentum=linear_ramp(config.momentum, config.final_momentum, config.momentum_steps),
  )


def max_norm_projection(config: Pylearn2SGD):
  """D's projection after every update (:func:`max_column_norm`), or None when ``d_max_col_norm`` is 0."""
  return functools.partial(max_column_norm, max_norm=config.d_max_col_norm) if config.d_max_col_norm else None


def sgd_momentum(*, learning_rate, momentum) -> optax.GradientTransformation:
  """SGD with (possibly scheduled) classical momentum, as in pylearn2's Momentum rule."""
  return optax.inject_hyperparams(optax.sgd)(learning_rate=learning_rate, momentum=momentum)


def exponential_decay(init_value: float, *, decay_factor: float, min_value: float) -> optax.Schedule:
  """``init / decay_factor**step``, floored at ``min_value`` (pylearn2's ExponentialDecay)."""
  return lambda step: optax.exponential_decay(init_value, 1, 1.0 / decay_factor)(step).clip(min_value)


def linear_ramp(start: float, end: float, steps: int) -> optax.Schedule:
  """From ``start`` to ``end`` linearly over ``steps``, then constant (pylearn2's MomentumAdjustor)."""
  return optax.linear_schedule(start, end, max(steps, 1))


def linear_decay_after(
  init_value: float, *, steps_per_epoch: int, n_epochs: int, n_epochs_decay: int
) -> optax.Schedule:
  """pix2pix / CycleGAN's ``linear`` policy: constant for ``n_epochs``, then linear towards 0.

  The official ``LambdaLR`` rule ``1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)``
  for the 0-based epoch ``step // steps_per_epoch``: epochs ``0 .. n_epochs - 1`` run at
  ``init_value``, epoch ``n_epochs + j`` at ``init_value * (1 - (j + 1) / (n_epochs_decay + 1))``.
  """
  if steps_per_epoch < 1 or n_epochs < 0 or n_epochs_decay < 0:
    raise ValueError(f"need steps_per_epoch >= 1 and epochs >= 0, got {steps_per_epoch}, {n_epochs}, {n_epochs_decay}")

  def schedule(step):
    epoch = jnp.asarray(step) // steps_per_epoch
    factor = 1.0 - jnp.maximum(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1.0)
    return init_value * jnp.maximum(factor, 0.0)

  return schedule


def max_column_norm(params, max_norm: float):
  """Project every 2-D ``kernel`` [in, out] so each column (one unit's weights) has norm <= max_norm.

  pylearn2's ``max_col_norm`` constraint, applied after each update in Goodfellow et al.'s
  GAN and Mirza & Osindero's cGAN discriminators; without it their SGD settings
  (learning rate 0.1) diverge.
  """

  def project(path, x):
    keys = [k.key for k in path if isinstance(k, jax.tree_util.DictKey)]  # nnx.State adds a `.value` step
    if not keys or keys[-1] != "kernel" or x.ndim != 2:
      return x
    norms = jnp.sqrt(jnp.sum(jnp.square(x), axis=0, keepdims=True))
    return x * jnp.minimum(1.0, max_norm / jnp.maximum(norms, 1e-12))

  return jax.tree_util.tree_map_with_path(project, params)

"""Optimisers named in configs: one explicit dict, schedules built from config fields."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax


def adam(*, learning_rate, beta1: float, beta2: float) -> optax.GradientTransformation:
  return optax.adam(learning_rate, b1=beta1, b2=beta2)


def sgd_momentum(*, learning_rate, momentum) -> optax.GradientTransformation:
  """SGD with (possibly scheduled) classical momentum, as in pylearn2's Momentum rule."""
  return optax.inject_hyperparams(optax.sgd)(learning_rate=learning_rate, momentum=momentum)


def exponential_decay(init_value: float, *, decay_factor: float, min_value: float) -> optax.Schedule:
  """``init / decay_factor**step``, floored at ``min_value`` (pylearn2's ExponentialDecay)."""
  return lambda step: optax.exponential_decay(init_value, 1, 1.0 / decay_factor)(step).clip(min_value)


def linear_ramp(start: float, end: float, steps: int) -> optax.Schedule:
  """From ``start`` to ``end`` linearly over ``steps``, then constant (pylearn2's MomentumAdjustor)."""
  return optax.linear_schedule(start, end, max(steps, 1))


def linear_decay_after(init_value: float, *, steps_per_epoch: int, n_epochs: int,
                       n_epochs_decay: int) -> optax.Schedule:
  """pix2pix / CycleGAN's ``linear`` policy: constant for ``n_epochs``, then linear towards 0.

  The official ``LambdaLR`` rule ``1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)``
  for the 0-based epoch ``step // steps_per_epoch``: epochs ``0 .. n_epochs - 1`` run at
  ``init_value``, epoch ``n_epochs + j`` at ``init_value * (1 - (j + 1) / (n_epochs_decay + 1))``.
  """
  if steps_per_epoch < 1 or n_epochs < 0 or n_epochs_decay < 0:
    raise ValueError(f"need steps_per_epoch >= 1 and epochs >= 0, got {steps_per_epoch}, "
                     f"{n_epochs}, {n_epochs_decay}")

  def schedule(step):
    epoch = jnp.asarray(step) // steps_per_epoch
    factor = 1.0 - jnp.maximum(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1.0)
    return init_value * jnp.maximum(factor, 0.0)

  return schedule


OPTIMIZERS: dict[str, Callable[..., optax.GradientTransformation]] = {
    "adam": adam,
    "sgd": sgd_momentum,
}


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

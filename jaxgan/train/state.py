"""The training state: one pytree of arrays for every network, plus static network defs.

Only arrays live in :class:`TrainState`. Everything static (the NNX graph definition
of each module and its optax transform) lives in :class:`Network`, which the method's
``make_train_step`` closes over.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import flax
import jax
import jax.numpy as jnp
import optax
from flax import nnx

from jaxgan.nn.precision import cast_floating


class ModelState(flax.struct.PyTreeNode):
  """Arrays of one network: its parameters, its non-trainable statistics, its optax state."""

  params: Any
  stats: Any
  opt_state: Any


def _is_variable(x) -> bool:
  return isinstance(x, nnx.Variable)


class TrainState(flax.struct.PyTreeNode):
  """Everything a run needs to continue: step counter, base RNG key, networks, extras."""

  step: jax.Array
  rng: jax.Array
  nets: dict[str, ModelState]
  extra: Any = dataclasses.field(default_factory=dict)

  def step_key(self) -> jax.Array:
    """The key of this step: a pure function of (base key, step)."""
    return jax.random.fold_in(self.rng, self.step)


@dataclasses.dataclass(frozen=True, eq=False)
class Network:
  """Static half of a network: its NNX graph definition and its optimiser."""

  graphdef: Any
  tx: optax.GradientTransformation
  project: Callable[[Any], Any] | None = None  # e.g. a max-norm constraint applied after each update
  compute_dtype: Any = None  # e.g. jnp.bfloat16 (jaxgan.nn.precision); None: float32 throughout

  def module(self, params, stats) -> nnx.Module:
    """A fresh module holding copies of the given arrays (use inside a traced function)."""
    return nnx.merge(self.graphdef, params, stats, copy=True)

  def apply(self, params, stats, *args, edit: Callable[[nnx.Module], Any] | None = None, **kwargs):
    """Run the module; returns ``(output, new_stats)``. Pure.

    With a ``compute_dtype``, floating parameters and inputs are cast to it and floating outputs
    back to float32 (statistics stay float32). ``edit(module)``, if given, changes the merged copy
    in place before the call (e.g. :mod:`jaxgan.inference.norm_statistics` swaps its norm layers).
    """
    if self.compute_dtype is not None:
      params, args, kwargs = cast_floating((params, args, kwargs), self.compute_dtype)
    model = self.module(params, stats)
    if edit is not None:
      edit(model)
    out = model(*args, **kwargs)
    if self.compute_dtype is not None:
      out = cast_floating(out, jnp.float32)
    return out, nnx.state(model, nnx.BatchStat)

  def update(self, ms: ModelState, grads, new_stats=None) -> ModelState:
    """One optimiser step on ``ms`` with ``grads``; stats replaced by ``new_stats`` if given."""
    updates, opt_state = self.tx.update(grads, ms.opt_state, ms.params)
    params = optax.apply_updates(ms.params, updates)
    if self.project is not None:
      params = self.project(params)
    stats = ms.stats if new_stats is None else new_stats
    return ModelState(params=params, stats=stats, opt_state=opt_state)


def split_module(module: nnx.Module):
  """``(graphdef, params, stats)`` of a module; stats are its batch-norm statistics."""
  graphdef, params, stats, rest = nnx.split(module, nnx.Param, nnx.BatchStat, ...)
  if jax.tree.leaves(rest):
    raise ValueError(
      f"{type(module).__name__} holds state other than Param and BatchStat "
      f"({sorted({type(v).__name__ for v in jax.tree.leaves(rest, is_leaf=_is_variable)})}); "
      "pass RNG keys at call time instead of storing nnx.Rngs in the module"
    )
  return graphdef, params, stats


def init_network(
  make_module: Callable[[nnx.Rngs], nnx.Module], tx: optax.GradientTransformation, key: jax.Array
) -> ModelState:
  """The arrays of a fresh ``make_module(rngs)`` (parameters from ``key``) and ``tx``'s state for
  them; its static half is :func:`abstract_network`."""
  _, params, stats = split_module(make_module(nnx.Rngs(params=key)))
  return ModelState(params=params, stats=stats, opt_state=tx.init(params))


def abstract_network(
  make_module: Callable[[nnx.Rngs], nnx.Module],
  tx: optax.GradientTransformation,
  project: Callable[[Any], Any] | None = None,
  *,
  compute_dtype: Any = None,
) -> Network:
  """The static Network of a module, found without allocating its parameters."""
  graphdef, _, _ = split_module(nnx.eval_shape(lambda: make_module(nnx.Rngs(params=0))))
  return Network(graphdef, tx, project, compute_dtype)

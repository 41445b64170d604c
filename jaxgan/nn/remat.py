"""Gradient checkpointing that also saves memory on XLA:CPU (``--remat``).

A checkpointed block keeps only its inputs for the backward pass and runs its forward pass
again there, just before its own gradient. ``jax.checkpoint`` asks for that with an
optimisation barrier, which XLA:CPU removes before common-subexpression elimination: the
recomputation is then merged back into the forward pass and nothing is saved (measured: the
same temporary memory with and without it, on a chain of convolutions and on CycleGAN's
ResNet blocks). :func:`checkpoint` therefore ties the recomputation to the block's output
cotangent by data (the saved input plus zero times one element of the cotangent), which XLA
does not fold away (``0 * c`` is not 0 for an infinite ``c``), and adds the barrier as well for
the compilers that honour it. The values are those of the uncheckpointed block (``x + 0 * c`` is
``x`` for finite ``c``; a non-finite cotangent makes the block's gradients NaN, where they were
already meaningless); the cost is one more forward pass of the block.

:func:`remat_call` is the Flax NNX form used by the models: ``remat_call(fn, modules, *args)``
runs ``fn(modules, *args)`` checkpointed when ``enabled`` (batch-norm statistics and other
state the modules update come out as usual), and plainly otherwise.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
from flax import nnx


def _tie(tree: Any, cotangent: Any) -> Any:
  """``tree`` made to depend on ``cotangent`` (values unchanged for a finite cotangent)."""
  leaves = [c for c in jax.tree.leaves(cotangent) if jnp.issubdtype(c.dtype, jnp.floating) and c.size]
  tree, _ = jax.lax.optimization_barrier((tree, cotangent))
  if not leaves:
    return tree
  probe = leaves[0].ravel()[0]

  def tie(a):
    if not jnp.issubdtype(a.dtype, jnp.floating):
      return a
    return a + jnp.zeros((), a.dtype) * probe.astype(a.dtype)

  return jax.tree.map(tie, tree)


def checkpoint(fn: Callable[..., Any]) -> Callable[..., Any]:
  """``fn`` (pure, array arguments) whose backward pass recomputes it from its inputs."""

  @jax.custom_vjp
  def run(*args):
    return fn(*args)

  def forward(*args):
    return fn(*args), args

  def backward(args, cotangent):
    _, vjp = jax.vjp(fn, *_tie(args, cotangent))
    return vjp(cotangent)

  run.defvjp(forward, backward)
  return run


def remat_call(fn: Callable[..., Any], modules: Any, *args: Any, enabled: bool = True, **static: Any) -> Any:
  """``fn(modules, *args, **static)``, checkpointed when ``enabled``.

  ``modules``: an NNX module or a tuple of them; ``args``: arrays (inputs, RNG keys) or pytrees
  of arrays; ``static``: Python values (``train=True``). State the modules update inside ``fn``
  (batch-norm statistics) is written back to them.
  """
  if not enabled:
    return fn(modules, *args, **static)
  graphdef, state = nnx.split(modules)

  def pure(state, args):
    inner = nnx.merge(graphdef, state)
    out = fn(inner, *args, **static)
    return out, nnx.state(inner)

  out, new_state = checkpoint(pure)(state, args)
  nnx.update(modules, new_state)
  return out


# Units the models checkpoint (``remat_call(unit, modules, h, ..., train=...)``).


def conv_norm_act(layers, h: jax.Array, *, train: bool, act: Callable[[jax.Array], jax.Array]):
  """``act(norm(conv(h)))`` for ``layers = (conv, norm)`` (a convolution or a dense layer, then a
  ``norm(h, train=...)`` layer or None)."""
  conv, norm = layers
  h = conv(h)
  return act(h if norm is None else norm(h, train=train))


def dropout_dense(
  layers, h: jax.Array, key: jax.Array | None, *, train: bool, act: Callable[[jax.Array], jax.Array] = lambda h: h
) -> jax.Array:
  """``act(dense(dropout(h)))`` for ``layers = (dropout, dense)`` (``nnx.Dropout``, off without a key)."""
  dropout, dense = layers
  return act(dense(dropout(h, deterministic=not train or key is None, rngs=key)))


def block_call(block, h: jax.Array, *args: Any, train: bool) -> jax.Array:
  """``block(h, *args, train=train)`` (residual blocks; ``args``: a dropout key)."""
  return block(h, *args, train=train)

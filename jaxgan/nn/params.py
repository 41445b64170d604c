"""Parameter counting for NNX modules and states."""

from __future__ import annotations

import math
from typing import Any

import jax
from flax import nnx


def count_params(module_or_state: Any) -> int:
  """Number of scalars in the ``nnx.Param`` leaves of a module or state.

  Accepts a live module, an abstract one from ``nnx.eval_shape`` (nothing is
  allocated), an ``nnx.State`` or nested dict of ``nnx.Variable`` s (only ``nnx.Param``
  counts; batch-norm statistics are not parameters), or a pytree of plain arrays /
  ``ShapeDtypeStruct`` s (every leaf counts).
  """
  tree = module_or_state
  if isinstance(tree, nnx.Module):
    tree = nnx.state(tree, nnx.Param)
  leaves = jax.tree.leaves(tree, is_leaf=lambda x: isinstance(x, nnx.Variable))
  if any(isinstance(leaf, nnx.Variable) for leaf in leaves):
    # A Variable is a pytree node over its value (array or ShapeDtypeStruct).
    leaves = jax.tree.leaves([leaf for leaf in leaves if isinstance(leaf, nnx.Param)])
  return sum(math.prod(leaf.shape) for leaf in leaves)

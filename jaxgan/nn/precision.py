"""Mixed precision (``--precision``): networks compute in bfloat16, parameters and optimiser
state stay float32.

:class:`jaxgan.train.state.Network` casts a network's floating parameters and inputs to the
compute dtype as it runs it and its outputs back to float32, so losses, gradients (the cast's
transpose brings them back to float32), optimiser updates and checkpoints are float32 as
before. Normalisation layers compute their statistics in float32 and return the compute dtype
(:class:`jaxgan.nn.norm.KeepDtypeBatchNorm`, :func:`jaxgan.nn.norm.instance_norm`); running
statistics stay float32. bfloat16 keeps float32's exponent range, so no loss scaling is needed.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

PRECISIONS = {
  "float32": None,  # no casts: everything float32
  "bfloat16": jnp.bfloat16,  # activations and matmuls/convolutions in bfloat16
}


def compute_dtype(precision: str) -> Any:
  """The compute dtype of a ``--precision`` name (None: float32 throughout)."""
  if precision not in PRECISIONS:
    raise ValueError(f"precision must be one of {sorted(PRECISIONS)}, got {precision!r}")
  return PRECISIONS[precision]


def cast_floating(tree: Any, dtype: Any) -> Any:
  """``tree`` with its floating arrays cast to ``dtype`` (integers, keys, None unchanged)."""

  def cast(a):
    if isinstance(a, (jax.Array, jnp.ndarray)) and jnp.issubdtype(a.dtype, jnp.floating):
      return a.astype(dtype)
    return a

  return jax.tree.map(cast, tree)

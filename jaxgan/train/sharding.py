"""Device mesh, shardings and global batches, with JAX's own sharding API.

One mesh axis, ``data``: the batch is split over it and the state is replicated.
``state_shardings`` takes optional rules so that large parameters can later be
sharded over a model axis without touching the train steps.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

DATA_AXIS = "data"


def make_mesh(num_devices: int | None = None) -> jax.sharding.Mesh:
  """A 1-D mesh named ``data`` over the first ``num_devices`` devices (all by default)."""
  devices = jax.devices()
  n = len(devices) if num_devices is None else num_devices
  if not 1 <= n <= len(devices):
    raise ValueError(f"num_devices={num_devices} but {len(devices)} devices are visible")
  # Auto axes: XLA's sharding propagation places intermediates; the step's in/out shardings
  # pin the state (replicated) and the batch (split over ``data``).
  return jax.make_mesh((n,), (DATA_AXIS,), devices=devices[:n], axis_types=(jax.sharding.AxisType.Auto,))


def replicated(mesh: jax.sharding.Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharding(mesh: jax.sharding.Mesh, batch_axis: int = 0, ndim: int = 1) -> NamedSharding:
  """Sharding that splits axis ``batch_axis`` of an ``ndim``-array over ``data``."""
  spec = [None] * ndim
  spec[batch_axis] = DATA_AXIS
  return NamedSharding(mesh, P(*spec))


def state_shardings(
  abstract_state: Any, mesh: jax.sharding.Mesh, rule: Callable[[tuple, jax.ShapeDtypeStruct], P] | None = None
) -> Any:
  """Shardings for every leaf of a state; replicated unless ``rule(path, leaf)`` says otherwise."""
  if rule is None:
    return jax.tree.map(lambda _: replicated(mesh), abstract_state)
  return jax.tree_util.tree_map_with_path(lambda path, x: NamedSharding(mesh, rule(path, x)), abstract_state)


def batch_shardings(local_batch: Any, mesh: jax.sharding.Mesh) -> Any:
  """Every leaf of a batch split on its leading axis over ``data``."""
  return jax.tree.map(lambda x: batch_sharding(mesh, 0, np.ndim(x)), local_batch)


def replicate(tree: Any, mesh: jax.sharding.Mesh) -> Any:
  """Every leaf of ``tree`` (the same host values on every process) as a global array replicated
  over ``mesh``: how constants (a frozen VGG, style Grams) reach the compiled step."""
  sharding = replicated(mesh)

  def put(x):
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

  return jax.tree.map(put, tree)


def global_batch(local_batch: Any, mesh: jax.sharding.Mesh) -> Any:
  """Turn this process's slice of the batch into global jax.Arrays sharded over ``data``.

  On one process this is a plain device_put with the batch sharding; on many, each process
  passes its own contiguous slice (see ``jaxgan.data.BatchLoader``).
  """
  n_local = mesh.local_mesh.size if jax.process_count() > 1 else mesh.size

  def put(x):
    x = np.asarray(x)
    if x.shape[0] % n_local:
      raise ValueError(f"per-process batch of {x.shape[0]} does not divide over {n_local} local devices")
    return jax.make_array_from_process_local_data(batch_sharding(mesh, 0, x.ndim), x)

  return jax.tree.map(put, local_batch)

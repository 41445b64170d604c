"""Optimiser pieces: schedules and the max-column-norm projection."""

import jax
import numpy as np
from flax import nnx

from jaxgan.models.mlp import MLPDiscriminator
from jaxgan.train import optim


def test_max_column_norm_projects_kernels_of_nnx_state_and_nothing_else():
  d = MLPDiscriminator(in_shape=(4, 4, 1), units=6, pieces=2, rngs=nnx.Rngs(0))
  params = nnx.state(d, nnx.Param)
  big = jax.tree.map(lambda x: 10.0 * x + 3.0, params)
  projected = optim.max_column_norm(big, 1.5)
  for (path, before), after in zip(jax.tree_util.tree_leaves_with_path(big), jax.tree.leaves(projected)):
    before, after = np.asarray(before), np.asarray(after)
    if "kernel" in jax.tree_util.keystr(path):
      norms = np.linalg.norm(after, axis=0)
      assert np.all(norms <= 1.5 + 1e-5)
      long = np.linalg.norm(before, axis=0) > 1.5
      np.testing.assert_allclose(norms[long], 1.5, rtol=1e-5)  # long columns end exactly at the bound
      # directions are kept
      np.testing.assert_allclose(after / norms, before / np.linalg.norm(before, axis=0), rtol=1e-5, atol=1e-6)
    else:
      np.testing.assert_array_equal(before, after)  # biases untouched
  small = jax.tree.map(lambda x: 1e-3 * x, params)
  for a, b in zip(jax.tree.leaves(small), jax.tree.leaves(optim.max_column_norm(small, 1.5))):
    np.testing.assert_array_equal(a, b)  # within the bound: identity


def test_exponential_decay_floors_at_the_minimum():
  schedule = optim.exponential_decay(0.1, decay_factor=1.00004, min_value=1e-6)
  np.testing.assert_allclose(schedule(0), 0.1)
  np.testing.assert_allclose(schedule(1000), 0.1 / 1.00004 ** 1000, rtol=1e-5)
  np.testing.assert_allclose(schedule(10_000_000), 1e-6)


def test_linear_ramp_reaches_and_holds_its_end():
  ramp = optim.linear_ramp(0.5, 0.7, 100)
  np.testing.assert_allclose([ramp(0), ramp(50), ramp(100), ramp(1000)], [0.5, 0.6, 0.7, 0.7], rtol=1e-6)

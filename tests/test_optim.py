"""Optimiser pieces: schedules and the max-column-norm projection."""

import jax
import numpy as np
import pytest
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
  np.testing.assert_allclose(schedule(1000), 0.1 / 1.00004**1000, rtol=1e-5)
  np.testing.assert_allclose(schedule(10_000_000), 1e-6)


def test_linear_ramp_reaches_and_holds_its_end():
  ramp = optim.linear_ramp(0.5, 0.7, 100)
  np.testing.assert_allclose([ramp(0), ramp(50), ramp(100), ramp(1000)], [0.5, 0.6, 0.7, 0.7], rtol=1e-6)


def _official_lambda_rule(epoch, n_epochs, n_epochs_decay):
  """pytorch-CycleGAN-and-pix2pix's ``lambda_rule`` (epoch_count = 1), in plain Python."""
  return 1.0 - max(0, epoch + 1 - n_epochs) / float(n_epochs_decay + 1)


def test_linear_decay_after_follows_the_official_rule_epoch_by_epoch():
  steps_per_epoch, n, nd = 3, 4, 5
  schedule = optim.linear_decay_after(2e-4, steps_per_epoch=steps_per_epoch, n_epochs=n, n_epochs_decay=nd)
  for step in range((n + nd) * steps_per_epoch + 2):
    expected = 2e-4 * max(_official_lambda_rule(step // steps_per_epoch, n, nd), 0.0)
    np.testing.assert_allclose(schedule(step), expected, rtol=1e-6)
  # Constant through the first n epochs, then strictly decreasing epoch by epoch.
  per_epoch = [float(schedule(e * steps_per_epoch)) for e in range(n + nd)]
  assert len(set(per_epoch[:n])) == 1
  assert all(a > b for a, b in zip(per_epoch[n - 1 :], per_epoch[n:]))
  assert schedule((n + nd) * steps_per_epoch - 1) > 0


def test_linear_decay_after_is_jittable_and_checks_its_arguments():
  schedule = optim.linear_decay_after(1.0, steps_per_epoch=2, n_epochs=1, n_epochs_decay=1)
  np.testing.assert_allclose(jax.jit(schedule)(np.int32(3)), 0.5)
  with pytest.raises(ValueError, match="steps_per_epoch"):
    optim.linear_decay_after(1.0, steps_per_epoch=0, n_epochs=1, n_epochs_decay=1)

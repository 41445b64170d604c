"""SGAN / CatGAN / supervised-baseline steps, data streams and errors."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.methods import catgan, semi_supervised, sgan
from tests import tiny

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(cls=sgan.Config, **kw):
  base = dict(image_size=8, num_labeled=20, batch_size=8, labeled_batch_size=4, nz=4, num_samples=4)
  base.update(kw)
  return cls(**base)


def _batch(config, seed=0):
  rng = np.random.default_rng(seed)
  shape = (config.image_size, config.image_size, config.channels)
  return {
    "labeled/image": jnp.asarray(rng.uniform(-1, 1, (config.labeled_batch_size, *shape)), jnp.float32),
    "labeled/label": jnp.asarray(rng.integers(0, config.num_classes, config.labeled_batch_size), jnp.int32),
    "unlabeled/image": jnp.asarray(rng.uniform(-1, 1, (config.batch_size, *shape)), jnp.float32),
    "unlabeled/label": jnp.full((config.batch_size,), -1, jnp.int32),
  }


def _equal(a, b):
  return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


@pytest.mark.parametrize(
  "config",
  [_config(), _config(head="explicit"), _config(catgan.Config), _config(catgan.Config, supervised_weight=0.0)],
  ids=["sgan-implicit", "sgan-explicit", "catgan", "catgan-unsupervised"],
)
def test_step_is_d_phase_then_g_phase(config):
  method = sgan.build(config) if config.objective == "sgan" else catgan.build(config)
  state = method.init_state(jax.random.PRNGKey(0))
  batch = _batch(config)
  new_state, metrics = jax.jit(method.train_step)(state, batch)
  assert not _equal(new_state.nets["D"].params, state.nets["D"].params)
  assert not _equal(new_state.nets["G"].params, state.nets["G"].params)

  # The D loss has no gradient path to G (fakes are stop-gradient), and G's update leaves D as the D phase left it.
  key = state.step_key()
  k_zd, k_d, k_zg, k_g = jax.random.split(key, 4)

  def d_after(g_params):
    g = state.nets["G"]
    fake = method.generator.apply(g_params, g.stats, method.noise(k_zd, config.batch_size), train=True)[0]
    fake = jax.lax.stop_gradient(fake)
    grads, _ = jax.grad(method.d_loss, has_aux=True)(state.nets["D"].params, state.nets["D"].stats, batch, fake, k_d)
    return method.discriminator.update(state.nets["D"], grads)

  replayed = jax.jit(d_after)(state.nets["G"].params)
  for a, b in zip(jax.tree.leaves(replayed), jax.tree.leaves(new_state.nets["D"])):
    # every leaf (params and Adam state); Adam amplifies fusion-order rounding in a few elements
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
  g_grad = jax.jit(jax.grad(lambda p: sum(jnp.sum(x) for x in jax.tree.leaves(d_after(p).params))))(
    state.nets["G"].params
  )
  assert all(np.all(np.asarray(x) == 0) for x in jax.tree.leaves(g_grad))
  assert np.isfinite(float(metrics["d_loss"])) and np.isfinite(float(metrics["g_loss"]))
  expected_outputs = config.num_classes + (config.objective == "sgan" and config.head == "explicit")
  logits, features = method.classify(new_state.nets["D"], batch["unlabeled/image"])
  assert logits.shape == (config.batch_size, expected_outputs) and features.shape == (config.batch_size, 250)


def test_supervised_baseline_never_touches_g():
  config = _config(objective="supervised")
  method = sgan.build(config)
  state = method.init_state(jax.random.PRNGKey(0))
  new_state, metrics = jax.jit(method.train_step)(state, _batch(config))
  assert _equal(new_state.nets["G"], state.nets["G"])
  assert set(metrics) == {"d_loss", "d_supervised", "train_labeled_accuracy"}


def test_explicit_head_predictions_never_name_the_fake_class():
  config = _config(head="explicit")
  method = sgan.build(config)
  state = method.init_state(jax.random.PRNGKey(1))
  preds = jax.jit(method.predict)(state, _batch(config)["unlabeled/image"])
  assert preds.shape == (config.batch_size,) and int(preds.max()) < config.num_classes


@pytest.mark.parametrize(
  "kw, message",
  [
    (dict(num_labeled=0), "num_labeled=0"),
    (dict(num_labeled=25), "num_labeled=25"),
    (dict(head="both"), "head"),
  ],
)
def test_bad_settings_name_the_flag(kw, message):
  with pytest.raises(ValueError, match=message):
    _config(**kw)


def test_more_labels_than_available_is_reported():
  source = tiny.ListSource(n=40, size=8)
  with pytest.raises(ValueError, match="num_labeled"):
    semi_supervised.streams(_config(num_labeled=200), source)


def test_streams_keep_labelled_examples_inside_the_balanced_subset():
  source = tiny.ListSource(n=60, size=8)
  source.labels = np.arange(60) % 10
  zipped = semi_supervised.streams(_config(num_labeled=20), source)
  # Images identify examples: every labelled image must be one of the 20 chosen examples.
  chosen = {}
  for _step, batch in zip(range(12), zipped.iterate(0)):
    assert set(np.unique(batch["unlabeled/label"])) == {-1}
    for image, label in zip(batch["labeled/image"], batch["labeled/label"]):
      chosen.setdefault(image.tobytes(), int(label))
  assert len(chosen) == 20
  assert np.bincount(list(chosen.values()), minlength=10).tolist() == [2] * 10
  again = {}
  for _step, batch in zip(range(12), semi_supervised.streams(_config(num_labeled=20, seed=1), source).iterate(0)):
    for image in batch["labeled/image"]:
      again[image.tobytes()] = True
  assert set(again) != set(chosen)  # another seed, another subset


def test_sgan_script_trains_and_reports_test_accuracy(tmp_path):
  r = subprocess.run(
    [
      sys.executable,
      os.path.join(ROOT, "experiments", "sgan.py"),
      f"--workdir={tmp_path}",
      "--dataset=digits",
      "--image_size=8",
      "--num_labeled=20",
      "--batch_size=20",
      "--labeled_batch_size=10",
      "--num_steps=3",
      "--eval_every=2",
      "--sample_every=3",
      "--head=explicit",
    ],
    capture_output=True,
    text=True,
    timeout=600,
    cwd=ROOT,
  )
  assert r.returncode == 0, r.stderr[-3000:]
  assert "sgan test accuracy" in r.stdout
  assert (tmp_path / "eval.json").exists()


def test_catgan_and_sgan_share_networks_and_adam_but_not_the_learning_rate():
  c, s = catgan.Config(), sgan.Config()
  assert (c.learning_rate, s.learning_rate) == (2e-4, 3e-3)  # 3e-3 collapses the unsupervised CatGAN
  assert (c.beta1, c.beta2, c.batch_size, c.nz) == (s.beta1, s.beta2, s.batch_size, s.nz)

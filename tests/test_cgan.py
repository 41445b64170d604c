"""The conditional GAN: conditioning reaches G and D, class-row grids, the generate mode."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxgan.methods import cgan
from tests import tiny

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The script imports jaxgan from this tree (not from wherever the package is installed).
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)}


def _config(**kw):
  base = dict(image_size=16, channels=1, nz=8, batch_size=8, num_samples=20, num_classes=4)
  base.update(kw)
  return cgan.Config(**base)


@pytest.mark.parametrize("architecture", ["mlp", "dcgan"])
def test_step_uses_the_real_labels_and_isolates_g_and_d(architecture):
  kw = dict(architecture=architecture, ngf=8, ndf=8)
  if architecture == "mlp":
    kw["image_size"] = 8
  method = cgan.build(_config(**kw))
  state = method.init_state(jax.random.PRNGKey(0))
  batch = jax.tree.map(jnp.asarray, tiny.image_batch(method.config))
  batch["label"] = batch["label"] % 4
  step = jax.jit(method.train_step)
  new_state, _ = step(state, batch)
  other = dict(batch, label=(batch["label"] + 1) % 4)
  relabelled, _ = step(state, other)
  # D's update depends on the real images' labels; G's first update only sees D through its update.
  assert not np.array_equal(
    jax.tree.leaves(new_state.nets["D"].params)[0], jax.tree.leaves(relabelled.nets["D"].params)[0]
  )

  @jax.jit
  def phases(state, batch):
    key = state.step_key()
    d1, _ = method.d_update(state.nets, batch["image"], jax.random.fold_in(key, 0), batch["label"])
    g1, _ = method.g_update({"G": state.nets["G"], "D": d1}, batch["image"].shape[0], jax.random.fold_in(key, 1))
    return d1, g1

  d1, g1 = phases(state, batch)
  for a, b in zip(jax.tree.leaves((d1, g1)), jax.tree.leaves((new_state.nets["D"], new_state.nets["G"]))):
    np.testing.assert_array_equal(a, b)


def test_sample_grid_has_one_row_per_class_and_rows_differ():
  method = cgan.build(_config(architecture="dcgan", ngf=8, ndf=8))
  state = method.init_state(jax.random.PRNGKey(0))
  grid = jax.jit(method.sample)(state)
  assert grid.shape == (4, 5, 16, 16, 1)
  for r in range(1, 4):
    assert not np.allclose(grid[0], grid[r])  # same z, different y


def test_class_flag_must_name_a_class():
  with pytest.raises(ValueError, match="class=4 must be < num_classes=4"):
    _config(gen_class=4)


def test_generate_mode_writes_a_grid_of_the_requested_class(tmp_path):
  common = [
    f"--workdir={tmp_path}",
    "--dataset=digits",
    "--architecture=dcgan",
    "--image_size=16",
    "--ngf=8",
    "--ndf=8",
    "--nz=8",
    "--batch_size=16",
    "--optimizer=adam",
    "--learning_rate=2e-4",
    "--num_samples=20",
    "--classifier_steps=5",
    "--classifier_features=4,4,4",
    "--eval_samples_per_class=2",
    "--eval_every=2",
    "--fid_features=judge",
    "--fid_samples=40",
  ]
  script = os.path.join(ROOT, "experiments", "cgan.py")
  r = subprocess.run(
    [sys.executable, script, *common, "--num_steps=2", "--sample_every=2"],
    capture_output=True,
    text=True,
    timeout=600,
    cwd=ROOT,
    env=ENV,
  )
  assert r.returncode == 0, r.stderr[-3000:]
  r = subprocess.run(
    [sys.executable, script, *common, "--mode=generate", "--class=7"],
    capture_output=True,
    text=True,
    timeout=600,
    cwd=ROOT,
    env=ENV,
  )
  assert r.returncode == 0, r.stderr[-3000:]
  assert (tmp_path / "generated" / "class7_step00000002.png").exists()
  # A run of 6 steps stopped at its step-2 checkpoint: "train first", or step 2 with --allow_partial.
  partial = tiny.unfinished_copy(tmp_path, tmp_path.parent / f"{tmp_path.name}_partial", num_steps=6)
  config = cgan.Config(
    workdir=partial,
    dataset="digits",
    architecture="dcgan",
    image_size=16,
    ngf=8,
    ndf=8,
    nz=8,
    batch_size=16,
    optimizer="adam",
    learning_rate=2e-4,
    num_samples=20,
    gen_class=7,
  )
  before = tiny.tree_state(partial)
  with pytest.raises(
    FileNotFoundError,
    match=f"^train first: python experiments/cgan.py --mode=train --workdir="
    f"{partial} .*is at step 2 of 6; --allow_partial uses it as it is",
  ):
    cgan.generate(config)
  assert tiny.tree_state(partial) == before
  path = cgan.generate(config.replace(allow_partial=True))
  assert path == os.path.join(partial, "generated", "class7_step00000002.png")
  result = json.loads((tmp_path / "eval.json").read_text())
  assert 0 <= result["class_agreement"] <= 1 and 0 <= result["classifier_test_accuracy"] <= 1
  per_class = [result[f"class_agreement_class{c}"] for c in range(10)]
  assert min(per_class) == result["class_agreement_worst_class"]
  np.testing.assert_allclose(np.mean(per_class), result["class_agreement"], atol=1e-6)  # 2 per class
  assert all(0 <= result[f"classifier_test_accuracy_class{c}"] <= 1 for c in range(10))
  assert os.listdir(tmp_path / "classifier")  # cached for the next run
  # FID/KID/IS of 40 samples (4 of each class) on the judge's features, against 40 real test images
  assert result["fid_judge"] > 0 and result["kid_judge_subset_size"] == 40
  assert 1 <= result["is_judge_mean"] <= 10 and result["is_judge_std"] >= 0
  assert 0 < result["real_train_fid_judge"] < result["fid_judge"]  # 40 real training images: the floor
  # The training grid has 10 class rows of 2 samples.
  from PIL import Image

  grid = np.asarray(Image.open(tmp_path / "samples" / "step_00000002.png"))
  assert grid.shape == (2 + 10 * 18, 2 + 2 * 18)


def test_num_classes_must_match_the_dataset(tmp_path):
  r = subprocess.run(
    [
      sys.executable,
      os.path.join(ROOT, "experiments", "cgan.py"),
      f"--workdir={tmp_path}",
      "--dataset=digits",
      "--num_classes=4",
      "--num_steps=1",
    ],
    capture_output=True,
    text=True,
    timeout=600,
    cwd=ROOT,
    env=ENV,
  )
  assert r.returncode == 2 and "--num_classes=4 but digits has 10 classes" in r.stderr


@settings(max_examples=20, deadline=None)
@given(k=st.integers(2, 12), seed=st.integers(0, 2**31 - 1))
def test_wrong_labels_differ_from_the_true_ones_and_cover_the_others(k, seed):
  y = jnp.tile(jnp.arange(k), 200)
  wrong = np.asarray(cgan.wrong_labels(jax.random.PRNGKey(seed), y, k))
  assert ((wrong >= 0) & (wrong < k)).all() and (wrong != np.asarray(y)).all()
  assert len(np.unique(wrong[np.asarray(y) == 0])) == k - 1  # every other class is drawn


@pytest.mark.parametrize("architecture", ["mlp", "dcgan"])
def test_mismatch_term_is_the_real_wrong_label_cross_entropy(architecture):
  kw = dict(architecture=architecture, ngf=8, ndf=8, **({"image_size": 8} if architecture == "mlp" else {}))
  plain, aware = cgan.build(_config(**kw)), cgan.build(_config(mismatch_weight=0.7, **kw))
  state = plain.init_state(jax.random.PRNGKey(0))
  d = state.nets["D"]
  batch = tiny.image_batch(plain.config)
  real, y = jnp.asarray(batch["image"]), jnp.asarray(batch["label"]) % 4
  fake = -real[::-1]
  key = jax.random.PRNGKey(3)
  base, (stats0, _) = plain.d_loss(d.params, d.stats, real, fake, key, y, y[::-1])
  total, (_, metrics) = aware.d_loss(d.params, d.stats, real, fake, key, y, y[::-1])
  # The same D call the term makes, written out: real images, wrong labels, target "fake".
  k_y, k_d = jax.random.split(jax.random.fold_in(key, 0x3157))
  y_wrong = cgan.wrong_labels(k_y, y, 4)
  logits, _ = plain.discriminate(d.params, stats0, real, k_d, y_wrong)
  expected = base + 0.7 * np.mean(np.log1p(np.exp(np.asarray(logits, np.float64))))
  np.testing.assert_allclose(total, expected, rtol=1e-5)
  assert 0 < metrics["d_mismatch"] < 1
  # Weight 0 is the paper's D loss exactly.
  zero, _ = cgan.build(_config(mismatch_weight=0.0, **kw)).d_loss(d.params, d.stats, real, fake, key, y, y[::-1])
  assert zero == base
  # The term reaches D's gradient.
  g_plain = jax.grad(lambda p: plain.d_loss(p, d.stats, real, fake, key, y, y[::-1])[0])(d.params)
  g_aware = jax.grad(lambda p: aware.d_loss(p, d.stats, real, fake, key, y, y[::-1])[0])(d.params)
  assert any(not np.allclose(a, b) for a, b in zip(jax.tree.leaves(g_plain), jax.tree.leaves(g_aware)))


@pytest.mark.parametrize(
  "kw,match",
  [
    (dict(mismatch_weight=1.0, loss="wgan"), "mismatch_weight=1.0 needs --loss in"),
    (dict(mismatch_weight=1.0, num_classes=1), "needs num_classes >= 2"),
  ],
)
def test_mismatch_weight_needs_a_cross_entropy_d_and_two_classes(kw, match):
  with pytest.raises(ValueError, match=match):
    _config(**kw)

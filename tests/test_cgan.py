"""The conditional GAN: conditioning reaches G and D, class-row grids, the generate mode."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.methods import cgan
from tests import tiny

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
  assert not np.array_equal(jax.tree.leaves(new_state.nets["D"].params)[0],
                            jax.tree.leaves(relabelled.nets["D"].params)[0])

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
  common = [f"--workdir={tmp_path}", "--dataset=digits", "--architecture=dcgan", "--image_size=16", "--ngf=8",
            "--ndf=8", "--nz=8", "--batch_size=16", "--optimizer=adam", "--learning_rate=2e-4", "--num_samples=20",
            "--classifier_steps=5", "--classifier_features=4,4,4", "--eval_samples_per_class=2", "--eval_every=2"]
  script = os.path.join(ROOT, "experiments", "cgan.py")
  r = subprocess.run([sys.executable, script, *common, "--num_steps=2", "--sample_every=2"],
                     capture_output=True, text=True, timeout=600, cwd=ROOT)
  assert r.returncode == 0, r.stderr[-3000:]
  r = subprocess.run([sys.executable, script, *common, "--mode=generate", "--class=7"],
                     capture_output=True, text=True, timeout=600, cwd=ROOT)
  assert r.returncode == 0, r.stderr[-3000:]
  assert (tmp_path / "generated" / "class7_step00000002.png").exists()
  result = json.loads((tmp_path / "eval.json").read_text())
  assert 0 <= result["class_agreement"] <= 1 and 0 <= result["classifier_test_accuracy"] <= 1
  assert os.listdir(tmp_path / "classifier")  # cached for the next run
  # The training grid has 10 class rows of 2 samples.
  from PIL import Image
  grid = np.asarray(Image.open(tmp_path / "samples" / "step_00000002.png"))
  assert grid.shape == (2 + 10 * 18, 2 + 2 * 18)


def test_num_classes_must_match_the_dataset(tmp_path):
  r = subprocess.run([sys.executable, os.path.join(ROOT, "experiments", "cgan.py"), f"--workdir={tmp_path}",
                      "--dataset=digits", "--num_classes=4", "--num_steps=1"],
                     capture_output=True, text=True, timeout=600, cwd=ROOT)
  assert r.returncode == 2 and "--num_classes=4 but digits has 10 classes" in r.stderr

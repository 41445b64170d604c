"""Super-resolution (SRResNet / SRGAN / Johnson): evaluation protocol, the step, training, errors."""

import json
import os
import re
import shutil
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from absl import flags
from PIL import Image

from jaxgan import flags as flags_lib
from jaxgan.methods import sr
from jaxgan.train.checkpoint import Checkpointer
from tests.real_data import real_data
from tests.tiny import tree_state, unfinished_copy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import sr_bn_offset  # noqa: E402
import sr_eval  # noqa: E402

TINY = dict(
  channels=8,
  n_blocks=2,
  d_channels=8,
  crop_size=24,
  batch_size=2,
  num_samples=2,
  num_test=2,
  log_every=1,
  checkpoint_every=0,
  sample_every=0,
  eval_every=0,
)


def _vgg():
  return str(real_data("vgg16_keras"))  # Keras .h5, or the mirror's .npz


def _config(**kw):
  return sr.Config(**{**TINY, **kw})


def _batch(config, seed=0):
  rng = np.random.default_rng(seed)
  s, n = config.crop_size, config.batch_size
  return {
    "lr": jnp.asarray(rng.uniform(0, 1, (n, s // config.scale, s // config.scale, 3)), jnp.float32),
    "hr": jnp.asarray(rng.uniform(-1, 1, (n, s, s, 3)), jnp.float32),
  }


def _assert_trees(a, b, equal=True):
  same = [
    np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
  ]
  assert all(same) if equal else not all(same)


def _json(path):
  with open(path) as f:
    return json.load(f)


def _checkpoint_steps(directory):
  ckpt = Checkpointer(directory)
  try:
    return ckpt.all_steps()
  finally:
    ckpt.close()


@pytest.fixture(scope="module")
def hr_folder(tmp_path_factory):
  """Three real BSD68 photos (481x321) as a tiny training set."""
  folder = tmp_path_factory.mktemp("bsd3")
  for path in sorted(real_data("bsd68").iterdir())[:3]:
    shutil.copy(path, folder / path.name)
  return str(folder)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, hr_folder):
  """A tiny SRResNet trained 2 steps on BSD68 crops, scored on 2 Set5 images."""
  root = tmp_path_factory.mktemp("srresnet")
  config = _config(
    dataset=hr_folder,
    workdir=str(root / "work"),
    data_dir=str(root / "tfds"),
    num_steps=2,
    sample_every=2,
    eval_dir=str(real_data("set5")),
  )
  state = sr.train(config)
  return config, state


# -- the evaluation protocol -------------------------------------------------------------------------


def test_bicubic_on_set5_x4_scores_the_literatures_28_42_db():
  """The SR benchmark protocol: modcrop, MATLAB bicubic LR rounded to uint8, bicubic up, rounded;
  PSNR / SSIM on MATLAB's uint8 Y (BT.601, [16, 235]) with 4 pixels shaved. Literature: 28.42 / 0.8104."""
  images = sr.load_images(str(real_data("set5")))
  hr, lr = sr.eval_pair(images[-1][1], 4)  # woman.png, 344x228: already a multiple of 4
  assert hr.shape == (344, 228, 3) and lr.shape == (86, 57, 3) and lr.dtype == np.uint8
  result = sr.bicubic_scores(images, 4)
  assert result["num_images"] == 5
  assert abs(result["psnr"] - 28.42) < 0.01, result  # 28.419 here
  assert abs(result["ssim"] - 0.8104) < 0.001, result  # 0.8102 here


def test_scores_are_perfect_for_the_hr_image_and_shave_the_border():
  hr = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
  assert sr.scores(hr, hr, 4)["ssim"] == pytest.approx(1.0, abs=1e-6)
  damaged = hr.copy()
  damaged[:4] = 0  # inside the shaved border: invisible to the scores
  assert np.isinf(sr.scores(damaged, hr, 4)["psnr"])


# -- the step ----------------------------------------------------------------------------------------


def test_mse_step_trains_g_alone():
  config = _config()
  method = sr.build(config)
  state = method.init_state(jax.random.PRNGKey(0))
  assert set(state.nets) == {"G"} and state.extra == {} and method.consts is None
  new, metrics = jax.jit(method.train_step)(jax.tree.map(jnp.copy, state), _batch(config))
  assert set(metrics) == {"g_loss", "mse", "learning_rate"} and int(new.step) == 1
  _assert_trees(new.nets["G"].params, state.nets["G"].params, equal=False)
  # The loss is the pixel MSE of G's (train-mode) output on the [-1, 1] scale.
  out, _ = jax.jit(lambda g, lr: method.generator.apply(g.params, g.stats, lr, train=True))(
    state.nets["G"], _batch(config)["lr"]
  )
  np.testing.assert_allclose(metrics["mse"], np.mean((np.asarray(out) - _batch(config)["hr"]) ** 2), rtol=1e-5)


def test_freeze_bn_trains_the_inference_mode_output_and_keeps_the_running_statistics():
  """--freeze_bn: the loss is the MSE of G's inference-mode output (what --mode=test scores), its
  gradient is that loss's gradient, and the batch-norm running statistics do not move."""
  config = _config(freeze_bn=True)
  method = sr.build(config)
  state = method.init_state(jax.random.PRNGKey(0))
  g = state.nets["G"]
  # Move the running statistics off their (0, 1) start, so that inference and batch mode differ.
  g = g.replace(stats=jax.tree.map(lambda s: s + 0.3 * jnp.ones_like(s), g.stats))
  state = state.replace(nets={"G": g})
  batch = _batch(config)
  new, metrics = jax.jit(method.train_step)(jax.tree.map(jnp.copy, state), batch)
  _assert_trees(new.nets["G"].stats, g.stats)

  def inference_mse(params):
    out, _ = method.generator.apply(params, g.stats, batch["lr"], train=False)
    return jnp.mean((out - batch["hr"]) ** 2)

  loss, grads = jax.jit(jax.value_and_grad(inference_mse))(g.params)
  np.testing.assert_allclose(metrics["mse"], loss, rtol=1e-5)
  expected = method.generator.update(g, grads)
  for a, b in zip(jax.tree.leaves(new.nets["G"].params), jax.tree.leaves(expected.params), strict=True):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-7)
  # Batch mode (the default) gives another loss on the same batch.
  _, default_metrics = jax.jit(sr.build(_config()).train_step)(jax.tree.map(jnp.copy, state), batch)
  assert abs(float(default_metrics["mse"]) - float(metrics["mse"])) > 1e-4


def test_srgan_step_updates_d_on_the_detached_sr_then_g_against_the_new_d():
  config = _config(loss="srgan", content_layer="relu1_2", vgg_weights=_vgg(), crop_size=16)
  method = sr.build(config)
  # Plain SGD, so that the updates are the gradients (Adam's first step is +-lr whatever
  # their size, and the rounding noise of gradients that are zero in exact arithmetic, such
  # as those of convolution biases under batch norm, would decide their signs).
  method.tx = optax.sgd(0.1)
  state = method.init_state(jax.random.PRNGKey(0))
  # The frozen VGG is a constant of the step, not part of the (checkpointed) state.
  assert set(state.nets) == {"G", "D"} and state.extra == {}
  assert set(method.consts["vgg"]) == {"block1_conv1", "block1_conv2"}
  batch = _batch(config)
  lr, hr = batch["lr"], batch["hr"]
  new, metrics = jax.jit(method.train_step)(state, batch, method.consts)
  assert set(metrics) >= {"d_loss", "d_real", "d_fake", "g_adversarial", "content", "mse", "g_loss"}
  np.testing.assert_allclose(metrics["g_loss"], metrics["content"] + 1e-3 * metrics["g_adversarial"], rtol=1e-5)

  def replay(state, vgg):
    """D on G's detached output; then G's full gradient through itself and the updated D."""
    g = state.nets["G"]
    fake, g_stats = method.generator.apply(g.params, g.stats, lr, train=True)
    after_d, _ = method.update_discriminator(state, hr, fake)

    def g_objective(params):
      out, _ = method.generator.apply(params, g.stats, lr, train=True)
      loss, (d_stats, _) = method.g_loss(out, hr, after_d.nets["D"], vgg)
      return loss, d_stats

    grads, d_stats = jax.grad(g_objective, has_aux=True)(g.params)
    return method.generator.update(g, grads, g_stats), after_d.nets["D"].replace(stats=d_stats), after_d

  g_ref, d_ref, after_d = jax.jit(replay)(state, method.consts["vgg"])
  for x, y in zip(jax.tree.leaves((new.nets["G"], new.nets["D"])), jax.tree.leaves((g_ref, d_ref)), strict=True):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-6)
  # Gradient isolation: the D update leaves G bit-identical (and changes D).
  _assert_trees(after_d.nets["G"], state.nets["G"])
  _assert_trees(after_d.nets["D"].params, state.nets["D"].params, equal=False)


def test_perceptual_loss_is_zero_for_identical_images_and_scales_with_the_rescale_squared():
  config = _config(loss="vgg", content_layer="relu2_2", vgg_rescale=1.0, vgg_weights=_vgg())
  method = sr.build(config)
  vgg = method.consts["vgg"]
  assert set(vgg) == {"block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2"}
  hr = _batch(config)["hr"]
  loss = jax.jit(lambda a, b, v: method.content_loss(a, b, v)[0])
  assert float(loss(hr, hr, vgg)) == 0.0
  other = jnp.roll(hr, 1, axis=2)
  base = float(loss(other, hr, vgg))
  assert base > 0
  half = sr.build(config.replace(vgg_rescale=0.5))
  half.loss_network = method.loss_network  # same weights, read once
  np.testing.assert_allclose(
    float(jax.jit(lambda a, b, v: half.content_loss(a, b, v)[0])(other, hr, vgg)), base / 4, rtol=1e-5
  )


# -- training, --init_from, --mode=test, the benchmark --------------------------------------------


def test_training_end_to_end_writes_checkpoints_samples_and_scores(trained):
  config, state = trained
  assert int(state.step) == 2
  work = config.workdir
  assert _checkpoint_steps(os.path.join(work, "checkpoints")) == [2]
  grid = np.asarray(Image.open(os.path.join(work, "samples", "step_00000002.png")))
  assert grid.shape[:2] == (2 * 26 + 2, 3 * 26 + 2)  # 2 rows of bicubic | G | HR, 24x24, 2 px padding
  result = _json(os.path.join(work, "eval.json"))
  assert result["num_images"] == 2 and result["step"] == 2 and 0 < result["ssim"] < 1


def test_test_mode_writes_sr_bicubic_and_metrics(trained, capsys):
  config, _ = trained
  page = sr.test(config)
  out = os.path.dirname(page)
  metrics = _json(os.path.join(out, "metrics.json"))
  assert metrics["num_images"] == 2 and metrics["step"] == 2 and set(metrics["per_image"]) == {"baby.png", "bird.png"}
  # The bicubic baseline of the same images: baby 31.77 dB, bird 30.18 dB (this protocol).
  assert metrics["per_image"]["baby.png"]["bicubic"]["psnr"] == pytest.approx(31.773, abs=0.01)
  assert Image.open(os.path.join(out, "images", "bird_sr.png")).size == (288, 288)
  assert Image.open(os.path.join(out, "images", "bird_lr.png")).size == (72, 72)
  assert "bicubic" in capsys.readouterr().out


def _test_folder(tmp_path):
  """One small HR image to super-resolve."""
  folder = tmp_path / "hr"
  folder.mkdir()
  Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 40, 3), dtype=np.uint8)).save(folder / "x.png")
  return str(folder)


def test_test_mode_needs_a_finished_run_or_allow_partial(trained, tmp_path, capsys):
  config, _ = trained
  config = config.replace(test_input=_test_folder(tmp_path))
  empty = config.replace(workdir=str(tmp_path / "none"), allow_partial=True)
  with pytest.raises(
    FileNotFoundError,
    match="^"
    + re.escape(f"train first: python experiments/sr.py --mode=train --workdir={empty.workdir} ")
    + ".*"
    + re.escape(f" (no checkpoint in {empty.workdir})")
    + "$",
  ):
    sr.test(empty)
  assert not os.path.exists(empty.workdir)
  # A run of 5 steps stopped at its step-2 checkpoint.
  partial = config.replace(workdir=unfinished_copy(config.workdir, tmp_path / "partial", num_steps=5))
  before = tree_state(partial.workdir)
  with pytest.raises(FileNotFoundError, match=re.escape(f"({partial.workdir} is at step 2 of 5; --allow_partial")):
    sr.test(partial)
  assert tree_state(partial.workdir) == before
  page = sr.test(partial.replace(allow_partial=True))
  assert page.startswith(os.path.join(partial.workdir, "test_step2"))
  assert "jaxgan: --allow_partial: using step 2 of 5" in capsys.readouterr().out


class _TickingClock:
  """``time`` of the loop and of sr.train: every reading is one second after the previous one."""

  def __init__(self):
    self.now = 0.0

  def monotonic(self):
    self.now += 1.0
    return self.now

  perf_counter = monotonic


def test_a_run_ended_by_its_time_budget_is_finished(hr_folder, tmp_path, capsys, monkeypatch):
  from jaxgan.train import loop

  clock = _TickingClock()
  monkeypatch.setattr(loop, "time", clock)
  monkeypatch.setattr(sr, "time", clock)
  config = _config(
    dataset=hr_folder,
    data_dir=str(tmp_path / "tfds"),
    workdir=str(tmp_path / "w"),
    num_steps=50,
    time_budget_minutes=0.25,
    test_input=_test_folder(tmp_path),
  )
  step = int(sr.train(config).step)
  monkeypatch.undo()
  assert 0 < step < 50 and _checkpoint_steps(tmp_path / "w" / "checkpoints") == [step]
  assert _json(tmp_path / "w" / "finished.json") == {"step": step, "reason": "--time_budget_minutes=0.25"}
  page = sr.test(config)
  assert page.startswith(str(tmp_path / "w" / f"test_step{step}"))
  assert "--allow_partial" not in capsys.readouterr().out


def test_benchmark_scores_bicubic_and_a_trained_workdir(trained, tmp_path, capsys):
  config, _ = trained
  out = tmp_path / "sr_eval.json"
  rows = sr_eval.main(
    [f"--workdir=tiny={config.workdir}", "--sets=Set5", "--limit=2", f"--set5={real_data('set5')}", f"--json={out}"]
  )
  table = capsys.readouterr().out
  assert [r["method"] for r in rows] == ["Bicubic", "tiny"] and rows[1]["step"] == 2
  assert "| Bicubic | - | " in table and "| tiny | 2 | " in table
  saved = _json(out)
  assert saved["folders"] == {"Set5": str(real_data("set5"))}
  assert saved["rows"][0]["Set5"]["num_images"] == 2
  # The first two Set5 images (baby, bird) bicubic: the mean of 31.77 and 30.18 dB.
  assert saved["rows"][0]["Set5"]["psnr"] == pytest.approx((31.773 + 30.178) / 2, abs=0.01)


def test_bn_offset_benchmark_agrees_with_the_evaluation_and_measures_the_luma_offset(trained, tmp_path, capsys):
  config, _ = trained
  method, state = sr_eval.load_workdir(config.workdir)
  images = sr.load_images(str(real_data("set5")), 2)
  rows = sr_bn_offset.diagnose(method, state, images)
  # Inference-mode PSNR is what the method's own evaluation scores; bicubic is the baseline's.
  assert np.mean([r["psnr_inference"] for r in rows]) == pytest.approx(method.evaluate(state, images)["psnr"])
  assert np.mean([r["psnr_bicubic"] for r in rows]) == pytest.approx(sr.bicubic_scores(images, 4)["psnr"])
  # The offset is the mean luma difference inside the shaved border.
  hr, lr = sr.eval_pair(images[0][1], 4)
  diff = np.asarray(sr.luma(method.super_resolve(state, lr)[None]))[0] - np.asarray(sr.luma(hr[None]))[0]
  assert rows[0]["mean_luma_offset"] == pytest.approx(diff[4:-4, 4:-4].mean(), abs=1e-4)
  out = tmp_path / "offset.json"
  out.write_text("kept")
  with pytest.raises(SystemExit):
    sr_bn_offset.main([f"--workdir={config.workdir}", "--set=set5", f"--json={out}"])
  assert out.read_text() == "kept" and "not overwriting" in capsys.readouterr().err


def test_benchmarks_name_a_missing_set_and_its_download_command(tmp_path, monkeypatch, capsys):
  monkeypatch.setenv("JAXGAN_HOME", str(tmp_path / "home"))
  monkeypatch.delenv("JAXGAN_MIRROR", raising=False)
  with pytest.raises(SystemExit):
    sr_eval.main(["--sets=Set5,Set14"])
  assert "--set14=set14: set14 is not downloaded: run `python -m jaxgan.download set14`" in capsys.readouterr().err
  with pytest.raises(SystemExit):
    sr_eval.main([f"--sets=Set5,{tmp_path / 'none'}"])
  assert f"--sets={tmp_path / 'none'}: no such folder" in capsys.readouterr().err
  with pytest.raises(SystemExit):
    sr_bn_offset.main([f"--workdir={tmp_path}", "--set=Set14", f"--set14={tmp_path / 'none'}"])
  assert f"--set14={tmp_path / 'none'}: no such folder" in capsys.readouterr().err


def test_init_from_copies_g_and_refuses_another_generator(trained, tmp_path):
  source, trained_state = trained
  config = _config(
    loss="srgan", content_layer="relu1_2", vgg_weights=_vgg(), init_from=source.workdir, workdir=str(tmp_path / "srgan")
  )
  g = sr.load_generator(config)
  state = sr.SuperResolution(config, initial_generator=g).init_state(jax.random.PRNGKey(1))
  _assert_trees(state.nets["G"].params, trained_state.nets["G"].params)
  _assert_trees(state.nets["G"].stats, trained_state.nets["G"].stats)
  assert set(state.nets) == {"G", "D"}
  # The workdir's checkpoints folder works too.
  sr.load_generator(config.replace(init_from=os.path.join(source.workdir, "checkpoints")))
  with pytest.raises(ValueError, match="holds another generator .channels: 8 there, 16 here"):
    sr.load_generator(config.replace(channels=16))
  with pytest.raises(FileNotFoundError, match="no checkpoints there"):
    sr.load_generator(config.replace(init_from=str(tmp_path)))


def test_a_generous_time_budget_equals_an_unlimited_run(hr_folder, tmp_path):
  common = dict(dataset=hr_folder, data_dir=str(tmp_path / "tfds"), num_steps=7)
  budgeted = sr.train(_config(**common, workdir=str(tmp_path / "a"), time_budget_minutes=30))
  straight = sr.train(_config(**common, workdir=str(tmp_path / "b")))
  assert int(budgeted.step) == int(straight.step) == 7
  assert _checkpoint_steps(tmp_path / "a" / "checkpoints") == [7]
  _assert_trees(jax.device_get(budgeted.nets), jax.device_get(straight.nets))


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
  "kw, message",
  [
    (dict(scale=3), "scale=3 must be a power of 2"),
    (dict(crop_size=30), "crop_size=30 is not a multiple of scale=4"),
    (dict(loss="l1"), "loss='l1' is not one of"),
    (dict(generator="edsr"), "generator='edsr' is not one of"),
    (dict(content_layer="relu5_9"), "content_layer='relu5_9' must be '' .the loss's default. or a VGG16 layer"),
    (dict(n_blocks=-2), "n_blocks=-2 must be >= 0"),
  ],
)
def test_bad_values_name_the_flag(kw, message):
  with pytest.raises(ValueError, match=message):
    sr.Config(**kw)


def test_training_needs_a_dataset_and_vgg_weights(hr_folder, tmp_path, monkeypatch):
  with pytest.raises(ValueError, match="--dataset is required for training"):
    sr.train(_config(workdir=str(tmp_path / "w")))
  assert not (tmp_path / "w").exists()
  with pytest.raises(FileNotFoundError, match="--dataset=/nonexistent: no such folder"):
    sr.check_train_flags(_config(dataset="/nonexistent"))
  monkeypatch.delenv("JAXGAN_VGG16", raising=False)
  with pytest.raises(FileNotFoundError, match=r"--loss=vgg needs ImageNet VGG16 weights: pass --vgg_weights"):
    sr.check_train_flags(_config(dataset=hr_folder, loss="vgg"))
  with pytest.raises(FileNotFoundError, match="--vgg_weights=/nonexistent.npz: no such file"):
    sr.check_train_flags(_config(dataset=hr_folder, loss="srgan", vgg_weights="/nonexistent.npz"))
  monkeypatch.setenv("JAXGAN_VGG16", _vgg())
  sr.check_train_flags(_config(dataset=hr_folder, loss="vgg"))  # $JAXGAN_VGG16 is the default
  with pytest.raises(ValueError, match="--mode=test needs --test_input=DIR or --eval_dir=DIR"):
    sr.test(_config(workdir=str(tmp_path / "w")))


def test_script_reports_a_missing_dataset_before_compiling(tmp_path):
  r = subprocess.run(
    [sys.executable, os.path.join(ROOT, "experiments", "sr.py"), f"--workdir={tmp_path / 'w'}"],
    capture_output=True,
    text=True,
    timeout=120,
    cwd=ROOT,
    check=False,
  )
  assert r.returncode == 2 and "jaxgan: error: --dataset is required" in r.stderr
  assert not (tmp_path / "w").exists()


@pytest.mark.parametrize(
  "name, expected",
  [
    ("srresnet_bsd68", dict(generator="srresnet", loss="mse", batch_size=16, learning_rate=1e-4)),
    (
      "srgan_bsd68",
      dict(loss="srgan", content_layer="relu4_3", lr_decay_steps=100_000, num_steps=200_000, vgg_weights="vgg16"),
    ),
    (
      "perceptual_sr_bsd68",
      dict(
        generator="johnson",
        loss="vgg",
        vgg_rescale=1.0,
        learning_rate=1e-3,
        batch_size=4,
        crop_size=288,
        vgg_weights="vgg16",
      ),
    ),
  ],
)
def test_flagfiles_name_registry_entries(name, expected):
  fv = flags.FlagValues()
  flags_lib.define_flags(sr.Config, fv)
  fv(["prog", f"--flagfile={os.path.join(ROOT, 'experiments', 'flags', name + '.flags')}"])
  config = flags_lib.config_from_flags(sr.Config, fv)
  assert {k: getattr(config, k) for k in expected} == expected
  assert config.dataset == "bsd68" and config.eval_dir == "set5"
  for value in (config.dataset, config.eval_dir, config.vgg_weights):  # skips (fails under CI) if not downloaded
    assert not value or real_data(value).exists(), value

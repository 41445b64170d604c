"""pix2pix: the step's update order, training end to end, resume, --mode=test (FID/KID too) and its errors."""

import json
import os
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from jaxgan.methods import image_to_image, pix2pix
from jaxgan.metrics import features
from tests.tiny import embedded_pngs, small_inception, train_first, tree_state, unfinished_copy

TINY = dict(
  netG="unet_128",
  ngf=2,
  ndf=2,
  load_size=136,
  crop_size=128,
  num_samples=2,
  num_test=2,
  log_every=1,
  sample_every=0,
  checkpoint_every=0,
  eval_every=0,
)


def _config(tmp_path, **kw):
  return pix2pix.Config(**{**TINY, "workdir": str(tmp_path / "work"), "data_dir": str(tmp_path / "tfds"), **kw})


def _batch(config, n=2, seed=0):
  rng = np.random.default_rng(seed)
  size = (n, config.crop_size, config.crop_size)
  return {
    "a": jnp.asarray(rng.uniform(-1, 1, size + (config.input_nc,)), jnp.float32),
    "b": jnp.asarray(rng.uniform(-1, 1, size + (config.output_nc,)), jnp.float32),
  }


def _leaves_close(a, b, **kw):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), **kw)


@pytest.mark.parametrize("gan_mode", ["vanilla", "wgangp"])
def test_step_updates_d_on_the_detached_fake_then_g_against_the_new_d(tmp_path, gan_mode):
  config = _config(tmp_path, gan_mode=gan_mode, norm="instance" if gan_mode == "wgangp" else "batch")
  method = pix2pix.Pix2Pix(config)
  state = method.init_state(jax.random.PRNGKey(0))
  batch = _batch(config)
  new_state, metrics = jax.jit(method.train_step)(state, batch)
  assert set(metrics) >= {"d_loss", "g_gan", "g_l1", "learning_rate"}
  assert ("gradient_penalty" in metrics) == (gan_mode == "wgangp")

  # Replay with plain jax.grad: the D phase on G's (detached) translation, then G's full
  # gradient through itself and the *updated* D.
  k_dropout, k_gp = jax.random.split(state.step_key())
  g, d = state.nets["G"], state.nets["D"]
  a, b = batch["a"], batch["b"]

  def replay(g, d):
    fake, g_stats = method.translate(g, a, train=True, key=k_dropout)
    grads, (d_stats, _) = jax.grad(method.d_loss, has_aux=True)(
      d.params, d.stats, a, b, jax.lax.stop_gradient(fake), k_gp
    )
    d = method.discriminator.update(d, grads, d_stats)
    g_objective = lambda params: method.g_loss(
      method.translate(g.replace(params=params), a, train=True, key=k_dropout)[0], d, a, b
    )
    g_grads, (d_stats, _) = jax.grad(g_objective, has_aux=True)(g.params)
    return method.generator.update(g, g_grads, g_stats), d.replace(stats=d_stats)

  g_ref, d_ref = jax.jit(replay)(g, d)
  _leaves_close(new_state.nets["D"], d_ref, rtol=1e-5, atol=1e-6)
  _leaves_close(new_state.nets["G"], g_ref, rtol=1e-4, atol=1e-6)
  assert int(new_state.step) == 1


def test_step_is_deterministic_and_the_learning_rate_follows_the_epochs(tmp_path):
  config = _config(tmp_path, n_epochs=1, n_epochs_decay=1)
  method = pix2pix.Pix2Pix(config, steps_per_epoch=2)
  step = jax.jit(method.train_step)
  state = method.init_state(jax.random.PRNGKey(0))
  batch = _batch(config)
  s1, m1 = step(jax.tree.map(jnp.copy, state), batch)
  s2, m2 = step(jax.tree.map(jnp.copy, state), batch)
  _leaves_close(s1, s2, rtol=0, atol=0)
  rates = []
  for _ in range(4):
    state, m = step(state, batch)
    rates.append(float(m["learning_rate"]))
  np.testing.assert_allclose(rates, [2e-4, 2e-4, 1e-4, 1e-4], rtol=1e-6)


def _write_ab_folder(root, names, size=(40, 64)):
  """Side-by-side AB files whose B is A's colours reversed (a pixelwise function of A)."""
  rng = np.random.default_rng(0)
  for split, split_names in names.items():
    os.makedirs(root / split, exist_ok=True)
    for name in split_names:
      a = rng.integers(0, 256, size + (3,), dtype=np.uint8)
      Image.fromarray(np.concatenate([a, 255 - a], axis=1)).save(root / split / f"{name}.png")


def _params(state):
  return jax.device_get(state.nets)


def test_train_resume_and_test_mode_end_to_end(tmp_path, capsys, fit_spy, monkeypatch):
  data = tmp_path / "facades"
  _write_ab_folder(data, {"train": ["t0", "t1", "t2"], "test": ["x0", "x1"]})
  common = dict(dataset=f"paired:{data}", direction="BtoA", batch_size=1, num_steps=3, n_epochs=1, n_epochs_decay=1)
  straight = pix2pix.train(_config(tmp_path / "a", **common))
  assert int(straight.step) == 3
  # Interrupted after 1 step, then resumed with samples, evaluations and checkpoints after every
  # step: restored step 1, ran 2 and 3 without recompiling, the same parameters as the
  # uninterrupted run.
  pix2pix.train(_config(tmp_path / "b", **{**common, "num_steps": 1}))
  fit_spy.clear()
  # ... evaluating FID/KID/IS too (--fid_features, training-time; run_only: the same run).
  weights = tmp_path / "weights.npz"
  weights.touch()
  fid = dict(fid_features="inception", fid_weights=str(weights))
  with monkeypatch.context() as patch:
    patch.setattr(features, "inception", small_inception([]))
    resumed = pix2pix.train(_config(tmp_path / "b", **common, sample_every=1, eval_every=1, checkpoint_every=1, **fid))
    builds, runs = fit_spy.builds, fit_spy.summary()
    tested = json.load(
      open(os.path.join(os.path.dirname(pix2pix.test(_config(tmp_path / "b", **common, **fid))), "metrics.json"))
    )
  assert runs == [(1, 2)] and builds == 1  # built once, after the data
  _leaves_close(_params(resumed), _params(straight), rtol=0, atol=0)
  assert os.path.exists(tmp_path / "a" / "work" / "eval.json")
  trained = json.load(open(tmp_path / "b" / "work" / "eval.json"))
  # The training evaluation's scores are --mode=test's of the same checkpoint (the same held-out
  # translations, as uint8 images).
  assert trained["kid_inception_subset_size"] == 2 and trained["fid_inception"] > 0
  assert {k: trained[k] for k in ("fid_inception", "kid_inception_mean", "is_inception_mean")} == pytest.approx(
    {k: tested[k] for k in ("fid_inception", "kid_inception_mean", "is_inception_mean")}, rel=1e-5
  )

  # --mode=test on the test split: every input listed in the HTML page, metrics written.
  config = _config(tmp_path / "a", **common)
  page = pix2pix.test(config)
  html = open(page).read()
  for name in ("x0", "x1"):
    for suffix in ("real_A", "fake_B", "real_B"):
      path = os.path.join(os.path.dirname(page), "images", f"{name}_{suffix}.png")
      assert Image.open(path).size == (128, 128)
      assert f"images/{name}_{suffix}.png" in html
  metrics = json.load(open(os.path.join(os.path.dirname(page), "metrics.json")))
  assert metrics["num_test"] == 2 and set(metrics["input_as_output"]) == {"l1", "psnr", "ssim"}
  # B is A's colours reversed (BtoA: the input is B): the input-as-output baseline is |a - (255 - a)|.
  assert metrics["input_as_output"]["l1"] > 0.5
  assert "PSNR" in capsys.readouterr().out
  # --fid_features: missing weights stop --mode=test before a results folder is written, naming the flag.
  before = sorted(os.listdir(tmp_path / "a" / "work"))
  with pytest.raises(FileNotFoundError, match=re.escape("--fid_weights=nope.npz: no FID Inception weights")):
    pix2pix.test(config.replace(fid_features="inception", fid_weights="nope.npz"))
  assert sorted(os.listdir(tmp_path / "a" / "work")) == before
  # A second run never overwrites the first one's results. With --fid_features, FID/KID/IS of the
  # written translations against the written targets, and of the inputs themselves: features.scores
  # of the PNGs read back.
  loaded, weights = [], tmp_path / "weights.npz"
  weights.touch()
  monkeypatch.setattr(features, "inception", small_inception(loaded))
  page2 = pix2pix.test(config.replace(fid_features="inception", fid_weights=str(weights)))
  assert os.path.dirname(page2) == os.path.dirname(page) + "-1"
  assert loaded == [str(weights)]
  metrics = json.load(open(os.path.join(os.path.dirname(page2), "metrics.json")))
  extractor = features.inception("fid_inception")
  real_a, fake_b, real_b = (embedded_pngs(extractor, page2, s) for s in ("real_A", "fake_B", "real_B"))
  expected = features.scores(extractor, real_b, fake_b)
  assert expected["kid_inception_subset_size"] == 2 and expected["fid_inception"] > 0
  assert {k: metrics[k] for k in expected} == pytest.approx(expected, rel=1e-6)
  baseline = features.scores(extractor, real_b, real_a)
  assert {k: metrics["input_as_output"][k] for k in baseline} == pytest.approx(baseline, rel=1e-6)
  assert {"l1", "psnr", "ssim"} <= set(metrics["input_as_output"]) and metrics["num_test"] == 2
  assert f"FID (inception) {expected['fid_inception']:.4g}" in capsys.readouterr().out

  # A folder of odd-sized, grey and RGBA inputs, padded to the U-Net's stride and cropped back.
  inputs = tmp_path / "inputs"
  inputs.mkdir()
  Image.fromarray(np.full((50, 70), 128, np.uint8)).save(inputs / "grey.png")
  Image.fromarray(np.full((130, 129, 4), 200, np.uint8)).save(inputs / "rgba.png")
  (inputs / "notes.txt").write_text("not an image")
  page3 = pix2pix.test(
    config.replace(test_input=str(inputs), size_policy="pad", fid_features="inception", fid_weights=str(weights))
  )
  assert "--fid_features: the test inputs have no target images" in capsys.readouterr().out
  assert not os.path.exists(os.path.join(os.path.dirname(page3), "metrics.json"))
  out = os.path.join(os.path.dirname(page3), "images")
  assert Image.open(os.path.join(out, "grey_fake_B.png")).size == (70, 50)
  assert Image.open(os.path.join(out, "rgba_fake_B.png")).size == (129, 130)
  assert "rgba.png" in open(page3).read() and "notes" not in open(page3).read()
  with pytest.raises(ValueError, match=re.escape("grey.png is 50x70, not a multiple of 128")):
    pix2pix.test(config.replace(test_input=str(inputs), size_policy="error"))

  # A run of 5 steps stopped at its step-3 checkpoint: --mode=test and export_torch say how to
  # finish it and change nothing; --allow_partial uses step 3.
  partial = unfinished_copy(tmp_path / "a" / "work", tmp_path / "p" / "work", num_steps=5)
  config = _config(tmp_path / "p", **common, torch_G=str(tmp_path / "g.pth"), data_dir=str(tmp_path / "a" / "tfds"))
  before = tree_state(partial)
  for mode in ("test", "export_torch"):
    with pytest.raises(
      FileNotFoundError,
      match=train_first("pix2pix", partial, f"{partial} is at step 3 of 5; --allow_partial uses it as it is"),
    ):
      pix2pix.MODES[mode](config)
  assert tree_state(partial) == before and not (tmp_path / "g.pth").exists()
  page = pix2pix.test(config.replace(allow_partial=True))
  assert page.startswith(os.path.join(partial, "test_step3"))
  assert f"jaxgan: --allow_partial: using step 3 of 5 (the run in {partial} is not finished)" in (
    capsys.readouterr().out
  )


def test_written_images_of_several_sizes_are_scored_as_written(capsys):
  """Images of different sizes (--size_policy=pad or crop) are embedded size by size, each as its
  PNG holds it (uint8), in the order added."""
  rng = np.random.default_rng(0)
  images = [rng.uniform(-1, 1, shape).astype(np.float32) for shape in [(8, 12, 3), (16, 16, 3), (8, 12, 3)]]
  extractor = small_inception([])("fid_inception")
  written = image_to_image.WrittenImages(extractor)
  for x in images:
    written.add({"fake_B": x, "real_B": -x})
  got = written.embedded("fake_B")
  for i, x in enumerate(images):
    one = features.embed(extractor, image_to_image.images_lib.to_uint8(x)[None])
    np.testing.assert_allclose(got["pool"][i], one["pool"][0], rtol=1e-5, atol=1e-6)
  assert written.scores("real_B", "fake_B")["kid_inception_subset_size"] == 3
  written.add({"lonely": images[0]})
  assert written.scores("real_B", "lonely") == {}
  assert "lonely (1 images) vs real_B (3): FID/KID need 2 or more of each" in capsys.readouterr().out


@pytest.mark.parametrize("mode", ["test", "export_torch"])
def test_tool_modes_on_an_untrained_workdir_say_train_first(tmp_path, mode):
  config = _config(tmp_path, torch_G=str(tmp_path / "g.pth"), allow_partial=True)
  with pytest.raises(
    FileNotFoundError, match=train_first("pix2pix", tmp_path / "work", f"no checkpoint in {tmp_path / 'work'}")
  ):
    pix2pix.MODES[mode](config)
  assert sorted(os.listdir(tmp_path)) == []  # no workdir, no tfds build, no export


@pytest.mark.parametrize("policy", ["pad", "crop", "resize"])
@pytest.mark.parametrize("shape", [(50, 70, 3), (128, 256, 1), (300, 129, 3)])
def test_fit_to_stride(policy, shape):
  image = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
  if policy == "crop" and min(shape[:2]) < 128:
    return  # refused: see the next test
  fitted, undo = image_to_image.fit_to_stride(image, stride=128, policy=policy, size=128, name="x.png")
  assert fitted.shape[0] % 128 == 0 and fitted.shape[1] % 128 == 0
  if policy == "pad":
    np.testing.assert_array_equal(undo(fitted), image)  # the crop undoes the padding exactly
  if policy == "resize":
    assert fitted.shape[:2] == (128, 128)


def test_fit_to_stride_errors_name_the_image_and_size():
  with pytest.raises(ValueError, match=r"x.png is 50x70, smaller than the generator.s stride 128"):
    image_to_image.fit_to_stride(np.zeros((50, 70, 3), np.float32), stride=128, policy="crop", size=128, name="x.png")


def test_config_errors_name_the_flag(tmp_path):
  with pytest.raises(ValueError, match="crop_size=100 is not a multiple of 256"):
    pix2pix.Config(crop_size=100, load_size=286)
  with pytest.raises(ValueError, match="crop_size=512 is larger than load_size=286"):
    pix2pix.Config(crop_size=512)
  with pytest.raises(ValueError, match="netG='resnet_12blocks' is not one of"):
    pix2pix.Config(netG="resnet_12blocks")
  with pytest.raises(FileNotFoundError, match="--test_input=/nonexistent"):
    list(pix2pix._test_items(_config(tmp_path, test_input="/nonexistent")))
  with pytest.raises(ValueError, match="--fid_features=inception compares sets of images: it needs --num_test >= 2"):
    pix2pix.Config(fid_features="inception", num_test=1)


def test_official_checkpoints_import_and_export_through_the_modes(tmp_path):
  pytest.importorskip("torch")
  data = tmp_path / "pairs"
  _write_ab_folder(data, {"train": ["t0", "t1"], "test": ["x0"]})
  common = dict(dataset=f"paired:{data}", num_steps=1, n_epochs=1, n_epochs_decay=1, test_dropout=False)
  trained = pix2pix.train(_config(tmp_path / "a", **common))
  source = _config(tmp_path / "a", **common)
  g_pth, d_pth = str(tmp_path / "latest_net_G.pth"), str(tmp_path / "latest_net_D.pth")
  assert pix2pix.export_torch(source.replace(torch_G=g_pth, torch_D=d_pth)) == [g_pth, d_pth]
  with pytest.raises(ValueError, match="latest_net_G.pth exists"):
    pix2pix.export_torch(source.replace(torch_G=g_pth))

  target = _config(tmp_path / "b", **common, torch_G=g_pth, torch_D=d_pth, seed=7)
  pix2pix.import_torch(target)
  # Step 0 of a 1-step run, recorded as finished: the modes that need a trained model take it.
  assert json.load(open(tmp_path / "b" / "work" / "finished.json"))["step"] == 0
  imported = pix2pix.runner.restore(target, pix2pix.build(target).init_state)
  assert int(imported.step) == 0
  for name in ("G", "D"):
    _leaves_close(imported.nets[name].params, trained.nets[name].params, rtol=0, atol=0)
    _leaves_close(imported.nets[name].stats, trained.nets[name].stats, rtol=0, atol=0)
  with pytest.raises(ValueError, match="already holds checkpoints"):
    pix2pix.import_torch(target)
  with pytest.raises(ValueError, match="needs --torch_G"):
    pix2pix.import_torch(_config(tmp_path / "c", **common))

"""CycleGAN: the step's phases and pools, loss identities, one Adam == per-network Adams, resume,
--mode=test (FID/KID too)."""

import functools
import json
import os
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from jaxgan.data.images import to_uint8
from jaxgan.methods import cyclegan
from jaxgan.metrics import features
from jaxgan.train import image_pool
from tests.tiny import embedded_pngs, small_inception, train_first, tree_state, unfinished_copy

TINY = dict(
  ngf=2,
  ndf=2,
  input_nc=1,
  output_nc=1,
  load_size=36,
  crop_size=32,
  flip=False,
  num_samples=1,
  log_every=1,
  sample_every=0,
  checkpoint_every=0,
  classifier_steps=0,
)


def _config(tmp_path, **kw):
  return cyclegan.Config(**{**TINY, "workdir": str(tmp_path / "work"), "data_dir": str(tmp_path / "tfds"), **kw})


def _batch(config, n=2, seed=0):
  rng = np.random.default_rng(seed)
  size = (n, config.crop_size, config.crop_size)
  return {
    "A/image": jnp.asarray(rng.uniform(-1, 1, size + (config.input_nc,)), jnp.float32),
    "B/image": jnp.asarray(rng.uniform(-1, 1, size + (config.output_nc,)), jnp.float32),
  }


def _close(a, b, **kw):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), **kw)


def test_step_updates_gs_against_current_ds_then_ds_on_pooled_fakes(tmp_path):
  config = _config(tmp_path, pool_size=3)
  method = cyclegan.CycleGAN(config)
  # Plain SGD: parameters move by the gradients themselves. (Adam's first step is about
  # lr * sign(gradient), which turns the rounding noise of the exactly-zero gradients of
  # conv biases before an instance norm into +-lr differences between two compilations.)
  method.tx = optax.sgd(1.0)
  state = method.init_state(jax.random.PRNGKey(0))
  batch = _batch(config)
  new, metrics = jax.jit(method.train_step)(state, batch)
  assert set(metrics) >= {"G_A", "G_B", "cycle_A", "cycle_B", "idt_A", "idt_B", "D_A", "D_B"}

  k_g, k_pool_a, k_pool_b = jax.random.split(state.step_key(), 3)
  nets = state.nets

  def replay():
    g_params = {n: nets[n].params for n in cyclegan.GENERATORS}
    grads, (g_stats, fake_a, fake_b, _) = jax.grad(method.g_loss, has_aux=True)(
      g_params, nets, batch["A/image"], batch["B/image"], k_g
    )
    out = {n: method.networks[n].update(nets[n], grads[n], g_stats[n]) for n in cyclegan.GENERATORS}
    pool_b, fake_b = image_pool.query_pool(state.extra["fake_B"], fake_b, k_pool_b)
    pool_a, fake_a = image_pool.query_pool(state.extra["fake_A"], fake_a, k_pool_a)
    for name, real, fake in (("D_A", batch["B/image"], fake_b), ("D_B", batch["A/image"], fake_a)):
      grads, stats = jax.grad(functools.partial(method.d_loss, name), has_aux=True)(
        nets[name].params, nets[name].stats, real, fake
      )
      out[name] = method.networks[name].update(nets[name], grads, stats)
    return out, {"fake_A": pool_a, "fake_B": pool_b}

  nets_ref, pools_ref = jax.jit(replay)()
  for name in cyclegan.GENERATORS + cyclegan.DISCRIMINATORS:
    # The updates (= -gradients) agree to float32 rounding, relative to the network's largest one
    # (conv biases before an instance norm have exactly-zero gradients: rounding noise only).
    leaves = [jax.tree.leaves(n[name].params) for n in (state.nets, new.nets, nets_ref)]
    deltas = [
      (np.asarray(got) - np.asarray(old), np.asarray(want) - np.asarray(old)) for old, got, want in zip(*leaves)
    ]
    scale = max(np.abs(want).max() for _, want in deltas)
    for got, want in deltas:
      np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * scale)
  _close(new.extra, pools_ref, rtol=1e-5, atol=1e-6)
  # The pools filled with this step's two fakes per direction, in batch order.
  assert int(new.extra["fake_A"].count) == int(new.extra["fake_B"].count) == 2
  # D's gradient never reaches G: the generators' update does not depend on the D phase.
  assert not np.allclose(
    np.asarray(jax.tree.leaves(new.nets["D_A"].params)[0]), np.asarray(jax.tree.leaves(state.nets["D_A"].params)[0])
  )


class Scale(nnx.Module):
  """x -> s * x: a generator whose inverse is known exactly."""

  def __init__(self, s, rngs=None):
    self.s = nnx.Param(jnp.asarray(s, jnp.float32))

  def __call__(self, x, *, train=True, key=None):
    return x * self.s[...]


@pytest.mark.parametrize(
  "scale_a, scale_b, cycle_zero, identity_zero",
  [
    (1.0, 1.0, True, True),  # identity generators: cycle and identity losses vanish
    (2.0, 0.5, True, False),  # G_B inverts G_A: cycle losses vanish, identity losses do not
    (2.0, 2.0, False, False),
  ],
)
def test_cycle_and_identity_losses(tmp_path, scale_a, scale_b, cycle_zero, identity_zero):
  config = _config(tmp_path)
  method = cyclegan.CycleGAN(config)
  method.makers = {**method.makers, "G_A": functools.partial(Scale, scale_a), "G_B": functools.partial(Scale, scale_b)}
  state = method.init_state(jax.random.PRNGKey(0))
  batch = _batch(config)
  g_params = {n: state.nets[n].params for n in cyclegan.GENERATORS}
  _, (_, fake_a, fake_b, m) = method.g_loss(
    g_params, state.nets, batch["A/image"], batch["B/image"], jax.random.PRNGKey(1)
  )
  assert (float(m["cycle_A"]) == 0 and float(m["cycle_B"]) == 0) == cycle_zero
  assert (float(m["idt_A"]) == 0 and float(m["idt_B"]) == 0) == identity_zero
  np.testing.assert_array_equal(fake_b, scale_a * batch["A/image"])
  np.testing.assert_array_equal(fake_a, scale_b * batch["B/image"])
  # The weights: identity L1 * lambda * lambda_identity, cycle L1 * lambda.
  expected_idt = np.abs((scale_a - 1) * np.asarray(batch["B/image"])).mean() * 10 * 0.5
  np.testing.assert_allclose(m["idt_A"], expected_idt, rtol=1e-5)


def test_one_adam_over_two_networks_equals_one_adam_each():
  """The official single Adam over G_A + G_B takes the same steps as one Adam per network."""
  rng = np.random.default_rng(0)
  params = {"G_A": jnp.asarray(rng.normal(size=(3, 4))), "G_B": jnp.asarray(rng.normal(size=(5,)))}
  tx = optax.adam(2e-4, b1=0.5, b2=0.999)
  joint_state, separate = tx.init(params), {k: tx.init(v) for k, v in params.items()}
  joint, apart = dict(params), dict(params)
  for _step in range(5):
    grads = {k: jnp.asarray(rng.normal(size=v.shape)) for k, v in params.items()}
    updates, joint_state = tx.update(grads, joint_state, joint)
    joint = optax.apply_updates(joint, updates)
    for k in params:
      u, separate[k] = tx.update(grads[k], separate[k], apart[k])
      apart[k] = optax.apply_updates(apart[k], u)
  _close(joint, apart, rtol=1e-6, atol=0)


def test_resume_with_a_partly_filled_pool_is_bit_identical(tmp_path, fit_spy, monkeypatch):
  common = dict(pool_size=5, num_steps=3, n_epochs=1, n_epochs_decay=1)
  # The uninterrupted run also reports FID/KID/IS of both directions (--fid_features; run_only).
  monkeypatch.setattr(features, "inception", small_inception([]))
  (tmp_path / "w.npz").touch()
  fid = dict(fid_features="inception", fid_weights=str(tmp_path / "w.npz"), num_test=3)
  straight = cyclegan.train(_config(tmp_path / "a", **common, **fid))
  reported = json.load(open(tmp_path / "a" / "work" / "eval.json"))
  config = _config(tmp_path / "a", **common, **fid)
  test_a, test_b = (np.stack(x) for x in cyclegan.held_out(config, 3))
  extractor, method = features.inception("w"), cyclegan.build(config)
  for direction, x, real, g in (("AtoB", test_a, test_b, "G_A"), ("BtoA", test_b, test_a, "G_B")):
    fake = np.asarray(method.translate_batch(straight, x, name=g))
    expected = features.scores(
      extractor, features.embed(extractor, to_uint8(real)), features.embed(extractor, to_uint8(fake))
    )
    assert {k: reported[f"{direction}_{k}"] for k in expected} == pytest.approx(expected, rel=1e-5)
  cyclegan.train(_config(tmp_path / "b", **{**common, "num_steps": 1}))
  fit_spy.clear()
  # Restores step 1 (one image in each pool), runs 2 and 3, sampling and saving after each step
  # without recompiling.
  resumed = cyclegan.train(_config(tmp_path / "b", **common, sample_every=1, checkpoint_every=1))
  assert fit_spy.summary() == [(1, 2)] and fit_spy.builds == 1  # built once, after the data
  assert int(straight.extra["fake_A"].count) == 3 < 5  # partly filled
  _close(jax.device_get(resumed.nets), jax.device_get(straight.nets), rtol=0, atol=0)
  _close(jax.device_get(resumed.extra), jax.device_get(straight.extra), rtol=0, atol=0)


def test_config_errors_name_the_flag():
  with pytest.raises(ValueError, match="lambda_identity=0.5 needs input_nc == output_nc"):
    cyclegan.Config(input_nc=1, output_nc=3)
  cyclegan.Config(input_nc=1, output_nc=3, lambda_identity=0.0)
  with pytest.raises(ValueError, match="crop_size=30 is not a multiple of 4"):
    cyclegan.Config(crop_size=30, load_size=36)


def _check_scores(page, extractor):
  """metrics.json of --fid_features: per direction, features.scores of the PNGs read back (the
  translations against the real images of the target domain, and the inputs themselves)."""
  metrics = json.load(open(os.path.join(os.path.dirname(page), "metrics.json")))
  name = extractor.name
  for direction, (inputs, fake, real) in {
    "AtoB": ("real_A", "fake_B", "real_B"),
    "BtoA": ("real_B", "fake_A", "real_A"),
  }.items():
    got = metrics[direction]
    real_pngs = embedded_pngs(extractor, page, real)
    expected = features.scores(extractor, real_pngs, embedded_pngs(extractor, page, fake))
    assert got["num_test"] == got["num_targets"] == expected[f"kid_{name}_subset_size"] == 2
    assert {k: got[k] for k in expected} == pytest.approx(expected, rel=1e-6)
    baseline = features.scores(extractor, real_pngs, embedded_pngs(extractor, page, inputs))
    assert got["input_as_output"] == pytest.approx(baseline, rel=1e-6)
  return metrics


def test_test_mode_and_official_checkpoints_round_trip(tmp_path, capsys, monkeypatch):
  pytest.importorskip("torch")
  common = dict(num_steps=1, n_epochs=1, n_epochs_decay=1, num_test=2)
  source = _config(tmp_path / "a", **common, classifier_steps=20)
  trained = cyclegan.train(source)
  # Digits are class domains: a classifier trained on the real digits judges the translations.
  result = json.load(open(tmp_path / "a" / "work" / "eval.json"))
  assert result["num_test_A"] == result["num_test_B"] == 2
  assert {"success_AtoB", "success_BtoA", "judge_accuracy_A", "cycle_l1_A"} <= set(result)
  assert all(0 <= result[k] <= 1 for k in ("success_AtoB", "success_BtoA", "judge_accuracy_A"))
  # --mode=test with --fid_features=judge (class domains: the features of the judge cached by training): per
  # direction, FID/KID/IS of the written translations and of the inputs themselves against the real images of the
  # target domain. (--fid_features=inception is the same code after the features: tests/test_pix2pix.py.)
  made, judge = [], features.judge
  monkeypatch.setattr(features, "judge", lambda *args: made.append((judge(*args), args[1])) or made[-1][0])
  page = cyclegan.test(source.replace(fid_features="judge"))
  html = open(page).read()
  names = sorted(os.listdir(os.path.join(os.path.dirname(page), "images")))
  assert len(names) == 12  # 2 A images x (real_A, fake_B, rec_A) + 2 B images x (real_B, fake_A, rec_B)
  assert all(f"images/{n}" in html for n in names)
  [(extractor, shape)] = made
  assert extractor.name == "judge" and shape == (32, 32, 1)
  metrics = _check_scores(page, extractor)
  assert metrics["step"] == 1 and metrics["AtoB"]["fid_judge"] > 0
  assert f"BtoA: FID (judge) {metrics['BtoA']['fid_judge']:.4g}" in capsys.readouterr().out
  # Missing weights stop --mode=test before a results folder is written, naming the flag.
  before = sorted(os.listdir(tmp_path / "a" / "work"))
  with pytest.raises(FileNotFoundError, match=re.escape("--fid_weights=nope.npz: no FID Inception weights")):
    cyclegan.test(source.replace(fid_features="inception", fid_weights="nope.npz"))
  with pytest.raises(ValueError, match="--fid_features=judge needs class domains"):
    cyclegan.test(source.replace(fid_features="judge", classifier_steps=0))
  assert sorted(os.listdir(tmp_path / "a" / "work")) == before
  with pytest.raises(ValueError, match="--fid_features=judge needs --size_policy=resize"):
    source.replace(fid_features="judge", size_policy="pad")
  paths = {n: str(tmp_path / f"latest_net_{n}.pth") for n in ("G_A", "G_B", "D_A", "D_B")}
  # A run of 4 steps stopped at its step-1 checkpoint: test and export_torch say "train first" and
  # change nothing; --allow_partial uses step 1.
  partial = unfinished_copy(tmp_path / "a" / "work", tmp_path / "p" / "work", num_steps=4)
  unfinished = source.replace(workdir=partial, torch_G_A=paths["G_A"])
  before = tree_state(partial)
  for mode in ("test", "export_torch"):
    with pytest.raises(
      FileNotFoundError,
      match=train_first("cyclegan", partial, f"{partial} is at step 1 of 4; --allow_partial uses it as it is"),
    ):
      cyclegan.MODES[mode](unfinished)
  assert tree_state(partial) == before and not os.path.exists(paths["G_A"])
  assert cyclegan.export_torch(unfinished.replace(allow_partial=True)) == [paths["G_A"]]
  os.remove(paths["G_A"])
  cyclegan.export_torch(source.replace(**{f"torch_{n}": p for n, p in paths.items()}))
  target = _config(tmp_path / "b", **common, seed=5, torch_G_A=paths["G_A"], torch_D_B=paths["D_B"])
  cyclegan.import_torch(target)
  imported = cyclegan.runner.restore(target, cyclegan.build(target).init_state)
  _close(imported.nets["G_A"].params, trained.nets["G_A"].params, rtol=0, atol=0)
  _close(imported.nets["D_B"].params, trained.nets["D_B"].params, rtol=0, atol=0)
  fresh = cyclegan.build(target).init_state(jax.random.PRNGKey(5))
  _close(imported.nets["G_B"].params, fresh.nets["G_B"].params, rtol=0, atol=0)  # not imported: fresh
  with pytest.raises(ValueError, match="needs --torch_G_A"):
    cyclegan.import_torch(_config(tmp_path / "c", **common))


@pytest.mark.parametrize("mode", ["test", "export_torch"])
def test_tool_modes_on_an_untrained_workdir_say_train_first(tmp_path, mode):
  config = _config(tmp_path, torch_G_A=str(tmp_path / "g.pth"), allow_partial=True)
  with pytest.raises(
    FileNotFoundError, match=train_first("cyclegan", tmp_path / "work", f"no checkpoint in {tmp_path / 'work'}")
  ):
    cyclegan.MODES[mode](config)
  assert os.listdir(tmp_path) == []  # no workdir, no tfds build, no export

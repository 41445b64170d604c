"""Fast style transfer and Gatys optimisation: loss identities, gradient isolation, the step,
stylising any size, errors, and tiny end-to-end runs (a random VGG16 written to an .npz); Gatys
through the shared loop: resumed bit for bit, no VGG in its checkpoints, the NaN guard."""

import functools
import json
import os
import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from PIL import Image

from jaxgan.errors import NonFiniteError
from jaxgan.interop import vgg as vgg_lib
from jaxgan.methods import gatys, runner
from jaxgan.methods import style_transfer as st
from jaxgan.models.vgg import VGG
from jaxgan.train.checkpoint import Checkpointer
from tests.tiny import tree_state, unfinished_copy


def _photo(h, w, seed):
  """A smooth random colour image (uint8), so that crops and resizes keep some structure."""
  rng = np.random.default_rng(seed)
  small = rng.integers(0, 256, (max(2, h // 6), max(2, w // 6), 3), dtype=np.uint8)
  return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC))


def _save(path, image):
  Image.fromarray(image).save(path)
  return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
  root = tmp_path_factory.mktemp("style")
  vgg_path = root / "vgg16_random.npz"
  vgg_lib.save_vgg_npz(vgg_lib.LossNetwork.from_module(VGG(depth=16, rngs=nnx.Rngs(0)), "keras"), vgg_path)
  content_dir = root / "content"
  content_dir.mkdir()
  for i, (h, w) in enumerate([(40, 48), (44, 36), (36, 52)]):
    _save(content_dir / f"photo{i}.png", _photo(h, w, i))
  return {
    "vgg": str(vgg_path),
    "content_dir": str(content_dir),
    "style": _save(root / "style.png", _photo(24, 28, 7)),
    "content": _save(root / "content.png", _photo(20, 16, 8)),
    "odd": _save(root / "odd.png", _photo(37, 53, 9)),
    "root": root,
  }


def _config(files, tmp_path, **kw):
  base = {
    "workdir": str(tmp_path / "work"),
    "data_dir": str(tmp_path / "tfds"),
    "content_dir": files["content_dir"],
    "style_image": files["style"],
    "vgg_weights": files["vgg"],
    "image_size": 16,
    "batch_size": 2,
    "num_samples": 2,
    "log_every": 1,
    "sample_every": 0,
    "checkpoint_every": 0,
  }
  return st.Config(**{**base, **kw})


@pytest.fixture(scope="module")
def method(files, tmp_path_factory):
  return st.build(_config(files, tmp_path_factory.mktemp("m")))


@pytest.fixture(scope="module")
def step(method):
  return jax.jit(functools.partial(method.train_step, consts=method.consts))


def _images(n, size, seed):
  return jnp.asarray(np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 3)), jnp.float32)


def test_style_loss_against_own_grams_is_zero_and_only_the_image_gets_gradients(method):
  objective = method.objective
  vgg = method.loss_network
  x = _images(1, 16, 0)
  grams = jax.jit(objective.style_grams)(vgg, x[0])
  terms_of = jax.jit(lambda net, image: objective(net, image, objective.content_targets(net, x), grams))
  terms = terms_of(vgg, x)
  y = _images(1, 16, 1)
  other = terms_of(vgg, y)
  assert float(terms["style"][0]) <= 1e-6 * float(other["style"][0])
  assert float(terms["content"][0]) == 0 and float(other["content"][0]) > 0
  total = lambda net, image: objective(net, image, objective.content_targets(net, x), grams)["total"].sum()
  g_net, g_image = jax.jit(jax.grad(total, argnums=(0, 1)))(vgg, y)
  assert all(not np.any(np.asarray(leaf)) for leaf in jax.tree.leaves(g_net))
  assert np.all(np.isfinite(g_image)) and np.any(np.asarray(g_image))


def test_train_step_updates_g_only_and_is_deterministic(method, step):
  state = method.init_state(jax.random.PRNGKey(0))
  batch = {"image": _images(2, 16, 2)}
  s1, m1 = step(jax.tree.map(jnp.copy, state), batch)
  s2, m2 = step(jax.tree.map(jnp.copy, state), batch)
  chex.assert_trees_all_equal(s1, s2)
  chex.assert_trees_all_equal(m1, m2)
  assert set(m1) == {"content", "style", "tv", "total"} and int(s1.step) == 1
  assert state.extra == s1.extra == {}  # the loss network and the Grams are the step's consts, never saved
  changed = [
    bool(np.any(np.asarray(a) != np.asarray(b)))
    for a, b in zip(jax.tree.leaves(s1.nets["G"].params), jax.tree.leaves(state.nets["G"].params))
  ]
  assert all(changed)


@pytest.mark.parametrize("h, w", [(37, 53), (1, 1), (5, 3), (8, 12)])
def test_pad_for_network_fits_transformer_net_and_undo_restores_the_image(h, w):
  image = np.random.default_rng(h * w).uniform(-1, 1, (h, w, 3)).astype(np.float32)
  padded, undo = st.pad_for_network(image)
  assert padded.shape[0] % 4 == 0 and padded.shape[1] % 4 == 0 and min(padded.shape[:2]) >= 8
  np.testing.assert_array_equal(undo(padded), image)


def test_stylize_keeps_odd_sizes(method):
  state = method.init_state(jax.random.PRNGKey(1))
  for h, w in [(37, 53), (5, 3)]:
    out = method.stylize(state, np.zeros((h, w, 3), np.float32))
    assert out.shape == (h, w, 3) and np.all(np.abs(out) <= 1)


def test_missing_inputs_are_named(files, tmp_path):
  with pytest.raises(ValueError, match="--style_image is required"):
    st.build(_config(files, tmp_path, style_image="")).consts  # noqa: B018
  with pytest.raises(FileNotFoundError, match="--style_image=.*nope.png"):
    st.build(_config(files, tmp_path, style_image=str(tmp_path / "nope.png"))).consts  # noqa: B018
  with pytest.raises(vgg_lib.VGGWeightsNotFoundError, match="--vgg_weights=.*nope.npz: no such file"):
    st.build(_config(files, tmp_path, vgg_weights=str(tmp_path / "nope.npz"))).consts  # noqa: B018
  env = dict(os.environ)
  os.environ.pop("JAXGAN_VGG16", None)
  try:
    with pytest.raises(
      vgg_lib.VGGWeightsNotFoundError, match="the perceptual loss needs ImageNet VGG16 weights: pass --vgg_weights"
    ):
      st.build(_config(files, tmp_path, vgg_weights="")).consts  # noqa: B018
  finally:
    os.environ.clear()
    os.environ.update(env)
  with pytest.raises(ValueError, match="--content_dir is required"):
    st.content_source(_config(files, tmp_path, content_dir=""))
  with pytest.raises(FileNotFoundError, match="--content_dir=.*nowhere"):
    st.content_source(_config(files, tmp_path, content_dir=str(tmp_path / "nowhere")))
  with pytest.raises(ValueError, match="style_layers=.*relu9_9"):
    _config(files, tmp_path, style_layers=("relu1_2", "relu9_9"))
  with pytest.raises(ValueError, match="image_size=30 must be a multiple of 4"):
    _config(files, tmp_path, image_size=30)
  with pytest.raises(ValueError, match="--content_image is required"):
    gatys.run(gatys.Config(workdir=str(tmp_path / "g"), style_image=files["style"], vgg_weights=files["vgg"]))


def test_train_two_steps_then_stylize_an_odd_size_with_a_losses_json(files, tmp_path):
  config = _config(files, tmp_path, image_size=32, num_steps=2, sample_every=2, crop="random", input=files["odd"])
  state = st.MODES["train"](config)
  assert int(state.step) == 2
  assert os.listdir(tmp_path / "work" / "samples")
  path = st.MODES["stylize"](config)
  assert path == str(tmp_path / "work" / "stylized" / "odd.json")
  assert Image.open(tmp_path / "work" / "stylized" / "odd.png").size == (53, 37)
  with open(path) as f:
    report = json.load(f)
  assert report["step"] == 2 and report["images"][0]["size"] == [37, 53]
  before, after = report["mean"]["before"], report["mean"]["after"]
  assert 0 <= before["content"] <= 1e-6 * after["content"]  # the content image against itself
  assert before["style"] > 0 and after["style"] > 0
  with pytest.raises(ValueError, match="exist.*--overwrite"):
    st.MODES["stylize"](config)
  st.MODES["stylize"](config.replace(overwrite=True))

  # No checkpoint, or a run of 5 steps stopped at step 2: "train first", nothing written.
  empty = config.replace(workdir=str(tmp_path / "none"), allow_partial=True)
  with pytest.raises(
    FileNotFoundError,
    match="^"
    + re.escape(f"train first: python experiments/style_transfer.py --mode=train --workdir={tmp_path / 'none'} ")
    + ".*"
    + re.escape(f" (no checkpoint in {tmp_path / 'none'})")
    + "$",
  ):
    st.MODES["stylize"](empty)
  assert not (tmp_path / "none").exists()
  partial = unfinished_copy(tmp_path / "work", tmp_path / "partial", num_steps=5)
  unfinished = config.replace(workdir=partial, output=str(tmp_path / "out.png"))
  before = tree_state(partial)
  with pytest.raises(FileNotFoundError, match=re.escape(f"({partial} is at step 2 of 5; --allow_partial")):
    st.MODES["stylize"](unfinished)
  assert tree_state(partial) == before and not (tmp_path / "out.png").exists()
  path = st.MODES["stylize"](unfinished.replace(allow_partial=True))
  assert path == str(tmp_path / "out.json") and (tmp_path / "out.png").exists()


@pytest.mark.parametrize("optimizer, init", [("lbfgs", "noise"), ("adam", "content")])
def test_gatys_decreases_the_total_loss(files, tmp_path, fit_spy, optimizer, init):
  config = gatys.Config(
    workdir=str(tmp_path),
    content_image=files["content"],
    style_image=files["style"],
    vgg_weights=files["vgg"],
    image_size=16,
    optimizer=optimizer,
    init=init,
    num_steps=3,
    learning_rate=0.05,
    log_every=0,
  )
  result = gatys.run(config)
  assert result["after"]["total"] < result["before"]["total"]
  assert Image.open(tmp_path / "result.png").size == (13, 16)  # 20x16 resized to a longer side of 16
  with open(tmp_path / "result.json") as f:
    assert json.load(f)["optimizer"] == optimizer
  with pytest.raises(ValueError, match="result.png exists"):
    gatys.run(config)
  # Finished: with --overwrite, the result of its last checkpoint again (no step run).
  again = gatys.run(config.replace(overwrite=True))
  assert fit_spy.summary() == [(0, 3), (3, 0)]
  assert again["after"] == result["after"] and again["seconds_per_step"] is None


def _gatys_config(files, workdir, **kw):
  """A tiny Gatys run: 3 steps, VGG blocks 1-2 only (quicker to trace and to run)."""
  base = {
    "style_layers": ("relu1_2", "relu2_2"),
    "workdir": str(workdir),
    "content_image": files["content"],
    "style_image": files["style"],
    "vgg_weights": files["vgg"],
    "image_size": 16,
    "num_steps": 3,
    "learning_rate": 0.05,
    "log_every": 1,
    "checkpoint_every": 2,
    "sample_every": 3,
    "eval_every": 3,
  }
  return gatys.Config(**{**base, **kw})


def _checkpoint(workdir, step):
  """Checkpoint ``step`` of ``workdir`` as saved (numpy arrays, no target tree)."""
  ckpt = Checkpointer(os.path.join(workdir, "checkpoints"))
  try:
    return jax.device_get(ckpt.restore(None, step))
  finally:
    ckpt.close()


def _folder_bytes(path):
  return sum(os.path.getsize(os.path.join(root, n)) for root, _, names in os.walk(path) for n in names)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_gatys_stopped_and_resumed_equals_one_run_and_saves_no_vgg(files, tmp_path, fit_spy, optimizer):
  full_config = _gatys_config(files, tmp_path / "full", optimizer=optimizer)
  full = gatys.run(full_config)
  config = full_config.replace(workdir=str(tmp_path / "resumed"))
  gatys.run(config.replace(num_steps=2, output=str(tmp_path / "at_2.png")))  # a run stopped at step 2
  resumed = gatys.run(config)  # the same flags again: continues from the checkpoint of step 2
  assert fit_spy.summary() == [(0, 3), (0, 2), (2, 1)] and fit_spy.builds == 3  # one build a run, no recompile
  for key in ("before", "after", "after_unclipped", "content_image_itself"):
    assert resumed[key] == full[key]
  assert resumed["num_steps"] == 3 and resumed["seconds_per_step"] > 0
  saved = _checkpoint(tmp_path / "full", 3)
  chex.assert_trees_all_equal(_checkpoint(tmp_path / "resumed", 3), saved)  # the optimiser state too
  np.testing.assert_array_equal(*[np.asarray(Image.open(tmp_path / run / "result.png")) for run in ("full", "resumed")])
  assert sorted(os.listdir(tmp_path / "resumed" / "samples")) == ["step_00000002.png", "step_00000003.png"]  # ends

  # The checkpoint holds the image and its optimiser state, nothing of the VGG (fit's consts).
  assert set(saved) == {"step", "rng", "nets", "extra"} and set(saved["nets"]) == {"image"} and int(saved["step"]) == 3
  assert not jax.tree.leaves(saved["extra"])
  image = saved["nets"]["image"]
  assert image["params"].shape == (16, 13, 3) and not jax.tree.leaves(image["stats"])
  counter = image["opt_state"][0]["count"]  # L-BFGS's and Adam's update counter
  assert counter.dtype == np.int32 and int(counter) == 3
  if optimizer == "lbfgs":
    assert image["opt_state"][2]["info"]["num_linesearch_steps"].dtype == np.int32
  pixels = image["params"].size
  memory = 2 * full_config.lbfgs_memory + 4 if optimizer == "lbfgs" else 2  # images' worth of optimiser state
  assert sum(leaf.size for leaf in jax.tree.leaves(saved)) <= (memory + 1) * pixels + 32
  assert _folder_bytes(tmp_path / "full" / "checkpoints" / "3") < os.path.getsize(files["vgg"]) / 100


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_gatys_initial_state_can_be_donated_and_is_strongly_typed(files, optimizer):
  layers = dict(content_layers=("relu1_2",), style_layers=("relu1_2",))  # sides of 8 and 6 suffice
  config = gatys.Config(optimizer=optimizer, lbfgs_memory=2, vgg_weights=files["vgg"], **layers)
  image = np.zeros((8, 6, 3), np.float32)
  method = gatys.build(config, gatys.Inputs(image, image, st.load_loss_network(config)))
  state = method.init_state(jax.random.PRNGKey(0))  # made eagerly
  leaves = jax.tree.leaves(state)
  assert len({leaf.unsafe_buffer_pointer() for leaf in leaves}) == len(leaves)  # fit's step donates the state
  assert not any(leaf.weak_type for leaf in leaves)  # as the step returns them: no second compilation
  jax.jit(lambda s: jax.tree.map(lambda a: a + 1, s), donate_argnums=0)(state)


def test_gatys_stops_at_a_nonfinite_loss_before_saving_it(files, tmp_path, monkeypatch):
  load = gatys.load_content_image

  def with_a_nan(config):
    image = load(config).copy()
    image[0, 0, 0] = np.nan
    return image

  monkeypatch.setattr(gatys, "load_content_image", with_a_nan)
  with pytest.raises(NonFiniteError, match=r"^step 1: train/\w+ is nan: .*no checkpoint had been saved"):
    gatys.run(_gatys_config(files, tmp_path, optimizer="adam"))
  assert runner.latest_step(str(tmp_path / "checkpoints")) is None
  assert not (tmp_path / "result.png").exists() and not (tmp_path / "result.json").exists()

"""SinGAN: pyramid rule, networks, gradient penalty, training, resume and applications."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from PIL import Image
from scipy import ndimage

from jaxgan.data import images as images_lib
from jaxgan.data import single_image as si
from jaxgan.imresize import imresize, matlab_imresize, resize_matrix
from jaxgan.losses.adversarial import gradient_penalty
from jaxgan.methods import runner, singan
from jaxgan.methods import singan_apps as apps
from jaxgan.metrics import features
from jaxgan.models import singan as models
from jaxgan.nn import count_params
from jaxgan.train import compiler
from tests.real_data import real_data
from tests.tiny import train_first, tree_state

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------------------ pyramid


def official_pyramid(h, w, max_size=250, min_size=25, sf=0.75):
  """The official adjust_scales2image + creat_reals_pyramid, transcribed step by step.

  Products such as 80 * (25/80) come out as 25.000000000004 in floating point, which the
  official ``ceil`` turns into 26; the rule means 25, so sides are rounded before ``ceil``.
  """
  ceil = lambda v: math.ceil(round(v, 9))
  num_scales = math.ceil(math.log(math.pow(min_size / min(h, w), 1), sf)) + 1
  scale2stop = math.ceil(math.log(min([max_size, max([h, w])]) / max([h, w]), sf))
  stop_scale = num_scales - scale2stop
  scale1 = min(max_size / max([h, w]), 1)
  rh, rw = ceil(scale1 * h), ceil(scale1 * w)
  factor = math.pow(min_size / min(rh, rw), 1 / stop_scale)
  return [
    (ceil(rh * factor ** (stop_scale - i)), ceil(rw * factor ** (stop_scale - i))) for i in range(stop_scale + 1)
  ], factor


@pytest.mark.parametrize(
  "h,w", [(186, 248), (164, 244), (366, 585), (250, 250), (120, 80), (1536, 2048), (60, 400), (40, 48)]
)
def test_pyramid_matches_official_rule(h, w):
  spec = si.pyramid_spec(h, w)
  shapes, factor = official_pyramid(h, w)
  assert list(spec.shapes) == shapes
  assert spec.scale_factor == pytest.approx(factor)
  assert max(spec.top_shape) <= 250
  assert all(a < b for a, b in zip(spec.shapes, spec.shapes[1:]) for a, b in zip(a, b))
  assert min(spec.shapes[0]) == 25


def test_pyramid_of_the_balloons_image_and_sr_pyramid():
  spec = si.pyramid_spec(186, 248)  # balloons.png
  assert spec.num_scales == 9 and spec.shapes[0] == (25, 34) and spec.top_shape == (186, 248)
  step, k = singan.sr_step(4.0)
  assert k == 6 and step == pytest.approx(0.5 ** (1 / 3))
  sr = si.sr_pyramid_spec(120, 80, scale_factor=step)
  assert min(sr.shapes[0]) == 18 and sr.top_shape == (120, 80)


def test_config_pyramids_use_their_official_min_size_unless_given():
  sr = singan.Config(image="x.png", pyramid="sr").pyramid_for(120, 80)  # 33039_LR.png
  assert min(sr.shapes[0]) == 18 and sr.top_shape == (120, 80)
  assert min(singan.Config(image="x.png").pyramid_for(186, 248).shapes[0]) == 25
  assert min(singan.Config(image="x.png", pyramid="sr", min_size=30).pyramid_for(120, 80).shapes[0]) == 30


def test_pyramid_too_small_image_is_a_clear_error():
  with pytest.raises(ValueError, match="min_size"):
    si.pyramid_spec(25, 30)
  with pytest.raises(ValueError, match="min_size"):
    si.pyramid_spec(400, 30)


def test_build_pyramid_resizes_with_matlab_bicubic():
  rng = np.random.default_rng(0)
  image = rng.uniform(-1, 1, (40, 48, 3)).astype(np.float32)
  spec = si.pyramid_spec(40, 48)
  reals = si.build_pyramid(image, spec)
  assert [r.shape[:2] for r in reals] == list(spec.shapes)
  np.testing.assert_allclose(reals[0], matlab_imresize(image, spec.scale_factor**spec.stop_scale), atol=1e-5)


def edge_image(h, w, value=1.0):
  """Black/white edges (a half plane, a square, a one-pixel line): bicubic overshoots at each."""
  image = np.full((h, w, 3), -value, np.float32)
  image[:, w // 2 :] = value
  image[h // 4 : h // 2, w // 8 : w // 3] = value
  image[3 * h // 4, : w // 2] = value
  return image


def official_imresize(x, scale=None, size=None):
  """The official ``imresize``'s range handling: input clamped (``torch2uint8``'s ``denorm``),
  output clamped (``np2torch``'s ``norm``); the uint8 quantisation is not done (documented)."""
  return np.clip(matlab_imresize(np.clip(x, -1, 1), scale, size=size), -1, 1)


def _overshoot(x):
  return float(np.abs(np.asarray(x)).max()) - 1


def test_pyramid_is_clamped_like_the_official_one_on_an_edge_image():
  image = edge_image(80, 96)
  spec = si.pyramid_spec(80, 96, max_size=64, min_size=24)
  assert spec.scale1 < 1 and spec.num_scales >= 3
  reals = si.build_pyramid(image, spec)
  # The official adjust_scales2image + creat_reals_pyramid: every imresize clamps.
  top = official_imresize(image, spec.scale1)
  for i, real in enumerate(reals):
    expected = official_imresize(top, spec.scale_factor ** (spec.stop_scale - i))
    assert -1 <= real.min() and real.max() <= 1
    np.testing.assert_allclose(real, expected, atol=1e-5)
  # The unclamped resizes overshoot on this image: without the clamp the checks above fail.
  unclamped = imresize(imresize(image, spec.scale1), spec.scale_factor)
  assert _overshoot(imresize(image, spec.scale1)) > 0.05 and _overshoot(unclamped) > 0.05
  # imresize itself is unchanged for its other users: not clamped.
  np.testing.assert_allclose(imresize(image, spec.scale1), matlab_imresize(image, spec.scale1), atol=1e-5)


class _EdgeNet:
  """A stand-in generator whose output is a saturated edge image (``|x| <= 1.3``, as G's
  ``tanh + prev`` can exceed 1); the finest one returns its input, the upsampled image."""

  def __init__(self, finest=False):
    self.finest = finest

  def __call__(self, z, prev):
    if self.finest:
      return prev + 0 * z
    return jnp.asarray(edge_image(*prev.shape[1:3], value=1.3)[None]) + 0 * z


def _edge_method(monkeypatch):
  spec = si.pyramid_spec(40, 48, max_size=48, min_size=24)
  method = singan.SinGAN(singan.Config(image="x.png", max_size=48, min_size=24), spec)
  nets = [_EdgeNet() for _ in range(spec.num_scales - 1)] + [_EdgeNet(finest=True)]
  monkeypatch.setattr(method, "frozen_nets", lambda extra: nets[:-1])
  monkeypatch.setattr(method, "scale_nets", lambda state, n: nets[: n + 1])
  return method, spec


def official_upsample(x, spec, n):
  """The official draw_concat / SinGAN_generate step to scale n: imresize by 1/scale_factor, crop."""
  h, w = spec.shapes[n]
  return official_imresize(x, 1 / spec.scale_factor)[:h, :w]


def test_between_scale_upsampling_is_clamped_in_training_sampling_and_applications(monkeypatch):
  method, spec = _edge_method(monkeypatch)
  top = spec.num_scales - 1
  expected = official_upsample(edge_image(*spec.shapes[top - 1], value=1.3), spec, top)
  unclamped = imresize(np.clip(edge_image(*spec.shapes[top - 1]), -1, 1), 1 / spec.scale_factor)
  assert _overshoot(unclamped) > 0.05  # without the clamp the checks below fail
  key = jax.random.PRNGKey(0)
  state = type("State", (), {"extra": {"z_opt": jnp.zeros((1, *spec.shapes[0], 3))}})()
  config = method.config.replace(anim_frames=2, anim_start_scale=0)
  upsampled = {
    "upsample": singan.upsample(
      jnp.asarray(edge_image(*spec.shapes[top - 1], 1.3)[None]), method.up_factor, spec.shapes[top]
    )[0],
    "training random_prev": method.random_prev({}, top, key)[0],
    "training reconstruction_prev": method.reconstruction_prev(state.extra, top)[0],
    "sample": method.sample(state, top, key, 2)[1],
    "random_samples": apps.generate_from(method, state, 0, jnp.zeros((1, *spec.shapes[0], 3)), key)[0],
    "animation": apps.animation_frames(method, state, config, key)[1],
  }
  for where, image in upsampled.items():
    image = np.asarray(image)
    assert -1 <= image.min() and image.max() <= 1, where
    np.testing.assert_allclose(image, expected, atol=1e-5, err_msg=where)
  # Every scale's input on the way up, not only the last.
  for n in range(1, top + 1):
    np.testing.assert_allclose(
      method.random_prev({}, n, key)[0],
      official_upsample(edge_image(*spec.shapes[n - 1], value=1.3), spec, n),
      atol=1e-5,
    )


def test_injected_inputs_and_super_resolution_are_clamped(monkeypatch, tmp_path):
  method, spec = _edge_method(monkeypatch)
  top = spec.num_scales - 1
  ref = edge_image(*spec.shapes[top])
  for n in range(1, top + 1):  # the official editing / harmonization / paint2image in_s
    down = official_imresize(ref, spec.scale_factor ** (top - n + 1))[: spec.shapes[n - 1][0], : spec.shapes[n - 1][1]]
    injected = np.asarray(apps.injected_input(method, ref, n)[0])
    assert -1 <= injected.min() and injected.max() <= 1
    np.testing.assert_allclose(injected, official_upsample(down, spec, n), atol=1e-5)
  # A reference image of another size: the official imresize_to_shape, clamped.
  Image.fromarray(((edge_image(50, 70) + 1) * 127.5).astype(np.uint8)).save(tmp_path / "ref.png")
  loaded = apps.load_ref(str(tmp_path / "ref.png"), (40, 48))
  assert _overshoot(imresize(edge_image(50, 70), output_shape=(40, 48))) > 0.05
  np.testing.assert_allclose(loaded, official_imresize(edge_image(50, 70), size=(40, 48)), atol=1e-5)
  # SR: k rounds of (imresize by sr_factor^(1/k), finest G); here G returns its input.
  out = np.asarray(apps.super_resolve(method, None, jnp.asarray(ref[None]), 2.0, jax.random.PRNGKey(0))[0])
  _, k = singan.sr_step(2.0)
  expected = ref
  for _ in range(k):
    expected = official_imresize(expected, 2.0 ** (1 / k))
  expected = expected[:80, :96]
  assert out.shape == expected.shape and -1 <= out.min() and out.max() <= 1
  np.testing.assert_allclose(out, expected, atol=1e-4)


def test_imresize_is_traceable_and_linear():
  x = jnp.asarray(np.random.default_rng(1).normal(size=(1, 9, 7, 3)), jnp.float32)
  y = jax.jit(lambda a: imresize(a, 1 / 0.75))(x)
  np.testing.assert_allclose(y[0], matlab_imresize(np.asarray(x[0]), 1 / 0.75), atol=1e-5)
  # Linear: the gradient of sum(resize(x)) is the column sums of the two matrices.
  g = jax.grad(lambda a: imresize(a, 0.75).sum())(x)
  mh = resize_matrix(9, 7, 0.75)
  mw = resize_matrix(7, 6, 0.75)
  expected = np.outer(mh.sum(0), mw.sum(0))[None, :, :, None].repeat(3, -1)
  np.testing.assert_allclose(g, expected, atol=1e-5)


# ------------------------------------------------------------------ networks


@pytest.mark.parametrize("nfc,g_count,d_count", [(32, 29_763, 29_185), (64, 114_819, 113_665), (128, 450_819, 448_513)])
def test_parameter_counts(nfc, g_count, d_count):
  g = nnx.eval_shape(lambda: models.SinGANGenerator(nfc=nfc, min_nfc=nfc, rngs=nnx.Rngs(0)))
  d = nnx.eval_shape(lambda: models.SinGANDiscriminator(nfc=nfc, min_nfc=nfc, rngs=nnx.Rngs(0)))
  assert count_params(g) == g_count and count_params(d) == d_count


def test_width_doubles_every_four_scales_up_to_128():
  assert [models.channels_at_scale(n)[0] for n in range(12)] == [32] * 4 + [64] * 4 + [128] * 4


def test_generator_is_residual_on_the_cropped_prev():
  g = models.SinGANGenerator(nfc=8, min_nfc=8, rngs=nnx.Rngs(0))
  z = jnp.zeros((1, 26, 30, 3))
  prev = jax.random.normal(jax.random.PRNGKey(1), (1, 26, 30, 3))
  out = g(z, prev, train=True)
  assert out.shape == (1, 16, 20, 3)
  # tanh part is bounded: out - prev_cropped in [-1, 1]
  residual = out - prev[:, 5:-5, 5:-5]
  assert float(jnp.abs(residual).max()) <= 1.0
  with pytest.raises(ValueError, match="too small"):
    g(jnp.zeros((1, 10, 12, 3)), jnp.zeros((1, 10, 12, 3)), train=True)


# ------------------------------------------------------------------ gradient penalty


def _numeric_grad(f, x, eps=1e-3):
  g = np.zeros_like(x)
  for idx in np.ndindex(x.shape):
    d = np.zeros_like(x)
    d[idx] = eps
    g[idx] = (f(x + d) - f(x - d)) / (2 * eps)
  return g


@pytest.mark.parametrize("norm", ["example", "pixel"])
def test_gradient_penalty_against_finite_differences(norm):
  rng = np.random.default_rng(0)
  w = rng.normal(size=(3, 3, 2)).astype(np.float64)
  critic_np = lambda x: np.sum(np.tanh(x * w) ** 2)  # per-example critic summed over a map
  critic = lambda x: jnp.sum(jnp.tanh(x * w) ** 2, axis=(1, 2, 3))[:, None]
  real = rng.normal(size=(2, 3, 3, 2)).astype(np.float32)
  fake = rng.normal(size=(2, 3, 3, 2)).astype(np.float32)
  key = jax.random.PRNGKey(3)
  got = np.asarray(gradient_penalty(critic, real, fake, key, norm=norm))
  eps = np.asarray(jax.random.uniform(key, (2, 1, 1, 1)))
  for i in range(2):
    x_hat = (eps[i] * real[i] + (1 - eps[i]) * fake[i]).astype(np.float64)
    grad = _numeric_grad(critic_np, x_hat)
    if norm == "example":
      expected = (np.sqrt((grad**2).sum()) - 1) ** 2
    else:
      expected = ((np.sqrt((grad**2).sum(-1)) - 1) ** 2).mean()
    assert got[i] == pytest.approx(expected, rel=1e-3, abs=1e-5)


# ------------------------------------------------------------------ training


def _image(path, h=30, w=36, mode="RGB"):
  rng = np.random.default_rng(0)
  yy, xx = np.mgrid[:h, :w]
  base = np.stack([yy * 255 // h, xx * 255 // w, (yy + xx) * 127 // (h + w)], -1)
  pixels = np.clip(base + rng.integers(0, 40, (h, w, 3)), 0, 255).astype(np.uint8)
  img = Image.fromarray(pixels)
  if mode == "RGBA":
    img = img.convert("RGBA")
  img.save(path)
  return path


def tiny_config(tmp_path, **kw):
  args = dict(
    image=_image(str(tmp_path / "img.png")),
    workdir=str(tmp_path / "wd"),
    data_dir=str(tmp_path / "tfds"),
    num_steps=2,
    min_size=24,
    max_size=36,
    nfc=8,
    min_nfc=8,
    d_steps=1,
    g_steps=1,
    checkpoint_every=1,
    sample_every=0,
    eval_every=0,
    log_every=1,
    num_samples=1,
    lr_milestone=1,
    sifid=False,  # SIFID of random samples: only where a test asks for it (tests at the end)
  )
  args.update(kw)
  return singan.Config(**args)


def _arrays(state):
  return jax.tree.map(np.asarray, state)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  """The tiny config of a pyramid trained to the end (3 scales, 2 iterations each)."""
  config = tiny_config(tmp_path_factory.mktemp("singan"))
  singan.train_scales(config, progress=False)
  return config


def test_config_rejects_bad_values():
  with pytest.raises(ValueError, match="--image"):
    singan.Config(dataset="digits")
  with pytest.raises(ValueError, match="batch_size"):
    singan.Config(batch_size=4)
  with pytest.raises(ValueError, match="gp_norm"):
    singan.Config(gp_norm="batch")
  with pytest.raises(ValueError, match="--time_budget_minutes=5: not supported by SinGAN"):
    singan.Config(image="x.png", time_budget_minutes=5)


def test_missing_image_is_reported_before_the_workdir_is_touched(tmp_path):
  for image, error in (("", ValueError), (str(tmp_path / "nope.png"), FileNotFoundError)):
    with pytest.raises(error, match="--image"):
      singan.train_scales(singan.Config(image=image, workdir=str(tmp_path / "wd")), progress=False)
  assert not (tmp_path / "wd").exists()


def test_single_image_source_drops_alpha_and_names_missing_files(tmp_path):
  path = _image(str(tmp_path / "rgba.png"), mode="RGBA")
  image = si.single_image_source(path, tmp_path / "tfds")
  assert image.shape == (30, 36, 3) and image.dtype == np.uint8
  np.testing.assert_array_equal(image, np.asarray(Image.open(path).convert("RGB")))
  with pytest.raises(FileNotFoundError, match="nope.png"):
    si.single_image_source(tmp_path / "nope.png", tmp_path / "tfds")


def test_train_resume_mid_pyramid_is_bit_identical_and_restores_only_when_finished(tmp_path, capsys, fit_spy):
  config = tiny_config(tmp_path)
  method, full, _ = singan.train_scales(config, progress=False)
  assert method.spec.num_scales == 3
  expected = _arrays(full)
  # Interrupt: drop scale 1's last checkpoint (keep iteration 1) and everything above.
  workdir = config.workdir
  shutil.rmtree(os.path.join(singan.scale_dir(workdir, 1), "checkpoints", "2"))
  shutil.rmtree(singan.scale_dir(workdir, 2))
  partial = shutil.copytree(workdir, tmp_path / "partial")  # for the next test
  fit_spy.clear()
  _, resumed, _ = singan.train_scales(config, progress=False)
  # Scale 0 restored finished, scale 1 restored at iteration 1 and ran 1, scale 2 ran from scratch.
  assert fit_spy.summary() == [(2, 0), (1, 1), (0, 2)] and fit_spy.builds == 1
  chex.assert_trees_all_equal(_arrays(resumed), expected)
  # Restoring only (no training) gives the same state.
  _, restored, _ = singan.restore_scales(config)
  chex.assert_trees_all_equal(_arrays(restored), expected)

  # The interrupted pyramid: 3 of 6 iterations (scale 0: 2, scale 1: 1, scale 2: none).
  config = config.replace(workdir=str(partial))
  before = tree_state(partial)
  message = f"train first: python experiments/singan.py --mode=train --workdir={partial} "
  where = f"({partial} is at step 3 of 6 (scale 1 of 0..2 at 1; outputs at scale 1's size); --allow_partial"
  for tool in (singan.restore_scales, apps.random_samples):
    with pytest.raises(FileNotFoundError) as e:
      tool(config)
    assert str(e.value).startswith(message) and where in str(e.value)
  assert tree_state(partial) == before
  # --allow_partial: the pyramid as far as it is trained, its last scale at its last iteration.
  config = config.replace(allow_partial=True)
  method, state, reals = singan.restore_scales(config)
  assert method.spec.num_scales == 2 and len(reals) == 2 and int(state.step) == 1
  assert method.spec.shapes == method.config.pyramid_for(30, 36).shapes[:2]
  (path,) = apps.random_samples(config)
  h, w = method.spec.shapes[1]
  assert Image.open(path).size == (w, h)
  assert "jaxgan: --allow_partial: using step 3 of 6 (scale 1 of 0..2 at 1; outputs at scale 1's size)" in (
    capsys.readouterr().out
  )


@pytest.mark.parametrize("mode", sorted(apps.APPLICATIONS))
def test_applications_on_an_untrained_workdir_say_train_first_and_write_nothing(tmp_path, mode):
  config = tiny_config(
    tmp_path,
    data_dir="",
    ref_image=_image(str(tmp_path / "ref.png")),
    mask=_image(str(tmp_path / "mask.png")),
    allow_partial=True,
  )
  if mode == "sr":
    config = config.replace(pyramid="sr", min_size=12)
  workdir = tmp_path / "wd"
  for exists in (False, True):
    if exists:
      workdir.mkdir()
    with pytest.raises(FileNotFoundError, match=train_first("singan", workdir, f"no checkpoint in {workdir}")):
      apps.APPLICATIONS[mode](config)
    assert os.listdir(workdir) == [] if exists else not workdir.exists()  # no config.json, no tfds build


def test_script_application_on_a_mistyped_workdir_says_train_first(tmp_path):
  image = _image(str(tmp_path / "img.png"))
  workdir = tmp_path / "mistyped"
  script = os.path.join(ROOT, "experiments", "singan.py")
  env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)}
  r = subprocess.run(
    [
      sys.executable,
      script,
      f"--image={image}",
      f"--workdir={workdir}",
      "--mode=random_samples",
      "--gen_start_scale=2",
    ],
    capture_output=True,
    text=True,
    timeout=300,
    cwd=ROOT,
    env=env,
  )
  assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-3000:]
  assert r.stderr.splitlines()[0].startswith(
    f"jaxgan: error: train first: python {script} --image={image} "
    f"--workdir={workdir} --gen_start_scale=2 --mode=train "
    f"(no checkpoint in {workdir})"
  )
  assert not workdir.exists()


def test_noise_amplitudes_reconstruction_and_warm_start(trained):
  config = trained
  method, state, reals = singan.restore_scales(config)
  extra = state.extra
  top = method.spec.num_scales - 1
  assert float(extra["amps"][0]) == 1.0
  rec_prev = method.reconstruction_prev(extra, top)
  np.testing.assert_allclose(rec_prev, extra["rec_prev"], atol=1e-6)  # key-free (eager vs jit rounding)
  np.testing.assert_array_equal(method.reconstruction_prev(extra, top), rec_prev)
  rmse = float(jnp.sqrt(jnp.mean(jnp.square(reals[top][None] - rec_prev))))
  assert float(extra["amps"][top]) == pytest.approx(0.1 * rmse, rel=1e-5)
  a = method.reconstruct_jit(state, top)
  b = method.reconstruct_jit(state, top)
  np.testing.assert_array_equal(a, b)
  # Random inputs do depend on the key.
  r1 = method.random_prev(extra, top, jax.random.PRNGKey(0))
  r2 = method.random_prev(extra, top, jax.random.PRNGKey(1))
  assert r1.shape == rec_prev.shape and not np.allclose(r1, r2)
  # Same width (8) at every scale: scale n starts from scale n - 1's final generator.
  init = method.init_state(
    jax.random.PRNGKey(0),
    n=top,
    real=jnp.asarray(reals[top][None]),
    previous=_scale_state(config, method, reals, top - 1),
  )
  chex.assert_trees_all_equal(init.nets["G"].params, init.extra["frozen"][-1]["params"])


def _scale_state(config, method, reals, n):
  previous = None
  for k in range(n + 1):
    init_fn = lambda key, k=k, previous=previous: method.init_state(
      key, n=k, real=jnp.asarray(reals[k][None]), previous=previous
    )
    previous = runner.restore(config, init_fn, require_finished=False, part=singan.scale_part(config, k))
  return previous


def test_official_and_recomputed_adversarial_gradients_agree_for_one_g_step(tmp_path):
  config = tiny_config(tmp_path, g_steps=1)
  image = si.single_image_source(config.image, config.data_dir)
  spec = config.pyramid_for(*image.shape[:2])
  real = jnp.asarray(si.build_pyramid(si.to_model_range(image), spec)[0][None])
  results = []
  for mode in ("official", "recompute"):
    method = singan.SinGAN(config.replace(g_adv_grad=mode), spec)
    state = method.init_state(jax.random.PRNGKey(0), n=0, real=real, previous=None)
    state, _ = jax.jit(method.make_train_step(0))(state, {"real": real})
    results.append(_arrays(state.nets))
  chex.assert_trees_all_close(results[0], results[1], atol=1e-6)


# ------------------------------------------------------------------ applications


def test_arbitrary_size_samples_and_start_scale(trained):
  config = trained.replace(scale_h=1.5, scale_v=0.75)
  paths = apps.random_samples(config)
  assert Image.open(paths[0]).size == (round(36 * 1.5), round(30 * 0.75))
  assert "scale_h=1.5_scale_v=0.75" in paths[0] and "seed=0" in paths[0]
  paths = apps.random_samples(config.replace(scale_h=1.0, scale_v=1.0, gen_start_scale=2))
  assert Image.open(paths[0]).size == (36, 30)


def test_masks_in_rgb_rgba_and_jpeg_give_the_same_blend(tmp_path):
  mask = np.zeros((40, 50), np.uint8)
  mask[10:25, 12:30] = 255
  rgb = np.repeat(mask[..., None], 3, -1)
  Image.fromarray(rgb).save(tmp_path / "m.png")
  Image.fromarray(np.concatenate([rgb, np.full_like(mask, 255)[..., None]], -1), "RGBA").save(tmp_path / "m_rgba.png")
  Image.fromarray(rgb).save(tmp_path / "m.jpg", quality=90)
  Image.fromarray(mask).save(tmp_path / "m_grey.png")
  blends = [
    apps.blend_mask(apps.load_mask(str(tmp_path / f), (40, 50)), radius=7)
    for f in ("m.png", "m_rgba.png", "m.jpg", "m_grey.png")
  ]
  for b in blends[1:]:
    np.testing.assert_array_equal(b, blends[0])
  assert blends[0].shape == (40, 50, 1) and blends[0].min() == 0 and blends[0].max() == 1
  # The dilated region is inside the blend's support; far pixels keep the original image.
  assert blends[0][17, 20, 0] == 1 and blends[0][0, 49, 0] < 0.01


def test_real_harmonization_mask_loads(tmp_path):
  mask = apps.load_mask(str(real_data("singan_harmonization", "starry_night_naive_mask.png")), (60, 80))
  assert mask.shape == (60, 80) and 0 < mask.mean() < 0.5


def test_injection_sr_and_animation_write_files(trained, tmp_path):
  config = trained.replace(ref_image=trained.image, inject_scale=1, anim_frames=3, anim_start_scale=0)
  path = apps.paint2image(config)  # harmonization and editing: test_harmonization_and_editing_...
  assert Image.open(path).size == (36, 30) and "inject_scale=1_seed=0" in path
  assert Image.open(apps.paint2image(config.replace(quantize=True, quantize_colors=3))).size == (36, 30)
  gif = apps.animation(config)
  assert Image.open(gif).size == (36, 30) and "start_scale=0" in gif
  # 3 frames at 10 fps; Pillow writes equal consecutive frames (this walk's, in uint8) as one, durations summed.
  assert sum(_gif_durations_ms(gif)) == 3 * 100
  with pytest.raises(ValueError, match="inject_scale"):
    apps.paint2image(config.replace(inject_scale=5))
  with pytest.raises(ValueError, match="pyramid=sr"):
    apps.sr(config)


@pytest.mark.parametrize("fmt", ["gif", "mp4"])
def test_write_video_keeps_every_frame(tmp_path, fmt):
  frames = np.random.default_rng(0).integers(0, 256, (4, 30, 36, 3), dtype=np.uint8)
  path = str(tmp_path / f"walk.{fmt}")
  if fmt == "mp4":
    pytest.importorskip("imageio_ffmpeg")
    apps.write_video(path, frames, fps=5)
    import imageio.v2 as imageio

    assert len(imageio.mimread(path, format="FFMPEG")) == 4
  else:
    apps.write_video(path, frames, fps=5)
    assert Image.open(path).n_frames == 4
  with pytest.raises(ValueError, match="avi"):
    apps.write_video(str(tmp_path / "walk.avi"), frames, fps=5)


# ------------------------------------------------------------------ applications, on pixels


@pytest.fixture(scope="module")
def restored(trained):
  """``(method, state, reals)`` of the trained pyramid, restored once for the checks below."""
  return singan.restore_scales(trained)


def _pixels(path):
  return np.asarray(Image.open(path).convert("RGB"))


def _gif_durations_ms(path):
  gif = Image.open(path)
  durations = []
  for i in range(gif.n_frames):
    gif.seek(i)
    durations.append(gif.info["duration"])
  return durations


def _as_png(array) -> np.ndarray:
  """What an application writes for a float image: clipped to [-1, 1], rounded to uint8."""
  return images_lib.to_uint8(np.clip(np.asarray(array), -1, 1))


def _with_extra(state, **changes):
  return state.replace(extra={**state.extra, **changes})


def _poisoned_below(state, n):
  """``state`` with NaN in all that the scales below n use: their generators, amplitudes, z*."""
  nan = lambda tree: jax.tree.map(lambda a: jnp.full_like(a, jnp.nan), tree)
  extra = state.extra
  frozen = [nan(f) if k < n else f for k, f in enumerate(extra["frozen"])]
  return _with_extra(
    state,
    frozen=frozen,
    amps=extra["amps"].at[:n].set(jnp.nan),
    z_opt=nan(extra["z_opt"]),
    rec_prev=nan(extra["rec_prev"]),
  )


def _finest_noise_off(state):
  """``state`` whose finest scale has noise amplitude 0: its output no longer depends on its noise."""
  return _with_extra(state, amps=state.extra["amps"].at[-1].set(0.0))


def _reconstruction(method, state):
  return np.asarray(method.reconstruct_jit(state, method.spec.num_scales - 1)[0])


@pytest.mark.parametrize("radius", [7, 20])
def test_blend_mask_is_the_mask_dilated_by_a_disk_and_blurred_by_a_truncated_gaussian(radius):
  mask = np.zeros((100, 110), bool)
  mask[50, 55] = True
  blend = apps.blend_mask(mask, radius=radius)
  yy, xx = np.mgrid[:100, :110]
  disk = (yy - 50) ** 2 + (xx - 55) ** 2 <= radius**2
  reach = ndimage.maximum_filter(disk, size=2 * 20 + 1)  # sigma 5, truncated at 4 sigma
  assert blend.shape == (100, 110, 1) and blend[50, 55, 0] == 1 and blend.max() == 1
  # The weight is exactly 0 (the image kept as it is) beyond the Gaussian's reach of the disk.
  np.testing.assert_array_equal(blend[..., 0] > 0, reach)


def test_empty_masks_are_refused_before_anything_is_generated(restored, trained, tmp_path, monkeypatch):
  with pytest.raises(ValueError, match="the mask is empty"):
    apps.blend_mask(np.zeros((30, 36), bool), radius=7)
  Image.fromarray(np.full((30, 36), 100, np.uint8)).save(tmp_path / "dark.png")  # < 128: not in the mask
  config = trained.replace(ref_image=trained.image, mask=str(tmp_path / "dark.png"), inject_scale=1)
  monkeypatch.setattr(apps, "trained", lambda config: restored)
  monkeypatch.setattr(apps, "generate_from", lambda *args: pytest.fail("generated with an empty mask"))
  before = tree_state(trained.workdir)
  for mode in ("harmonization", "editing"):
    with pytest.raises(ValueError, match="the mask is empty"):
      apps.APPLICATIONS[mode](config)
  assert tree_state(trained.workdir) == before


def test_harmonization_and_editing_blend_the_output_into_the_image_by_the_dilated_mask(trained, tmp_path):
  image = _pixels(trained.image)
  mask = np.zeros(image.shape[:2], np.uint8)
  mask[0, 0] = 255  # harmonization's blend (disk of 7, Gaussian reach 20) ends at row / column 27
  Image.fromarray(mask).save(tmp_path / "mask.png")
  Image.fromarray(255 - image).save(tmp_path / "ref.png")
  config = trained.replace(ref_image=str(tmp_path / "ref.png"), mask=str(tmp_path / "mask.png"), inject_scale=1)
  weights = {r: apps.blend_mask(mask > 0, radius=r) for r in (7, 20)}
  for mode, radius, other in (("harmonization", 7, 20), ("editing", 20, 7)):
    path = apps.APPLICATIONS[mode](config)
    assert path.endswith("ref_inject_scale=1_seed=0.png")
    out, raw = _pixels(path), _pixels(path.replace(".png", "_raw.png"))
    blend = lambda w: (1 - w) * image + w * raw  # noqa: B023 -- the official (1 - mask) * real + mask * out
    np.testing.assert_allclose(out, blend(weights[radius]), atol=1, err_msg=mode)  # raw is rounded
    assert np.abs(out - blend(weights[other])).max() > 20, mode  # the other mode's radius does not fit
    w = weights[radius][..., 0]
    np.testing.assert_array_equal(out[w == 1], raw[w == 1])
    assert np.abs(out[w > 0.5].astype(int) - image[w > 0.5]).mean() > 50, mode  # the inverted painting
    keep = w == 0  # the image's pixels, exactly (editing's blend is 0 only at its farthest pixels here)
    assert keep.sum() > (200 if mode == "harmonization" else 0)
    np.testing.assert_array_equal(out[keep], image[keep])


def test_injection_runs_the_resized_reference_from_inject_scale_only(restored, trained, tmp_path, monkeypatch):
  method, state, reals = restored
  n = 2
  Image.fromarray(255 - _pixels(trained.image)).save(tmp_path / "ref.png")
  start = apps.injected_input(method, apps.load_ref(str(tmp_path / "ref.png"), (30, 36)), n)
  run = compiler.jit(lambda s, x, k: apps.generate_from(method, s, n, x, k))
  key = jax.random.PRNGKey(trained.seed)
  out = np.asarray(run(state, start, key))
  assert np.isfinite(out).all()
  # The scales below n have no influence: NaN in their generators, amplitudes and z* change nothing.
  np.testing.assert_array_equal(run(_poisoned_below(state, n), start, key), out)
  # The noise of the scales from n on is drawn from the key; the output follows the reference.
  np.testing.assert_array_equal(run(state, start, key), out)
  assert not np.array_equal(run(state, start, jax.random.PRNGKey(1)), out)
  assert np.abs(run(state, apps.injected_input(method, reals[-1], n), key) - out).mean() > 0.3
  # The mode computes just that (here with the coarser scales poisoned): its file, pixel for pixel.
  monkeypatch.setattr(apps, "trained", lambda config: (method, _poisoned_below(state, n), reals))
  path = apps.paint2image(trained.replace(ref_image=str(tmp_path / "ref.png"), inject_scale=n))
  np.testing.assert_array_equal(_pixels(path), _as_png(out[0]))


def test_paint2image_quantizes_the_painting_to_a_palette_of_the_injection_scale(
  restored, trained, tmp_path, monkeypatch
):
  method, _, reals = restored
  n, colors = 1, 3
  Image.fromarray(_pixels(trained.image)[:, ::-1]).save(tmp_path / "painting.png")
  injected = []
  monkeypatch.setattr(apps, "trained", lambda config: restored)
  monkeypatch.setattr(apps, "injected_input", lambda method, ref, n: injected.append(ref) or jnp.zeros(1))
  monkeypatch.setattr(apps, "generate_from", lambda method, state, n, start, key: jnp.zeros((1, 30, 36, 3)))
  apps.paint2image(
    trained.replace(ref_image=str(tmp_path / "painting.png"), inject_scale=n, quantize=True, quantize_colors=colors)
  )
  (quantized,) = injected
  palette = np.unique(quantized.reshape(-1, 3), axis=0)
  assert len(palette) == colors
  # Each pixel of the painting takes the nearest palette colour ...
  painting = apps.load_ref(str(tmp_path / "painting.png"), (30, 36)).reshape(-1, 3)
  nearest = lambda x: ((x[:, None] - palette[None]) ** 2).sum(-1).argmin(1)
  np.testing.assert_array_equal(quantized.reshape(-1, 3), palette[nearest(painting)])
  # ... and the palette is k-means' of the image at scale n: each colour the mean of its pixels nearest to it.
  real = reals[n].reshape(-1, 3)
  means = np.stack([real[nearest(real) == i].mean(0) for i in range(colors)])
  np.testing.assert_allclose(means, palette, atol=1e-2)


def test_random_samples_follow_the_reconstruction_below_gen_start_scale(restored):
  method, state, _ = restored
  top = method.spec.num_scales - 1
  start = jnp.zeros((1, *method.spec.shapes[0], 3))
  run = compiler.jit(lambda s, k: apps.generate_from(method, s, 0, start, k, fixed_below=top))
  quiet = _finest_noise_off(state)
  for seed in (0, 1):  # the finest scale's noise off: what is left is the reconstruction path
    np.testing.assert_allclose(run(quiet, jax.random.PRNGKey(seed))[0], _reconstruction(method, quiet), atol=1e-6)
  assert not np.array_equal(run(state, jax.random.PRNGKey(0)), run(state, jax.random.PRNGKey(1)))


def _walker(method, config):
  """The frames of ``config``'s walk from a state (key 0), one compilation for every state."""
  walk = compiler.jit(lambda s, k: apps.animation_frames(method, s, config, k))
  return lambda state: np.asarray(walk(state, jax.random.PRNGKey(0)))


def test_animation_is_a_slow_walk_that_starts_at_the_reconstruction(restored, trained):
  method, state, _ = restored
  top = method.spec.num_scales - 1
  frames = _walker(method, trained.replace(anim_frames=6, anim_start_scale=0))(state)
  assert frames.shape == (6, 30, 36, 3)
  samples = np.asarray(method.sample_jit(state, top, jax.random.PRNGKey(1), 2))
  steps = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
  assert 0 < steps.min() and steps.max() < np.abs(samples[0] - samples[1]).mean() / 3
  rec = _reconstruction(method, state)
  assert np.abs(frames[0] - rec).mean() < np.abs(samples - rec).mean() / 3
  # From anim_start_scale = top only the finest scale walks: with its noise off, every frame is
  # the reconstruction (the scales below keep z*); with it on, the frames move.
  walk = _walker(method, trained.replace(anim_frames=3, anim_start_scale=top))
  quiet = _finest_noise_off(state)
  frames = walk(quiet)
  np.testing.assert_allclose(frames, np.broadcast_to(_reconstruction(method, quiet), frames.shape), atol=1e-6)
  frames = walk(state)
  assert not np.array_equal(frames[0], frames[1])


def test_animation_noise_is_the_official_random_walk_with_momentum(monkeypatch):
  """One scale whose generator returns its noise: the frames are the walk ``z_t`` itself."""
  spec = si.pyramid_spec(40, 48, max_size=48, min_size=24)
  spec = dataclasses.replace(spec, stop_scale=0, shapes=spec.shapes[-1:])
  method = singan.SinGAN(singan.Config(image="x.png"), spec)
  monkeypatch.setattr(method, "scale_nets", lambda state, n: [lambda z, prev: z + 0 * prev])
  z_star = singan.noise(jax.random.PRNGKey(5), spec.shapes[0], coarsest=True)
  state = type("State", (), {"extra": {"z_opt": z_star}})()
  a, b = 0.1, 0.9
  config = method.config.replace(anim_frames=10, anim_start_scale=0, anim_alpha=a, anim_beta=b)
  z = np.asarray(apps.animation_frames(method, state, config, jax.random.PRNGKey(0)))
  z_star = np.asarray(z_star[0])
  assert z.shape == (10, 40, 48, 3)
  np.testing.assert_array_equal(z[..., 1:], np.broadcast_to(z[..., :1], z[..., 1:].shape))  # coarsest: grey
  # z_t = a z* + (1 - a)(z_{t-1} + b (z_{t-1} - z_{t-2}) + (1 - b) n_t): the n_t are white N(0, 1).
  n = ((z[2:] - a * z_star) / (1 - a) - z[1:-1] - b * (z[1:-1] - z[:-2])) / (1 - b)
  n = n[..., 0]
  assert abs(n.mean()) < 0.05 and n.std() == pytest.approx(1, abs=0.05)
  assert abs(np.corrcoef(n[:-1].ravel(), n[1:].ravel())[0, 1]) < 0.05
  # It starts from z_{-1} = 0.95 z* + 0.05 n, z_{-2} = z*: the first frame is close to z*.
  first = z[0] - (a + (1 - a) * (0.95 - 0.05 * b)) * z_star
  assert first.std() == pytest.approx((1 - a) * math.hypot(0.05 * (1 + b), 1 - b), rel=0.05)


def test_super_resolution_has_the_requested_size_and_draws_its_noise(restored):
  method, state, reals = restored
  x = jnp.asarray(reals[-1][None])
  sr = compiler.jit(lambda s, k: [apps.super_resolve(method, s, x, f, k) for f in (1.5, 2.0)])
  x15, x2 = sr(state, jax.random.PRNGKey(0))
  # int(factor * side), the official crop: the two rounds of x1.22 (ceil) give 46 x 56 for x1.5.
  assert x15.shape == (1, 45, 54, 3) and x2.shape == (1, 60, 72, 3)
  np.testing.assert_array_equal(sr(state, jax.random.PRNGKey(0))[1], x2)
  assert not np.array_equal(sr(state, jax.random.PRNGKey(1))[1], x2)


# ------------------------------------------------------------------ SIFID of random samples


@pytest.fixture(scope="module")
def sifid_weights(tmp_path_factory):
  """Random FID-Inception weights (.npz): there are no real ones here."""
  from tests.test_sifid import random_inception_npz  # pylint: disable=import-outside-toplevel

  return random_inception_npz(tmp_path_factory.mktemp("inception") / "random.npz")


def test_random_samples_write_their_sifid_against_the_training_image(trained, restored, sifid_weights, capsys):
  # Samples 22x54 (scale_v 0.75, scale_h 1.5) against the 30x36 training image at the finest scale.
  config = trained.replace(sifid=True, sifid_weights=sifid_weights, scale_h=1.5, scale_v=0.75, num_samples=2)
  before = tree_state(config.workdir)
  with pytest.raises(FileNotFoundError, match="--sifid_weights=/nowhere/inception.npz: no such file"):
    apps.random_samples(config.replace(sifid_weights="/nowhere/inception.npz"))
  assert tree_state(config.workdir) == before  # refused before anything was restored or written
  # (random_samples checks the sizes this way before it writes anything)
  with pytest.raises(ValueError, match="--sifid_layer=192: SIFID at layer 192 .* at least 23: each sample is 22x54"):
    apps.check_sifid_sizes(config.replace(sifid_layer="192"), (30, 36), (22, 54))
  paths = apps.random_samples(config)
  with open(os.path.join(os.path.dirname(paths[0]), "seed=0_sifid.json")) as f:
    report = json.load(f)
  assert report["samples"] == ["seed=0_000.png", "seed=0_001.png"] == [os.path.basename(p) for p in paths]
  assert (report["real_size"], report["sample_size"], report["layer"]) == ([30, 36], [22, 54], "64")
  assert report["weights"] == sifid_weights and report["real"] == "the training image at scale 2"
  assert report["sifid_mean"] == pytest.approx(np.mean(report["sifid_per_image"]))
  # The same figures from the files: the written samples against the finest real image, as saved.
  _, _, reals = restored
  expected = features.sifid_scores(
    _as_png(reals[-1]), [_pixels(p) for p in paths], features.inception_maps(sifid_weights)
  )
  np.testing.assert_allclose(report["sifid_per_image"], expected["sifid_per_image"], rtol=1e-5)
  assert f"mean {report['sifid_mean']:.6g}, per sample in" in capsys.readouterr().out


def test_random_samples_without_the_inception_weights_skip_sifid_with_one_line(trained, tmp_path, monkeypatch, capsys):
  monkeypatch.setenv("JAXGAN_HOME", str(tmp_path / "home"))  # nothing downloaded, no mirror
  monkeypatch.delenv("JAXGAN_MIRROR", raising=False)
  assert singan.Config().sifid and singan.Config().sifid_weights == "fid_inception"  # the defaults
  (path,) = apps.random_samples(trained.replace(sifid=True, scale_h=1.5, scale_v=0.75, seed=1))
  out = capsys.readouterr().out
  assert os.path.isfile(path) and len([line for line in out.splitlines() if "SIFID" in line]) == 1
  assert (
    "jaxgan: SIFID skipped: --sifid_weights=fid_inception: fid_inception is not downloaded: "
    "run `python -m jaxgan.download fid_inception` (--nosifid turns SIFID off)\n"
  ) in out
  assert not os.path.exists(os.path.join(os.path.dirname(path), "seed=1_sifid.json"))

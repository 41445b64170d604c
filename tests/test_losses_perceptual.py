"""Perceptual losses (Johnson et al. 2016) against float64 numpy references, and their gradients."""

import functools

import hypothesis
import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from hypothesis import strategies as st

from jaxgan.interop.vgg import LossNetwork
from jaxgan.losses import perceptual
from jaxgan.models.vgg import vgg16

feature_maps = hnp.arrays(
  np.float64, hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=5), elements=st.floats(-3, 3)
)


def _gram_ref(f):
  b, h, w, c = f.shape
  psi = f.reshape(b, h * w, c)
  return np.stack([p.T @ p for p in psi]) / (c * h * w)


def _tv_ref(x):
  """Mahendran & Vedaldi's beta = 2 regulariser, pair by pair."""
  b, h, w, _ = x.shape
  out = np.zeros(b)
  for n in range(b):
    for i in range(h):
      for j in range(w):
        if j + 1 < w:
          out[n] += np.sum((x[n, i, j + 1] - x[n, i, j]) ** 2)
        if i + 1 < h:
          out[n] += np.sum((x[n, i + 1, j] - x[n, i, j]) ** 2)
  return out


def f32(x):
  return jnp.asarray(x, jnp.float32)


# ------------------------------------------------------------ numpy references


@hypothesis.settings(deadline=None, max_examples=15)
@hypothesis.given(feature_maps)
def test_gram_matrix(f):
  g = perceptual.gram_matrix(f32(f))
  np.testing.assert_allclose(g, _gram_ref(f), rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(g, np.swapaxes(g, 1, 2), rtol=1e-6, atol=1e-7)
  # A Gram matrix forgets where features are: any rearrangement of the pixels keeps it.
  flipped = perceptual.gram_matrix(f32(f[:, ::-1, ::-1]))
  np.testing.assert_allclose(flipped, g, rtol=1e-5, atol=1e-6)


@hypothesis.settings(deadline=None, max_examples=15)
@hypothesis.given(feature_maps, st.integers(0, 2**31 - 1))
def test_feature_reconstruction_loss(f, seed):
  g = f + np.random.default_rng(seed).normal(size=f.shape)
  b, h, w, c = f.shape
  want = ((f - g) ** 2).reshape(b, -1).sum(axis=1) / (c * h * w)
  np.testing.assert_allclose(perceptual.feature_reconstruction_loss(f32(f), f32(g)), want, rtol=1e-4, atol=1e-5)
  np.testing.assert_array_equal(perceptual.feature_reconstruction_loss(f32(f), f32(f)), np.zeros(b))


@pytest.mark.parametrize("target_batch", ["CC", "1CC", "BCC"])
def test_style_reconstruction_loss(target_batch):
  rng = np.random.default_rng(0)
  feats = {"relu1_2": rng.normal(size=(3, 6, 5, 4)), "relu2_2": rng.normal(size=(3, 3, 2, 7))}
  style = {"relu1_2": rng.normal(size=(1, 8, 8, 4)), "relu2_2": rng.normal(size=(1, 4, 4, 7))}
  grams = {j: _gram_ref(s) for j, s in style.items()}  # [1, C, C]
  if target_batch == "CC":
    targets = {j: g[0] for j, g in grams.items()}
  elif target_batch == "1CC":
    targets = grams
  else:
    targets = {j: np.repeat(g, 3, axis=0) for j, g in grams.items()}
  want_sum = sum(((_gram_ref(feats[j]) - grams[j]) ** 2).sum(axis=(1, 2)) for j in feats)
  want_mean = sum(((_gram_ref(feats[j]) - grams[j]) ** 2).mean(axis=(1, 2)) for j in feats)
  jf = {j: f32(v) for j, v in feats.items()}
  jt = {j: f32(v) for j, v in targets.items()}
  np.testing.assert_allclose(perceptual.style_reconstruction_loss(jf, jt), want_sum, rtol=1e-4)
  np.testing.assert_allclose(perceptual.style_reconstruction_loss(jf, jt, reduction="mean"), want_mean, rtol=1e-4)
  only = perceptual.style_reconstruction_loss(jf, jt, layers=["relu2_2"])
  np.testing.assert_allclose(only, ((_gram_ref(feats["relu2_2"]) - grams["relu2_2"]) ** 2).sum(axis=(1, 2)), rtol=1e-4)
  same = {j: perceptual.gram_matrix(v) for j, v in jf.items()}
  np.testing.assert_array_equal(perceptual.style_reconstruction_loss(jf, same), np.zeros(3))


@hypothesis.settings(deadline=None, max_examples=15)
@hypothesis.given(feature_maps)
def test_total_variation(x):
  np.testing.assert_allclose(perceptual.total_variation(f32(x)), _tv_ref(x), rtol=1e-4, atol=1e-4)


def test_total_variation_of_simple_images():
  constant = jnp.full((2, 5, 4, 3), 0.7)
  np.testing.assert_array_equal(perceptual.total_variation(constant), [0.0, 0.0])
  # A 4x4 one-channel checkerboard of 0/1: 3 * 4 horizontal and 3 * 4 vertical unit steps.
  checker = (np.indices((4, 4)).sum(axis=0) % 2).astype(np.float32)[None, :, :, None]
  np.testing.assert_allclose(perceptual.total_variation(checker), [24.0])
  # A horizontal ramp of step s in every channel: (W - 1) * H * C pairs of s^2.
  ramp = np.broadcast_to(0.5 * np.arange(6, dtype=np.float32)[None, None, :, None], (1, 3, 6, 2))
  np.testing.assert_allclose(perceptual.total_variation(ramp), [5 * 3 * 2 * 0.25])


def test_pixel_losses():
  rng = np.random.default_rng(1)
  x, y = rng.normal(size=(2, 3, 4, 5, 3))
  np.testing.assert_allclose(perceptual.mse_loss(f32(x), f32(y)), ((x - y) ** 2).reshape(3, -1).mean(1), rtol=1e-5)
  np.testing.assert_allclose(perceptual.l1_loss(f32(x), f32(y)), np.abs(x - y).reshape(3, -1).mean(1), rtol=1e-5)


# ------------------------------------------------------------ shape checks


def test_bad_shapes_raise():
  f = jnp.zeros((2, 4, 4, 3))
  with pytest.raises(ValueError, match="same shape"):
    perceptual.feature_reconstruction_loss(f, jnp.zeros((2, 4, 4, 4)))
  with pytest.raises(ValueError, match=r"\[B, H, W, C\]"):
    perceptual.feature_reconstruction_loss(jnp.zeros((4, 4, 3)), jnp.zeros((4, 4, 3)))
  with pytest.raises(ValueError, match=r"\[B, H, W, C\]"):
    perceptual.gram_matrix(jnp.zeros((4, 3)))
  with pytest.raises(ValueError, match=r"\(3, 3\)|\[3, 3\]"):
    perceptual.style_reconstruction_loss({"a": f}, {"a": jnp.zeros((4, 4))})
  with pytest.raises(ValueError, match=r"got \(3, 3, 3\)"):
    perceptual.style_reconstruction_loss({"a": f}, {"a": jnp.zeros((3, 3, 3))})  # batch 3 != 2
  with pytest.raises(ValueError, match="'b'"):
    perceptual.style_reconstruction_loss({"a": f}, {"a": jnp.zeros((3, 3)), "b": jnp.zeros((3, 3))})
  with pytest.raises(ValueError, match="reduction must be one of"):
    perceptual.style_reconstruction_loss({"a": f}, {"a": jnp.zeros((3, 3))}, reduction="max")
  with pytest.raises(ValueError, match="images"):
    perceptual.total_variation(jnp.zeros((4, 4)))
  with pytest.raises(ValueError, match="same shape"):
    perceptual.mse_loss(jnp.zeros((2, 3)), jnp.zeros((3, 2)))


# ------------------------------------------------------------ with a loss network


@functools.cache
def _network():
  return LossNetwork.from_module(vgg16(rngs=nnx.Rngs(0)), "keras")


CONTENT = ("relu2_2",)
STYLE = ("relu1_2", "relu2_2")


def _losses(net, images, content_images, style_grams, **weights):
  weights = {"content_weight": 1.0, "style_weight": 5.0, "tv_weight": 1e-3, **weights}
  objective = perceptual.PerceptualObjective(CONTENT, STYLE, style_reduction="sum", **weights)
  return objective(net, images, objective.content_targets(net, content_images), style_grams)


def test_perceptual_losses_are_the_weighted_terms():
  net = _network()
  rng = np.random.default_rng(0)
  images, content, style = (f32(rng.uniform(-1, 1, s)) for s in ((2, 16, 16, 3), (2, 16, 16, 3), (1, 16, 16, 3)))
  grams = {j: perceptual.gram_matrix(v) for j, v in net.features(style, STYLE).items()}
  got = _losses(net, images, content, grams)
  feats = net.features(images)
  want_content = perceptual.feature_reconstruction_loss(feats["relu2_2"], net.features(content)["relu2_2"])
  want_style = perceptual.style_reconstruction_loss(feats, grams)
  np.testing.assert_allclose(got["content"], want_content, rtol=1e-5)
  np.testing.assert_allclose(got["style"], 5.0 * want_style, rtol=1e-5)
  np.testing.assert_allclose(got["tv"], 1e-3 * perceptual.total_variation(images), rtol=1e-5)
  np.testing.assert_allclose(got["total"], got["content"] + got["style"] + got["tv"], rtol=1e-6)
  assert all(v.shape == (2,) for v in got.values())
  assert np.all(np.asarray(got["content"]) > 0) and np.all(np.asarray(got["style"]) > 0)


def test_perceptual_losses_vanish_for_identical_images():
  net = _network()
  images = f32(np.random.default_rng(1).uniform(-1, 1, (2, 16, 16, 3)))
  grams = {j: perceptual.gram_matrix(v) for j, v in net.features(images, STYLE).items()}
  got = _losses(net, images, images, grams, tv_weight=0.0)
  np.testing.assert_allclose(got["content"], 0.0, atol=1e-6)
  np.testing.assert_allclose(got["style"], 0.0, atol=1e-6)
  np.testing.assert_array_equal(got["tv"], 0.0)


def test_gradients_reach_the_images_not_the_loss_network():
  net = _network()
  rng = np.random.default_rng(2)
  images, content = (f32(rng.uniform(-1, 1, (1, 16, 16, 3))) for _ in range(2))
  grams = {j: perceptual.gram_matrix(v) for j, v in net.features(content, STYLE).items()}

  def loss(net, images):
    return jnp.sum(_losses(net, images, content, grams)["total"])

  g_net, g_images = jax.jit(jax.grad(loss, argnums=(0, 1)))(net, images)
  assert float(jnp.max(jnp.abs(g_images))) > 0
  assert jax.tree.structure(g_net) == jax.tree.structure(net)
  for leaf in jax.tree.leaves(g_net):
    np.testing.assert_array_equal(leaf, 0.0)

  # Without stop_gradient the same loss would train the network.
  def unfrozen(params):
    return jnp.sum(
      perceptual.total_variation(
        nnx.merge(nnx.graphdef(net.module()), {"convs": params})(net.preprocess(images), layers="relu1_1")["relu1_1"]
      )
    )

  assert float(jnp.max(jnp.abs(jax.grad(unfrozen)(net.params)["block1_conv1"]["kernel"]))) > 0


def test_missing_targets_raise():
  net = _network()
  images = jnp.zeros((1, 16, 16, 3))
  with pytest.raises(ValueError, match="content_images"):
    _losses(net, images, None, {})
  with pytest.raises(ValueError, match="style_grams"):
    _losses(net, images, images, None)

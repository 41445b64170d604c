"""Weight normalisation and the improved-GAN (Salimans et al. 2016) MNIST networks."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxgan import models
from jaxgan import nn as jnn


def _abstract(ctor, **kwargs):
  return nnx.eval_shape(lambda: ctor(**kwargs, rngs=nnx.Rngs(0)))


def _wn(n_in, n_out):
  """Parameters of a weight-normalised dense layer: v [in, out], g [out] and b [out]."""
  return n_in * n_out + n_out + n_out


# ---------------------------------------------------------------- weight norm layer


@pytest.fixture(scope="module")
def wn_layer():
  layer = jnn.WeightNormDense(5, 3, rngs=nnx.Rngs(0))
  layer.g[...] = jnp.array([0.5, 2.0, 3.0])
  layer.b[...] = jnp.array([0.1, -0.2, 0.3])
  return layer


def test_weight_norm_params_and_column_norms(wn_layer):
  assert wn_layer.v.shape == (5, 3) and wn_layer.g.shape == (3,) and wn_layer.b.shape == (3,)
  np.testing.assert_allclose(jnp.linalg.norm(wn_layer.kernel(), axis=0), wn_layer.g[...], rtol=1e-6)
  fresh = jnn.WeightNormDense(7, 4, init_scale=1.5, use_bias=False, rngs=nnx.Rngs(1))
  assert fresh.b is None and jnn.count_params(fresh) == 7 * 4 + 4
  np.testing.assert_allclose(jnp.linalg.norm(fresh.kernel(), axis=0), 1.5, rtol=1e-6)
  x = jax.random.normal(jax.random.key(0), (2, 5))
  v = np.asarray(wn_layer.v[...])
  expected = x @ (v / np.linalg.norm(v, axis=0) * np.array([0.5, 2.0, 3.0])) + wn_layer.b[...]
  np.testing.assert_allclose(wn_layer(x), expected, rtol=1e-5, atol=1e-6)
  with pytest.raises(ValueError, match="5 input features"):
    wn_layer(jnp.zeros((2, 4)))


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(min_value=1e-3, max_value=1e3), seed=st.integers(0, 2**16))
def test_weight_norm_invariant_to_direction_scale(wn_layer, scale, seed):
  x = jax.random.normal(jax.random.key(seed), (4, 5))
  scaled = nnx.clone(wn_layer)
  scaled.v[...] = wn_layer.v[...] * scale
  np.testing.assert_allclose(scaled(x), wn_layer(x), rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(jnp.linalg.norm(scaled.kernel(), axis=0), wn_layer.g[...], rtol=1e-5)


# ---------------------------------------------------------------- MNIST networks


def test_ssl_mlp_parameter_counts():
  d = _abstract(models.SSLMLPDiscriminator)
  g = _abstract(models.SSLMLPGenerator)
  hidden_g = 1000 + 500 + 250 + 250 + 250
  assert (
    jnn.count_params(d)
    == (_wn(784, 1000) + _wn(1000, 500) + _wn(500, 250) + _wn(250, 250) + _wn(250, 250) + _wn(250, 10))
    == 1_541_020
  )
  # The official code trains only the output layer's g: its trainable count.
  assert jnn.count_params(d) - hidden_g == 1_538_770
  assert (
    jnn.count_params(g)
    == (
      100 * 500
      + 500  # Dense (no bias) + BN shift (no scale)
      + 500 * 500
      + 500
      + _wn(500, 784)
    )
    == 694_568
  )
  d3 = _abstract(models.SSLMLPDiscriminator, in_shape=(28, 28, 3), num_outputs=11)
  assert jnn.count_params(d3) == jnn.count_params(d) - _wn(784, 1000) - _wn(250, 10) + (
    _wn(3 * 784, 1000) + _wn(250, 11)
  )
  g3 = _abstract(models.SSLMLPGenerator, out_shape=(28, 28, 3))
  assert jnn.count_params(g3) == jnn.count_params(g) - _wn(500, 784) + _wn(500, 3 * 784)


def test_ssl_mlp_shapes():
  d = _abstract(models.SSLMLPDiscriminator)
  g = _abstract(models.SSLMLPGenerator)
  x = nnx.eval_shape(lambda g: g(jnp.zeros((3, 100)), train=True), g)
  chex.assert_shape(x, (3, 28, 28, 1))
  logits, feats = nnx.eval_shape(lambda d, x: d(x, train=True, key=jax.random.key(0), return_features=True), d, x)
  chex.assert_shape([logits, feats], [(3, 10), (3, 250)])
  chex.assert_shape(nnx.eval_shape(lambda d, x: d(x, train=False), d, x), (3, 10))
  assert [layer.v.shape for layer in d.hidden] == [(784, 1000), (1000, 500), (500, 250), (250, 250), (250, 250)]
  assert d.noise_stds == (0.3, 0.5, 0.5, 0.5, 0.5, 0.5)
  assert g.bns[0].scale is None and g.bns[0].epsilon == 1e-6


@pytest.fixture(scope="module")
def small_ssl():
  d = models.SSLMLPDiscriminator(in_shape=(4, 4, 1), hidden=(12, 8, 6), num_outputs=3, rngs=nnx.Rngs(0))
  g = models.SSLMLPGenerator(nz=5, hidden=(7, 7), out_shape=(4, 4, 1), rngs=nnx.Rngs(1))
  return d, g


def test_ssl_discriminator_noise_only_in_train(small_ssl):
  d, _ = small_ssl
  graphdef, params, rest = nnx.split(d, nnx.Param, ...)
  assert not jax.tree.leaves(rest)

  @jax.jit
  def apply(params, x, key):
    m = nnx.merge(graphdef, params)
    return (m(x, train=True, key=key, return_features=True), m(x, train=False, return_features=True))

  x = jax.random.normal(jax.random.key(1), (5, 4, 4, 1))
  (t1, f1), (e1, fe1) = apply(params, x, jax.random.key(2))
  (t1b, _), (e2, _) = apply(params, x, jax.random.key(2))
  (t2, _), (e3, _) = apply(params, x, jax.random.key(3))
  chex.assert_shape([t1, f1], [(5, 3), (5, 6)])
  chex.assert_trees_all_equal(t1, t1b)
  assert not np.allclose(t1, t2)
  chex.assert_trees_all_equal(e1, e2, e3)
  assert not np.allclose(t1, e1)
  assert jnp.all(fe1 >= 0)  # ReLU features
  chex.assert_trees_all_close(d.output(fe1), e1, rtol=1e-5)  # logits = output(features)
  chex.assert_trees_all_close(d(x, train=False), e1, rtol=1e-5)
  with pytest.raises(ValueError, match="key"):
    d(x, train=True)
  with pytest.raises(ValueError, match="x must"):
    d(x[:, :3], train=False)
  quiet = nnx.clone(d)
  quiet.noise_stds = (0.0,) * len(d.noise_stds)
  chex.assert_trees_all_close(quiet(x, train=True, key=jax.random.key(2)), e1, rtol=1e-5)


def test_ssl_generator_batchnorm_and_range(small_ssl):
  _, g = small_ssl
  graphdef, params, stats, rest = nnx.split(g, nnx.Param, nnx.BatchStat, ...)
  assert not jax.tree.leaves(rest)

  @jax.jit
  def apply(params, stats, z):
    m = nnx.merge(graphdef, params, stats, copy=True)
    x_train = m(z, train=True)
    return x_train, m(z, train=False), nnx.state(m, nnx.BatchStat)

  z = jax.random.uniform(jax.random.key(0), (6, 5))
  x_train, x_eval, new_stats = apply(params, stats, z)
  chex.assert_shape(x_train, (6, 4, 4, 1))
  assert jnp.all(jnp.abs(x_train) <= 1.0)
  assert not np.allclose(x_train, x_eval)  # batch statistics vs running averages
  h = g.hidden[0](z)
  np.testing.assert_allclose(
    new_stats["bns"][0]["mean"][...], 0.1 * h.mean(0), rtol=1e-5, atol=1e-6
  )  # running = 0.9 * old + 0.1 * batch
  with pytest.raises(ValueError, match="z must"):
    g(jnp.zeros((2, 4)), train=False)

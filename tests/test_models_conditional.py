"""Conditional GAN (Mirza & Osindero 2014) networks: counts, shapes, conditioning, dropout."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxgan import models
from jaxgan import nn as jnn


def _abstract(ctor, **kwargs):
  return nnx.eval_shape(lambda: ctor(**kwargs, rngs=nnx.Rngs(0)))


@functools.partial(jax.jit, static_argnames=("graphdef", "train"))
def _pure_apply(graphdef, params, stats, x, y, key, *, train):
  m = nnx.merge(graphdef, params, stats, copy=True)
  kwargs = {} if key is None else {"key": key}
  return m(x, y, train=train, **kwargs)


def _split_apply(model, x, y, *, train, key=None):
  """split -> jit(merge -> call), as a pure train step would; nothing but Param/BatchStat."""
  graphdef, params, stats, rest = nnx.split(model, nnx.Param, nnx.BatchStat, ...)
  assert not jax.tree.leaves(rest)
  return _pure_apply(graphdef, params, stats, x, y, key, train=train)


# ------------------------------------------------------------------- one-hot labels


def test_one_hot_labels():
  labels = jnp.array([2, 0, 1])
  y = models.one_hot_labels(labels, 4)
  chex.assert_trees_all_equal(y, jnp.eye(4, dtype=jnp.float32)[labels])
  chex.assert_trees_all_equal(models.one_hot_labels(y, 4), y)
  for bad in (jnp.zeros((3, 5)), jnp.zeros((3,)), jnp.zeros((3, 4, 1))):
    with pytest.raises(ValueError, match="one-hot"):
      models.one_hot_labels(bad, 4)
  with pytest.raises(ValueError, match="batch size"):
    models.one_hot_labels(labels, 4, batch_size=2)


# ------------------------------------------------------------------------ MLP cGAN


def test_conditional_mlp_parameter_counts():
  g = _abstract(models.ConditionalMLPGenerator)
  d = _abstract(models.ConditionalMLPDiscriminator)
  # G: z -> 200, y -> 1000, concat 1200 -> 1200, 1200 -> 784.
  assert jnn.count_params(g) == ((100 * 200 + 200) + (10 * 1000 + 1000) + (1200 * 1200 + 1200) + (1200 * 784 + 784))
  # D: maxout layers hold units * pieces affine maps each.
  assert jnn.count_params(d) == (
    (784 * 240 * 5 + 240 * 5)  # x -> Maxout(240, 5)
    + (10 * 50 * 5 + 50 * 5)  # y -> Maxout(50, 5)
    + ((240 + 50) * 240 * 4 + 240 * 4)  # concat 290 -> Maxout(240, 4)
    + (240 * 1 + 1)  # -> logit
  )
  assert jnn.count_params(g) == 2_413_984 and jnn.count_params(d) == 1_224_351


def test_conditional_mlp_shapes():
  g = _abstract(models.ConditionalMLPGenerator, num_classes=3, out_shape=(8, 8, 3))
  d = _abstract(models.ConditionalMLPDiscriminator, num_classes=3, in_shape=(8, 8, 3))
  labels = jnp.array([0, 1])
  x = nnx.eval_shape(lambda g: g(jnp.zeros((2, 100)), labels, train=True), g)
  chex.assert_shape(x, (2, 8, 8, 3))
  logits = nnx.eval_shape(lambda d, x: d(x, labels, train=True, key=jax.random.key(0)), d, x)
  chex.assert_shape(logits, (2,))


@pytest.fixture(scope="module")
def small_mlp_cgan():
  g = models.ConditionalMLPGenerator(
    nz=6, num_classes=4, z_hidden=8, y_hidden=12, joint_hidden=16, out_shape=(3, 3, 2), irange=0.5, rngs=nnx.Rngs(0)
  )
  d = models.ConditionalMLPDiscriminator(
    in_shape=(3, 3, 2), num_classes=4, x_units=8, y_units=5, joint_units=8, irange=0.5, rngs=nnx.Rngs(1)
  )
  return g, d


def test_conditional_mlp_generator_depends_on_y(small_mlp_cgan):
  g, _ = small_mlp_cgan
  z = jax.random.uniform(jax.random.key(0), (4, 6))
  z = jnp.concatenate([z[:1]] * 4)  # one z, every class
  labels = jnp.arange(4)
  x = g(z, labels, train=False)
  chex.assert_shape(x, (4, 3, 3, 2))
  assert jnp.all(jnp.abs(x) <= 1.0)
  for i in range(4):
    for j in range(i + 1, 4):
      assert not np.allclose(x[i], x[j])
  chex.assert_trees_all_equal(g(z, labels, train=False), x)  # same (z, y), same image
  chex.assert_trees_all_equal(g(z, jax.nn.one_hot(labels, 4), train=False), x)
  chex.assert_trees_all_close(_split_apply(g, z, labels, train=True), x, rtol=1e-6)
  with pytest.raises(ValueError, match="one-hot"):
    g(z, jnp.zeros((4, 5)), train=False)
  with pytest.raises(ValueError, match="z must"):
    g(z[:, :5], labels, train=False)


def test_conditional_mlp_generator_optional_dropout():
  g = models.ConditionalMLPGenerator(
    nz=6,
    num_classes=4,
    z_hidden=8,
    y_hidden=12,
    joint_hidden=16,
    out_shape=(4,),
    dropout=0.5,
    irange=0.5,
    rngs=nnx.Rngs(0),
  )
  z, labels = jnp.ones((3, 6)), jnp.array([0, 1, 2])
  with pytest.raises(ValueError, match="key"):
    g(z, labels, train=True)
  a = g(z, labels, train=True, key=jax.random.key(1))
  chex.assert_trees_all_equal(a, g(z, labels, train=True, key=jax.random.key(1)))
  assert not np.allclose(a, g(z, labels, train=True, key=jax.random.key(2)))
  chex.assert_trees_all_equal(g(z, labels, train=False), g(z, labels, train=False, key=None))


def test_conditional_mlp_discriminator_dropout_and_labels(small_mlp_cgan):
  _, d = small_mlp_cgan
  x = jax.random.normal(jax.random.key(1), (5, 3, 3, 2))
  labels = jnp.array([0, 1, 2, 3, 0])
  k1, k2 = jax.random.key(10), jax.random.key(11)
  train1 = _split_apply(d, x, labels, train=True, key=k1)
  chex.assert_shape(train1, (5,))
  chex.assert_trees_all_equal(train1, _split_apply(d, x, labels, train=True, key=k1))
  assert not np.allclose(train1, _split_apply(d, x, labels, train=True, key=k2))
  eval1 = _split_apply(d, x, labels, train=False, key=k1)
  chex.assert_trees_all_equal(eval1, _split_apply(d, x, labels, train=False, key=k2))
  chex.assert_trees_all_close(eval1, d(x, labels, train=False), rtol=1e-6)
  chex.assert_trees_all_close(eval1, d(x, jax.nn.one_hot(labels, 4), train=False), rtol=1e-6)
  assert not np.allclose(eval1, d(x, (labels + 1) % 4, train=False))
  with pytest.raises(ValueError, match="key"):
    d(x, labels, train=True)
  with pytest.raises(ValueError, match="batch size"):
    d(x, labels[:3], train=False)


# ---------------------------------------------------------------------- DCGAN cGAN


def test_conditional_dcgan64_parameter_counts():
  nz, k, c, w = 100, 10, 3, 64
  g = _abstract(models.ConditionalDCGANGenerator, resolution=64, nz=nz, num_classes=k, ngf=w, out_channels=c)
  d = _abstract(models.ConditionalDCGANDiscriminator, resolution=64, num_classes=k, ndf=w, in_channels=c)
  # 4x4 kernels without bias; batch norms hold scale + bias.
  assert jnn.count_params(g) == (
    16 * (nz + k) * 512
    + 2 * 512  # concat(z, y) -> 4x4x512
    + 16 * 512 * 256
    + 2 * 256
    + 16 * 256 * 128
    + 2 * 128
    + 16 * 128 * 64
    + 2 * 64
    + 16 * 64 * c  # -> image
  )
  assert jnn.count_params(d) == (
    16 * (c + k) * 64  # concat(x, label maps) -> 64, no BN
    + 16 * 64 * 128
    + 2 * 128
    + 16 * 128 * 256
    + 2 * 256
    + 16 * 256 * 512
    + 2 * 512
    + 16 * 512 * 1  # -> logit
  )
  # The unconditional DCGAN plus the K extra input channels of the first layer.
  assert jnn.count_params(g) == 3_576_704 + 16 * k * 512
  assert jnn.count_params(d) == 2_765_568 + 16 * k * 64


@pytest.mark.parametrize("resolution", [16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_conditional_dcgan_output_shapes(resolution, channels):
  g = _abstract(models.ConditionalDCGANGenerator, resolution=resolution, num_classes=5, ngf=8, out_channels=channels)
  d = _abstract(models.ConditionalDCGANDiscriminator, resolution=resolution, num_classes=5, ndf=8, in_channels=channels)
  assert g.net.project.kernel.shape == (4, 4, 105, 8 * resolution // 8)
  assert d.net.downs[0].kernel.shape == (4, 4, channels + 5, 8)
  labels = jnp.array([0, 4])
  x = nnx.eval_shape(lambda g: g(jnp.zeros((2, 100)), labels, train=True), g)
  chex.assert_shape(x, (2, resolution, resolution, channels))
  logits = nnx.eval_shape(lambda d, x: d(x, jax.nn.one_hot(labels, 5), train=True), d, x)
  chex.assert_shape(logits, (2,))


def test_conditional_dcgan_conditioning():
  g = models.ConditionalDCGANGenerator(resolution=16, nz=4, num_classes=3, ngf=4, out_channels=1, rngs=nnx.Rngs(0))
  d = models.ConditionalDCGANDiscriminator(resolution=16, num_classes=3, ndf=4, in_channels=1, rngs=nnx.Rngs(1))
  z = jnp.tile(jax.random.normal(jax.random.key(0), (1, 4)), (3, 1))
  labels = jnp.arange(3)
  x = _split_apply(g, z, labels, train=False)
  chex.assert_shape(x, (3, 16, 16, 1))
  assert not np.allclose(x[0], x[1]) and not np.allclose(x[1], x[2])
  chex.assert_trees_all_equal(x, _split_apply(g, z, labels, train=False))
  chex.assert_trees_all_close(_split_apply(g, z, jax.nn.one_hot(labels, 3), train=False), x, rtol=1e-6)
  logits = _split_apply(d, x, labels, train=False)
  chex.assert_shape(logits, (3,))
  chex.assert_trees_all_close(_split_apply(d, x, jax.nn.one_hot(labels, 3), train=False), logits, rtol=1e-6)
  assert not np.allclose(logits, _split_apply(d, x, (labels + 1) % 3, train=False))
  # The label maps are constant planes appended after the image channels.
  h = jnp.concatenate([x, jnp.broadcast_to(jax.nn.one_hot(labels, 3)[:, None, None], (3, 16, 16, 3))], -1)
  chex.assert_trees_all_close(d.net(h, train=False), logits, rtol=1e-6)
  with pytest.raises(ValueError, match="x must"):
    d(x[..., :0], labels, train=False)

"""GAN (MLP) and DCGAN networks: parameter counts, shapes, BN, dropout, split/merge."""

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
def _pure_apply(graphdef, params, stats, x, key, *, train):
  m = nnx.merge(graphdef, params, stats, copy=True)
  kwargs = {} if key is None else {"key": key}
  y = m(x, train=train, **kwargs)
  return y, nnx.state(m, nnx.BatchStat)


def _split_apply(model, x, *, train, key=None):
  """Runs the model through split -> jit(merge -> call) as a pure train step would."""
  graphdef, params, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
  return _pure_apply(graphdef, params, stats, x, key, train=train)


# ------------------------------------------------------------------ shared nn bits


def test_inits_statistics():
  k = jax.random.key(0)
  w = jnn.normal_init()(k, (200, 200))
  s = jnn.batchnorm_scale_init()(k, (40000,))
  u = jnn.symmetric_uniform_init(0.05)(k, (40000,))
  np.testing.assert_allclose([w.mean(), w.std()], [0.0, 0.02], atol=1e-3)
  np.testing.assert_allclose([s.mean(), s.std()], [1.0, 0.02], atol=1e-3)
  assert float(u.min()) >= -0.05 and float(u.max()) <= 0.05
  np.testing.assert_allclose(u.std(), 0.05 / np.sqrt(3), rtol=0.02)


def test_count_params_module_state_and_pytree():
  m = nnx.Sequential(nnx.Linear(3, 4, rngs=nnx.Rngs(0)), nnx.BatchNorm(4, rngs=nnx.Rngs(0)))
  assert jnn.count_params(m) == 3 * 4 + 4 + 4 + 4  # BN mean/var excluded
  assert jnn.count_params(nnx.state(m)) == 24
  assert jnn.count_params(nnx.split(m, nnx.Param, nnx.BatchStat)[1]) == 24
  assert jnn.count_params(nnx.to_pure_dict(nnx.state(m, nnx.Param))) == 24
  assert jnn.count_params({"a": jnp.zeros((2, 3))}) == 6


def test_maxout_is_max_over_pieces():
  layer = jnn.Maxout(5, units=3, pieces=4, rngs=nnx.Rngs(0))
  x = jax.random.normal(jax.random.key(1), (2, 5))
  z = np.asarray(layer.linear(x))
  expected = np.stack([z[:, i::4] for i in range(4)]).max(axis=0)  # pylearn2 layout
  np.testing.assert_allclose(layer(x), expected, rtol=1e-6)


# ------------------------------------------------------------------------ MLP GAN


def test_mlp_gan_shapes_and_counts():
  g = _abstract(models.MLPGenerator)
  d = _abstract(models.MLPDiscriminator)
  assert jnn.count_params(g) == (100 * 1200 + 1200) + (1200 * 1200 + 1200) + (1200 * 784 + 784)
  assert jnn.count_params(d) == (784 * 1200 + 1200) + (240 * 1200 + 1200) + (240 + 1)
  z = jnp.zeros((2, 100))
  x = nnx.eval_shape(lambda g: g(z, train=True), g)
  chex.assert_shape(x, (2, 28, 28, 1))
  y = nnx.eval_shape(lambda d, x: d(x, train=True, key=jax.random.key(0)), d, x)
  chex.assert_shape(y, (2,))


def test_mlp_generator_range():
  g = models.MLPGenerator(nz=8, hidden=(16,), out_shape=(4, 4, 1), irange=2.0, rngs=nnx.Rngs(0))
  x = g(jax.random.uniform(jax.random.key(0), (5, 8), minval=-1, maxval=1), train=True)
  chex.assert_shape(x, (5, 4, 4, 1))
  assert jnp.all(jnp.abs(x) <= 1.0)


def test_mlp_discriminator_dropout_keys():
  d = models.MLPDiscriminator(in_shape=(6, 6, 1), units=16, pieces=3, irange=0.5, rngs=nnx.Rngs(0))
  x = jax.random.normal(jax.random.key(1), (4, 6, 6, 1))
  k1, k2 = jax.random.key(10), jax.random.key(11)
  train1, _ = _split_apply(d, x, train=True, key=k1)
  train1b, _ = _split_apply(d, x, train=True, key=k1)
  train2, _ = _split_apply(d, x, train=True, key=k2)
  eval1, _ = _split_apply(d, x, train=False, key=k1)
  eval2, _ = _split_apply(d, x, train=False, key=k2)
  chex.assert_trees_all_equal(train1, train1b)  # deterministic given the key
  assert not np.allclose(train1, train2)
  chex.assert_trees_all_equal(eval1, eval2)
  chex.assert_trees_all_close(eval1, d(x, train=False), rtol=1e-6)
  with pytest.raises(ValueError, match="key"):
    d(x, train=True)
  # No RNG state lives in the module: Param is all there is.
  graphdef, params, rest = nnx.split(d, nnx.Param, ...)
  assert not jax.tree.leaves(rest)


# -------------------------------------------------------------------------- DCGAN


@pytest.mark.parametrize("width, g_count, d_count", [(64, 3_576_704, 2_765_568), (128, 12_658_432, 11_036_160)])
def test_dcgan64_parameter_counts(width, g_count, d_count):
  g = _abstract(models.dcgan_generator_64, nz=100, ngf=width, out_channels=3)
  d = _abstract(models.dcgan_discriminator_64, ndf=width, in_channels=3)
  assert jnn.count_params(g) == g_count
  assert jnn.count_params(d) == d_count


@pytest.mark.parametrize("resolution", [16, 32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_output_shapes(resolution, channels):
  g = _abstract(models.DCGANGenerator, resolution=resolution, ngf=8, out_channels=channels)
  d = _abstract(models.DCGANDiscriminator, resolution=resolution, ndf=8, in_channels=channels)
  x = nnx.eval_shape(lambda g: g(jnp.zeros((2, 100)), train=True), g)
  chex.assert_shape(x, (2, resolution, resolution, channels))
  y = nnx.eval_shape(lambda d, x: d(x, train=True), d, x)
  chex.assert_shape(y, (2,))


def test_dcgan_generator_layer_widths():
  g = _abstract(models.dcgan_generator_64, ngf=64)
  widths = [g.project.kernel.shape[-1]] + [up.kernel.shape[-1] for up in g.ups]
  assert widths == [512, 256, 128, 64]
  assert g.to_image.kernel.shape == (4, 4, 64, 3)
  d = _abstract(models.dcgan_discriminator_64, ndf=64)
  assert [c.kernel.shape[-1] for c in d.downs] == [64, 128, 256, 512]
  assert len(d.down_bns) == 3  # no BN on the first layer
  assert d.to_logit.kernel.shape == (4, 4, 512, 1)


@pytest.mark.parametrize("bad", [8, 48, 100, 0, -64, 64.0])
def test_dcgan_bad_resolution(bad):
  for ctor in (models.DCGANGenerator, models.DCGANDiscriminator):
    with pytest.raises(ValueError, match=f"got {bad!r}"):
      ctor(resolution=bad, rngs=nnx.Rngs(0))


# One small configuration shared by the tests below, so its ops compile once.
SMALL_G = dict(resolution=16, ngf=16, nz=8, out_channels=1)
SMALL_D = dict(resolution=16, ndf=8, in_channels=1)


@pytest.fixture(scope="module")
def small_dcgan_template():
  return (
    models.DCGANGenerator(**SMALL_G, rngs=nnx.Rngs(0)),
    models.DCGANDiscriminator(**SMALL_D, rngs=nnx.Rngs(1)),
  )


@pytest.fixture
def small_dcgan(small_dcgan_template):
  g, d = small_dcgan_template
  return nnx.clone(g), nnx.clone(d)


def test_dcgan_init_and_batchnorm_settings(small_dcgan):
  g, d = small_dcgan
  np.testing.assert_allclose(g.ups[0].kernel[...].std(), 0.02, rtol=0.1)
  np.testing.assert_allclose(d.downs[1].kernel[...].std(), 0.02, rtol=0.1)
  for bn in (g.project_bn, g.up_bns[0], d.down_bns[0]):
    np.testing.assert_allclose(bn.scale[...].mean(), 1.0, atol=0.02)
    assert 0.0 < float(bn.scale[...].std()) < 0.05
    chex.assert_trees_all_equal(bn.bias[...], jnp.zeros_like(bn.bias[...]))
    assert bn.momentum == 0.9 and bn.epsilon == 1e-5
  convs = [g.project, *g.ups, g.to_image, *d.downs, d.to_logit]
  assert all(c.bias is None for c in convs)


def test_dcgan_train_vs_eval_and_split_merge_roundtrip(small_dcgan):
  g, d = small_dcgan
  z = jax.random.normal(jax.random.key(2), (4, 8))
  x = jax.random.uniform(jax.random.key(3), (4, 16, 16, 1), minval=-1, maxval=1)
  for model, inp in ((g, z), (d, x)):
    graphdef, params, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    y_eval = model(inp, train=False)
    y_eval_jit, stats_after_eval = _split_apply(model, inp, train=False)
    chex.assert_trees_all_close(y_eval, y_eval_jit, rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_equal(stats_after_eval, stats)  # eval leaves statistics alone
    y_train, stats_after_train = _split_apply(model, inp, train=True)
    assert not np.allclose(y_train, y_eval, atol=1e-4)  # batch vs running statistics
    chex.assert_trees_all_equal_shapes(stats_after_train, stats)
    assert all(not np.allclose(a, b) for a, b in zip(jax.tree.leaves(stats_after_train), jax.tree.leaves(stats)))
    # merge(split(model)) reproduces outputs.
    clone = nnx.merge(graphdef, params, stats)
    chex.assert_trees_all_close(clone(inp, train=False), y_eval, rtol=1e-6)


def test_dcgan_running_mean_update_matches_torch_momentum(small_dcgan):
  g, _ = small_dcgan
  z = jax.random.normal(jax.random.key(2), (6, 8))
  h = g.project(z.reshape(6, 1, 1, 8))
  g(z, train=True)
  batch_mean = h.mean(axis=(0, 1, 2))
  # PyTorch momentum 0.1: running = 0.9 * 0 + 0.1 * batch mean.
  np.testing.assert_allclose(g.project_bn.mean[...], 0.1 * batch_mean, rtol=1e-5, atol=1e-7)


# ------------------------------------------------ PyTorch transposed-conv alignment


def _torch_conv_transpose_reference(x, w_torch, stride, padding, output_padding=0):
  """PyTorch ConvTranspose2d by its definition (scatter), NHWC in, w (I, O, kh, kw)."""
  b, h, w_, cin = x.shape
  _, cout, kh, kw = w_torch.shape
  op = output_padding
  full = np.zeros((b, (h - 1) * stride + kh + op, (w_ - 1) * stride + kw + op, cout))
  for i in range(h):
    for j in range(w_):
      contrib = np.einsum("bc,cokl->bklo", x[:, i, j, :], w_torch)
      full[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :] += contrib
  out_h = (h - 1) * stride - 2 * padding + kh + op
  out_w = (w_ - 1) * stride - 2 * padding + kw + op
  return full[:, padding : padding + out_h, padding : padding + out_w, :]


@pytest.mark.parametrize(
  "kernel, stride, padding, output_padding, size",
  [
    (4, 2, 1, 0, 4),  # DCGAN / pix2pix up-sampling: exactly 2x
    (4, 2, 1, 0, 5),
    (4, 1, 0, 0, 1),  # DCGAN projection 1x1 -> 4x4
    (3, 2, 1, 1, 4),  # CycleGAN up-sampling (output_padding 1): exactly 2x
    (3, 2, 1, 0, 4),  # odd output: the lhs-dilated fallback
    (5, 3, 2, 0, 4),
    (3, 1, 1, 0, 5),
    (2, 2, 0, 0, 3),
  ],
)
def test_conv_transpose_matches_pytorch_definition(kernel, stride, padding, output_padding, size):
  layer = jnn.ConvTranspose(
    3,
    2,
    kernel,
    stride=stride,
    padding=padding,
    output_padding=output_padding,
    rngs=nnx.Rngs(0),
    bias_init=nnx.initializers.normal(1.0),
  )
  x = np.asarray(jax.random.normal(jax.random.key(1), (2, size, size + 1, 3)), np.float64)
  kernel_hwio = np.asarray(layer.kernel[...], np.float64)
  w_torch = kernel_hwio.transpose(2, 3, 0, 1)  # PyTorch orientation: no flip
  expected = _torch_conv_transpose_reference(x, w_torch, stride, padding, output_padding)
  expected = expected + np.asarray(layer.bias[...])
  got = layer(jnp.asarray(x, jnp.float32))
  assert got.shape == expected.shape
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
  # Gradients agree with the lhs-dilated convolution (the textbook transposed conv).
  pads = [(kernel - 1 - padding, kernel - 1 - padding + output_padding)] * 2
  dilated = lambda x, k: jax.lax.conv_general_dilated(
    x, k[::-1, ::-1], (1, 1), pads, lhs_dilation=(stride, stride), dimension_numbers=("NHWC", "HWIO", "NHWC")
  )
  phases = lambda x, k: jnn.conv_transpose(x, k, stride=stride, padding=padding, output_padding=output_padding)
  args = (jnp.asarray(x, jnp.float32), jnp.asarray(kernel_hwio, jnp.float32))
  for f in (phases, dilated):
    assert f(*args).shape == got.shape
  g1 = jax.grad(lambda x, k: jnp.sum(phases(x, k) ** 2), argnums=(0, 1))(*args)
  g2 = jax.grad(lambda x, k: jnp.sum(dilated(x, k) ** 2), argnums=(0, 1))(*args)
  for a, b in zip(g1, g2):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_conv_transpose_rejects_bad_padding():
  with pytest.raises(ValueError, match="padding=4"):
    jnn.ConvTranspose(2, 2, 4, stride=2, padding=4, rngs=nnx.Rngs(0))
  with pytest.raises(ValueError, match="output_padding=2"):
    jnn.conv_transpose(jnp.zeros((1, 2, 2, 1)), jnp.zeros((3, 3, 1, 1)), stride=2, padding=1, output_padding=2)


def test_conv_padding_matches_pytorch_definition():
  layer = nnx.Conv(2, 3, (4, 4), strides=(2, 2), padding=jnn.torch_conv_padding(1), use_bias=False, rngs=nnx.Rngs(0))
  x = np.asarray(jax.random.normal(jax.random.key(1), (1, 8, 8, 2)), np.float64)
  k = np.asarray(layer.kernel[...], np.float64)
  xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
  expected = np.zeros((1, 4, 4, 3))
  for i in range(4):
    for j in range(4):
      patch = xp[:, 2 * i : 2 * i + 4, 2 * j : 2 * j + 4, :]
      expected[:, i, j] = np.einsum("bhwc,hwco->bo", patch, k)
  np.testing.assert_allclose(layer(jnp.asarray(x, jnp.float32)), expected, rtol=1e-4, atol=1e-5)


def test_shape_checks_name_the_expected_shape_and_the_next_working_size():
  from jaxgan.nn.layers import check_multiple, check_nhwc  # pylint: disable=g-import-not-at-top

  check_nhwc(jnp.zeros((2, 8, 8, 3)), 3)
  check_multiple(jnp.zeros((1, 8, 12, 3)), 4, "net")
  with pytest.raises(ValueError, match=r"z must have shape \[B, H, W, 3\], got \(8, 8, 3\)"):
    check_nhwc(jnp.zeros((8, 8, 3)), 3, "z")
  with pytest.raises(
    ValueError,
    match=r"10x13 is not a multiple of 4, the stride of net \(the next size that "
    r"is: 12x16\)",
  ):
    check_multiple(jnp.zeros((1, 10, 13, 1)), 4, "net")

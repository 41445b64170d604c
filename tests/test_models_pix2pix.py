"""pix2pix networks: official parameter counts, PatchGAN geometry, U-Net behaviour, norms."""

import functools

import hypothesis
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from hypothesis import strategies as st

from jaxgan.models import patchgan, unet
from jaxgan.nn import count_params
from jaxgan.nn import norm as norm_lib
from jaxgan.train.state import split_module


def _count(make, **kwargs):
  return count_params(nnx.eval_shape(lambda: make(rngs=nnx.Rngs(0), **kwargs)))


@pytest.mark.parametrize(
  "make, kwargs, expected",
  [
    (unet.unet_256, {}, 54_413_955),
    (unet.unet_128, {}, 41_828_995),
    (unet.unet_256, {"norm": "instance"}, 54_409_603),
    (patchgan.DISCRIMINATORS["basic"], {}, 2_768_705),
    (patchgan.DISCRIMINATORS["n_layers"], {"n_layers": 5}, 11_159_361),
    (patchgan.DISCRIMINATORS["pixel"], {}, 9_024),
    # CycleGAN's discriminator: 3 input channels, instance norm.
    (patchgan.DISCRIMINATORS["basic"], {"in_channels": 3, "norm": "instance"}, 2_764_737),
  ],
)
def test_parameter_counts_equal_the_official_networks(make, kwargs, expected):
  assert _count(make, **kwargs) == expected


@pytest.mark.parametrize("name, field", [("pixel", 1), ("patch16", 16), ("basic", 70), ("image", 286)])
def test_receptive_fields_of_the_presets(name, field):
  d = nnx.eval_shape(lambda: patchgan.DISCRIMINATORS[name](rngs=nnx.Rngs(0)))
  assert d.receptive_field == field
  if name == "image":
    assert d.receptive_field >= 256  # every output sees the whole 256x256 image


def _apply(module, x, **kwargs):
  graphdef, params, stats = split_module(module)
  return nnx.merge(graphdef, params, stats)(x, **kwargs)


def _output_shape(make, size, channels=6):
  module = nnx.eval_shape(lambda: make(rngs=nnx.Rngs(0)))
  graphdef, params, stats = split_module(module)
  run = lambda p, s, x: nnx.merge(graphdef, p, s)(x, train=True)
  return jax.eval_shape(run, params, stats, jax.ShapeDtypeStruct((2, size, size, channels), jnp.float32)).shape


def test_70x70_patchgan_gives_30x30_logits_on_256():
  assert _output_shape(patchgan.DISCRIMINATORS["basic"], 256) == (2, 30, 30)


@hypothesis.settings(deadline=None, max_examples=12)
@hypothesis.given(st.integers(1, 5), st.integers(8, 300))
def test_patchgan_output_size_matches_its_formula(n_layers, size):
  make = functools.partial(patchgan.PatchGANDiscriminator, n_layers=n_layers)
  expected = patchgan.output_size(size, patchgan.patchgan_layers(n_layers))
  if expected < 1:
    with pytest.raises(ValueError, match="too small"):
      _output_shape(make, size)
  else:
    assert _output_shape(make, size) == (2, expected, expected)


@pytest.mark.parametrize("n_layers", [1, 2])
def test_receptive_field_is_the_support_of_an_outputs_input_gradient(n_layers):
  """One logit depends on exactly a receptive_field x receptive_field window of the input."""
  d = patchgan.PatchGANDiscriminator(in_channels=1, ndf=2, n_layers=n_layers, norm="none", rngs=nnx.Rngs(1))
  field = d.receptive_field
  size = field + 16
  x = jax.random.normal(jax.random.key(0), (1, size, size, 1))
  out_shape = d(x, train=True).shape
  i = out_shape[1] // 2
  grad = jax.grad(lambda x: d(x, train=True)[0, i, i])(x)[0, :, :, 0]
  rows, cols = np.nonzero(np.abs(np.asarray(grad)) > 0)
  # The window is clipped by the zero padding only at the border; the centre output is inside.
  assert rows.max() - rows.min() + 1 == field and cols.max() - cols.min() + 1 == field


def test_pixelgan_is_pointwise():
  d = patchgan.PixelDiscriminator(in_channels=2, ndf=4, norm="none", rngs=nnx.Rngs(0))
  x = jax.random.normal(jax.random.key(0), (1, 5, 7, 2))
  out = d(x, train=True)
  assert out.shape == (1, 5, 7)
  x2 = x.at[0, 0, 0].set(9.0)
  diff = np.asarray(d(x2, train=True) != out)
  assert diff[0, 0, 0] and diff.sum() == 1


def _tiny_unet(**kwargs):
  defaults = {"num_downs": 5, "ngf": 4, "in_channels": 3, "out_channels": 2}
  return unet.UNetGenerator(**{**defaults, **kwargs}, rngs=nnx.Rngs(0))


def test_unet_maps_images_to_images_in_range():
  g = _tiny_unet()
  x = jax.random.uniform(jax.random.key(0), (2, 32, 64, 3), minval=-1, maxval=1)
  y = g(x, train=True)
  assert y.shape == (2, 32, 64, 2)
  assert float(jnp.max(jnp.abs(y))) <= 1.0


def test_unet_dropout_is_on_exactly_when_a_key_is_given():
  g = _tiny_unet(num_downs=6)  # blocks 4 has dropout
  x = jax.random.uniform(jax.random.key(0), (1, 64, 64, 3), minval=-1, maxval=1)
  np.testing.assert_array_equal(g(x, train=True), g(x, train=True))
  a, b = g(x, train=True, key=jax.random.key(1)), g(x, train=True, key=jax.random.key(2))
  assert not np.allclose(a, b)
  np.testing.assert_array_equal(a, g(x, train=True, key=jax.random.key(1)))
  no_dropout = _tiny_unet(num_downs=6, use_dropout=False)
  np.testing.assert_array_equal(no_dropout(x, train=True, key=jax.random.key(1)), no_dropout(x, train=True))


def test_unet_dropout_blocks_are_the_official_ones():
  assert list(unet.dropout_blocks(8)) == [4, 5, 6]  # three 8ngf blocks, not the innermost
  assert list(unet.dropout_blocks(7)) == [4, 5]
  assert list(unet.dropout_blocks(5)) == []


def test_unet_refuses_sizes_that_are_not_multiples_of_its_stride():
  g = _tiny_unet()
  with pytest.raises(ValueError, match=r"100x64 is not a multiple of 32"):
    g(jnp.zeros((1, 100, 64, 3)), train=True)
  with pytest.raises(ValueError, match=r"\[B, H, W, 3\]"):
    g(jnp.zeros((1, 32, 32, 1)), train=True)


def test_unet_batch_norm_modes_differ_and_instance_norm_is_per_image():
  x = jax.random.uniform(jax.random.key(0), (3, 32, 32, 3), minval=-1, maxval=1)
  g = _tiny_unet()
  assert not np.allclose(g(x, train=True), g(x, train=False))
  gi = _tiny_unet(norm="instance")
  # Instance norm: an image's output does not depend on the rest of the batch.
  np.testing.assert_allclose(gi(x, train=True)[:1], gi(x[:1], train=True), atol=1e-5)
  np.testing.assert_allclose(gi(x, train=True), gi(x, train=False), atol=1e-6)


def test_instance_norm_matches_numpy():
  x = np.random.default_rng(0).normal(size=(2, 5, 6, 3)).astype(np.float32) * 3 + 1
  mean = x.mean(axis=(1, 2), keepdims=True)
  var = x.var(axis=(1, 2), keepdims=True)
  np.testing.assert_allclose(norm_lib.instance_norm(jnp.asarray(x)), (x - mean) / np.sqrt(var + 1e-5), atol=1e-5)
  affine = norm_lib.InstanceNorm(3, affine=True)
  assert count_params(affine) == 6
  np.testing.assert_allclose(affine(jnp.asarray(x)), norm_lib.instance_norm(jnp.asarray(x)), atol=1e-6)


def test_norm_choices_and_conv_bias_follow_the_official_code():
  assert set(norm_lib.NORMS) == {"batch", "instance", "none"}
  assert norm_lib.conv_bias("instance") and not norm_lib.conv_bias("batch") and not norm_lib.conv_bias("none")
  with pytest.raises(ValueError, match="'group'"):
    norm_lib.make_norm("group", 4, nnx.Rngs(0))

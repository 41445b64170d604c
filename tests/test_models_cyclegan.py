"""CycleGAN ResNet generator: official parameter counts, padding modes, shapes, dropout, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxgan.models import resnet_generator as rg
from jaxgan.nn import count_params
from jaxgan.nn import padding as padding_lib


def _count(make, **kwargs):
  return count_params(nnx.eval_shape(lambda: make(rngs=nnx.Rngs(0), **kwargs)))


@pytest.mark.parametrize(
  "make, kwargs, expected",
  [
    (rg.GENERATORS["resnet_9blocks"], {}, 11_378_179),
    (rg.GENERATORS["resnet_6blocks"], {}, 7_837_699),
    # --norm batch: no convolution biases but the last, BN scale and bias instead.
    (rg.resnet_9blocks, {"norm": "batch"}, 11_383_427),
  ],
)
def test_parameter_counts_equal_the_official_networks(make, kwargs, expected):
  assert _count(make, **kwargs) == expected


# ------------------------------------------------------------ padding


@pytest.mark.parametrize("shape", [(2, 5, 7, 3), (1, 2, 3, 1)])
@pytest.mark.parametrize("p", [0, 1, 3])
def test_padding_matches_numpy(shape, p):
  x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
  pads = ((0, 0), (p, p), (p, p), (0, 0))
  np.testing.assert_array_equal(padding_lib.replicate_pad(x, p), np.pad(x, pads, mode="edge"))
  np.testing.assert_array_equal(padding_lib.pad(x, p, "zero"), np.pad(x, pads))
  if p < min(shape[1:3]):
    np.testing.assert_array_equal(padding_lib.reflect_pad(x, p), np.pad(x, pads, mode="reflect"))
    np.testing.assert_array_equal(padding_lib.pad(x, p, "reflect"), np.pad(x, pads, mode="reflect"))
  else:  # PyTorch's ReflectionPad2d refuses it too
    with pytest.raises(ValueError, match=f"{shape[1]}x{shape[2]}"):
      padding_lib.reflect_pad(x, p)


def test_reflection_does_not_repeat_the_edge():
  x = jnp.arange(4.0).reshape(1, 1, 4, 1) * jnp.ones((1, 4, 1, 1))
  assert padding_lib.reflect_pad(x, 2)[0, 2, :, 0].tolist() == [2, 1, 0, 1, 2, 3, 2, 1]
  assert padding_lib.replicate_pad(x, 2)[0, 2, :, 0].tolist() == [0, 0, 0, 1, 2, 3, 3, 3]


def test_unknown_padding_type():
  with pytest.raises(ValueError, match="padding_type must be one of"):
    padding_lib.pad(jnp.zeros((1, 4, 4, 1)), 1, "circular")
  with pytest.raises(ValueError, match="padding_type"):
    rg.ResnetGenerator(ngf=2, n_blocks=1, padding_type="circular", rngs=nnx.Rngs(0))


# ------------------------------------------------------------ the network


def _tiny(**kwargs):
  kwargs = {"ngf": 4, "n_blocks": 2, **kwargs}
  return rg.ResnetGenerator(rngs=nnx.Rngs(0), **kwargs)


def _out_shape(G, shape, **kwargs):
  return jax.eval_shape(lambda x: G(x, train=True, **kwargs), jax.ShapeDtypeStruct(shape, jnp.float32)).shape


def test_tiny_output_shape_and_range():
  G = _tiny(out_channels=2)
  x = jax.random.normal(jax.random.key(0), (2, 32, 32, 3)) * 2
  y = nnx.jit(lambda G, x: G(x, train=False))(G, x)
  assert y.shape == (2, 32, 32, 2)
  assert jnp.all(jnp.abs(y) <= 1.0) and float(jnp.std(y)) > 0
  assert _out_shape(G, (1, 8, 44, 3)) == (1, 8, 44, 2)


@pytest.mark.parametrize("padding_type", ["replicate", "zero"])
def test_other_padding_types_keep_the_size(padding_type):
  assert _out_shape(_tiny(padding_type=padding_type), (1, 4, 12, 3)) == (1, 4, 12, 3)


@pytest.mark.parametrize("size", [(30, 32), (32, 34), (33, 33)])
def test_sides_not_multiples_of_4_are_refused(size):
  h, w = size
  with pytest.raises(ValueError, match=f"image size {h}x{w} is not a multiple of 4"):
    _out_shape(_tiny(), (1, h, w, 3))


def test_too_small_for_reflection_padding_and_wrong_channels():
  with pytest.raises(ValueError, match="4x4 is too small"):
    _out_shape(_tiny(), (1, 4, 4, 3))
  assert _out_shape(_tiny(n_blocks=0), (1, 4, 4, 3)) == (1, 4, 4, 3)  # no block to pad
  with pytest.raises(ValueError, match=r"\[B, H, W, 3\]"):
    _out_shape(_tiny(), (1, 32, 32, 1))
  with pytest.raises(ValueError, match="n_blocks"):
    _tiny(n_blocks=-1)


def test_dropout_only_with_use_dropout_and_a_key():
  x = jax.random.normal(jax.random.key(1), (1, 16, 16, 3))
  run = nnx.jit(lambda G, x, key: G(x, train=True, key=key))
  run_nokey = nnx.jit(lambda G, x: G(x, train=True))
  G = _tiny(use_dropout=True)
  a, b = run(G, x, jax.random.key(0)), run(G, x, jax.random.key(1))
  assert not np.allclose(a, b)
  np.testing.assert_array_equal(run(G, x, jax.random.key(0)), a)  # deterministic in the key
  plain = run_nokey(G, x)
  assert not np.allclose(a, plain)
  np.testing.assert_array_equal(run_nokey(G, x), plain)
  G = _tiny(use_dropout=False)
  np.testing.assert_array_equal(run(G, x, jax.random.key(0)), run_nokey(G, x))


def test_init_and_biases_follow_the_official_rule():
  G = rg.ResnetGenerator(ngf=16, n_blocks=1, rngs=nnx.Rngs(0))  # instance norm: biases
  assert abs(float(jnp.std(G.blocks[0].conv1.kernel[...])) - 0.02) < 0.001
  assert float(jnp.max(jnp.abs(G.blocks[0].conv1.bias[...]))) == 0.0
  assert G.ups[0].kernel[...].shape == (3, 3, 64, 32)  # PyTorch's (in, out) orientation
  Gb = nnx.eval_shape(lambda: rg.ResnetGenerator(ngf=16, n_blocks=1, norm="batch", rngs=nnx.Rngs(0)))
  convs = [Gb.first, *Gb.downs, Gb.blocks[0].conv1, Gb.blocks[0].conv2, *Gb.ups]
  assert all(c.bias is None for c in convs) and Gb.last.bias is not None

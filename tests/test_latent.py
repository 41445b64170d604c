"""Latent interpolation and vector arithmetic."""

import chex
import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxgan import latent

vectors = hnp.arrays(np.float32, (8,), elements=st.floats(-3, 3, width=32, allow_subnormal=False))
TS = jnp.linspace(0.0, 1.0, 7)


@pytest.mark.parametrize("interp", [latent.lerp, latent.slerp])
@settings(max_examples=20, deadline=None)
@given(z0=vectors, z1=vectors)
def test_endpoints_exact_and_shape(interp, z0, z1):
  out = interp(z0, z1, TS)
  chex.assert_shape(out, (7, 8))
  np.testing.assert_array_equal(out[0], z0)
  np.testing.assert_array_equal(out[-1], z1)


def test_lerp_midpoint():
  z0, z1 = jnp.array([1.0, -2.0, 3.0]), jnp.array([3.0, 4.0, -1.0])
  np.testing.assert_allclose(latent.lerp(z0, z1, jnp.array([0.5]))[0], (z0 + z1) / 2)


@settings(max_examples=20, deadline=None)
@given(z0=vectors, z1=vectors)
def test_slerp_preserves_norm_for_equal_norms(z0, z1):
  n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
  if n0 < 1e-2 or n1 < 1e-2:
    return
  z1 = z1 * (n0 / n1)
  cos = np.dot(z0, z1) / (n0 * n0)
  if cos < -0.999:  # anti-parallel: no unique great circle, lerp fallback
    return
  out = latent.slerp(z0, z1, TS)
  np.testing.assert_allclose(jnp.linalg.norm(out, axis=1), np.full(7, n0), rtol=1e-3)


def test_slerp_quarter_circle():
  z0, z1 = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
  out = latent.slerp(z0, z1, jnp.array([0.5]))[0]
  np.testing.assert_allclose(out, [np.sqrt(0.5), np.sqrt(0.5)], rtol=1e-6)


@pytest.mark.parametrize("scale", [2.0, 1.0, -1.0, 0.0])
def test_slerp_of_parallel_or_zero_vectors_is_lerp(scale):
  z0 = jnp.array([0.5, -1.0, 2.0])
  z1 = scale * z0
  out = latent.slerp(z0, z1, TS)
  chex.assert_tree_all_finite(out)
  np.testing.assert_allclose(out, latent.lerp(z0, z1, TS), rtol=1e-6, atol=1e-7)
  out0 = latent.slerp(jnp.zeros(3), z0, TS)
  np.testing.assert_allclose(out0, latent.lerp(jnp.zeros(3), z0, TS), atol=1e-7)


def test_slerp_jit_and_grad_finite():
  z = jnp.array([1.0, 2.0, 3.0])
  g = jax.grad(lambda z: jax.jit(latent.slerp)(z, z, TS).sum())(z)
  chex.assert_tree_all_finite(g)


def test_interp_errors():
  with pytest.raises(ValueError, match="same shape"):
    latent.lerp(jnp.zeros(3), jnp.zeros(4), TS)
  with pytest.raises(ValueError, match="1-D"):
    latent.slerp(jnp.zeros(3), jnp.zeros(3), jnp.zeros((2, 2)))


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_strips(method):
  strips = latent.interpolation_strips(jax.random.key(0), num_strips=3, steps=5, nz=10, method=method)
  chex.assert_shape(strips, (3, 5, 10))
  fn = latent.INTERPOLATIONS[method]
  for s in strips:
    np.testing.assert_allclose(s, fn(s[0], s[-1], jnp.linspace(0, 1, 5)), rtol=1e-5, atol=1e-6)
  assert not np.allclose(strips[0, 0], strips[1, 0])
  with pytest.raises(ValueError, match="valid names: \\['lerp', 'slerp'\\]"):
    latent.interpolation_strips(jax.random.key(0), num_strips=1, steps=2, nz=2, method="cubic")


def test_vector_arithmetic_matches_numpy():
  rng = np.random.default_rng(0)
  a, b, c = rng.normal(size=(3, 16)), rng.normal(size=(2, 16)), rng.normal(size=(4, 16))
  got = latent.vector_arithmetic(a, b, c)
  chex.assert_shape(got, (16,))
  np.testing.assert_allclose(got, a.mean(0) - b.mean(0) + c.mean(0), rtol=1e-5, atol=1e-6)


def test_vector_arithmetic_errors():
  with pytest.raises(ValueError, match="share nz"):
    latent.vector_arithmetic(jnp.zeros((2, 4)), jnp.zeros((2, 5)), jnp.zeros((2, 4)))
  with pytest.raises(ValueError, match="z_b must have shape"):
    latent.vector_arithmetic(jnp.zeros((2, 4)), jnp.zeros(4), jnp.zeros((2, 4)))

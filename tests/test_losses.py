"""Adversarial losses: numpy references, shapes, gradient signs, errors."""

import functools

import chex
import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxgan import losses

SHAPES = [(4,), (4, 1), (3, 30, 30, 1)]


def _np_sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def _mean(x):
  return x.reshape(x.shape[0], -1).mean(axis=1)


# Direct (naive, float64) reference formulas on probabilities D = sigmoid(logit).
D_REFERENCES = {
  "minimax": lambda r, f: _mean(-np.log(_np_sigmoid(r)) - np.log(1 - _np_sigmoid(f))),
  "non_saturating": lambda r, f: _mean(-np.log(_np_sigmoid(r)) - np.log(1 - _np_sigmoid(f))),
  "lsgan": lambda r, f: _mean(0.5 * ((r - 1.0) ** 2 + (f - 0.0) ** 2)),
  "hinge": lambda r, f: _mean(np.maximum(0, 1 - r) + np.maximum(0, 1 + f)),
  "wgan": lambda r, f: _mean(f - r),
}
G_REFERENCES = {
  "minimax": lambda f: _mean(np.log(1 - _np_sigmoid(f))),
  "non_saturating": lambda f: _mean(-np.log(_np_sigmoid(f))),
  "lsgan": lambda f: _mean(0.5 * (f - 1.0) ** 2),
  "hinge": lambda f: _mean(-f),
  "wgan": lambda f: _mean(-f),
}

logit_arrays = hnp.arrays(
  np.float32,
  st.sampled_from(SHAPES),
  elements=st.floats(-8.0, 8.0, width=32),
)


def test_registry_keys():
  assert set(losses.ADVERSARIAL_LOSSES) == set(D_REFERENCES)
  reg = losses.ADVERSARIAL_LOSSES
  assert reg["minimax"].discriminator is reg["non_saturating"].discriminator


@pytest.mark.parametrize("name", sorted(D_REFERENCES))
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_losses_match_numpy_reference(name, data):
  real = data.draw(logit_arrays)
  fake = data.draw(hnp.arrays(np.float32, real.shape, elements=st.floats(-8.0, 8.0, width=32)))
  loss = losses.get_adversarial_loss(name)
  d = loss.discriminator(jnp.asarray(real), jnp.asarray(fake))
  g = loss.generator(jnp.asarray(fake))
  r64, f64 = real.astype(np.float64), fake.astype(np.float64)
  np.testing.assert_allclose(d, D_REFERENCES[name](r64, f64), rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(g, G_REFERENCES[name](f64), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(D_REFERENCES))
@pytest.mark.parametrize("shape", SHAPES)
def test_per_example_shape(name, shape):
  loss = losses.get_adversarial_loss(name)
  x = jax.random.normal(jax.random.key(0), shape)
  chex.assert_shape(loss.discriminator(x, -x), (shape[0],))
  chex.assert_shape(loss.generator(x), (shape[0],))


@pytest.mark.parametrize("name", sorted(D_REFERENCES))
def test_stable_at_extreme_logits(name):
  loss = losses.get_adversarial_loss(name)
  x = jnp.array([-1e4, -100.0, 0.0, 100.0, 1e4])
  chex.assert_tree_all_finite((loss.discriminator(x, -x), loss.generator(x)))
  chex.assert_tree_all_finite(jax.grad(lambda f: loss.generator(f).sum())(x))


def test_lsgan_targets():
  r, f = jnp.array([0.3, 2.0]), jnp.array([-1.0, 0.5])
  got = losses.lsgan_discriminator_loss(r, f, fake_target=-1.0, real_target=1.0)
  np.testing.assert_allclose(got, 0.5 * ((r - 1) ** 2 + (f + 1) ** 2), rtol=1e-6)
  np.testing.assert_allclose(losses.lsgan_generator_loss(f, target=0.0), 0.5 * f**2, rtol=1e-6)


# ------------------------------------------------------------------ gradient signs


@pytest.mark.parametrize("name", sorted(D_REFERENCES))
def test_d_loss_decreases_with_real_up_and_fake_down(name):
  d_loss = losses.get_adversarial_loss(name).discriminator
  # Logits where every loss is active: inside hinge's margins and, for LSGAN, on the
  # far side of the targets (real < b = 1, fake > a = 0).
  real = jnp.linspace(-0.9, 0.9, 7)
  fake = jnp.linspace(0.9, 0.1, 7)
  g_real, g_fake = jax.grad(lambda r, f: d_loss(r, f).sum(), argnums=(0, 1))(real, fake)
  assert jnp.all(g_real < 0), g_real
  assert jnp.all(g_fake > 0), g_fake


def test_non_saturating_gradient_larger_when_d_confident():
  fake = jnp.array([-10.0, -6.0, -4.0])
  grad_ns = jax.grad(lambda f: losses.non_saturating_generator_loss(f).sum())(fake)
  grad_mm = jax.grad(lambda f: losses.minimax_generator_loss(f).sum())(fake)
  assert jnp.all(jnp.abs(grad_ns) > 10 * jnp.abs(grad_mm))
  # Both push the fake logits up (descent direction = -grad > 0).
  assert jnp.all(grad_ns < 0) and jnp.all(grad_mm < 0)


def test_minimax_generator_gradient_opposes_discriminator():
  real = jax.random.normal(jax.random.key(1), (16,))
  fake = jax.random.normal(jax.random.key(2), (16,))
  g_d = jax.grad(lambda f: losses.minimax_discriminator_loss(real, f).sum())(fake)
  g_g = jax.grad(lambda f: losses.minimax_generator_loss(f).sum())(fake)
  assert jnp.all(jnp.sign(g_d) == -jnp.sign(g_g))
  # In the minimax game the G loss is exactly minus the fake part of the D loss.
  np.testing.assert_allclose(g_g, -g_d, rtol=1e-6)


# ---------------------------------------------------------------- gradient penalty


def _linear_critic(w):
  return lambda x: x.reshape(x.shape[0], -1) @ w.reshape(-1)


def test_gradient_penalty_zero_for_unit_norm_linear_critic():
  shape = (5, 3, 2, 2)
  w = jax.random.normal(jax.random.key(0), shape[1:])
  w = w / jnp.linalg.norm(w)
  real = jax.random.normal(jax.random.key(1), shape)
  fake = jax.random.normal(jax.random.key(2), shape)
  gp = losses.gradient_penalty(_linear_critic(w), real, fake, jax.random.key(3))
  chex.assert_shape(gp, (5,))
  np.testing.assert_allclose(gp, 0.0, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(
  w=hnp.arrays(np.float32, (6,), elements=st.floats(-3, 3, width=32)),
  target=st.sampled_from([1.0, 0.5, 2.0]),
)
def test_gradient_penalty_linear_critic_closed_form(w, target):
  real = jax.random.normal(jax.random.key(1), (4, 6))
  fake = jax.random.normal(jax.random.key(2), (4, 6))
  gp = losses.gradient_penalty(_linear_critic(jnp.asarray(w)), real, fake, jax.random.key(3), target=target)
  expected = (np.linalg.norm(w.astype(np.float64)) - target) ** 2
  np.testing.assert_allclose(gp, np.full(4, expected), rtol=1e-4, atol=1e-5)


def test_gradient_penalty_patch_critic_and_param_grad():
  # A critic returning a [B, H, W, 1] map; outputs are summed per example.
  real = jax.random.normal(jax.random.key(1), (3, 4, 4, 2))
  fake = jax.random.normal(jax.random.key(2), (3, 4, 4, 2))

  def penalty(w):
    critic = lambda x: jnp.einsum("bhwc,c->bhw", x, w)[..., None]
    return losses.gradient_penalty(critic, real, fake, jax.random.key(0))

  w = jnp.array([0.1, 0.2])
  gp = jax.jit(penalty)(w)
  # grad per example = w broadcast over 16 pixels: norm = 4 |w|.
  np.testing.assert_allclose(gp, (4 * jnp.linalg.norm(w) - 1) ** 2 * jnp.ones(3), rtol=1e-5)
  grad_w = jax.jit(jax.grad(lambda w: penalty(w).mean()))(w)
  chex.assert_tree_all_finite(grad_w)
  assert jnp.all(grad_w < 0)  # norm < 1: increasing |w| lowers the penalty


def test_gradient_penalty_interpolates_per_example():
  # With a quadratic critic the penalty depends on x_hat, so eps must vary by example.
  real = jnp.ones((64, 3))
  fake = -jnp.ones((64, 3))
  gp = losses.gradient_penalty(lambda x: jnp.sum(x**2, axis=1), real, fake, jax.random.key(0))
  assert float(jnp.std(gp)) > 0.0
  # x_hat lies on the segment: |grad| = 2 |x_hat| <= 2 sqrt(3).
  assert jnp.all(gp <= (2 * jnp.sqrt(3.0) - 1) ** 2 + 1e-5)


def test_gradient_penalty_finite_grad_at_zero_gradient():
  real = jnp.ones((2, 3))
  w = jnp.zeros(3)
  g = jax.grad(lambda w: losses.gradient_penalty(_linear_critic(w), real, real, jax.random.key(0)).sum())(w)
  chex.assert_tree_all_finite(g)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name", sorted(D_REFERENCES))
def test_errors(name):
  loss = losses.get_adversarial_loss(name)
  with pytest.raises(ValueError, match="same shape"):
    loss.discriminator(jnp.zeros((4,)), jnp.zeros((4, 1)))
  with pytest.raises(ValueError, match="batch axis"):
    loss.discriminator(jnp.zeros(()), jnp.zeros(()))
  with pytest.raises(ValueError, match="batch axis"):
    loss.generator(jnp.zeros(()))


def test_gradient_penalty_errors():
  critic = lambda x: x.sum(axis=1)
  with pytest.raises(ValueError, match="same shape"):
    losses.gradient_penalty(critic, jnp.zeros((2, 3)), jnp.zeros((3, 3)), jax.random.key(0))
  with pytest.raises(ValueError, match="batch axis"):
    losses.gradient_penalty(critic, jnp.zeros(()), jnp.zeros(()), jax.random.key(0))
  with pytest.raises(ValueError, match="per-example"):
    losses.gradient_penalty(jnp.sum, jnp.zeros((2, 3)), jnp.zeros((2, 3)), jax.random.key(0))


def test_unknown_loss_name_lists_valid_names():
  with pytest.raises(ValueError, match="hinge.*lsgan.*minimax"):
    losses.get_adversarial_loss("vanila")


def test_losses_jit():
  loss = losses.get_adversarial_loss("lsgan")
  f = jax.jit(functools.partial(loss.discriminator))
  chex.assert_shape(f(jnp.zeros((2, 3)), jnp.ones((2, 3))), (2,))

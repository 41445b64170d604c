"""pix2pix / CycleGAN losses against numpy references of the official GANLoss and L1Loss."""

import hypothesis
import hypothesis.extra.numpy as hnp
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import strategies as st

from jaxgan.losses import translation


def _bce_with_logits(x, target):
  """torch.nn.BCEWithLogitsLoss(reduction='none'), in float64 numpy."""
  return np.maximum(x, 0) - x * target + np.log1p(np.exp(-np.abs(x)))


REFERENCE = {
  "vanilla": lambda x, real: _bce_with_logits(x, 1.0 if real else 0.0),
  "lsgan": lambda x, real: (x - (1.0 if real else 0.0)) ** 2,
  "wgangp": lambda x, real: -x if real else x,
}

logits = hnp.arrays(
  np.float64, hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5), elements=st.floats(-20, 20)
)


@hypothesis.settings(deadline=None, max_examples=30)
@hypothesis.given(logits, st.sampled_from(sorted(REFERENCE)))
def test_generator_loss_is_the_official_mean_over_patches(x, mode):
  got = translation.generator_loss(jnp.asarray(x, jnp.float32), mode=mode)
  expected = REFERENCE[mode](x, True).reshape(x.shape[0], -1).mean(axis=1)
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
  # The batch mean equals the official loss: a mean over every element.
  np.testing.assert_allclose(got.mean(), REFERENCE[mode](x, True).mean(), rtol=1e-4, atol=1e-4)


@st.composite
def _logit_pairs(draw):
  """Real and fake logits of one patch grid (D sees real and fake images of one size)."""
  shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5))
  one = hnp.arrays(np.float64, shape, elements=st.floats(-20, 20))
  return draw(one), draw(one)


@hypothesis.settings(deadline=None, max_examples=30)
@hypothesis.given(_logit_pairs(), st.sampled_from(sorted(REFERENCE)))
def test_discriminator_loss_is_half_the_sum(pair, mode):
  real_logits, fake_logits = pair
  got = translation.discriminator_loss(
    jnp.asarray(real_logits, jnp.float32), jnp.asarray(fake_logits, jnp.float32), mode=mode
  )
  per = lambda x, r: REFERENCE[mode](x, r).reshape(x.shape[0], -1).mean(axis=1)
  np.testing.assert_allclose(got, 0.5 * (per(real_logits, True) + per(fake_logits, False)), rtol=1e-4, atol=1e-4)


def test_pix2pix_generator_objective_matches_numpy():
  rng = np.random.default_rng(0)
  fake_logits = rng.normal(size=(2, 30, 30))
  fake, target = rng.uniform(-1, 1, size=(2, 2, 8, 8, 3))
  gan = translation.generator_loss(jnp.asarray(fake_logits), mode="vanilla").mean()
  l1 = translation.l1_loss(jnp.asarray(fake), jnp.asarray(target)).mean()
  expected = _bce_with_logits(fake_logits, 1.0).mean() + 100 * np.abs(fake - target).mean()
  np.testing.assert_allclose(gan + 100 * l1, expected, rtol=1e-5)


def test_errors_name_the_problem():
  with pytest.raises(ValueError, match="'hinge'"):
    translation.generator_loss(jnp.zeros((2, 3)), mode="hinge")
  with pytest.raises(ValueError, match="batch axis"):
    translation.generator_loss(jnp.zeros(()), mode="lsgan")
  with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 4\)"):
    translation.l1_loss(jnp.zeros((2, 3)), jnp.zeros((2, 4)))

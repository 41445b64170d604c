"""Semi-supervised (SGAN / improved GAN) and CatGAN entropy losses."""

import functools

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxgan import losses
from jaxgan.losses import entropy as ent
from jaxgan.losses import semi_supervised as ssl

HEADS = ("explicit", "implicit")


# ------------------------------------------------------------ numpy references (float64)


def _np_softmax(x):
  e = np.exp(x - x.max(axis=-1, keepdims=True))
  return e / e.sum(axis=-1, keepdims=True)


def _np_probs(logits, head):
  """(p(y|x) over the K real classes [B, K], p(fake|x) [B]) of the K+1-way model."""
  logits = np.asarray(logits, np.float64)
  if head == "explicit":
    p = _np_softmax(logits)
    return p[:, :-1], p[:, -1]
  z = np.exp(logits).sum(axis=-1)  # D(x) = Z / (Z + 1)
  return np.exp(logits) / (z + 1)[:, None], 1.0 / (z + 1)


def _np_references(logits, labels, head):
  p_classes, p_fake = _np_probs(logits, head)
  p_given_real = p_classes / p_classes.sum(axis=-1, keepdims=True)
  rows = np.arange(len(labels))
  return {
    "supervised": -np.log(p_given_real[rows, labels]),
    "supervised_joint": -np.log(p_classes[rows, labels]),
    "real": -np.log(1.0 - p_fake),
    "fake": -np.log(p_fake),
    "generator": -np.log(1.0 - p_fake),
  }


@functools.partial(jax.jit, static_argnames="head")
def _ours(logits, labels, head):
  """Every loss of one head, compiled once per shape (eager ops recompile per shape)."""
  return {
    "supervised": ssl.supervised_loss(logits, labels, head=head),
    "supervised_joint": ssl.supervised_loss(logits, labels, head=head, given_real=False),
    "real": ssl.unsupervised_real_loss(logits, head=head),
    "fake": ssl.unsupervised_fake_loss(logits, head=head),
    "generator": ssl.generator_adversarial_loss(logits, head=head),
  }


@st.composite
def logits_and_labels(draw, extra, max_abs=6.0):
  batch = draw(st.sampled_from([1, 4]))  # few shapes: few compilations
  k = draw(st.sampled_from([1, 3]))
  logits = draw(hnp.arrays(np.float32, (batch, k + extra), elements=st.floats(-max_abs, max_abs, width=32)))
  labels = draw(hnp.arrays(np.int32, (batch,), elements=st.integers(0, k - 1)))
  return logits, labels


# ---------------------------------------------------------------------- registry


def test_registry_and_get_head():
  assert set(ssl.HEADS) == {"explicit", "implicit"}
  assert losses.get_head("implicit") is ssl.HEADS["implicit"]
  with pytest.raises(ValueError, match=r"'explicit', 'implicit'"):
    ssl.get_head("k_plus_one")
  # A head object is accepted where a name is.
  logits = jnp.ones((2, 3))
  np.testing.assert_array_equal(
    ssl.unsupervised_fake_loss(logits, head=ssl.HEADS["explicit"]), ssl.unsupervised_fake_loss(logits, head="explicit")
  )


# ---------------------------------------------------------------- semi-supervised


@pytest.mark.parametrize("head", HEADS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_ssl_losses_match_numpy(head, data):
  logits, labels = data.draw(logits_and_labels(1 if head == "explicit" else 0))
  ours = _ours(logits, labels, head)
  refs = _np_references(logits, labels, head)
  for name, ref in refs.items():
    assert ours[name].shape == (logits.shape[0],), name
    np.testing.assert_allclose(ours[name], ref, rtol=1e-4, atol=1e-5, err_msg=name)
  # -log p(y|x) = -log p(y|x, real) - log(1 - p(fake|x)).
  np.testing.assert_allclose(ours["supervised_joint"], ours["supervised"] + ours["real"], rtol=1e-5, atol=1e-5)


def test_implicit_head_closed_forms():
  """log D = lse - softplus(lse) and log(1 - D) = -softplus(lse), as in Salimans et al."""
  logits = jnp.array([[0.3, -1.2, 2.0], [5.0, 4.0, -3.0]])
  lse = jax.nn.logsumexp(logits, axis=-1)
  np.testing.assert_allclose(
    ssl.unsupervised_real_loss(logits, head="implicit"), -(lse - jax.nn.softplus(lse)), rtol=1e-6
  )
  np.testing.assert_allclose(ssl.unsupervised_fake_loss(logits, head="implicit"), jax.nn.softplus(lse), rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_explicit_with_zero_fake_logit_equals_implicit(data):
  logits, labels = data.draw(logits_and_labels(0, max_abs=100.0))
  padded = np.concatenate([logits, np.zeros((logits.shape[0], 1), np.float32)], axis=1)
  explicit = _ours(padded, labels, "explicit")
  implicit = _ours(logits, labels, "implicit")
  for name in explicit:
    np.testing.assert_allclose(explicit[name], implicit[name], rtol=1e-6, atol=1e-6, err_msg=name)
  np.testing.assert_allclose(
    ssl.class_probabilities(padded, head="explicit"), ssl.class_probabilities(logits, head="implicit"), rtol=1e-6
  )
  np.testing.assert_array_equal(ssl.predict(padded, head="explicit"), ssl.predict(logits, head="implicit"))


@pytest.mark.parametrize("head", HEADS)
def test_large_logits_are_finite_and_correct(head):
  k = 3
  extra = 1 if head == "explicit" else 0
  logits = jnp.array(
    [
      [100.0, -100.0, 50.0] + [-100.0] * extra,
      [-100.0, -100.0, -100.0] + [100.0] * extra,
      [-100.0, 100.0, -100.0] + [0.0] * extra,
    ],
    jnp.float32,
  )
  labels = jnp.array([0, 1, 1])
  values = _ours(logits, labels, head)

  def total(l):
    return sum(jnp.sum(v) for v in _ours(l, labels, head).values())

  grads = jax.grad(total)(logits)
  assert all(bool(jnp.all(jnp.isfinite(v))) for v in values.values())
  assert bool(jnp.all(jnp.isfinite(grads)))
  # Example 0: confident and correct class 0, surely real.
  np.testing.assert_allclose(values["supervised"][0], 0.0, atol=1e-5)
  np.testing.assert_allclose(values["real"][0], 0.0, atol=1e-5)
  # -log p_fake = 100 - l_fake: 200 (explicit, l_fake = -100) or 100 (implicit, 0).
  np.testing.assert_allclose(values["fake"][0], 200.0 if extra else 100.0, rtol=1e-4)
  # Example 2: class 1 at +100, the fake logit at 0 (implicit: always 0).
  np.testing.assert_allclose(values["fake"][2], 100.0, rtol=1e-4)
  assert ssl.class_probabilities(logits, head=head).shape == (3, k)
  np.testing.assert_array_equal(np.asarray(ssl.predict(logits, head=head))[[0, 2]], [0, 1])


@pytest.mark.parametrize("head", HEADS)
def test_gradient_signs(head):
  """Raising the fake logit lowers the fake loss and raises the real / G losses."""
  logits = jnp.array([[0.5, -0.3, 0.1, 0.2]])
  if head == "implicit":  # the fake logit is 0: raise every real logit instead.
    d = lambda f: jnp.sum(jax.grad(lambda l: jnp.sum(f(l, head=head)))(logits))
    assert d(ssl.unsupervised_fake_loss) > 0
    assert d(ssl.unsupervised_real_loss) < 0
    assert d(ssl.generator_adversarial_loss) < 0
  else:
    d = lambda f: jax.grad(lambda l: jnp.sum(f(l, head=head)))(logits)[0, -1]
    assert d(ssl.unsupervised_fake_loss) < 0
    assert d(ssl.unsupervised_real_loss) > 0
    assert d(ssl.generator_adversarial_loss) > 0
    # the default supervised loss ignores the fake logit
    g = jax.grad(lambda l: jnp.sum(ssl.supervised_loss(l, jnp.array([1]), head=head)))(logits)
    assert g[0, -1] == 0 and g[0, 1] < 0


def test_class_probabilities_and_predict():
  logits = jnp.array([[1.0, 3.0, 2.0, 10.0]])  # explicit: fake is most likely
  np.testing.assert_array_equal(ssl.predict(logits, head="explicit"), [1])
  np.testing.assert_allclose(
    ssl.class_probabilities(logits, head="explicit"), _np_softmax(np.array([[1.0, 3.0, 2.0]])), rtol=1e-6
  )
  np.testing.assert_array_equal(ssl.predict(logits, head="implicit"), [3])
  assert ssl.predict(logits, head="implicit").dtype == jnp.int32


def test_feature_matching_loss():
  rng = np.random.default_rng(0)
  real = rng.normal(size=(6, 4, 2)).astype(np.float32)
  fake = rng.normal(size=(3, 4, 2)).astype(np.float32)  # batch sizes may differ
  diff = real.reshape(6, -1).mean(0) - fake.reshape(3, -1).mean(0)
  out = ssl.feature_matching_loss(real, fake)
  assert out.shape == ()
  np.testing.assert_allclose(out, np.sum(diff**2), rtol=1e-5)
  np.testing.assert_allclose(ssl.feature_matching_loss(real, fake, average=True), np.mean(diff**2), rtol=1e-5)
  assert float(ssl.feature_matching_loss(real, real)) == 0.0
  with pytest.raises(ValueError, match="same per-example shape"):
    ssl.feature_matching_loss(real, fake[:, :3])
  with pytest.raises(ValueError, match=r"\[B, F\]"):
    ssl.feature_matching_loss(real[:, 0, 0], fake[:, 0, 0])


def test_ssl_shape_and_label_errors():
  with pytest.raises(ValueError, match=r"\[B, num_logits\]"):
    ssl.unsupervised_real_loss(jnp.ones((4,)), head="implicit")
  with pytest.raises(ValueError, match="K\\+1 >= 2"):
    ssl.unsupervised_fake_loss(jnp.ones((4, 1)), head="explicit")
  with pytest.raises(ValueError, match="floating"):
    ssl.predict(jnp.ones((4, 3), jnp.int32), head="implicit")
  logits = jnp.zeros((2, 4))
  with pytest.raises(ValueError, match=r"labels must have shape \[B\]"):
    ssl.supervised_loss(logits, jnp.array([0, 1, 2]), head="implicit")
  with pytest.raises(ValueError, match=r"in \[0, 3\)"):
    ssl.supervised_loss(logits, jnp.array([0, 3]), head="explicit")  # 3 is the fake index
  with pytest.raises(ValueError, match="unsupervised_real_loss"):
    ssl.supervised_loss(logits, jnp.array([-1, 0]), head="implicit")
  with pytest.raises(ValueError, match="integers"):
    ssl.supervised_loss(logits, jnp.array([0.0, 1.0]), head="implicit")
  with pytest.raises(ValueError, match="unknown classifier head"):
    ssl.supervised_loss(logits, jnp.array([0, 1]), head="k+1")
  # Under jit labels cannot be checked: an out-of-range label gives NaN, not garbage.
  jitted = jax.jit(lambda l, y: ssl.supervised_loss(l, y, head="implicit"))
  out = jitted(logits, jnp.array([-1, 1]))
  assert np.isnan(out[0]) and np.isfinite(out[1])


# ------------------------------------------------------------------------ CatGAN


def _np_entropy(p, axis=-1):
  p = np.asarray(p, np.float64)
  return -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=axis)


MATRIX_SHAPES = [(1, 1), (1, 4), (4, 3), (6, 5)]
logit_matrices = hnp.arrays(np.float32, st.sampled_from(MATRIX_SHAPES), elements=st.floats(-8.0, 8.0, width=32))


@jax.jit
def _entropy_values(real, fake):
  return {
    "entropy": ent.entropy(real),
    "conditional": ent.conditional_entropy(real),
    "marginal": ent.marginal_entropy(real),
    "d_loss": ent.catgan_discriminator_loss(real, fake),
    "g_loss": ent.catgan_generator_loss(fake),
    "g_loss_half": ent.catgan_generator_loss(fake, marginal_weight=0.5),
  }


@settings(max_examples=20, deadline=None)
@given(real=logit_matrices, fake_rows=st.sampled_from([2, 3]), seed=st.integers(0, 10))
def test_entropies_match_numpy(real, fake_rows, seed):
  fake = (np.random.default_rng(seed).normal(size=(fake_rows, real.shape[1])) * 3).astype(np.float32)
  ours = _entropy_values(real, fake)
  p_real = _np_softmax(real.astype(np.float64))
  p_fake = _np_softmax(fake.astype(np.float64))
  cond_real = _np_entropy(p_real).mean()
  marg_real = _np_entropy(p_real.mean(axis=0))
  cond_fake = _np_entropy(p_fake).mean()
  marg_fake = _np_entropy(p_fake.mean(axis=0))
  refs = {
    "entropy": _np_entropy(p_real),
    "conditional": cond_real,
    "marginal": marg_real,
    "d_loss": -(marg_real - cond_real + cond_fake),
    "g_loss": cond_fake - marg_fake,
    "g_loss_half": cond_fake - 0.5 * marg_fake,
  }
  for name, ref in refs.items():
    np.testing.assert_allclose(ours[name], ref, rtol=1e-4, atol=1e-4, err_msg=name)


@settings(max_examples=30, deadline=None)
@given(logits=logit_matrices)
def test_marginal_entropy_at_least_conditional(logits):
  """Concavity of H: H[E_x p(y|x)] >= E_x H[p(y|x)] (and both <= log K)."""
  values = _entropy_values(logits, logits)
  marginal, conditional = float(values["marginal"]), float(values["conditional"])
  assert conditional - 1e-5 <= marginal <= np.log(logits.shape[1]) + 1e-5


def test_entropy_extremes_and_stability():
  k = 7
  uniform = _entropy_values(jnp.zeros((3, k)), jnp.zeros((3, k)))
  np.testing.assert_allclose(uniform["entropy"], np.full(3, np.log(k)), rtol=1e-6)
  np.testing.assert_allclose(uniform["marginal"], np.log(k), rtol=1e-6)
  # |l| ~ 100: probabilities underflow to exact 0 and 1.
  one_hot = _entropy_values(100.0 * jnp.eye(k), 100.0 * jnp.eye(k))
  np.testing.assert_allclose(one_hot["entropy"], 0.0, atol=1e-6)
  np.testing.assert_allclose(one_hot["marginal"], np.log(k), rtol=1e-6)
  # A marginal with exactly-zero classes (every example predicts class 0).
  collapsed = jnp.zeros((4, k)).at[:, 0].set(200.0)
  loss = lambda l: ent.catgan_discriminator_loss(l, l) + ent.catgan_generator_loss(l)
  value, grads = jax.jit(jax.value_and_grad(loss))(collapsed)
  np.testing.assert_allclose(value, 0.0, atol=1e-6)
  assert bool(jnp.all(jnp.isfinite(grads)))


@jax.jit
def _catgan_slopes(base, target, collapse):
  """d(loss)/d(scale) of the CatGAN losses along interpretable directions."""
  zeros = jnp.zeros_like(base)
  d_real = lambda s: ent.catgan_discriminator_loss(base + s * target, zeros)
  d_fake = lambda s: ent.catgan_discriminator_loss(base, s * target)
  g_balanced = lambda s: ent.catgan_generator_loss(s * target)
  g_towards_balance = lambda s: ent.catgan_generator_loss(s * target + 5 * collapse)
  return {
    "d_real": jax.grad(d_real)(0.0),
    "d_real_gain": d_real(5.0) - d_real(0.0),
    "d_fake": jax.grad(d_fake)(1.0),
    "g_balanced": jax.grad(g_balanced)(0.5),
    "g_towards_balance": jax.grad(g_towards_balance)(0.0),
    "g_collapse_minus_balanced": (ent.catgan_generator_loss(5 * collapse) - ent.catgan_generator_loss(5 * target)),
  }


def test_catgan_gradient_signs():
  base = jnp.asarray(np.random.default_rng(0).normal(size=(8, 5)), jnp.float32)
  target = jnp.eye(5)[jnp.arange(8) % 5]  # each example confident in some class, balanced
  collapse = jnp.zeros((8, 5)).at[:, 0].set(1.0)  # every example in class 0
  slopes = {k: float(v) for k, v in _catgan_slopes(base, target, collapse).items()}
  # More confident, balanced real predictions lower the D loss.
  assert slopes["d_real"] < 0 and slopes["d_real_gain"] < 0
  # Confident fake predictions raise the D loss (D wants uncertainty on G(z)) ...
  assert slopes["d_fake"] > 0
  # ... and lower the G loss (G wants confident, class-balanced predictions).
  assert slopes["g_balanced"] < 0 and slopes["g_towards_balance"] < 0
  # Collapsing all fakes onto one class costs G.
  assert slopes["g_collapse_minus_balanced"] > 0


def test_catgan_errors():
  with pytest.raises(ValueError, match=r"\[B, K\]"):
    ent.entropy(jnp.zeros((3,)))
  with pytest.raises(ValueError, match=r"\[B, K\]"):
    ent.marginal_entropy(jnp.zeros((0, 3)))
  with pytest.raises(ValueError, match="same number of classes"):
    ent.catgan_discriminator_loss(jnp.zeros((2, 3)), jnp.zeros((2, 4)))
  with pytest.raises(ValueError, match="floating"):
    ent.conditional_entropy(jnp.zeros((2, 3), jnp.int32))

"""Class-entropy objectives of CatGAN (Springenberg 2016).

The discriminator is a K-way classifier ``p(y|x) = softmax(logits)`` with no fake
class. It wants to be *certain* about real data, *uncertain* about generated data
and to use all classes equally on real data; the generator wants certain
predictions spread over all classes. In nats, with ``H`` the Shannon entropy:

* ``E_x H[p(y|x)]``       :func:`conditional_entropy` (mean of per-example :func:`entropy`);
* ``H[E_x p(y|x)]``       :func:`marginal_entropy`, the marginal estimated on the batch.

The losses of Springenberg 2016 (L_D and L_G), to *minimise*::

    L_D = -(w * H[E_x p(y|x)] - E_x H[p(y|x)] + E_z H[p(y|G(z))])
    L_G = E_z H[p(y|G(z))] - w * H[E_z p(y|G(z))]

with ``w = marginal_weight`` (1 in the paper). Marginal entropies are batch
statistics, so unlike the per-example losses elsewhere in ``jaxgan.losses`` the
CatGAN losses return scalars. By concavity of H, ``marginal >= conditional`` on the
same batch. Everything is computed from ``log_softmax``, so logits of magnitude ~100
and exact zeros in the marginal give finite values and gradients.

For semi-supervised CatGAN add a cross-entropy on labelled examples, e.g.
``jaxgan.losses.semi_supervised.supervised_loss(logits, y, head='implicit')``
(the implicit head's class logits are plain K-way logits).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _check_logits(logits, name: str = "logits") -> jax.Array:
  logits = jnp.asarray(logits)
  if logits.ndim != 2 or logits.shape[0] < 1 or logits.shape[1] < 1:
    raise ValueError(f"{name} must have shape [B, K] with B >= 1 and K >= 1; got shape {logits.shape}")
  if not jnp.issubdtype(logits.dtype, jnp.floating):
    raise ValueError(f"{name} must be floating point; got dtype {logits.dtype}")
  return logits


def _entropy_from_log_probs(log_p: jax.Array) -> jax.Array:
  """``-sum_k p_k log p_k`` over the last axis, finite where some ``p_k`` underflow."""
  return -jnp.sum(jnp.exp(log_p) * log_p, axis=-1)


def entropy(logits: jax.Array) -> jax.Array:
  """Per-example entropy ``H[softmax(logits)]``, ``[B, K] -> [B]`` (nats)."""
  logits = _check_logits(logits)
  return _entropy_from_log_probs(jax.nn.log_softmax(logits, axis=-1))


def conditional_entropy(logits: jax.Array) -> jax.Array:
  """``E_x H[p(y|x)]``: the batch mean of :func:`entropy`, a scalar."""
  return jnp.mean(entropy(logits))


def marginal_entropy(logits: jax.Array) -> jax.Array:
  """``H[E_x p(y|x)]`` with the marginal averaged over the batch, a scalar.

  ``log E_x p(y|x) = logsumexp_x log p(y|x) - log B``, so classes that no example
  predicts contribute 0 rather than NaN.
  """
  logits = _check_logits(logits)
  log_p = jax.nn.log_softmax(logits, axis=-1)
  log_marginal = jax.nn.logsumexp(log_p, axis=0) - jnp.log(log_p.shape[0])
  return _entropy_from_log_probs(log_marginal)


def catgan_discriminator_loss(
  real_logits: jax.Array, fake_logits: jax.Array, *, marginal_weight: float = 1.0
) -> jax.Array:
  """``-(w H[E_x p(y|x)] - E_x H[p(y|x)] + E_z H[p(y|G(z))])``, a scalar to minimise.

  The real and fake batches may differ in size but must have the same K.
  """
  real_logits = _check_logits(real_logits, "real_logits")
  fake_logits = _check_logits(fake_logits, "fake_logits")
  if real_logits.shape[1] != fake_logits.shape[1]:
    raise ValueError(
      "real_logits and fake_logits must have the same number of classes K; got "
      f"shapes {real_logits.shape} and {fake_logits.shape}"
    )
  return -(
    marginal_weight * marginal_entropy(real_logits)
    - conditional_entropy(real_logits)
    + conditional_entropy(fake_logits)
  )


def catgan_generator_loss(fake_logits: jax.Array, *, marginal_weight: float = 1.0) -> jax.Array:
  """``E_z H[p(y|G(z))] - w H[E_z p(y|G(z))]``, a scalar to minimise."""
  fake_logits = _check_logits(fake_logits, "fake_logits")
  return conditional_entropy(fake_logits) - marginal_weight * marginal_entropy(fake_logits)

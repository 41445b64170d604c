"""Semi-supervised GAN losses on class logits (Odena 2016; Salimans et al. 2016).

The discriminator is a classifier over the K real classes plus one "fake" class.
Two parametrisations ("heads") of its logits are supported:

* ``'explicit'``: logits ``[B, K+1]``; index ``K`` (the last) is the fake class and
  ``p(y|x) = softmax(logits)`` over all K+1 classes (Odena 2016, SGAN).
* ``'implicit'``: logits ``[B, K]``; the fake class is implicit with its logit fixed
  at 0 (Salimans et al. 2016, Sec. 5), so with ``Z = sum_k exp(l_k)`` the probability
  of "real" is ``D(x) = Z / (Z + 1)``::

      log D(x)     = logsumexp(l) - softplus(logsumexp(l))
      log(1 - D(x)) = -softplus(logsumexp(l))

Both heads therefore define the same kind of K+1-way distribution, and the explicit
head whose fake logit is 0 equals the implicit head on the K real logits: every loss
below is computed from ``(class_logits [B, K], fake_logit [B])`` with
``log p(fake|x) = fake_logit - logsumexp([class_logits, fake_logit])``, which makes
the identity exact (and it is tested).

Every loss but :func:`feature_matching_loss` is per example (``[B]``); reduce (and
weight) in the caller. Log-probabilities are computed with ``logsumexp`` /
``log_softmax``, so logits of magnitude ~100 do not overflow. Hyperparameters are
keyword-only. Every loss is *minimised* by the network it belongs to.

A typical semi-supervised discriminator loss (Salimans et al., Eq. 5)::

    head = 'implicit'
    d_loss = (supervised_loss(d(x_lab), y, head=head).mean()
              + unsupervised_real_loss(d(x_unl), head=head).mean()
              + unsupervised_fake_loss(d(g(z)), head=head).mean())
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

# ----------------------------------------------------------------------------- heads


@dataclasses.dataclass(frozen=True)
class ClassifierHead:
  """How a discriminator's logits encode the K real classes and the fake class.

  Attributes:
    name: the registry name.
    extra_outputs: logits per example minus K (1 for the explicit fake logit).
    split: ``logits [B, K + extra_outputs] -> (class_logits [B, K], fake_logit [B])``.
  """

  name: str
  extra_outputs: int
  split: Callable[[jax.Array], tuple[jax.Array, jax.Array]]

  def num_classes(self, num_logits: int) -> int:
    """K, the number of real classes, for logits with ``num_logits`` entries."""
    return num_logits - self.extra_outputs


def _split_explicit(logits: jax.Array) -> tuple[jax.Array, jax.Array]:
  return logits[:, :-1], logits[:, -1]


def _split_implicit(logits: jax.Array) -> tuple[jax.Array, jax.Array]:
  return logits, jnp.zeros(logits.shape[:1], logits.dtype)


HEADS: dict[str, ClassifierHead] = {
  "explicit": ClassifierHead("explicit", 1, _split_explicit),
  "implicit": ClassifierHead("implicit", 0, _split_implicit),
}


def get_head(name: str) -> ClassifierHead:
  """Looks up ``HEADS[name]``; ValueError listing the valid names."""
  try:
    return HEADS[name]
  except (KeyError, TypeError):
    raise ValueError(f"unknown classifier head {name!r}; valid names: {sorted(HEADS)}") from None


# ----------------------------------------------------------------------------- checks


def _resolve(head: str | ClassifierHead) -> ClassifierHead:
  return head if isinstance(head, ClassifierHead) else get_head(head)


def _check_logits(logits, head: ClassifierHead, name: str = "logits") -> jax.Array:
  logits = jnp.asarray(logits)
  if logits.ndim != 2:
    raise ValueError(f"{name} must have shape [B, num_logits] (batch, classes); got shape {logits.shape}")
  if not jnp.issubdtype(logits.dtype, jnp.floating):
    raise ValueError(f"{name} must be floating point; got dtype {logits.dtype}")
  if head.num_classes(logits.shape[1]) < 1:
    need = "K+1 >= 2 (the last is the fake class)" if head.extra_outputs else "K >= 1"
    raise ValueError(f"the {head.name!r} head needs {name} of shape [B, {need}]; got shape {logits.shape}")
  return logits


def _split(logits, head) -> tuple[jax.Array, jax.Array]:
  head = _resolve(head)
  return head.split(_check_logits(logits, head))


def _log_p_fake_and_real(logits, head) -> tuple[jax.Array, jax.Array]:
  """``(log p(fake|x), log(1 - p(fake|x)))``, both ``[B]``."""
  class_logits, fake_logit = _split(logits, head)
  lse_real = jax.nn.logsumexp(class_logits, axis=-1)
  lse_all = jnp.logaddexp(lse_real, fake_logit)
  return fake_logit - lse_all, lse_real - lse_all


def _check_labels(labels, batch: int, num_classes: int) -> jax.Array:
  labels = jnp.asarray(labels)
  if labels.shape != (batch,):
    raise ValueError(f"labels must have shape [B] = ({batch},); got shape {labels.shape}")
  if not jnp.issubdtype(labels.dtype, jnp.integer):
    raise ValueError(f"labels must be integers; got dtype {labels.dtype}")
  if not isinstance(labels, jax.core.Tracer) and labels.size:
    concrete = np.asarray(labels)  # numpy, so that no op is staged inside an enclosing trace
    low, high = int(concrete.min()), int(concrete.max())
    if low < 0 or high >= num_classes:
      raise ValueError(
        f"labels must be in [0, {num_classes}) (the K real classes); got values in "
        f"[{low}, {high}]. Unlabelled examples (label -1) belong in "
        "unsupervised_real_loss, not supervised_loss."
      )
  return labels


# ----------------------------------------------------------------------------- losses


def supervised_loss(
  logits: jax.Array,
  labels: jax.Array,
  *,
  head: str | ClassifierHead,
  given_real: bool = True,
) -> jax.Array:
  """Cross-entropy of the true class of labelled real examples, ``[B]``.

  With ``given_real=True`` (default) it is ``-log p(y | x, y < K)``: the softmax
  cross-entropy over the K real-class logits only (the explicit head's fake logit is
  ignored). This is Salimans et al.'s ``L_supervised`` and their released code's
  ``-l_y + logsumexp(l)``, and the usual loss for the implicit head.

  With ``given_real=False`` it is ``-log p(y|x)`` of the full K+1-way softmax: for the
  explicit head the plain K+1 softmax cross-entropy with the true class (Odena 2016);
  for the implicit head ``-l_y + softplus(logsumexp(l))``. It equals the
  ``given_real=True`` loss plus :func:`unsupervised_real_loss`, since
  ``p(y|x) = p(y|x, real) * (1 - p(fake|x))``.

  Either choice agrees between the explicit head with fake logit 0 and the implicit
  head.

  Args:
    logits: ``[B, K+1]`` (explicit) or ``[B, K]`` (implicit) discriminator logits.
    labels: integer class labels ``[B]`` in ``[0, K)``; checked when concrete. Under
      ``jit`` an out-of-range label yields NaN instead of an error.
    head: ``'explicit'`` / ``'implicit'`` or a :class:`ClassifierHead`.
    given_real: condition the class distribution on the example being real.
  """
  class_logits, fake_logit = _split(logits, head)
  batch, num_classes = class_logits.shape
  labels = _check_labels(labels, batch, num_classes)
  labels = labels.astype(jnp.int32)
  in_range = (labels >= 0) & (labels < num_classes)
  label_logit = jnp.take_along_axis(class_logits, jnp.where(in_range, labels, 0)[:, None], axis=-1)[:, 0]
  label_logit = jnp.where(in_range, label_logit, jnp.nan)
  normaliser = jax.nn.logsumexp(class_logits, axis=-1)
  if not given_real:
    normaliser = jnp.logaddexp(normaliser, fake_logit)
  return normaliser - label_logit


def unsupervised_real_loss(logits: jax.Array, *, head: str | ClassifierHead) -> jax.Array:
  """``-log(1 - p(fake|x))`` for real (unlabelled) examples, ``[B]``.

  Explicit: ``-log(1 - softmax(l)[K]) = logsumexp(l) - logsumexp(l[:K])``.
  Implicit: ``-log D(x) = softplus(logsumexp(l)) - logsumexp(l)``.
  """
  _, log_p_real = _log_p_fake_and_real(logits, head)
  return -log_p_real


def unsupervised_fake_loss(logits: jax.Array, *, head: str | ClassifierHead) -> jax.Array:
  """``-log p(fake|G(z))`` for generated examples, ``[B]`` (the D's fake term).

  Explicit: ``-log softmax(l)[K]``. Implicit: ``-log(1 - D) = softplus(logsumexp(l))``.
  """
  log_p_fake, _ = _log_p_fake_and_real(logits, head)
  return -log_p_fake


def generator_adversarial_loss(logits: jax.Array, *, head: str | ClassifierHead) -> jax.Array:
  """Non-saturating generator loss ``-log(1 - p(fake|G(z)))``, ``[B]``.

  The same formula as :func:`unsupervised_real_loss`, applied to ``D(G(z))``.
  Salimans et al. train G with :func:`feature_matching_loss` instead (or as well).
  """
  return unsupervised_real_loss(logits, head=head)


def feature_matching_loss(real_features: jax.Array, fake_features: jax.Array, *, average: bool = False) -> jax.Array:
  """``||mean_x f(x) - mean_z f(G(z))||_2^2``: a scalar (Salimans et al. 2016, Sec. 3.1).

  This is a *batch statistic*, not a per-example loss: it compares the batch means
  of the features, so it returns a scalar and the two batch sizes may differ.
  Features ``[B, F]`` or ``[B, ...]`` (flattened per example). The real features are
  usually ``stop_gradient``-ed (only G is trained by this loss).

  Args:
    real_features, fake_features: intermediate discriminator features.
    average: divide by the number of features F, i.e. the mean of the squared
      differences, as Salimans et al.'s released code does
      (``T.mean(T.square(m1 - m2))``); the default is the paper's squared norm.
  """
  real_features = jnp.asarray(real_features)
  fake_features = jnp.asarray(fake_features)
  for name, x in (("real_features", real_features), ("fake_features", fake_features)):
    if x.ndim < 2 or x.shape[0] < 1:
      raise ValueError(f"{name} must have shape [B, F] or [B, ...] with B >= 1; got {x.shape}")
  if real_features.shape[1:] != fake_features.shape[1:]:
    raise ValueError(
      "real_features and fake_features must have the same per-example shape; got "
      f"{real_features.shape} and {fake_features.shape}"
    )
  real_mean = jnp.mean(real_features.reshape(real_features.shape[0], -1), axis=0)
  fake_mean = jnp.mean(fake_features.reshape(fake_features.shape[0], -1), axis=0)
  squared = jnp.square(real_mean - fake_mean)
  return jnp.mean(squared) if average else jnp.sum(squared)


# ------------------------------------------------------------------------- prediction


def class_probabilities(logits: jax.Array, *, head: str | ClassifierHead) -> jax.Array:
  """``p(y | x, real)`` over the K real classes, ``[B, K]`` (rows sum to 1)."""
  class_logits, _ = _split(logits, head)
  return jax.nn.softmax(class_logits, axis=-1)


def predict(logits: jax.Array, *, head: str | ClassifierHead) -> jax.Array:
  """The most probable real class, ``[B]`` int32 (the fake class is never predicted)."""
  class_logits, _ = _split(logits, head)
  return jnp.argmax(class_logits, axis=-1).astype(jnp.int32)

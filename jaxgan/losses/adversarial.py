"""Adversarial losses on discriminator logits, one value per example.

Every function takes raw logits (no sigmoid) of shape ``[B, ...]`` and returns a
``[B]`` array: the loss is averaged over the non-batch axes, so a PatchGAN map
``[B, 30, 30, 1]`` gives the mean over its patches. Reduce over the batch (and scale)
in the caller. Hyperparameters are keyword-only. Log-probabilities use
``softplus`` (``-log sigmoid(x) = softplus(-x)``), so large logits do not overflow.

Sign conventions: every loss is *minimised* by the network it belongs to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp

# ----------------------------------------------------------------------------- checks


def _check_logits(logits: jax.Array, name: str) -> jax.Array:
  logits = jnp.asarray(logits)
  if logits.ndim < 1:
    raise ValueError(f"{name} must have a batch axis, shape [B, ...]; got a scalar of shape {logits.shape}")
  return logits


def _check_pair(real_logits: jax.Array, fake_logits: jax.Array) -> tuple[jax.Array, jax.Array]:
  real_logits = _check_logits(real_logits, "real_logits")
  fake_logits = _check_logits(fake_logits, "fake_logits")
  if real_logits.shape != fake_logits.shape:
    raise ValueError(
      f"real_logits and fake_logits must have the same shape; got {real_logits.shape} and {fake_logits.shape}"
    )
  return real_logits, fake_logits


def per_example_mean(x: jax.Array) -> jax.Array:
  """Mean over all axes but the first: ``[B, ...] -> [B]``."""
  return jnp.mean(x, axis=tuple(range(1, x.ndim)))


# ------------------------------------------------------------- minimax (Goodfellow 2014)


def minimax_discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """``-log D(x) - log(1 - D(G(z)))``: binary cross-entropy, real=1 and fake=0.

  Shared by the minimax and the non-saturating GAN.
  """
  real_logits, fake_logits = _check_pair(real_logits, fake_logits)
  return per_example_mean(jax.nn.softplus(-real_logits) + jax.nn.softplus(fake_logits))


def minimax_generator_loss(fake_logits: jax.Array) -> jax.Array:
  """``log(1 - D(G(z)))``, the saturating generator loss of the minimax game."""
  fake_logits = _check_logits(fake_logits, "fake_logits")
  return per_example_mean(-jax.nn.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits: jax.Array) -> jax.Array:
  """``-log D(G(z))``: the generator heuristic of Goodfellow et al. 2014, Sec. 3."""
  fake_logits = _check_logits(fake_logits, "fake_logits")
  return per_example_mean(jax.nn.softplus(-fake_logits))


# ------------------------------------------------------------ least squares (Mao 2017)


def lsgan_discriminator_loss(
  real_logits: jax.Array,
  fake_logits: jax.Array,
  *,
  fake_target: float = 0.0,
  real_target: float = 1.0,
) -> jax.Array:
  """``0.5 * ((D(x) - b)^2 + (D(G(z)) - a)^2)`` with ``a = fake_target``, ``b = real_target``.

  The 0.5 factor is Mao et al.'s (Eq. 2). pix2pix / CycleGAN's ``GANLoss('lsgan')`` is
  a plain ``MSELoss`` per term (no 0.5) and CycleGAN then multiplies the D loss by 0.5:
  scale the returned value in the caller to match either convention.
  """
  real_logits, fake_logits = _check_pair(real_logits, fake_logits)
  return per_example_mean(0.5 * (jnp.square(real_logits - real_target) + jnp.square(fake_logits - fake_target)))


def lsgan_generator_loss(fake_logits: jax.Array, *, target: float = 1.0) -> jax.Array:
  """``0.5 * (D(G(z)) - c)^2`` with ``c = target`` (Mao et al. 2017, Eq. 2)."""
  fake_logits = _check_logits(fake_logits, "fake_logits")
  return per_example_mean(0.5 * jnp.square(fake_logits - target))


# ------------------------------------------------------------------------------ hinge


def hinge_discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """``relu(1 - D(x)) + relu(1 + D(G(z)))``."""
  real_logits, fake_logits = _check_pair(real_logits, fake_logits)
  return per_example_mean(jax.nn.relu(1.0 - real_logits) + jax.nn.relu(1.0 + fake_logits))


def hinge_generator_loss(fake_logits: jax.Array) -> jax.Array:
  """``-D(G(z))``."""
  fake_logits = _check_logits(fake_logits, "fake_logits")
  return per_example_mean(-fake_logits)


# ------------------------------------------------------------------------ Wasserstein


def wasserstein_critic_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
  """``D(G(z)) - D(x)`` (Arjovsky et al. 2017); add a Lipschitz constraint separately."""
  real_logits, fake_logits = _check_pair(real_logits, fake_logits)
  return per_example_mean(fake_logits - real_logits)


def wasserstein_generator_loss(fake_logits: jax.Array) -> jax.Array:
  """``-D(G(z))``."""
  fake_logits = _check_logits(fake_logits, "fake_logits")
  return per_example_mean(-fake_logits)


# ------------------------------------------------------------------ gradient penalty


def _safe_norm(x: jax.Array, axes: tuple[int, ...]) -> jax.Array:
  """L2 norm over ``axes`` whose gradient is 0 (not NaN) at x = 0."""
  sq = jnp.sum(jnp.square(x), axis=axes)
  positive = sq > 0
  return jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1.0)), 0.0)


GP_NORMS = ("example", "pixel")


def gradient_penalty(
  critic_fn: Callable[[jax.Array], jax.Array],
  real: jax.Array,
  fake: jax.Array,
  key: jax.Array,
  *,
  target: float = 1.0,
  norm: str = "example",
) -> jax.Array:
  """WGAN-GP penalty ``(||grad critic(x_hat)||_2 - target)^2`` per example (Gulrajani 2017).

  ``norm='example'`` (the paper's penalty) takes the norm of each example's whole gradient.
  ``norm='pixel'`` is SinGAN's official variant (``calc_gradient_penalty``): the norm over
  the channels (last axis) at each pixel, the penalty averaged over the pixels of each
  example. Both return one value per example.

  ``x_hat = eps * real + (1 - eps) * fake`` with ``eps ~ U[0, 1]`` drawn per example.
  ``critic_fn`` maps a ``[B, ...]`` batch to logits ``[B]`` or ``[B, ...]``; its outputs
  are summed per example before differentiating. The critic must treat examples
  independently (no batch norm in train mode), as WGAN-GP requires. Multiply by
  lambda (10 in the paper) in the caller. ``fake`` is usually ``stop_gradient``-ed
  already; the penalty is differentiable w.r.t. the critic's parameters.
  """
  real = jnp.asarray(real)
  fake = jnp.asarray(fake)
  if real.ndim < 1:
    raise ValueError(f"real must have a batch axis, shape [B, ...]; got {real.shape}")
  if real.shape != fake.shape:
    raise ValueError(f"real and fake must have the same shape; got {real.shape} and {fake.shape}")
  batch = real.shape[0]
  eps = jax.random.uniform(key, (batch,) + (1,) * (real.ndim - 1), dtype=real.dtype)
  x_hat = eps * real + (1.0 - eps) * fake

  def summed_critic(x):
    out = critic_fn(x)
    if out.ndim < 1 or out.shape[0] != batch:
      raise ValueError(f"critic_fn must return per-example logits [B, ...] with B={batch}; got shape {out.shape}")
    return jnp.sum(out)

  grads = jax.grad(summed_critic)(x_hat)
  if norm == "example":
    return jnp.square(_safe_norm(grads, tuple(range(1, grads.ndim))) - target)
  if norm == "pixel":
    if grads.ndim < 3:
      raise ValueError(f"norm='pixel' needs [B, ..., C] inputs with pixels, got {grads.shape}")
    per_pixel = jnp.square(_safe_norm(grads, (grads.ndim - 1,)) - target)
    return jnp.mean(per_pixel, axis=tuple(range(1, per_pixel.ndim)))
  raise ValueError(f"norm must be one of {GP_NORMS}, got {norm!r}")


# --------------------------------------------------------------------------- registry


@dataclasses.dataclass(frozen=True)
class AdversarialLoss:
  """A discriminator loss and its matching generator loss, both per example."""

  discriminator: Callable[[jax.Array, jax.Array], jax.Array]
  generator: Callable[[jax.Array], jax.Array]


ADVERSARIAL_LOSSES: dict[str, AdversarialLoss] = {
  "minimax": AdversarialLoss(minimax_discriminator_loss, minimax_generator_loss),
  "non_saturating": AdversarialLoss(minimax_discriminator_loss, non_saturating_generator_loss),
  "lsgan": AdversarialLoss(lsgan_discriminator_loss, lsgan_generator_loss),
  "hinge": AdversarialLoss(hinge_discriminator_loss, hinge_generator_loss),
  "wgan": AdversarialLoss(wasserstein_critic_loss, wasserstein_generator_loss),
}


def get_adversarial_loss(name: str) -> AdversarialLoss:
  """Looks up ``ADVERSARIAL_LOSSES[name]``; ValueError listing the valid names."""
  try:
    return ADVERSARIAL_LOSSES[name]
  except (KeyError, TypeError):
    raise ValueError(f"unknown adversarial loss {name!r}; valid names: {sorted(ADVERSARIAL_LOSSES)}") from None

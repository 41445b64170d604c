"""Losses of the image-to-image translation methods (pix2pix, CycleGAN), per example.

``gan_loss`` is the official ``GANLoss(gan_mode)`` of pytorch-CycleGAN-and-pix2pix,
written as a function of patch logits ``[B, ...]`` and the target (real or fake):

* ``vanilla``: binary cross-entropy with logits against 1 / 0 (pix2pix's default);
* ``lsgan``: squared error against 1 / 0 (CycleGAN's default), no 0.5 factor;
* ``wgangp``: ``-mean(D)`` for real targets, ``mean(D)`` for fake ones (the penalty is
  added separately, :func:`jaxgan.losses.gradient_penalty`).

Each is averaged over the patches of an example, so the mean over the batch equals the
official loss (a mean over every element) when all examples have the same patch count.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxgan.losses.adversarial import per_example_mean

GAN_MODES: dict[str, Callable[[jax.Array, bool], jax.Array]] = {
    'vanilla': lambda x, real: jax.nn.softplus(-x) if real else jax.nn.softplus(x),
    'lsgan': lambda x, real: jnp.square(x - 1.0) if real else jnp.square(x),
    'wgangp': lambda x, real: -x if real else x,
}


def gan_loss(logits: jax.Array, *, target_is_real: bool, mode: str) -> jax.Array:
  """The official ``GANLoss(mode)(logits, target_is_real)`` per example ``[B]``."""
  if mode not in GAN_MODES:
    raise ValueError(f'gan mode must be one of {sorted(GAN_MODES)}, got {mode!r}')
  logits = jnp.asarray(logits)
  if logits.ndim < 1:
    raise ValueError(f'logits must have a batch axis [B, ...], got shape {logits.shape}')
  return per_example_mean(GAN_MODES[mode](logits, target_is_real))


def l1_loss(x: jax.Array, y: jax.Array) -> jax.Array:
  """Mean absolute difference per example ``[B]`` (``torch.nn.L1Loss`` per example)."""
  if x.shape != y.shape:
    raise ValueError(f'x and y must have the same shape, got {x.shape} and {y.shape}')
  return per_example_mean(jnp.abs(x - y))


def discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array, *, mode: str) -> jax.Array:
  """``0.5 * (GAN(D(real), real) + GAN(D(fake), fake))``: the halved D loss of pix2pix/CycleGAN."""
  return 0.5 * (gan_loss(real_logits, target_is_real=True, mode=mode)
                + gan_loss(fake_logits, target_is_real=False, mode=mode))


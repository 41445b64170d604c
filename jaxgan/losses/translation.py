"""Losses of the image-to-image translation methods (pix2pix, CycleGAN), per example.

The official ``GANLoss(gan_mode)`` of pytorch-CycleGAN-and-pix2pix is an entry of the one
registry, :data:`jaxgan.losses.adversarial.ADVERSARIAL_LOSSES`, at the scale that gives the
official numbers (patch logits ``[B, ...]``, averaged over the patches of an example, so the
batch mean is the official mean over every element):

* ``vanilla``: binary cross-entropy with logits (pix2pix's default): ``non_saturating``;
* ``lsgan``: squared error against 1 / 0 without Mao et al.'s 0.5 (CycleGAN's default):
  ``lsgan`` x 2;
* ``wgangp``: ``-mean(D)`` for real targets, ``mean(D)`` for fake ones: ``wgan`` (the penalty is
  added separately, :func:`jaxgan.losses.gradient_penalty`).

D's loss is the official ``0.5 * (GAN(D(real), real) + GAN(D(fake), fake))``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxgan.losses.adversarial import ADVERSARIAL_LOSSES, per_example_mean

# --gan_mode: (entry of ADVERSARIAL_LOSSES, scale of the official sum of D's two terms, scale of G's).
GAN_MODES: dict[str, tuple[str, float, float]] = {
  "vanilla": ("non_saturating", 1.0, 1.0),
  "lsgan": ("lsgan", 2.0, 2.0),
  "wgangp": ("wgan", 1.0, 1.0),
}


def _mode(mode: str) -> tuple[str, float, float]:
  if mode not in GAN_MODES:
    raise ValueError(f"gan mode must be one of {sorted(GAN_MODES)}, got {mode!r}")
  return GAN_MODES[mode]


def generator_loss(fake_logits: jax.Array, *, mode: str) -> jax.Array:
  """The official ``GANLoss(mode)(D(G(x)), True)`` per example ``[B]``."""
  name, _, g_scale = _mode(mode)
  fake_logits = jnp.asarray(fake_logits)
  if fake_logits.ndim < 1:
    raise ValueError(f"logits must have a batch axis [B, ...], got shape {fake_logits.shape}")
  return g_scale * ADVERSARIAL_LOSSES[name].generator(fake_logits)


def l1_loss(x: jax.Array, y: jax.Array) -> jax.Array:
  """Mean absolute difference per example ``[B]`` (``torch.nn.L1Loss`` per example)."""
  if x.shape != y.shape:
    raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
  return per_example_mean(jnp.abs(x - y))


def discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array, *, mode: str) -> jax.Array:
  """``0.5 * (GAN(D(real), real) + GAN(D(fake), fake))``: the halved D loss of pix2pix/CycleGAN."""
  name, d_scale, _ = _mode(mode)
  return 0.5 * d_scale * ADVERSARIAL_LOSSES[name].discriminator(real_logits, fake_logits)

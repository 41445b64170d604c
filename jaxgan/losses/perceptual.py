"""Perceptual losses (Johnson, Alahi & Fei-Fei 2016), one value per example.

With ``phi_j(x)`` the ``[H_j, W_j, C_j]`` activation of loss-network layer ``j``:

* feature reconstruction: ``||phi_j(a) - phi_j(b)||_2^2 / (C_j H_j W_j)``
  (:func:`feature_reconstruction_loss`; the official fast-neural-style ``ContentLoss``,
  an ``nn.MSECriterion``, is the same mean over the batch);
* Gram matrix: ``G_j(x) = psi^T psi / (C_j H_j W_j)`` with ``psi`` the ``[H_j W_j, C_j]``
  reshaping of ``phi_j(x)`` (:func:`gram_matrix`; the official ``GramMatrix`` divides by
  ``C H W`` too);
* style reconstruction: ``sum_j ||G_j(a) - G_j(target)||_F^2`` over the style layers
  (:func:`style_reconstruction_loss`). The paper's squared Frobenius norm is
  ``reduction='sum'``; the official ``StyleLoss`` applies ``nn.MSECriterion`` to the
  Grams, the mean over the ``C_j^2`` entries: ``reduction='mean'``;
* total variation: :func:`total_variation`, the paper's ``l_TV``, which it takes from
  Mahendran & Vedaldi (2015): ``R_V^beta(x) = sum_ij ((x_i,j+1 - x_ij)^2 +
  (x_i+1,j - x_ij)^2)^(beta / 2)`` with ``beta = 2``, i.e. the sum of the squared
  differences between horizontally and vertically adjacent pixels (every channel, every
  adjacent pair in the image). The official ``TotalVariation`` module back-propagates the
  gradient of half of that sum taken over the top-left ``(H-1) x (W-1)`` pixels only (it
  leaves out the last row's horizontal and the last column's vertical differences), so its
  ``tv_strength`` is ``2 x`` a ``tv_weight`` here, up to those border pairs. The value
  scales with the square of the images' range: the official code regularises images in
  the Caffe range (0..255 minus the mean), where jaxgan's generators output [-1, 1].
* pixel losses: :func:`mse_loss` and :func:`l1_loss` (the mean per example).

Features are NHWC ``[B, H, W, C]``; every loss returns ``[B]``. Reduce over the batch
and weigh in the caller, or use :class:`PerceptualObjective` for the weighted sum of Johnson
et al.'s style-transfer objective.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from jaxgan.losses.adversarial import per_example_mean
from jaxgan.losses.translation import l1_loss

REDUCTIONS = ("sum", "mean")


def _check_features(f: jax.Array, name: str) -> jax.Array:
  f = jnp.asarray(f)
  if f.ndim != 4:
    raise ValueError(f"{name} must be feature maps [B, H, W, C], got shape {f.shape}")
  return f


def _check_same(a: jax.Array, b: jax.Array, names: str) -> None:
  if a.shape != b.shape:
    raise ValueError(f"{names} must have the same shape, got {a.shape} and {b.shape}")


def feature_reconstruction_loss(f_a: jax.Array, f_b: jax.Array) -> jax.Array:
  """``||f_a - f_b||^2 / (C H W)`` per example: feature maps ``[B, H, W, C]`` -> ``[B]``."""
  f_a = _check_features(f_a, "f_a")
  f_b = _check_features(f_b, "f_b")
  _check_same(f_a, f_b, "f_a and f_b")
  return per_example_mean(jnp.square(f_a - f_b))


def gram_matrix(f: jax.Array) -> jax.Array:
  """``psi^T psi / (C H W)`` of feature maps ``[B, H, W, C]``: ``[B, C, C]``, symmetric."""
  f = _check_features(f, "f")
  b, h, w, c = f.shape
  psi = f.reshape(b, h * w, c)
  gram = jnp.einsum("bnc,bnd->bcd", psi, psi, preferred_element_type=jnp.promote_types(f.dtype, jnp.float32))
  return gram / (c * h * w)


def _check_gram(target: jax.Array, batch: int, channels: int, layer: str) -> jax.Array:
  target = jnp.asarray(target)
  if target.ndim == 2:
    target = target[None]
  if target.ndim != 3 or target.shape[1:] != (channels, channels) or target.shape[0] not in (1, batch):
    raise ValueError(
      f"the target Gram matrix of {layer!r} must have shape [{channels}, {channels}], "
      f"[1, {channels}, {channels}] or [{batch}, {channels}, {channels}] (use "
      f"gram_matrix on feature maps), got {target.shape}"
    )
  return target


def style_reconstruction_loss(
  features: Mapping[str, jax.Array],
  target_grams: Mapping[str, jax.Array],
  *,
  layers: Sequence[str] | None = None,
  reduction: str = "sum",
) -> jax.Array:
  """``sum_j ||G_j(features) - target_j||_F^2`` over ``layers`` per example ``[B]``.

  ``features[j]`` are ``[B, H, W, C]`` maps of the images, ``target_grams[j]`` Gram matrices
  ``[C, C]`` / ``[1, C, C]`` (one style image, broadcast over the batch) or ``[B, C, C]``.
  ``layers`` defaults to the keys of ``target_grams``. ``reduction='sum'`` is the paper's
  squared Frobenius norm, ``'mean'`` the official code's mean over the ``C^2`` entries.
  """
  if reduction not in REDUCTIONS:
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
  layers = tuple(target_grams) if layers is None else tuple(layers)
  if not layers:
    raise ValueError("style_reconstruction_loss needs at least one layer")
  missing = [j for j in layers if j not in features or j not in target_grams]
  if missing:
    raise ValueError(
      f"layer(s) {missing} are missing from the features (have {sorted(features)}) "
      f"or the target Gram matrices (have {sorted(target_grams)})"
    )
  total = 0.0
  for j in layers:
    f = _check_features(features[j], f"features[{j!r}]")
    gram = gram_matrix(f)
    target = _check_gram(target_grams[j], f.shape[0], f.shape[-1], j)
    sq = jnp.square(gram - target)
    total = total + (jnp.sum(sq, axis=(1, 2)) if reduction == "sum" else jnp.mean(sq, axis=(1, 2)))
  return total


def total_variation(x: jax.Array) -> jax.Array:
  """Squared-difference total variation (Mahendran & Vedaldi's ``beta = 2``) per example.

  ``x`` is ``[B, H, W, C]``: the sum over channels of ``(x[i, j+1] - x[i, j])^2`` for every
  horizontally adjacent pair plus ``(x[i+1, j] - x[i, j])^2`` for every vertically
  adjacent pair. ``[B]``; see the module docstring for the official code's variant.
  """
  x = jnp.asarray(x)
  if x.ndim != 4:
    raise ValueError(f"x must be images [B, H, W, C], got shape {x.shape}")
  dh = jnp.square(x[:, 1:, :, :] - x[:, :-1, :, :])
  dw = jnp.square(x[:, :, 1:, :] - x[:, :, :-1, :])
  return jnp.sum(dh, axis=(1, 2, 3)) + jnp.sum(dw, axis=(1, 2, 3))


def mse_loss(x: jax.Array, y: jax.Array) -> jax.Array:
  """Mean squared difference per example ``[B]`` (``torch.nn.MSELoss`` per example)."""
  x, y = jnp.asarray(x), jnp.asarray(y)
  _check_same(x, y, "x and y")
  if x.ndim < 1:
    raise ValueError(f"x and y must have a batch axis [B, ...], got shape {x.shape}")
  return per_example_mean(jnp.square(x - y))


@dataclasses.dataclass(frozen=True)
class PerceptualObjective:
  """Johnson et al.'s weighted objective per example, on any loss network ``net`` with
  ``net.features(images, layers) -> {layer: [B, H, W, C]}`` (a :class:`jaxgan.interop.vgg.LossNetwork`:
  RGB images in [-1, 1]; passed to the methods, so that it can be an argument of a jitted function).

  Features are divided by ``scale`` before any loss (a convention's feature range: see
  :func:`jaxgan.methods.style_transfer.feature_scale`). The content term is the sum over
  ``content_layers`` of the feature reconstruction loss against precomputed targets
  (:meth:`content_targets` of the content image: the photo for style transfer); the style term
  the style reconstruction loss against :meth:`style_grams` of the style image, reduced over the
  layers by ``style_reduction``; ``tv`` the total variation. Each is multiplied by its weight;
  ``total`` is their sum. The images run through the network once, as deep as the deepest layer.
  """

  content_layers: tuple[str, ...]
  style_layers: tuple[str, ...]
  content_weight: float
  style_weight: float
  tv_weight: float
  scale: float = 1.0
  style_reduction: str = "mean"

  @property
  def layers(self) -> tuple[str, ...]:
    return tuple(dict.fromkeys(self.content_layers + self.style_layers))

  def features(self, net: Any, images: jax.Array, layers: Sequence[str]) -> dict[str, jax.Array]:
    feats = net.features(images, tuple(layers))
    return {name: f / self.scale for name, f in feats.items()}

  def content_targets(self, net: Any, images: jax.Array) -> dict[str, jax.Array]:
    """``{layer: features}`` of the content images ``[B, H, W, 3]``."""
    if not self.content_layers:
      return {}
    if images is None:
      raise ValueError(f"content_layers {self.content_layers} need content_images, got None")
    return self.features(net, images, self.content_layers)

  def style_grams(self, net: Any, style_image: jax.Array) -> dict[str, jax.Array]:
    """``{layer: [1, C, C]}`` Grams of one style image ``[H, W, 3]``."""
    if not self.style_layers:
      return {}
    feats = self.features(net, style_image[None], self.style_layers)
    return {name: gram_matrix(f) for name, f in feats.items()}

  def __call__(
    self, net: Any, images: jax.Array, content_targets: Mapping[str, jax.Array], style_grams: Mapping[str, jax.Array]
  ) -> dict[str, jax.Array]:
    """``{'content', 'style', 'tv', 'total'}`` per example ``[B]``, each times its weight."""
    missing = [name for name in self.content_layers if name not in (content_targets or {})]
    if missing:
      raise ValueError(f"content_targets lack the content layers {missing}")
    if self.style_layers and style_grams is None:
      raise ValueError(f"style_layers {self.style_layers} need style_grams, got None")
    feats = self.features(net, images, self.layers) if self.layers else {}
    zero = jnp.zeros((jnp.shape(images)[0],), jnp.float32)
    content = zero
    for name in self.content_layers:
      content = content + feature_reconstruction_loss(feats[name], content_targets[name])
    style = zero
    if self.style_layers:
      style = style_reconstruction_loss(feats, style_grams, layers=self.style_layers, reduction=self.style_reduction)
    out = {
      "content": self.content_weight * content,
      "style": self.style_weight * style,
      "tv": self.tv_weight * total_variation(images),
    }
    out["total"] = out["content"] + out["style"] + out["tv"]
    return out


__all__ = [
  "feature_reconstruction_loss",
  "gram_matrix",
  "l1_loss",
  "mse_loss",
  "PerceptualObjective",
  "style_reconstruction_loss",
  "total_variation",
]

"""Image features for the distribution metrics, and the scores of generated images against real ones.

An :class:`Extractor` maps images (float in [-1, 1] or uint8, NHWC) to ``{"pool": [N, D],
"logits": [N, K]}``: the features FID and KID compare and the class scores the Inception Score
reads. :func:`embed` runs it over any number of images in fixed-size batches split over the
devices of a mesh (one compiled program; the last batch padded). The scores carry the
extractor's name (``fid_judge``, ``kid_judge_mean``, ...): figures computed on other features
are not comparable, and only the Inception network's are comparable with published ones.

- :func:`inception`: the FID Inception-v3 (:mod:`jaxgan.models.inception`; pytorch-fid's or
  torch-fidelity's weights, :func:`jaxgan.interop.inception.load_fid_inception`): pool3 and the
  logits without the fc bias (torch-fidelity's Inception Score), grey images repeated to RGB,
  resized to 299 as pytorch-fid (``resize="pytorch_fid"``, default) or torch-fidelity (``"tf1"``).
- :func:`judge`: this project's own classifier trained on the real training split
  (:mod:`jaxgan.metrics.classifier`, the judge of the cGAN and CycleGAN runs): the spatial mean
  of its last convolution's activations and its logits. Domain features for when Inception
  weights are absent (or the images are 28x28 digits).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxgan.data import images as images_lib
from jaxgan.interop.inception import load_fid_inception
from jaxgan.metrics import distribution
from jaxgan.metrics.classifier import Params, _split_model
from jaxgan.train import sharding


@dataclasses.dataclass(frozen=True, eq=False)
class Extractor:
  """``apply(params, images float32 [B, H, W, C] in [-1, 1]) -> {"pool", "logits"}``, pure and
  jittable (``params``: a pytree, an argument of the compiled program, replicated over the mesh);
  ``name`` prefixes the scores (module docstring)."""

  name: str
  apply: Callable[[object, jax.Array], dict[str, jax.Array]]
  params: object
  batch_size: int = 100


def judge(params: Params, image_shape: tuple[int, int, int]) -> Extractor:
  """The features of a classifier of :mod:`jaxgan.metrics.classifier` (module docstring)."""
  graphdef, state = _split_model(params, image_shape)

  def apply(state, images):
    out = nnx.merge(graphdef, state).embed(images)
    return {"pool": out["features"], "logits": out["logits"]}

  return Extractor("judge", apply, state)


def inception(weights: str = "fid_inception", *, resize: str = "pytorch_fid", batch_size: int = 50) -> Extractor:
  """The FID Inception's features (module docstring); ``weights``: a registered name or a file."""
  graphdef, params, stats = load_fid_inception(weights)
  return Extractor("inception", _inception_apply(graphdef, resize), (params, stats), batch_size=batch_size)


@functools.lru_cache(maxsize=8)
def _inception_apply(graphdef: nnx.GraphDef, resize: str):
  """One function per network structure and resize: the compiled programs of :func:`embed` serve
  every load of the weights."""

  def apply(weights, images):
    if images.shape[-1] == 1:
      images = jnp.repeat(images, 3, axis=-1)
    net = nnx.merge(graphdef, *weights)
    out = net.features(images, outputs=("2048", "logits_unbiased"), resize=resize)
    return {"pool": out["2048"], "logits": out["logits_unbiased"]}

  return apply


@functools.lru_cache(maxsize=16)
def _compiled(apply, mesh):
  return jax.jit(
    apply,
    in_shardings=(sharding.replicated(mesh), sharding.batch_sharding(mesh, ndim=4)),
    out_shardings=sharding.replicated(mesh),
  )


def embed(extractor: Extractor, images, *, mesh: jax.sharding.Mesh | None = None) -> dict[str, np.ndarray]:
  """``{"pool": [N, D], "logits": [N, K]}`` float32 of ``images`` ``[N, H, W, C]`` (float in [-1, 1]
  or uint8), in batches split over ``mesh`` (default: all devices)."""
  images = np.asarray(images)
  if images.ndim != 4:
    raise ValueError(f"images must be [N, H, W, C], got shape {images.shape}")
  if images.dtype == np.uint8:
    images = images_lib.to_float(images)
  mesh = mesh or sharding.make_mesh()
  devices = mesh.devices.size
  batch = -(-min(extractor.batch_size, max(len(images), 1)) // devices) * devices
  run = functools.partial(_compiled(extractor.apply, mesh), jax.device_put(extractor.params, sharding.replicated(mesh)))
  out: list[dict] = []
  for start in range(0, len(images), batch):
    chunk = images[start : start + batch].astype(np.float32)
    n = len(chunk)
    if n < batch:
      chunk = np.concatenate([chunk, np.zeros((batch - n, *chunk.shape[1:]), np.float32)])
    out.append({k: np.asarray(v)[:n] for k, v in run(chunk).items()})
  if not out:
    raise ValueError("no images to embed")
  return {k: np.concatenate([o[k] for o in out]) for k in out[0]}


def scores(
  extractor: Extractor,
  real: dict[str, np.ndarray],
  fake: dict[str, np.ndarray],
  *,
  kid_subsets: int = distribution.KID_SUBSETS,
  kid_subset_size: int = distribution.KID_SUBSET_SIZE,
  is_splits: int = distribution.IS_SPLITS,
) -> dict[str, float]:
  """FID, KID and the Inception Score (on ``extractor``'s features, named after it) of the
  embedded ``fake`` images against the embedded ``real`` ones (:func:`embed`'s outputs).

  KID's subsets shrink to the smaller set when it has fewer than ``kid_subset_size`` samples
  (the size used is reported); IS uses ``min(is_splits, N)`` splits.
  """
  name = extractor.name
  subset = min(kid_subset_size, len(real["pool"]), len(fake["pool"]))
  kid = distribution.kernel_distance(real["pool"], fake["pool"], subsets=kid_subsets, subset_size=subset)
  inception = distribution.inception_score(fake["logits"], splits=min(is_splits, len(fake["logits"])))
  return {
    f"fid_{name}": distribution.fid_from_features(real["pool"], fake["pool"]),
    f"kid_{name}_mean": kid["kid_mean"],
    f"kid_{name}_std": kid["kid_std"],
    f"kid_{name}_subset_size": subset,
    f"is_{name}_mean": inception["is_mean"],
    f"is_{name}_std": inception["is_std"],
  }

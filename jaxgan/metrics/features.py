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

SIFID (single-image FID, Shaham et al. 2019) compares the feature *maps* of one real and one
generated image: :func:`inception_maps` gives the map ``[h, w, C]`` of an image of any size (not
resized), :func:`sifid_scores` the SIFID of generated images against a real one
(:func:`jaxgan.metrics.distribution.sifid`: every map position one sample). The layers are those
of the official ``SIFID/inception.py`` (SinGAN repository), whose blocks end *before* the max
pools (pytorch-fid's end after them; so do :mod:`jaxgan.models.inception`'s ``"64"`` and
``"192"`` outputs):

- ``"64"``: ``Conv2d_2b_3x3``, before the first max pool (``[147, 147, 64]`` for 299x299): what
  the official ``sifid_score.py`` computes (``dims=64``);
- ``"192"``: ``Conv2d_4a_3x3``, before the second max pool (``[71, 71, 192]``): the layer the
  paper describes ("the convolutional layer just before the second pooling layer").

The official script runs torchvision's ImageNet ``inception_v3`` (``pretrained=True``); these
maps come from the FID Inception's weights (:func:`jaxgan.interop.inception.load_fid_inception`),
a different training of the same layers: the figures are not comparable with published ones.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxgan.data import images as images_lib
from jaxgan.interop.inception import load_fid_inception, weights_path
from jaxgan.metrics import distribution
from jaxgan.metrics.classifier import Params, split_model
from jaxgan.models import inception as inception_lib
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
  graphdef, state = split_model(params, image_shape)

  def apply(state, images):
    out = nnx.merge(graphdef, state).embed(images)
    return {"pool": out["features"], "logits": out["logits"]}

  return Extractor("judge", apply, state)


def inception(
  weights: str = "fid_inception", *, resize: str = "pytorch_fid", batch_size: int = 50, flag: str = ""
) -> Extractor:
  """The FID Inception's features (module docstring); ``weights``: a registered name or a file.

  ``flag``: the option that named ``weights`` (``--fid_weights``): a missing, not downloaded or
  unreadable file raises an error that starts with ``flag=weights:``, before the network is built.
  """
  try:
    weights_path(weights)  # a missing file or a registered name not downloaded: before anything else
    graphdef, params, stats = load_fid_inception(weights)
  except FileNotFoundError as e:  # also download.NotAvailableError
    if not flag:
      raise
    raise type(e)(f"{flag}={weights}: {e}") from None
  except ValueError as e:
    if not flag:
      raise
    raise ValueError(f"{flag}={weights}: {e}") from e
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


def embed_images(extractor: Extractor, images, *, mesh: jax.sharding.Mesh | None = None) -> dict[str, np.ndarray]:
  """:func:`embed` of images of any sizes (a sequence of ``[H, W, C]``): each size in its own
  batches (one compiled program per size), the rows in the order given."""
  by_size: dict[tuple, list[int]] = {}
  for i, image in enumerate(images):
    by_size.setdefault(np.shape(image), []).append(i)
  if not by_size:
    raise ValueError("no images to embed")
  out: dict[str, np.ndarray] = {}
  for rows in by_size.values():
    for k, v in embed(extractor, np.stack([images[i] for i in rows]), mesh=mesh).items():
      out.setdefault(k, np.empty((len(images), *v.shape[1:]), v.dtype))[rows] = v
  return out


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


# ------------------------------------------------------------------ SIFID

SIFID_LAYERS: dict[str, str] = {
  "64": "Conv2d_2b_3x3, before the first max pool (the official sifid_score.py)",
  "192": "Conv2d_4a_3x3, before the second max pool (the layer the paper describes)",
}


def sifid_map_shape(h: int, w: int, layer: str = "64") -> tuple[int, int]:
  """The ``(h, w)`` of the SIFID map of an ``h x w`` image (sides < 1: too small)."""
  check_sifid_layer(layer)

  def side(n: int) -> int:
    n = (n - 3) // 2 + 1  # Conv2d_1a_3x3: 3x3 stride 2, no padding
    n -= 2  # Conv2d_2a_3x3: 3x3; Conv2d_2b_3x3 (padding 1) keeps it
    if layer == "192":
      n = (n - 3) // 2 + 1 - 2  # max pool 3x3 stride 2; Conv2d_3b_1x1; Conv2d_4a_3x3
    return n

  return side(h), side(w)


def sifid_min_side(layer: str = "64") -> int:
  """The smallest side whose map has at least 2 positions along it (9 for ``"64"``, 23 for ``"192"``)."""
  return next(n for n in range(1, 1000) if sifid_map_shape(n, n, layer)[0] >= 2)


def check_sifid_layer(layer: str) -> str:
  if layer not in SIFID_LAYERS:
    raise ValueError(f"unknown SIFID layer {layer!r}; the layers are {list(SIFID_LAYERS)}")
  return layer


def check_sifid_size(h: int, w: int, layer: str = "64", *, what: str = "the image") -> None:
  """ValueError naming the size and the layer when an ``h x w`` image is too small for SIFID at
  ``layer`` (its map must be at least 2x2; ``what`` names the image in the message)."""
  mh, mw = sifid_map_shape(h, w, layer)
  if min(mh, mw) < 2:
    raise ValueError(
      f"SIFID at layer {layer} ({SIFID_LAYERS[layer]}) needs image sides of at least {sifid_min_side(layer)}: "
      f"{what} is {h}x{w} (its feature map would be {max(mh, 0)}x{max(mw, 0)}; SIFID does not resize)"
    )


@dataclasses.dataclass(frozen=True, eq=False)
class FeatureMaps:
  """``maps(image) -> [h, w, C]`` float32: the SIFID feature map of one image ``[H, W, C]`` (C 1 or
  3; float in [-1, 1] or uint8), not resized (module docstring). ``apply(params, stats, x)`` is
  jitted with the weights as arguments and compiles once per image size."""

  layer: str
  weights: str
  apply: Callable[[object, object, jax.Array], jax.Array]
  params: object
  stats: object

  @property
  def channels(self) -> int:
    return int(self.layer)

  def __call__(self, image) -> np.ndarray:
    x = _one_rgb_image(image)
    check_sifid_size(*x.shape[:2], self.layer)
    return np.asarray(self.apply(self.params, self.stats, jnp.asarray(x[None])))[0]


def inception_maps(weights="fid_inception", layer: str = "64") -> FeatureMaps:
  """The SIFID maps of the FID Inception at ``layer`` (``"64"`` or ``"192"``, module docstring);
  ``weights``: a registered name, a file or a state dict (as
  :func:`jaxgan.interop.inception.load_fid_inception` takes), or its result ``(graphdef, params,
  stats)`` (to build both layers from one load)."""
  check_sifid_layer(layer)
  if isinstance(weights, tuple):
    (graphdef, params, stats), shown = weights, "<loaded weights>"
  else:
    graphdef, params, stats = load_fid_inception(weights)
    shown = os.fspath(weights) if isinstance(weights, (str, os.PathLike)) else "<state dict>"
  return FeatureMaps(layer, shown, _sifid_apply(graphdef, layer), params, stats)


@functools.lru_cache(maxsize=8)
def _sifid_apply(graphdef: nnx.GraphDef, layer: str):
  """One jitted function per network structure and layer (the compiled programs serve every load
  of the weights)."""

  @jax.jit
  def apply(params, stats, x):
    net = nnx.merge(graphdef, params, stats)
    h = net.Conv2d_2b_3x3(net.Conv2d_2a_3x3(net.Conv2d_1a_3x3(x)))
    if layer == "192":
      h = net.Conv2d_4a_3x3(net.Conv2d_3b_1x1(inception_lib.max_pool(h, 2)))
    return h

  return apply


def _one_rgb_image(image) -> np.ndarray:
  """``[H, W, 3]`` float32 in [-1, 1] of an ``[H, W]`` / ``[H, W, 1]`` / ``[H, W, 3]`` image (uint8
  0 .. 255 or float in [-1, 1]; grey repeated to RGB)."""
  x = np.asarray(image)
  if x.ndim == 2:
    x = x[..., None]
  if x.ndim != 3 or x.shape[-1] not in (1, 3):
    raise ValueError(f"SIFID takes one image [H, W, C] with C 1 or 3, got shape {x.shape}")
  if x.dtype == np.uint8:
    x = images_lib.to_float(x)
  elif not np.issubdtype(x.dtype, np.floating):
    raise TypeError(f"images must be uint8 (0 .. 255) or floating (in [-1, 1]), got dtype {x.dtype}")
  x = x.astype(np.float32)
  return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x


def sifid_scores(real_image, fake_images, maps: FeatureMaps) -> dict:
  """``{"sifid_mean", "sifid_per_image": [...]}``: the SIFID of each of ``fake_images`` (a sequence
  or an array ``[N, H, W, C]``) against ``real_image`` on ``maps``' features, and their mean (the
  official figure). The sizes may differ; each must be large enough for the layer."""
  fakes = list(fake_images)
  if not fakes:
    raise ValueError("no generated images to score")
  real_map = maps(real_image)
  per_image = [distribution.sifid(real_map, maps(fake)) for fake in fakes]
  return {"sifid_mean": float(np.mean(per_image)), "sifid_per_image": [float(v) for v in per_image]}

"""Distances between sets of image features: FID, KID, Inception Score and SIFID.

The functions take features (``[N, D]`` arrays, any float dtype) or their statistics and
compute in float64 on the host, as the reference implementations do:

- :func:`frechet_distance`: the Frechet distance of two Gaussians as pytorch-fid's
  ``calculate_frechet_distance`` computes it (``scipy.linalg.sqrtm`` of the product of the
  covariances; ``eps`` added to both diagonals when that product is singular; the imaginary
  part of the root dropped when its diagonal is within 1e-3 of 0, an error otherwise).
  FID is this distance between the :func:`statistics` of Inception pool3 features.
- :func:`kernel_distance` (KID, Binkowski et al. 2018): the unbiased MMD^2 estimate with the
  cubic polynomial kernel ``(x.y / D + 1)^3``, averaged over ``subsets`` random subsets of
  ``subset_size`` samples of each set drawn without replacement, as torch-fidelity's
  ``kid_features_to_metric`` (its defaults: 100 subsets of 1000, seed 2020).
- :func:`inception_score` (Salimans et al. 2016): ``exp(E_x KL(p(y|x) || p(y)))`` per split of
  the (optionally shuffled) logits, mean and standard deviation over the splits, as
  torch-fidelity's ``isc_features_to_metric`` (10 splits, seed 2020).
- :func:`sifid` (Shaham et al. 2019): the Frechet distance between the statistics of the
  pixels of one real and one generated image's feature maps ``[H, W, C]`` (each position a
  sample), as the official ``sifid_score.py``.

:class:`FeatureStats` accumulates ``(mu, sigma)`` over batches of any size in float64 (and,
optionally, keeps the features for KID); statistics files are pytorch-fid's ``.npz`` with
``mu`` and ``sigma``.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from scipy import linalg

from jaxgan import atomic

KID_SUBSETS, KID_SUBSET_SIZE, SEED = 100, 1000, 2020  # torch-fidelity's defaults
IS_SPLITS = 10


def statistics(features) -> tuple[np.ndarray, np.ndarray]:
  """``(mu, sigma)`` of ``[N, D]`` features: the mean and the unbiased covariance (``np.cov``)."""
  x = _matrix(features, "features")
  if len(x) < 2:
    raise ValueError(f"statistics need at least 2 feature vectors, got {len(x)}")
  return x.mean(axis=0), np.cov(x, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
  """``|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 sqrt(sigma1 sigma2))`` (see the module docstring)."""
  mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
  sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
  if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
    raise ValueError(
      f"statistics of different dimensions: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}"
    )
  diff = mu1 - mu2
  with warnings.catch_warnings():  # a singular product is handled below, as pytorch-fid does
    warnings.simplefilter("ignore", linalg.LinAlgWarning)
    covmean = linalg.sqrtm(sigma1.dot(sigma2))
  if not np.isfinite(covmean).all():  # a singular product: regularise both covariances
    offset = np.eye(sigma1.shape[0]) * eps
    covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
  if np.iscomplexobj(covmean):
    if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
      raise ValueError(f"the covariances' square root has an imaginary part of {np.max(np.abs(covmean.imag)):g}")
    covmean = covmean.real
  return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid_from_features(features1, features2) -> float:
  """The Frechet distance between the :func:`statistics` of two feature sets."""
  return frechet_distance(*statistics(features1), *statistics(features2))


def polynomial_kernel(x: np.ndarray, y: np.ndarray, *, degree: int = 3, coef0: float = 1.0) -> np.ndarray:
  """``(x y^T / D + coef0)^degree``: KID's kernel (gamma = 1 / D)."""
  return (x @ y.T / x.shape[1] + coef0) ** degree


def mmd2_unbiased(k_xx: np.ndarray, k_xy: np.ndarray, k_yy: np.ndarray) -> float:
  """The unbiased MMD^2 from the three ``[m, m]`` kernel matrices (diagonals of K_XX, K_YY left out)."""
  m = k_xx.shape[0]
  within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
  return float(within - 2 * k_xy.sum() / (m * m))


def kernel_distance(
  features1, features2, *, subsets: int = KID_SUBSETS, subset_size: int = KID_SUBSET_SIZE, seed: int = SEED
) -> dict[str, float]:
  """KID: ``{"kid_mean", "kid_std"}`` of the unbiased MMD^2 over random subsets (module docstring)."""
  x, y = _matrix(features1, "features1"), _matrix(features2, "features2")
  if x.shape[1] != y.shape[1]:
    raise ValueError(f"features of different dimensions: {x.shape[1]} vs {y.shape[1]}")
  if min(len(x), len(y)) < subset_size or subset_size < 2:
    raise ValueError(
      f"KID subsets of {subset_size} need at least that many samples in each set (have {len(x)} and {len(y)}); "
      "lower the subset size"
    )
  rng = np.random.RandomState(seed)
  mmds = np.zeros(subsets)
  for i in range(subsets):
    a = x[rng.choice(len(x), subset_size, replace=False)]
    b = y[rng.choice(len(y), subset_size, replace=False)]
    mmds[i] = mmd2_unbiased(polynomial_kernel(a, a), polynomial_kernel(a, b), polynomial_kernel(b, b))
  return {"kid_mean": float(mmds.mean()), "kid_std": float(mmds.std())}


def inception_score(logits, *, splits: int = IS_SPLITS, shuffle: bool = True, seed: int = SEED) -> dict[str, float]:
  """``{"is_mean", "is_std"}`` over ``splits`` chunks of ``[N, K]`` logits (module docstring)."""
  z = _matrix(logits, "logits")
  if not 1 <= splits <= len(z):
    raise ValueError(f"{splits} splits of {len(z)} samples: need 1 <= splits <= samples")
  if shuffle:
    z = z[np.random.RandomState(seed).permutation(len(z))]
  log_p = z - _logsumexp(z)
  p = np.exp(log_p)
  n, scores = len(z), []
  for i in range(splits):
    chunk = slice(i * n // splits, (i + 1) * n // splits)
    q = p[chunk].mean(axis=0, keepdims=True)
    scores.append(np.exp((p[chunk] * (log_p[chunk] - np.log(q))).sum(axis=1).mean()))
  return {"is_mean": float(np.mean(scores)), "is_std": float(np.std(scores))}


def sifid(real_map, fake_map) -> float:
  """Single-image FID: the Frechet distance of the per-position statistics of two feature maps
  ``[H, W, C]`` (the real image's and a generated one's; sizes may differ)."""
  real, fake = (np.asarray(m, np.float64) for m in (real_map, fake_map))
  if real.ndim != 3 or fake.ndim != 3 or real.shape[-1] != fake.shape[-1]:
    raise ValueError(f"SIFID takes two feature maps [H, W, C] of the same C, got {real.shape} and {fake.shape}")
  return fid_from_features(real.reshape(-1, real.shape[-1]), fake.reshape(-1, fake.shape[-1]))


class FeatureStats:
  """``(mu, sigma)`` of features added in batches of any size, in float64.

  ``keep=True`` also keeps the features (KID draws subsets of them). The covariance is the
  unbiased one of :func:`statistics` (``np.cov``), from the float64 sums of the features and
  of their outer products.
  """

  def __init__(self, dim: int, *, keep: bool = False):
    self.dim = dim
    self.count = 0
    self._sum = np.zeros(dim, np.float64)
    self._outer = np.zeros((dim, dim), np.float64)
    self._kept: list[np.ndarray] | None = [] if keep else None

  def add(self, features) -> None:
    x = _matrix(features, "features")
    if x.shape[1] != self.dim:
      raise ValueError(f"features of dimension {x.shape[1]} added to statistics of dimension {self.dim}")
    self.count += len(x)
    self._sum += x.sum(axis=0)
    self._outer += x.T @ x
    if self._kept is not None:
      self._kept.append(x)

  def statistics(self) -> tuple[np.ndarray, np.ndarray]:
    if self.count < 2:
      raise ValueError(f"statistics need at least 2 feature vectors, got {self.count}")
    mu = self._sum / self.count
    sigma = (self._outer - self.count * np.outer(mu, mu)) / (self.count - 1)
    return mu, sigma

  def features(self) -> np.ndarray:
    if self._kept is None:
      raise ValueError("FeatureStats(keep=False) keeps no features")
    return np.concatenate(self._kept) if self._kept else np.zeros((0, self.dim))


def save_statistics(path: str, mu, sigma) -> str:
  """pytorch-fid's statistics file: ``.npz`` with ``mu`` and ``sigma`` (written atomically)."""
  path = os.path.abspath(path)
  if not path.endswith(".npz"):
    raise ValueError(f"{path}: statistics files are .npz")
  with atomic.replacing(path) as tmp:
    with open(tmp, "wb") as f:
      np.savez_compressed(f, mu=np.asarray(mu), sigma=np.asarray(sigma))
  return path


def load_statistics(path: str) -> tuple[np.ndarray, np.ndarray]:
  """``(mu, sigma)`` of a statistics ``.npz`` (pytorch-fid's or :func:`save_statistics`')."""
  try:
    with np.load(path) as f:
      return f["mu"][:], f["sigma"][:]
  except KeyError:
    raise ValueError(f"{path}: not a statistics file (it needs arrays 'mu' and 'sigma')") from None


def _matrix(x, name: str) -> np.ndarray:
  x = np.asarray(x, np.float64)
  if x.ndim != 2:
    raise ValueError(f"{name} must be [N, D], got shape {x.shape}")
  return x


def _logsumexp(z: np.ndarray) -> np.ndarray:
  top = z.max(axis=1, keepdims=True)
  return top + np.log(np.exp(z - top).sum(axis=1, keepdims=True))

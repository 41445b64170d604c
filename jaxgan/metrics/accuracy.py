"""Classification and clustering accuracy (host-side numpy).

``clustering_accuracy`` scores an unsupervised classifier (e.g. CatGAN's
discriminator, whose class indices are arbitrary) by the best one-to-one matching of
its clusters to the true classes: the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``) on the cluster x class contingency matrix.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.optimize


def _as_int_vector(x, name: str) -> np.ndarray:
  x = np.asarray(x)
  if x.ndim != 1:
    raise ValueError(f"{name} must be a vector [N]; got shape {x.shape}")
  if x.size and not np.issubdtype(x.dtype, np.integer):
    raise ValueError(f"{name} must be integers; got dtype {x.dtype}")
  return x.astype(np.int64)


def _check_pair(a, b, name_a: str, name_b: str) -> tuple[np.ndarray, np.ndarray]:
  a, b = _as_int_vector(a, name_a), _as_int_vector(b, name_b)
  if a.shape != b.shape:
    raise ValueError(f"{name_a} and {name_b} must have the same length; got {a.size} and {b.size}")
  if a.size == 0:
    raise ValueError(f"{name_a} and {name_b} are empty")
  return a, b


def accuracy(predictions, labels) -> float:
  """The fraction of ``predictions == labels`` (integer vectors of equal length)."""
  predictions, labels = _check_pair(predictions, labels, "predictions", "labels")
  return float(np.mean(predictions == labels))


def per_class_accuracy(predictions, labels, num_classes: int) -> np.ndarray:
  """``[num_classes]``: for each class k, the fraction of the examples labelled k predicted k
  (NaN for a class with no example)."""
  predictions, labels = _check_pair(predictions, labels, "predictions", "labels")
  counts = contingency_matrix(labels, predictions, num_clusters=num_classes, num_classes=num_classes)
  with np.errstate(invalid="ignore", divide="ignore"):
    return np.diag(counts) / counts.sum(axis=1)


class ClusteringAccuracy(NamedTuple):
  """``accuracy`` in [0, 1] and ``mapping[cluster] = class`` (-1 where unmatched)."""

  accuracy: float
  mapping: np.ndarray


def _count(values: np.ndarray, given: int | None, name: str) -> int:
  needed = int(values.max()) + 1
  if values.min() < 0:
    raise ValueError(f"{name} must be >= 0; got {int(values.min())}")
  if given is None:
    return needed
  if given < needed:
    raise ValueError(f"{name} has value {needed - 1}, out of range for {given} values")
  return int(given)


def contingency_matrix(
  cluster_ids, labels, *, num_clusters: int | None = None, num_classes: int | None = None
) -> np.ndarray:
  """``counts[c, k]`` = number of examples in cluster ``c`` with label ``k``."""
  cluster_ids, labels = _check_pair(cluster_ids, labels, "cluster_ids", "labels")
  num_clusters = _count(cluster_ids, num_clusters, "cluster_ids")
  num_classes = _count(labels, num_classes, "labels")
  counts = np.zeros((num_clusters, num_classes), np.int64)
  np.add.at(counts, (cluster_ids, labels), 1)
  return counts


def clustering_accuracy(
  cluster_ids, labels, *, num_clusters: int | None = None, num_classes: int | None = None
) -> ClusteringAccuracy:
  """Accuracy under the best one-to-one assignment of clusters to classes.

  Each class is matched to at most one cluster and each cluster to at most one
  class, maximising the number of correctly assigned examples. With more clusters
  than classes the unmatched clusters' examples count as wrong (their ``mapping`` is
  -1); with more classes than clusters the unmatched classes' examples are wrong.
  Relabelling the clusters leaves the accuracy unchanged.

  Args:
    cluster_ids: ``[N]`` integer cluster (or predicted class) of each example.
    labels: ``[N]`` integer true class of each example.
    num_clusters, num_classes: the counts, if more than the largest id + 1.

  Returns:
    ``(accuracy, mapping)`` with ``mapping`` an int64 array ``[num_clusters]``.
  """
  counts = contingency_matrix(cluster_ids, labels, num_clusters=num_clusters, num_classes=num_classes)
  rows, cols = scipy.optimize.linear_sum_assignment(counts, maximize=True)
  mapping = np.full(counts.shape[0], -1, np.int64)
  mapping[rows] = cols
  correct = counts[rows, cols].sum()
  return ClusteringAccuracy(float(correct / np.asarray(labels).size), mapping)

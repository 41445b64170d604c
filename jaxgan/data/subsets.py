"""Semi-supervised data: a small, class-balanced labelled subset and an unlabelled stream.

As in Salimans et al. 2016 (and Odena 2016), a semi-supervised GAN sees

* a *labelled* stream: ``num_labeled`` training examples, ``num_labeled / K`` per
  class, chosen once by a seed (:func:`balanced_labeled_indices`);
* an *unlabelled* stream: the **whole** training split with every label replaced by
  -1, so the labelled examples also appear unlabelled (as in Salimans et al.'s code,
  which draws unlabelled batches from all of ``trainx``).

Labels are read once, by :func:`all_labels`, only to make the balanced choice; after
that the labelled stream returns only the chosen examples' labels and the unlabelled
stream returns -1, so no other label can reach training.

Both streams are :class:`SubsetSource` views, random-access sources that a
:class:`jaxgan.data.BatchLoader` reads like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

HIDDEN_LABEL = -1
_LABEL_READ_CHUNK = 1024


def all_labels(source) -> np.ndarray:
  """Every example's ``'label'`` as an int64 array ``[len(source)]``.

  Uses ``source.labels`` when the source exposes such an array (a fast path);
  otherwise reads the examples in chunks (with ``__getitems__`` when present) and
  keeps only their ``'label'`` field.
  """
  labels = getattr(source, "labels", None)
  if labels is not None:
    labels = np.asarray(labels)
    if labels.shape != (len(source),):
      raise ValueError(f"source.labels has shape {labels.shape}, expected ({len(source)},)")
    return labels.astype(np.int64)
  n = len(source)
  out = np.empty(n, np.int64)
  getitems = getattr(source, "__getitems__", None)
  for start in range(0, n, _LABEL_READ_CHUNK):
    indices = list(range(start, min(start + _LABEL_READ_CHUNK, n)))
    examples = getitems(indices) if getitems is not None else [source[i] for i in indices]
    out[start : start + len(indices)] = [int(ex["label"]) for ex in examples]
  return out


def balanced_labeled_indices(labels, *, num_labeled: int, num_classes: int, seed: int) -> np.ndarray:
  """``num_labeled / num_classes`` examples of every class, chosen by ``seed``, sorted.

  The choice within each class is ``np.random.default_rng([seed, class])``'s
  permutation of that class's examples, so it depends only on the seed and on that
  class's positions in ``labels``.

  Raises:
    ValueError naming ``--num_labeled`` and its value when it is not positive, not a
    multiple of ``num_classes``, or asks more of some class than it has.
  """
  labels = np.asarray(labels)
  if labels.ndim != 1 or (labels.size and not np.issubdtype(labels.dtype, np.integer)):
    raise ValueError(f"labels must be an integer vector [N]; got {labels.dtype} {labels.shape}")
  if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
    raise ValueError(f"num_classes must be a positive integer; got {num_classes!r}")
  if isinstance(num_labeled, bool) or not isinstance(num_labeled, (int, np.integer)) or num_labeled <= 0:
    raise ValueError(f"--num_labeled must be a positive integer; got {num_labeled!r}")
  if num_labeled % num_classes:
    raise ValueError(
      f"--num_labeled={num_labeled} is not divisible by the number of classes "
      f"{num_classes}: the labelled subset has the same number of examples per "
      f"class (e.g. --num_labeled={max(1, num_labeled // num_classes) * num_classes})"
    )
  if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
    raise ValueError(f"labels must be in [0, {num_classes}); got values in [{labels.min()}, {labels.max()}]")
  per_class = num_labeled // num_classes
  counts = np.bincount(labels, minlength=num_classes)
  short = [(k, int(c)) for k, c in enumerate(counts) if c < per_class]
  if short:
    k, count = short[0]
    raise ValueError(
      f"--num_labeled={num_labeled} asks for {per_class} examples of each of "
      f"{num_classes} classes, but class {k} has only {count} examples"
      + (f" ({len(short)} classes are short; the smallest has {counts.min()})" if len(short) > 1 else "")
    )
  chosen = []
  for k in range(num_classes):
    members = np.flatnonzero(labels == k)
    order = np.random.default_rng([seed, k]).permutation(members.size)
    chosen.append(members[order[:per_class]])
  return np.sort(np.concatenate(chosen))


class SubsetSource:
  """A random-access view of ``source`` restricted to ``indices`` (in that order).

  Example ``i`` of the view is example ``indices[i]`` of the source. With
  ``hide_labels=True`` every example's ``'label'`` is replaced by -1 (other fields
  are passed through), so the unlabelled stream cannot leak labels.

  ``name``, ``num_classes``, ``class_names`` and ``image_shape`` are the source's
  (when it has them), so the view stands in for a ``LabelledSource``.
  """

  def __init__(self, source, indices, *, hide_labels: bool = False):
    indices = np.asarray(indices)
    if indices.ndim != 1 or (indices.size and not np.issubdtype(indices.dtype, np.integer)):
      raise ValueError(f"indices must be an integer vector; got {indices.dtype} {indices.shape}")
    n = len(source)
    if indices.size and (indices.min() < 0 or indices.max() >= n):
      raise ValueError(f"indices must be in [0, {n}); got values in [{indices.min()}, {indices.max()}]")
    self._source = source
    self._indices = indices.astype(np.int64)
    self._indices.flags.writeable = False
    self.hide_labels = bool(hide_labels)
    self.name = getattr(source, "name", type(source).__name__)
    self.num_classes = getattr(source, "num_classes", None)
    self.class_names = getattr(source, "class_names", None)
    self.image_shape = getattr(source, "image_shape", None)

  @property
  def indices(self) -> np.ndarray:
    """The (read-only) source indices of this view's examples."""
    return self._indices

  @property
  def source(self):
    return self._source

  def __len__(self) -> int:
    return self._indices.size

  def _position(self, index) -> int:
    index = int(index)
    if not -len(self) <= index < len(self):
      raise IndexError(f"index {index} out of range for {len(self)} examples")
    return int(self._indices[index])

  def _view(self, example: dict[str, Any]) -> dict[str, Any]:
    if not self.hide_labels:
      return example
    return {**example, "label": HIDDEN_LABEL}

  def __getitem__(self, index: int) -> dict[str, Any]:
    return self._view(self._source[self._position(index)])

  def __getitems__(self, indices: Sequence[int]) -> list[dict[str, Any]]:
    positions = [self._position(i) for i in indices]
    getitems = getattr(self._source, "__getitems__", None)
    examples = getitems(positions) if getitems is not None else [self._source[p] for p in positions]
    return [self._view(ex) for ex in examples]

  def __repr__(self) -> str:
    hidden = ", labels hidden" if self.hide_labels else ""
    return f"SubsetSource({self.name!r}, {len(self)} of {len(self._source)} examples{hidden})"


def semi_supervised_sources(
  source,
  *,
  num_labeled: int,
  seed: int,
  labels: np.ndarray | None = None,
  num_classes: int | None = None,
) -> tuple[SubsetSource, SubsetSource]:
  """The ``(labeled, unlabeled)`` streams of a semi-supervised GAN.

  Args:
    source: the training split (``len``, ``__getitem__`` -> ``{'image', 'label'}``).
    num_labeled: the size of the labelled subset (a multiple of the class count).
    seed: chooses the labelled subset (see :func:`balanced_labeled_indices`).
    labels: every example's label, as :func:`all_labels` returns; computed from the
      source when omitted. Used only to choose the subset.
    num_classes: defaults to ``source.num_classes``.

  Returns:
    ``labeled``: the chosen examples with their labels; ``unlabeled``: the whole
    source (the labelled examples included) with labels hidden (-1).
  """
  if num_classes is None:
    num_classes = getattr(source, "num_classes", None)
    if num_classes is None:
      raise ValueError("num_classes is required for a source without .num_classes")
  if labels is None:
    labels = all_labels(source)
  labels = np.asarray(labels)
  if labels.shape != (len(source),):
    raise ValueError(f"labels must have shape ({len(source)},); got {labels.shape}")
  chosen = balanced_labeled_indices(labels, num_labeled=num_labeled, num_classes=num_classes, seed=seed)
  labeled = SubsetSource(source, chosen)
  unlabeled = SubsetSource(source, np.arange(len(source)), hide_labels=True)
  return labeled, unlabeled

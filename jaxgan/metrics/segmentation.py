"""The FCN-score of pix2pix (Isola et al. 2017): how well a segmentation network reads generated photos.

A segmentation function (any ``image -> per-pixel class ids``; the paper's is an FCN-8s trained
on real Cityscapes photos) labels each generated photo; its labels are compared with the
ground-truth label map the photo was generated from. The three numbers are those of the
official evaluation script (``scripts/eval_cityscapes``), from one confusion histogram summed
over all images (rows: ground truth, columns: prediction; ground-truth ids outside
``[0, num_classes)``, e.g. Cityscapes' 255 "ignore", are left out):

- per-pixel accuracy ``sum(diag) / sum(hist)``;
- per-class accuracy: the mean over classes of ``diag / row sums``;
- class IoU: the mean over classes of ``diag / (row sums + column sums - diag)``;

each denominator plus 1e-12, as the official script, so that a class absent from both the
ground truth and the predictions counts as 0 in the means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

_TINY = 1e-12  # the official script's guard against empty classes


def confusion_histogram(truth, predicted, num_classes: int) -> np.ndarray:
  """``[K, K]`` int64 counts of (ground-truth class, predicted class) over the valid pixels."""
  truth, predicted = np.asarray(truth).ravel(), np.asarray(predicted).ravel()
  if truth.shape != predicted.shape:
    raise ValueError(f"label maps of different sizes: {np.shape(truth)} vs {np.shape(predicted)}")
  valid = (truth >= 0) & (truth < num_classes)
  p = predicted[valid].astype(np.int64)
  if p.size and (p.min() < 0 or p.max() >= num_classes):
    raise ValueError(f"predicted class ids outside [0, {num_classes}): {p.min()}..{p.max()}")
  index = num_classes * truth[valid].astype(np.int64) + p
  return np.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)


def scores_from_histogram(hist: np.ndarray) -> dict:
  """The FCN-score's numbers of a confusion histogram (module docstring), plus the per-class ones."""
  hist = np.asarray(hist, np.float64)
  diag = np.diag(hist)
  per_class_accuracy = diag / (hist.sum(axis=1) + _TINY)
  per_class_iou = diag / (hist.sum(axis=1) + hist.sum(axis=0) - diag + _TINY)
  return {
    "per_pixel_accuracy": float(diag.sum() / (hist.sum() + _TINY)),
    "per_class_accuracy": float(np.nanmean(per_class_accuracy)),
    "class_iou": float(np.nanmean(per_class_iou)),
    "per_class_accuracies": per_class_accuracy.tolist(),
    "per_class_ious": per_class_iou.tolist(),
  }


def fcn_score(
  pairs: Iterable[tuple[np.ndarray, np.ndarray]], segment: Callable[[np.ndarray], np.ndarray], num_classes: int
) -> dict:
  """The FCN-score of ``(generated photo, ground-truth label map)`` pairs, ``segment(photo)``
  giving the predicted class ids at the label map's size."""
  hist = np.zeros((num_classes, num_classes), np.int64)
  count = 0
  for photo, truth in pairs:
    hist += confusion_histogram(truth, segment(photo), num_classes)
    count += 1
  return {**scores_from_histogram(hist), "num_images": count}

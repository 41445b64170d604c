"""Evaluation metrics: accuracy, clustering accuracy, a sample-judging classifier and
full-reference image quality (L1, PSNR, SSIM) for image-to-image models.

``jaxgan.metrics.accuracy`` is the *function* (it shadows the submodule of the same
name as a package attribute); import the module's other names from
``jaxgan.metrics.accuracy`` directly or from this package.
"""

from jaxgan.metrics.accuracy import (
  ClusteringAccuracy,
  accuracy,
  clustering_accuracy,
  contingency_matrix,
  per_class_accuracy,
)
from jaxgan.metrics.classifier import Classifier, cached_classifier, classifier_logits, classify, train_classifier
from jaxgan.metrics.image_quality import l1, psnr, rgb_to_y, ssim

__all__ = [
  "Classifier",
  "ClusteringAccuracy",
  "accuracy",
  "cached_classifier",
  "classifier_logits",
  "classify",
  "clustering_accuracy",
  "per_class_accuracy",
  "contingency_matrix",
  "l1",
  "psnr",
  "rgb_to_y",
  "ssim",
  "train_classifier",
]

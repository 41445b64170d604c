"""Evaluation metrics: accuracy, clustering accuracy and a sample-judging classifier.

``jaxgan.metrics.accuracy`` is the *function* (it shadows the submodule of the same
name as a package attribute); import the module's other names from
``jaxgan.metrics.accuracy`` directly or from this package.
"""

from jaxgan.metrics.accuracy import ClusteringAccuracy
from jaxgan.metrics.accuracy import accuracy
from jaxgan.metrics.accuracy import clustering_accuracy
from jaxgan.metrics.accuracy import contingency_matrix
from jaxgan.metrics.classifier import Classifier
from jaxgan.metrics.classifier import cached_classifier
from jaxgan.metrics.classifier import classifier_logits
from jaxgan.metrics.classifier import classify
from jaxgan.metrics.classifier import train_classifier

__all__ = [
    'Classifier',
    'ClusteringAccuracy',
    'accuracy',
    'cached_classifier',
    'classifier_logits',
    'classify',
    'clustering_accuracy',
    'contingency_matrix',
    'train_classifier',
]

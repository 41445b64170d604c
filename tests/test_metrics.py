"""Accuracy, clustering accuracy and the sample-judging classifier."""

import itertools
import os

import hypothesis.extra.numpy as hnp
import jax
import numpy as np
import pytest
from flax import nnx
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxgan import metrics
from jaxgan.metrics import classifier as clf
from jaxgan.metrics.accuracy import accuracy, clustering_accuracy

# ----------------------------------------------------------------------- accuracy


def test_accuracy():
  assert metrics.accuracy([0, 1, 2, 2], np.array([0, 1, 1, 2])) == 0.75
  with pytest.raises(ValueError, match="same length"):
    accuracy([0, 1], [0])
  with pytest.raises(ValueError, match="integers"):
    accuracy([0.5], [0])
  with pytest.raises(ValueError, match="empty"):
    accuracy([], [])


def _brute_force(cluster_ids, labels, num_clusters, num_classes):
  """Best accuracy over all one-to-one partial maps cluster -> class."""
  best = 0
  n = max(num_clusters, num_classes)
  for perm in itertools.permutations(range(n)):
    # cluster c -> class perm[c]; pairs with c or perm[c] out of range are unmatched.
    correct = sum(1 for c, k in zip(cluster_ids, labels) if perm[c] == k and perm[c] < num_classes)
    best = max(best, correct)
  return best / len(labels)


ids_and_labels = st.integers(1, 4).flatmap(
  lambda clusters: st.integers(1, 4).flatmap(
    lambda classes: st.integers(1, 12).flatmap(
      lambda n: st.tuples(
        st.just(clusters),
        st.just(classes),
        hnp.arrays(np.int64, n, elements=st.integers(0, clusters - 1)),
        hnp.arrays(np.int64, n, elements=st.integers(0, classes - 1)),
      )
    )
  )
)


@settings(max_examples=60, deadline=None)
@given(ids_and_labels)
def test_clustering_accuracy_matches_brute_force(case):
  clusters, classes, ids, labels = case
  result = clustering_accuracy(ids, labels, num_clusters=clusters, num_classes=classes)
  assert result.accuracy == pytest.approx(_brute_force(ids, labels, clusters, classes))
  # The mapping is one-to-one and achieves the accuracy.
  matched = result.mapping[result.mapping >= 0]
  assert len(set(matched.tolist())) == len(matched) == min(clusters, classes)
  assert np.mean(result.mapping[ids] == labels) == pytest.approx(result.accuracy)


@settings(max_examples=40, deadline=None)
@given(ids_and_labels, st.randoms(use_true_random=False))
def test_clustering_accuracy_permutation_invariant(case, random):
  clusters, classes, ids, labels = case
  perm = list(range(clusters))
  random.shuffle(perm)
  relabelled = np.asarray(perm)[ids]
  a = clustering_accuracy(ids, labels, num_clusters=clusters, num_classes=classes)
  b = clustering_accuracy(relabelled, labels, num_clusters=clusters, num_classes=classes)
  assert a.accuracy == pytest.approx(b.accuracy)


def test_clustering_accuracy_identity_and_extra_clusters():
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 5, 200)
  predictions = np.where(rng.random(200) < 0.8, labels, rng.integers(0, 5, 200))
  result = metrics.clustering_accuracy(predictions, labels)
  assert result.accuracy == pytest.approx(accuracy(predictions, labels))
  np.testing.assert_array_equal(result.mapping, np.arange(5))
  # 4 clusters for 2 classes: clusters 2 and 3 stay unmatched and count as wrong.
  ids = np.array([0, 0, 1, 1, 2, 3, 3])
  labels = np.array([1, 1, 0, 0, 1, 0, 0])
  value, mapping = clustering_accuracy(ids, labels)
  assert value == pytest.approx(4 / 7)
  np.testing.assert_array_equal(mapping, [1, 0, -1, -1])
  # More classes than clusters: the unmatched classes are wrong.
  assert clustering_accuracy([0, 0, 0], [0, 1, 2]).accuracy == pytest.approx(1 / 3)
  with pytest.raises(ValueError, match="out of range"):
    clustering_accuracy([0, 3], [0, 1], num_clusters=2)
  with pytest.raises(ValueError, match=">= 0"):
    clustering_accuracy([0, -1], [0, 1])


# --------------------------------------------------------------------- classifier

NUM_CLASSES = 4
FEATURES = (4, 8, 16)  # tiny, so training stays fast under the tests' -O0 XLA flag


def _leaves(tree):
  return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]


def squares(n, *, seed, size=8):
  """Class k: a bright 3x3 square in quadrant k of a noisy dark image (uint8 HxWx1)."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, NUM_CLASSES, n)
  images = rng.normal(0.25, 0.15, (n, size, size, 1))
  half = size // 2
  for i, k in enumerate(labels):
    r, c = divmod(int(k), 2)
    images[i, r * half : r * half + 3, c * half : c * half + 3] += 0.6
  return np.clip(images * 255, 0, 255).astype(np.uint8), labels


def test_classifier_learns_separable_data():
  images, labels = squares(512, seed=0)
  test_images, test_labels = squares(256, seed=1)
  kwargs = dict(num_classes=NUM_CLASSES, steps=200, batch_size=16, seed=0, features=FEATURES, learning_rate=3e-3)
  params = clf.train_classifier(images, labels, **kwargs)
  predictions = clf.classify(params, test_images, batch_size=100)  # 3 batches, 1 padded
  assert predictions.shape == (256,) and predictions.dtype == np.int32
  assert accuracy(predictions, test_labels) > 0.95
  # Deterministic given the seed; float images in [-1, 1] are the same as uint8.
  again = clf.train_classifier(images, labels, **kwargs)
  for a, b in zip(_leaves(params), _leaves(again)):
    np.testing.assert_array_equal(a, b)
  floats = images.astype(np.float32) / 127.5 - 1
  np.testing.assert_array_equal(clf.classify(params, floats), clf.classify(params, images))


def test_classifier_model_and_shapes():
  model = clf.Classifier(image_shape=(6, 5, 3), num_classes=3, features=(2, 4), dropout_rate=0.5, rngs=nnx.Rngs(0))
  images = np.zeros((7, 6, 5, 3), np.float32)
  assert clf.classifier_logits(model, images, batch_size=4).shape == (7, 3)
  assert clf.classify(model, images).shape == (7,)
  with pytest.raises(ValueError, match="shape"):
    clf.classify(model, np.zeros((2, 5, 5, 3), np.float32))
  with pytest.raises(ValueError, match="key"):
    model(images, train=True)
  with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
    clf.train_classifier(images, np.full(7, 3), num_classes=3, steps=1, batch_size=2, seed=0, features=(2,))
  with pytest.raises(ValueError, match="not Classifier parameters"):
    clf.classify({"w": np.zeros(3)}, images)


def test_cached_classifier_reuses_and_invalidates(tmp_path, monkeypatch):
  calls = []
  real_train = clf.train_classifier

  def spy(*args, **kwargs):
    calls.append(kwargs)
    return real_train(*args, **kwargs)

  monkeypatch.setattr(clf, "train_classifier", spy)
  images, labels = squares(64, seed=0)
  kwargs = dict(steps=3, batch_size=8, seed=0, features=FEATURES)
  cache = tmp_path / "classifier"

  first = clf.cached_classifier(cache, images, labels, NUM_CLASSES, **kwargs)
  files = sorted(os.listdir(cache))
  assert len(calls) == 1 and len(files) == 1 and files[0].endswith(".npz")
  mtime = os.stat(cache / files[0]).st_mtime_ns

  second = clf.cached_classifier(cache, images, labels, NUM_CLASSES, **kwargs)
  assert len(calls) == 1, "the cached classifier must be reused"
  assert os.stat(cache / files[0]).st_mtime_ns == mtime
  for a, b in zip(_leaves(first), _leaves(second)):
    np.testing.assert_array_equal(a, b)
  np.testing.assert_array_equal(clf.classify(first, images), clf.classify(second, images))

  changed = images.copy()
  changed[0, 0, 0, 0] ^= 1  # one pixel differs: a new classifier
  clf.cached_classifier(cache, changed, labels, NUM_CLASSES, **kwargs)
  assert len(calls) == 2 and len(os.listdir(cache)) == 2
  clf.cached_classifier(cache, images, labels, NUM_CLASSES, **{**kwargs, "seed": 1})
  assert len(calls) == 3 and len(os.listdir(cache)) == 3

  # A corrupt cache file is retrained and replaced, not trusted.
  (cache / files[0]).write_bytes(b"not an npz")
  clf.cached_classifier(cache, images, labels, NUM_CLASSES, **kwargs)
  assert len(calls) == 4
  assert not [f for f in os.listdir(cache) if f.startswith(".tmp")]


@settings(max_examples=30, deadline=None)
@given(k=st.integers(2, 6), n=st.integers(1, 60), seed=st.integers(0, 2**31 - 1))
def test_per_class_accuracy_matches_a_loop_and_weights_back_to_accuracy(k, n, seed):
  rng = np.random.default_rng(seed)
  labels, predictions = rng.integers(0, k, n), rng.integers(0, k, n)
  per = metrics.per_class_accuracy(predictions, labels, k)
  for c in range(k):
    if (labels == c).any():
      assert per[c] == np.mean(predictions[labels == c] == c)
    else:
      assert np.isnan(per[c])  # no example of the class
  present = ~np.isnan(per)
  counts = np.bincount(labels, minlength=k)
  np.testing.assert_allclose((per[present] * counts[present]).sum() / n, accuracy(predictions, labels))

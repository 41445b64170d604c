"""Semi-supervised subsets: balanced labelled choice, label hiding, streams via BatchLoader."""

import numpy as np
import pytest

from jaxgan import data
from jaxgan.data import subsets

NUM_CLASSES = 5


class ArraySource:
  """In-memory labelled source; image i holds the value i so reads can be traced.

  ``label_reads`` counts reads that returned a label (every example read does).
  """

  def __init__(self, labels, *, with_getitems=True):
    self.labels_array = np.asarray(labels)
    self.num_classes = NUM_CLASSES
    self.name = "array"
    self.reads = 0
    if not with_getitems:
      self.__getitems__ = None

  def __len__(self):
    return self.labels_array.size

  def __getitem__(self, index):
    self.reads += 1
    return {"image": np.full((2, 2, 1), index, np.int32), "label": int(self.labels_array[index])}

  def __getitems__(self, indices):
    return [self[i] for i in indices]


def _labels(n=203, seed=0):
  # Uneven classes; class 4 is the rarest.
  rng = np.random.default_rng(seed)
  return rng.choice(NUM_CLASSES, size=n, p=[0.3, 0.25, 0.2, 0.15, 0.1])


def test_all_labels_reads_label_field():
  labels = _labels()
  source = ArraySource(labels)
  np.testing.assert_array_equal(subsets.all_labels(source), labels)

  class WithFastPath(ArraySource):
    @property
    def labels(self):
      return self.labels_array

  fast = WithFastPath(labels)
  np.testing.assert_array_equal(subsets.all_labels(fast), labels)
  assert fast.reads == 0  # the label array was used, no example was read


def test_balanced_indices_balance_determinism_and_seed():
  labels = _labels()
  chosen = data.balanced_labeled_indices(labels, num_labeled=50, num_classes=5, seed=3)
  assert chosen.size == 50 and np.all(np.diff(chosen) > 0)  # sorted, distinct
  np.testing.assert_array_equal(np.bincount(labels[chosen], minlength=5), [10] * 5)
  again = data.balanced_labeled_indices(labels, num_labeled=50, num_classes=5, seed=3)
  np.testing.assert_array_equal(chosen, again)
  other = data.balanced_labeled_indices(labels, num_labeled=50, num_classes=5, seed=4)
  assert not np.array_equal(chosen, other)


@pytest.mark.parametrize(
  "num_labeled, match",
  [
    (0, r"--num_labeled must be a positive integer; got 0"),
    (-5, r"--num_labeled must be a positive integer; got -5"),
    (52, r"--num_labeled=52 is not divisible by the number of classes 5"),
    (
      500,
      r"--num_labeled=500 asks for 100 examples of each of 5 classes, but class \d "
      r"has only \d+ examples",
    ),
  ],
)
def test_bad_num_labeled(num_labeled, match):
  with pytest.raises(ValueError, match=match):
    data.balanced_labeled_indices(_labels(), num_labeled=num_labeled, num_classes=5, seed=0)


def test_too_many_names_the_short_class():
  labels = np.array([0] * 10 + [1] * 10 + [2] * 3)
  with pytest.raises(ValueError, match="class 2 has only 3 examples"):
    data.balanced_labeled_indices(labels, num_labeled=12, num_classes=3, seed=0)
  with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
    data.balanced_labeled_indices(np.array([0, 3]), num_labeled=3, num_classes=3, seed=0)


def test_subset_source_view():
  source = ArraySource(_labels(20), with_getitems=False)
  view = subsets.SubsetSource(source, [7, 2, 11])
  assert len(view) == 3 and view.num_classes == NUM_CLASSES
  assert view[0]["image"][0, 0, 0] == 7 and view[-1]["label"] == source[11]["label"]
  assert [ex["image"][0, 0, 0] for ex in view.__getitems__([2, 1])] == [11, 2]
  with pytest.raises(IndexError):
    view[3]
  with pytest.raises(ValueError, match=r"indices must be in \[0, 20\)"):
    subsets.SubsetSource(source, [0, 20])
  hidden = subsets.SubsetSource(source, [7, 2], hide_labels=True)
  assert hidden[0]["label"] == -1 and hidden[0]["image"][0, 0, 0] == 7
  with pytest.raises(ValueError):
    view.indices[0] = 1  # read-only


def test_streams_through_batch_loader():
  labels = _labels()
  source = ArraySource(labels)
  labeled, unlabeled = data.semi_supervised_sources(source, num_labeled=25, seed=0)
  chosen = set(labeled.indices.tolist())
  assert len(chosen) == 25
  np.testing.assert_array_equal(np.bincount(labels[labeled.indices], minlength=5), [5] * 5)

  loader = data.BatchLoader(labeled, global_batch_size=10, seed=1)
  seen = set()
  for batch in loader.iterate(0, 30):  # 12 epochs of the labelled subset
    source_index = batch["image"][:, 0, 0, 0]
    assert set(source_index.tolist()) <= chosen
    np.testing.assert_array_equal(batch["label"], labels[source_index])
    seen |= set(source_index.tolist())
  assert seen == chosen

  # The unlabelled stream is the whole split (labelled examples included), label -1.
  assert len(unlabeled) == len(source)
  unl_loader = data.BatchLoader(unlabeled, global_batch_size=29, seed=2)
  seen = set()
  for step in range(len(source) // 29):
    batch = unl_loader.batch(step)
    assert np.all(batch["label"] == -1)
    seen |= set(batch["image"][:, 0, 0, 0].tolist())
  assert seen == set(range(len(source)))


def test_semi_supervised_sources_explicit_labels_and_determinism():
  labels = _labels()
  source = ArraySource(labels)
  first, _ = data.semi_supervised_sources(source, num_labeled=25, seed=5, labels=labels)
  assert source.reads == 0  # given labels: no example is read to choose the subset
  again, _ = data.semi_supervised_sources(source, num_labeled=25, seed=5)
  np.testing.assert_array_equal(first.indices, again.indices)
  other, _ = data.semi_supervised_sources(source, num_labeled=25, seed=6, labels=labels)
  assert not np.array_equal(first.indices, other.indices)
  with pytest.raises(ValueError, match="--num_labeled=26"):
    data.semi_supervised_sources(source, num_labeled=26, seed=0, labels=labels)
  with pytest.raises(ValueError, match="shape"):
    data.semi_supervised_sources(source, num_labeled=25, seed=0, labels=labels[:-1])

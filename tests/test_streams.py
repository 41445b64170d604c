"""Zipped batch streams."""

import numpy as np
import pytest

from jaxgan.data import BatchLoader
from jaxgan.data.streams import ZippedBatches
from tests import tiny


def _zipped():
  a = BatchLoader(tiny.ListSource(n=20, seed=0), global_batch_size=4, seed=1)
  b = BatchLoader(tiny.ListSource(n=12, seed=1), global_batch_size=6, seed=2)
  return a, b, ZippedBatches({"labeled": a, "unlabeled": b})


def test_zip_is_the_parts_side_by_side_and_resumable():
  a, b, z = _zipped()
  it = z.iterate(0, 7)
  batches = list(it)
  assert len(batches) == 7
  for s, merged in enumerate(batches):
    assert sorted(merged) == ["labeled/image", "labeled/label", "unlabeled/image", "unlabeled/label"]
    np.testing.assert_array_equal(merged["labeled/image"], a.batch(s)["image"])
    np.testing.assert_array_equal(merged["unlabeled/label"], b.batch(s)["label"])
    assert merged["labeled/image"].shape[0] == 4 and merged["unlabeled/image"].shape[0] == 6
  later = next(z.iterate(5))
  for k in later:
    np.testing.assert_array_equal(later[k], batches[5][k])
    np.testing.assert_array_equal(z.batch(5)[k], batches[5][k])


def test_empty_zip_is_an_error():
  with pytest.raises(ValueError):
    ZippedBatches({})

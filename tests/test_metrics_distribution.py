"""FID / KID / IS / SIFID on features, and the FCN-score: properties first, then equality with
pytorch-fid's and torch-fidelity's own functions on the same features (where installed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxgan.metrics import distribution as dist
from jaxgan.metrics import segmentation as seg


def _features(seed: int, n: int = 300, d: int = 8, shift: float = 0.0) -> np.ndarray:
  rng = np.random.default_rng(seed)
  mix = rng.normal(size=(d, d)) / np.sqrt(d)
  return rng.normal(size=(n, d)) @ mix + shift


# -- FID ----------------------------------------------------------------------------------------


def test_fid_of_a_set_with_itself_is_zero_and_the_distance_is_symmetric():
  x, y = _features(0), _features(1, shift=0.5)
  assert abs(dist.fid_from_features(x, x)) < 1e-9
  assert dist.fid_from_features(x, y) == pytest.approx(dist.fid_from_features(y, x), rel=1e-9)
  assert dist.fid_from_features(x, y) > 0.1


def test_fid_is_invariant_to_sample_order():
  x, y = _features(2), _features(3)
  perm = np.random.default_rng(0).permutation(len(x))
  assert dist.fid_from_features(x[perm], y) == pytest.approx(dist.fid_from_features(x, y), rel=1e-10)


def test_frechet_distance_of_diagonal_gaussians_has_its_closed_form():
  mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
  v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
  expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
  assert dist.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected, rel=1e-12)


def test_frechet_distance_regularises_a_product_without_a_finite_root(monkeypatch):
  mu1, s1 = dist.statistics(_features(11, n=6, d=10))  # rank 5
  mu2, s2 = dist.statistics(_features(12, n=6, d=10))
  real_sqrtm, calls = dist.linalg.sqrtm, []

  def sqrtm(a):  # the first root (of the raw product) is not finite, as for some singular products
    calls.append(a)
    return np.full_like(a, np.nan) if len(calls) == 1 else real_sqrtm(a)

  monkeypatch.setattr(dist.linalg, "sqrtm", sqrtm)
  value = dist.frechet_distance(mu1, s1, mu2, s2, eps=1e-3)
  monkeypatch.setattr(dist.linalg, "sqrtm", real_sqrtm)
  eye = 1e-3 * np.eye(10)
  np.testing.assert_allclose(calls[1], (s1 + eye) @ (s2 + eye))
  covmean = real_sqrtm((s1 + eye) @ (s2 + eye)).real
  expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
  assert value == pytest.approx(expected, rel=1e-12)


def test_frechet_distance_refuses_mismatched_statistics():
  with pytest.raises(ValueError, match="different dimensions"):
    dist.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=6), st.integers(0, 2**16))
def test_feature_stats_over_batches_equal_the_statistics_of_all_features(sizes, seed):
  x = _features(seed, n=sum(sizes) + 2, d=5)
  acc = dist.FeatureStats(5, keep=True)
  start = 0
  for size in [*sizes, 2]:
    acc.add(x[start : start + size].astype(np.float32))
    start += size
  mu, sigma = acc.statistics()
  ref_mu, ref_sigma = dist.statistics(x.astype(np.float32))
  np.testing.assert_allclose(mu, ref_mu, rtol=1e-12, atol=1e-12)
  np.testing.assert_allclose(sigma, ref_sigma, rtol=1e-9, atol=1e-12)
  np.testing.assert_array_equal(acc.features(), x.astype(np.float32))


def test_statistics_files_round_trip_and_read_pytorch_fid_files(tmp_path):
  mu, sigma = dist.statistics(_features(4))
  path = dist.save_statistics(str(tmp_path / "s.npz"), mu, sigma)
  loaded = dist.load_statistics(path)
  np.testing.assert_array_equal(loaded[0], mu)
  np.testing.assert_array_equal(loaded[1], sigma)
  np.savez_compressed(tmp_path / "theirs.npz", mu=mu, sigma=sigma)  # pytorch-fid's --save-stats format
  assert dist.frechet_distance(*dist.load_statistics(str(tmp_path / "theirs.npz")), mu, sigma) == pytest.approx(
    0, abs=1e-9
  )
  np.savez(tmp_path / "other.npz", a=mu)
  with pytest.raises(ValueError, match="other.npz: not a statistics file"):
    dist.load_statistics(str(tmp_path / "other.npz"))


# -- KID, IS, SIFID ---------------------------------------------------------------------------------


def test_kid_is_unbiased_for_two_samples_of_one_distribution():
  # Many independent pairs of samples of one distribution: the mean estimate is within a few
  # standard errors of 0 (a biased estimator's offset, 2 E k(x,x) / m here, is far larger).
  rng = np.random.default_rng(0)
  values = [
    dist.kernel_distance(rng.normal(size=(40, 4)), rng.normal(size=(40, 4)), subsets=1, subset_size=40, seed=i)[
      "kid_mean"
    ]
    for i in range(200)
  ]
  mean, stderr = np.mean(values), np.std(values) / np.sqrt(len(values))
  assert abs(mean) < 4 * stderr
  x = rng.normal(size=(40, 4))
  biased_offset = 2 * np.mean(np.diag(dist.polynomial_kernel(x, x))) / 40
  assert 4 * stderr < biased_offset
  shifted = dist.kernel_distance(rng.normal(size=(40, 4)), rng.normal(size=(40, 4)) + 1, subsets=5, subset_size=40)
  assert shifted["kid_mean"] > 20 * stderr


def test_kid_refuses_subsets_larger_than_the_sets():
  with pytest.raises(ValueError, match="KID subsets of 1000 need at least that many samples"):
    dist.kernel_distance(_features(0), _features(1))


def test_inception_score_of_confident_uniform_predictions_is_the_number_of_classes():
  k, per_class = 7, 30
  labels = np.tile(np.arange(k), per_class)
  logits = 50.0 * np.eye(k)[labels]  # confident, each class equally often in every split
  score = dist.inception_score(logits, splits=3, shuffle=False)
  assert score["is_mean"] == pytest.approx(k, rel=1e-6) and score["is_std"] < 1e-6
  one_class = dist.inception_score(50.0 * np.eye(k)[np.zeros(60, int)], splits=3)
  assert one_class["is_mean"] == pytest.approx(1.0, rel=1e-6)  # no diversity


def test_sifid_is_the_frechet_distance_of_the_positions_of_two_maps():
  real, fake = _features(5, n=12 * 9, d=6).reshape(12, 9, 6), _features(6, n=7 * 10, d=6).reshape(7, 10, 6)
  assert dist.sifid(real, fake) == pytest.approx(
    dist.fid_from_features(real.reshape(-1, 6), fake.reshape(-1, 6)), rel=1e-12
  )
  assert abs(dist.sifid(real, real[::-1, ::-1])) < 1e-9  # positions are a set: order does not matter
  with pytest.raises(ValueError, match="same C"):
    dist.sifid(real, fake[..., :5])


# -- equality with the reference implementations -------------------------------------------------


@pytest.fixture(scope="module")
def references():
  from tests import reference_fid

  return reference_fid.modules()


@pytest.mark.parametrize("n", [200, 5])  # 5 samples in 16 dimensions: rank-deficient, a complex root
def test_fid_equals_pytorch_fids_function(references, n):
  x, y = _features(7, n=n, d=16), _features(8, n=n + 3, d=16, shift=0.3)
  mu1, s1 = dist.statistics(x)
  mu2, s2 = dist.statistics(y)
  theirs = references.fid_score.calculate_frechet_distance(mu1, s1, mu2, s2)
  assert dist.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(theirs, rel=1e-6)


def test_kid_and_is_equal_torch_fidelitys_functions(references):
  import torch

  x, y = _features(9, n=120, d=16), _features(10, n=100, d=16, shift=0.2)
  theirs = references.metric_kid.kid_features_to_metric(
    torch.from_numpy(x), torch.from_numpy(y), kid_subsets=20, kid_subset_size=50, verbose=False, rng_seed=2020
  )
  ours = dist.kernel_distance(x, y, subsets=20, subset_size=50)
  assert ours["kid_mean"] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-6)
  assert ours["kid_std"] == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-6)
  logits = np.random.default_rng(0).normal(size=(103, 12)) * 3
  theirs = references.metric_isc.isc_features_to_metric(torch.from_numpy(logits), splits=10)
  ours = dist.inception_score(logits, splits=10)
  assert ours["is_mean"] == pytest.approx(theirs["inception_score_mean"], rel=1e-6)
  assert ours["is_std"] == pytest.approx(theirs["inception_score_std"], rel=1e-6)


# -- FCN-score -----------------------------------------------------------------------------------


def test_fcn_score_of_hand_made_label_maps():
  truth = np.array([[0, 0, 1, 1], [2, 2, 255, 1]])
  predicted = np.array([[0, 1, 1, 1], [2, 0, 0, 1]])  # the 255 pixel's prediction is ignored
  hist = seg.confusion_histogram(truth, predicted, 4)
  np.testing.assert_array_equal(hist[:3, :3], [[1, 1, 0], [0, 3, 0], [1, 0, 1]])
  assert hist.sum() == 7 and hist[3].sum() == hist[:, 3].sum() == 0
  s = seg.scores_from_histogram(hist)
  assert s["per_pixel_accuracy"] == pytest.approx(5 / 7)
  # class 3 is absent from both: 0 in the means, as the official script's 1e-12 makes it
  assert s["per_class_accuracy"] == pytest.approx((1 / 2 + 3 / 3 + 1 / 2 + 0) / 4)
  assert s["class_iou"] == pytest.approx((1 / 3 + 3 / 4 + 1 / 2 + 0) / 4)


def test_fcn_score_sums_one_histogram_over_images_and_is_perfect_for_the_truth():
  rng = np.random.default_rng(0)
  truths = [rng.integers(0, 5, (6, 7)) for _ in range(3)]
  perfect = seg.fcn_score([(t, t) for t in truths], segment=lambda photo: photo, num_classes=5)
  assert [perfect[k] for k in ("per_pixel_accuracy", "per_class_accuracy", "class_iou")] == pytest.approx([1, 1, 1])
  noisy = [(rng.integers(0, 5, t.shape), t) for t in truths]
  total = sum(seg.confusion_histogram(t, p, 5) for p, t in noisy)
  assert seg.fcn_score(noisy, segment=lambda p: p, num_classes=5)["class_iou"] == pytest.approx(
    seg.scores_from_histogram(total)["class_iou"]
  )
  with pytest.raises(ValueError, match="predicted class ids outside"):
    seg.confusion_histogram(truths[0], truths[0] + 5, 5)

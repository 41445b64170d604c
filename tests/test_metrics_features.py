"""Feature extraction for FID/KID/IS: batching and sharding change nothing; scores are named by
their features and behave as distances."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from jaxgan.metrics import classifier, distribution, features


@pytest.fixture(scope="module")
def judged():
  rng = np.random.default_rng(0)
  images = rng.uniform(-1, 1, (37, 12, 12, 1)).astype(np.float32)
  labels = rng.integers(0, 3, 37)
  params = classifier.train_classifier(
    images, labels, num_classes=3, steps=3, batch_size=8, seed=0, features=(4, 8, 16)
  )
  return params, images


@pytest.mark.parametrize("batch_size", [1, 8, 100])
def test_embedding_in_batches_of_any_size_equals_the_classifier_on_all_images(judged, batch_size):
  params, images = judged
  extractor = features.judge(params, images.shape[1:])
  extractor = type(extractor)(extractor.name, extractor.apply, extractor.params, batch_size=batch_size)
  out = features.embed(extractor, images)
  assert out["pool"].shape == (37, 16) and out["logits"].shape == (37, 3)
  np.testing.assert_allclose(out["logits"], classifier.classifier_logits(params, images), rtol=1e-5, atol=1e-5)


_SHARDED = """
import jax, numpy as np
from jaxgan.metrics import classifier, features
from jaxgan.train import sharding
assert len(jax.devices()) == 4
rng = np.random.default_rng(0)
images = rng.uniform(-1, 1, (13, 12, 12, 1)).astype(np.float32)
params = classifier.train_classifier(images, rng.integers(0, 3, 13), num_classes=3, steps=2, batch_size=4, seed=0,
                                     features=(4, 8, 16))
extractor = features.judge(params, (12, 12, 1))
one = features.embed(extractor, images, mesh=sharding.make_mesh(1))
four = features.embed(extractor, images, mesh=sharding.make_mesh(4))
for k in one:
  np.testing.assert_allclose(four[k], one[k], rtol=1e-5, atol=1e-6)
print("ok")
"""


def test_embedding_split_over_four_devices_equals_one_device():
  env = dict(
    os.environ,
    JAX_PLATFORMS="cpu",
    XLA_FLAGS=os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4",
  )
  r = subprocess.run(
    [sys.executable, "-c", _SHARDED], check=False, env=env, capture_output=True, text=True, timeout=300
  )
  assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-3000:]


def test_uint8_images_embed_as_their_float_values(judged):
  params, _ = judged
  u8 = np.random.default_rng(1).integers(0, 256, (5, 12, 12, 1), dtype=np.uint8)
  extractor = features.judge(params, (12, 12, 1))
  as_float = features.embed(extractor, u8.astype(np.float32) / 127.5 - 1)
  np.testing.assert_allclose(features.embed(extractor, u8)["pool"], as_float["pool"], rtol=1e-5, atol=1e-6)


def test_scores_are_named_by_their_features_and_vanish_for_the_same_images(judged):
  params, images = judged
  extractor = features.judge(params, images.shape[1:])
  real = features.embed(extractor, images)
  same = features.scores(extractor, real, real, kid_subsets=3)
  assert set(same) == {
    "fid_judge",
    "kid_judge_mean",
    "kid_judge_std",
    "kid_judge_subset_size",
    "is_judge_mean",
    "is_judge_std",
  }
  assert abs(same["fid_judge"]) < 1e-6 and same["kid_judge_subset_size"] == 37
  other = features.embed(extractor, np.clip(images + 0.8, -1, 1))
  apart = features.scores(extractor, real, other, kid_subsets=3)
  assert apart["fid_judge"] > 1e-3
  assert apart["fid_judge"] == pytest.approx(distribution.fid_from_features(real["pool"], other["pool"]))


@pytest.mark.parametrize("kind", ["judge", "inception"])
def test_dcgan_reports_sample_scores_at_each_evaluation_and_in_eval_json(tmp_path, monkeypatch, kind):
  """--fid_features: the scores of the samples and the real-training floor, named by the features.
  (The Inception is replaced by tiny.small_inception: no real weights here, and a 2048-d Frechet
  distance costs ~10 s.)"""
  from jaxgan.methods import dcgan
  from tests import tiny

  loaded = []
  monkeypatch.setattr(features, "inception", tiny.small_inception(loaded))
  config = tiny.dcgan_config(
    workdir=str(tmp_path / "w"),
    dataset="digits",
    num_steps=2,
    eval_every=1,
    fid_features=kind,
    fid_samples=12,
    classifier_steps=2,
    classifier_features=(4, 8, 16),
    fid_weights="my_weights.npz",
  )
  dcgan.MODES["train"](config)
  result = json.loads((tmp_path / "w" / "eval.json").read_text())
  assert result["step"] == 2 and result[f"kid_{kind}_subset_size"] == 12
  assert result[f"fid_{kind}"] > 0 and 0 < result[f"real_train_fid_{kind}"]
  assert loaded == (["my_weights.npz"] if kind == "inception" else [])

"""``python -m jaxgan.metrics.fid``: folders and statistics files, as pytorch-fid's command, on a
random-weight Inception (no real weights here)."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from flax import nnx
from PIL import Image

from jaxgan.interop import inception as interop
from jaxgan.metrics import distribution, features
from jaxgan.metrics import fid as command
from jaxgan.models.inception import InceptionV3


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
  """A random Inception's weights as an .npz, with positive batch-norm variances."""
  net = InceptionV3(rngs=nnx.Rngs(0))
  _, params, stats = nnx.split(net, nnx.Param, ...)
  rng = np.random.default_rng(0)
  stats = jax.tree.map(lambda a: np.asarray(a) + 0.1 * rng.random(np.shape(a), np.float32), stats)
  path = tmp_path_factory.mktemp("w") / "inception_random.npz"
  interop.save_inception_npz(params, stats, path)
  return str(path)


def _folder(path, seed: int, n: int, sizes=((40, 40),)):
  path.mkdir()
  rng = np.random.default_rng(seed)
  for i in range(n):
    h, w = sizes[i % len(sizes)]
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path / f"{i:03d}.png")
  return str(path)


def _printed(out: str, name: str) -> float:
  return float(out.split(f"{name}: ")[1].split()[0])


def test_fid_of_folders_and_statistics_files(tmp_path, weights, capsys):
  a = _folder(tmp_path / "a", 0, 4, sizes=((40, 40), (32, 48)))  # mixed sizes are grouped
  b = _folder(tmp_path / "b", 1, 2, sizes=((32, 48),))
  flags = [f"--weights={weights}", "--batch_size=2"]
  assert command.main([a, b, *flags, "--kid", "--isc", f"--json={tmp_path / 'r.json'}"]) == 0
  out = capsys.readouterr().out
  # The same numbers from the library: every image embedded, then the distances.
  extractor = features.inception(weights, batch_size=2)
  ea, eb = command.folder_embeddings(extractor, a), command.folder_embeddings(extractor, b)
  kid = distribution.kernel_distance(ea["pool"], eb["pool"], subset_size=2)["kid_mean"]
  assert _printed(out, "KID") == pytest.approx(kid, rel=1e-4) and "KID_subset_size: 2" in out
  assert _printed(out, "IS") == pytest.approx(distribution.inception_score(eb["logits"], splits=2)["is_mean"], rel=1e-4)
  # A statistics file (pytorch-fid's --save-stats format) holds the folder's statistics and stands for
  # it. (Each Frechet distance of 2048-d statistics is a ~10 s scipy sqrtm here: two in this test.)
  stats = str(tmp_path / "a.npz")
  assert command.main([a, f"--save_stats={stats}", *flags]) == 0
  for saved, expected in zip(distribution.load_statistics(stats), distribution.statistics(ea["pool"])):
    np.testing.assert_allclose(saved, expected, rtol=1e-6, atol=1e-9)
  assert command.main([stats, b, *flags]) == 0
  assert _printed(capsys.readouterr().out, "FID") == pytest.approx(_printed(out, "FID"), rel=1e-5)
  assert _printed(out, "FID") > 0


def test_bad_paths_and_flags_are_named(tmp_path, weights, capsys):
  a = _folder(tmp_path / "a", 0, 2)
  (tmp_path / "empty").mkdir()
  cases = [
    ([a, str(tmp_path / "nope")], "nope: no such folder or statistics file"),
    ([a, str(tmp_path / "empty")], "empty holds no images"),
    ([a], "give two paths"),
    ([a, a, "--save_stats=x.npz"], "--save_stats takes one path"),
  ]
  for args, message in cases:
    assert command.main([*args, f"--weights={weights}"]) == 2
    assert message in capsys.readouterr().err

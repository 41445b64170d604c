"""SIFID feature maps and scores (``jaxgan.metrics.features``), on random Inception weights (there
are no real ones here), and against a transcription of the official ``SIFID/`` code where PyTorch
and pytorch-fid are installed."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxgan.interop import inception as interop
from jaxgan.metrics import distribution, features
from jaxgan.models import inception as inception_lib


def random_inception_npz(path, seed: int = 0) -> str:
  """Random FID-Inception weights saved as an ``.npz`` (``save_inception_npz``), drawn in numpy from
  the network's shapes (initialising the module itself takes ~20 s on a small CPU): He-normal
  kernels, batch-norm scales and variances in [1, 1.2] (positive), small biases and means."""
  _, params, stats = nnx.split(interop.abstract_inception(), nnx.Param, ...)
  rng = np.random.default_rng(seed)

  def fill(key_path, leaf):
    name, shape = key_path[-2].key, leaf.shape
    if name == "kernel":
      return rng.standard_normal(shape, np.float32) * np.float32(np.sqrt(2 / np.prod(shape[:-1])))
    if name in ("scale", "var"):
      return 1 + 0.2 * rng.random(shape, np.float32)
    return 0.1 * rng.standard_normal(shape, np.float32)

  params, stats = (jax.tree.map_with_path(fill, tree) for tree in (params, stats))
  interop.save_inception_npz(params, stats, path)
  return str(path)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
  return random_inception_npz(tmp_path_factory.mktemp("w") / "inception_random.npz")


def _images(seed: int, *shapes):
  rng = np.random.default_rng(seed)
  return [rng.integers(0, 256, shape, dtype=np.uint8) for shape in shapes]


def test_sifid_is_the_frechet_distance_of_the_maps_before_the_max_pools(weights):
  loaded = interop.load_fid_inception(weights)
  maps64, maps192 = features.inception_maps(loaded, "64"), features.inception_maps(loaded, "192")
  assert maps64.weights == "<loaded weights>" and maps192.channels == 192
  real, fake, grey = _images(0, (30, 36, 3), (24, 40, 3), (32, 32, 1))
  # The maps, computed here with the network's layers: "64" is Conv2d_2b_3x3's output, whose max pool
  # is models.inception's "64" output; "192" is Conv2d_4a_3x3's output after that pool.

  @jax.jit
  def direct(params, stats, x):
    net = nnx.merge(loaded[0], params, stats)
    m64 = net.Conv2d_2b_3x3(net.Conv2d_2a_3x3(net.Conv2d_1a_3x3(x)))
    pooled = net(x, outputs="64")["64"]
    return m64, inception_lib.max_pool(m64, 2), pooled, net.Conv2d_4a_3x3(net.Conv2d_3b_1x1(pooled))

  m64, m64_pooled, pooled, m192 = direct(*loaded[1:], jnp.asarray(real[None].astype(np.float32) / 127.5 - 1))
  np.testing.assert_allclose(maps64(real), m64[0], rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(m64_pooled, pooled, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(maps192(real), m192[0], rtol=1e-5, atol=1e-5)
  assert maps64(real).shape == (12, 15, 64) and maps192(real).shape == (3, 5, 192)
  assert [features.sifid_map_shape(299, 299, layer) for layer in ("64", "192")] == [(147, 147), (71, 71)]
  # Floats in [-1, 1] and uint8 give the same maps; grey is repeated to RGB.
  np.testing.assert_allclose(maps64(real.astype(np.float32) / 127.5 - 1), maps64(real), rtol=1e-6, atol=1e-6)
  np.testing.assert_array_equal(maps64(grey), maps64(np.repeat(grey, 3, axis=-1)))
  # The scores: distribution.sifid of the maps, one per generated image (sizes may differ), and their mean.
  scores = features.sifid_scores(real, [fake, grey], maps64)
  expected = [distribution.sifid(m64[0], maps64(f)) for f in (fake, grey)]
  np.testing.assert_allclose(scores["sifid_per_image"], expected, rtol=1e-6)
  assert scores["sifid_mean"] == pytest.approx(np.mean(expected)) and min(expected) > 0
  same = features.sifid_scores(real, [real], maps64)["sifid_per_image"][0]
  assert abs(same) < 1e-6 * scores["sifid_mean"]


def test_too_small_images_and_unknown_layers_are_named(weights):
  maps = features.inception_maps(weights, "192")
  assert features.sifid_min_side("64") == 9 and features.sifid_min_side("192") == 23
  with pytest.raises(ValueError, match=r"layer 192 .* at least 23: the image is 22x40 \(its feature map would be 1x6"):
    maps(np.zeros((22, 40, 3), np.uint8))
  with pytest.raises(ValueError, match="layer 64 .* at least 9: the image is 40x8"):
    features.check_sifid_size(40, 8, "64")
  features.check_sifid_size(9, 9, "64")
  with pytest.raises(ValueError, match=r"unknown SIFID layer '2048'; the layers are \['64', '192'\]"):
    features.inception_maps(weights, "2048")


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::scipy.linalg.LinAlgWarning")
def test_maps_and_scores_match_the_official_sifid_code(weights):
  """SinGAN's ``SIFID/inception.py`` blocks 0 (Conv2d_1a, 2a, 2b) and 1 (max pool, Conv2d_3b, 4a) on
  torchvision's layers, fed ``2 x - 1`` of the [0, 1] pixels, and ``sifid_score.py``'s statistics
  (``np.cov`` of the positions) and Frechet distance (pytorch-fid's)."""
  from tests import reference_fid as ref  # skips where torch / pytorch-fid are missing

  torch = ref.torch
  basic_conv = ref.pfid.torchvision.models.inception.BasicConv2d  # torchvision's layers, as Inception3 builds them
  stem = {
    "Conv2d_1a_3x3": basic_conv(3, 32, kernel_size=3, stride=2),
    "Conv2d_2a_3x3": basic_conv(32, 32, kernel_size=3),
    "Conv2d_2b_3x3": basic_conv(32, 64, kernel_size=3, padding=1),
    "Conv2d_3b_1x1": basic_conv(64, 80, kernel_size=1),
    "Conv2d_4a_3x3": basic_conv(80, 192, kernel_size=3),
  }
  with np.load(weights) as arrays:
    for name, layer in stem.items():
      layer.load_state_dict({k: torch.from_numpy(arrays[f"{name}.{k}"]) for k in layer.state_dict()}, strict=True)
      layer.eval()
  block0 = torch.nn.Sequential(stem["Conv2d_1a_3x3"], stem["Conv2d_2a_3x3"], stem["Conv2d_2b_3x3"])
  pool1 = torch.nn.MaxPool2d(kernel_size=3, stride=2)
  block1 = torch.nn.Sequential(pool1, stem["Conv2d_3b_1x1"], stem["Conv2d_4a_3x3"])
  real, fake = _images(1, (30, 36, 3), (27, 41, 3))

  def official(image, layer):
    x = 2 * ref.nchw(image[None].astype(np.float32) / 255) - 1
    with torch.no_grad():
      out = block0(x) if layer == "64" else block1(block0(x))
    act = ref.nhwc(out).reshape(-1, out.shape[1]).astype(np.float64)
    return act, np.mean(act, axis=0), np.cov(act, rowvar=False)

  loaded = interop.load_fid_inception(weights)
  for layer in ("64", "192"):
    maps = features.inception_maps(loaded, layer)
    (act_r, *stats_r), (_, *stats_f) = official(real, layer), official(fake, layer)
    np.testing.assert_allclose(maps(real).reshape(act_r.shape), act_r, rtol=1e-4, atol=1e-4)
    expected = ref.modules().fid_score.calculate_frechet_distance(*stats_r, *stats_f)
    assert features.sifid_scores(real, [fake], maps)["sifid_mean"] == pytest.approx(expected, rel=1e-4)

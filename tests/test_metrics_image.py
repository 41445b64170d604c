"""Image-quality metrics (L1, PSNR, SSIM) against their properties and scikit-image."""

import functools

import jax
import numpy as np
import pytest
import skimage.color
import skimage.data
import skimage.metrics

from jaxgan import metrics
from jaxgan.metrics import image_quality as iq

# One image shape throughout (B, H, W), so the jitted programs are compiled few times.
SHAPE = (2, 24, 26)
MODES = [pytest.param(True, id="gaussian"), pytest.param(False, id="uniform")]


def _pair(channels, seed=0, noise=0.2):
  """Random images in [0, 1] and a noisy copy, float64 ``[B, H, W, C]``."""
  rng = np.random.default_rng(seed)
  x = rng.uniform(0, 1, (*SHAPE, channels))
  return x, np.clip(x + rng.normal(0, noise, x.shape), 0, 1)


def _ref_ssim(x, y, data_range, gaussian):
  return np.array(
    [
      skimage.metrics.structural_similarity(
        a, b, channel_axis=-1, data_range=data_range, gaussian_weights=gaussian, use_sample_covariance=not gaussian
      )
      for a, b in zip(x, y)
    ]
  )


def _ref_psnr(x, y, data_range):
  return np.array([skimage.metrics.peak_signal_noise_ratio(a, b, data_range=data_range) for a, b in zip(x, y)])


@functools.cache
def _astronaut_pair():
  """Two 40x48 crops of skimage's astronaut in [-1, 1], and noisy copies."""
  image = skimage.data.astronaut().astype(np.float64) / 127.5 - 1
  x = np.stack([image[100:140, 180:228], image[300:340, 60:108]])
  rng = np.random.default_rng(1)
  return x, np.clip(x + rng.normal(0, 0.1, x.shape), -1, 1)


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("gaussian", MODES)
def test_identity(channels, gaussian):
  x, _ = _pair(channels)
  np.testing.assert_allclose(iq.ssim(x, x, data_range=1.0, gaussian=gaussian), 1.0, rtol=0, atol=1e-6)
  assert np.all(np.isposinf(iq.psnr(x, x, data_range=1.0)))
  np.testing.assert_array_equal(iq.l1(x, x), 0.0)


@pytest.mark.parametrize("gaussian", MODES)
def test_symmetry_and_bounds(gaussian):
  x, y = _pair(3)
  s = np.asarray(iq.ssim(x, y, data_range=1.0, gaussian=gaussian))
  np.testing.assert_allclose(iq.ssim(y, x, data_range=1.0, gaussian=gaussian), s, atol=1e-7)
  assert np.all((s > -1) & (s < 1))
  np.testing.assert_allclose(iq.psnr(y, x, data_range=1.0), iq.psnr(x, y, data_range=1.0))
  np.testing.assert_allclose(iq.l1(y, x), iq.l1(x, y))


def test_more_noise_scores_worse():
  x, y = _pair(3, noise=0.05)
  _, z = _pair(3, noise=0.3)
  assert np.all(iq.ssim(x, y, data_range=1.0) > iq.ssim(x, z, data_range=1.0))
  assert np.all(iq.psnr(x, y, data_range=1.0) > iq.psnr(x, z, data_range=1.0))
  assert np.all(iq.l1(x, y) < iq.l1(x, z))


def test_value_range_invariance():
  """Scaling images with their data_range changes no score; shifting changes PSNR only.

  SSIM's luminance term compares local means, so it is not shift-invariant: [-1, 1]
  images score lower than the same images mapped to [0, 1] (skimage agrees).
  """
  x, y = _pair(3)
  for fn in (iq.ssim, iq.psnr):
    np.testing.assert_allclose(fn(255 * x, 255 * y, data_range=255.0), fn(x, y, data_range=1.0), rtol=1e-5)
  np.testing.assert_allclose(iq.psnr(2 * x - 1, 2 * y - 1, data_range=2.0), iq.psnr(x, y, data_range=1.0), rtol=1e-5)
  assert np.all(iq.ssim(2 * x - 1, 2 * y - 1, data_range=2.0) < iq.ssim(x, y, data_range=1.0))


def test_batch_consistency():
  x, y = _pair(3)
  for fn in (
    functools.partial(iq.ssim, data_range=1.0),
    functools.partial(iq.ssim, data_range=1.0, gaussian=False),
    functools.partial(iq.psnr, data_range=1.0),
    iq.l1,
  ):
    batched = np.asarray(fn(x, y))
    assert batched.shape == (SHAPE[0],)
    single = [float(fn(x[i : i + 1], y[i : i + 1])[0]) for i in range(SHAPE[0])]
    np.testing.assert_allclose(batched, single, rtol=1e-6)


def test_jit():
  x, y = _pair(3)

  @jax.jit
  def scores(a, b, data_range):
    return (iq.ssim(a, b, data_range=data_range), iq.psnr(a, b, data_range=data_range), iq.l1(a, b))

  for got, want in zip(scores(x, y, 1.0), (iq.ssim(x, y, data_range=1.0), iq.psnr(x, y, data_range=1.0), iq.l1(x, y))):
    np.testing.assert_allclose(got, want, rtol=1e-6)


# ------------------------------------------------------------------ against skimage


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("gaussian", MODES)
def test_matches_skimage_random(channels, gaussian):
  x, y = _pair(channels)
  np.testing.assert_allclose(
    iq.ssim(x, y, data_range=1.0, gaussian=gaussian), _ref_ssim(x, y, 1.0, gaussian), rtol=0, atol=1e-5
  )
  np.testing.assert_allclose(iq.psnr(x, y, data_range=1.0), _ref_psnr(x, y, 1.0), rtol=1e-5)
  np.testing.assert_allclose(iq.l1(x, y), np.abs(x - y).mean(axis=(1, 2, 3)), rtol=1e-5)


@pytest.mark.parametrize("gaussian", MODES)
@pytest.mark.parametrize("data_range", [2.0, 255.0])
def test_matches_skimage_astronaut(gaussian, data_range):
  x, y = _astronaut_pair()
  if data_range == 255.0:
    x, y = (x + 1) * 127.5, (y + 1) * 127.5
  np.testing.assert_allclose(
    iq.ssim(x, y, data_range=data_range, gaussian=gaussian), _ref_ssim(x, y, data_range, gaussian), rtol=0, atol=1e-5
  )
  # Grayscale: one channel of the same crops.
  np.testing.assert_allclose(
    iq.ssim(x[..., 1:2], y[..., 1:2], data_range=data_range, gaussian=gaussian),
    _ref_ssim(x[..., 1:2], y[..., 1:2], data_range, gaussian),
    rtol=0,
    atol=1e-5,
  )
  np.testing.assert_allclose(iq.psnr(x, y, data_range=data_range), _ref_psnr(x, y, data_range), rtol=1e-5)


def test_options_match_skimage():
  """Non-default window, sigma, constants and covariance agree with skimage too."""
  x, y = _pair(3)
  ours = iq.ssim(x, y, data_range=1.0, gaussian=False, win_size=5, k1=0.02, k2=0.05, use_sample_covariance=False)
  ref = [
    skimage.metrics.structural_similarity(
      a, b, channel_axis=-1, data_range=1.0, win_size=5, K1=0.02, K2=0.05, use_sample_covariance=False
    )
    for a, b in zip(x, y)
  ]
  np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5)
  ours = iq.ssim(x, y, data_range=1.0, sigma=1.0, use_sample_covariance=True)
  ref = [
    skimage.metrics.structural_similarity(a, b, channel_axis=-1, data_range=1.0, gaussian_weights=True, sigma=1.0)
    for a, b in zip(x, y)
  ]
  np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5)


# ------------------------------------------------------------ super-resolution options


def test_rgb_to_y_matches_skimage():
  x, _ = _astronaut_pair()
  want = skimage.color.rgb2ycbcr((x + 1) / 2)[..., :1]
  np.testing.assert_allclose(iq.rgb_to_y(x, data_range=2.0, data_min=-1.0), want, rtol=1e-6)
  np.testing.assert_allclose(iq.rgb_to_y((x + 1) * 127.5, data_range=255.0, data_min=0), want, rtol=1e-6)


def test_shave_and_y_channel():
  x, y = _astronaut_pair()  # [-1, 1]
  s = 4
  crop = np.s_[:, s:-s, s:-s, :]
  ya, yb = (skimage.color.rgb2ycbcr((a[crop] + 1) / 2)[..., :1] for a in (x, y))
  kw = {"data_range": 2.0, "shave": s, "y_channel": True, "data_min": -1.0}
  np.testing.assert_allclose(iq.psnr(x, y, **kw), _ref_psnr(ya, yb, 255.0), rtol=1e-5)
  np.testing.assert_allclose(iq.ssim(x, y, **kw), _ref_ssim(ya, yb, 255.0, True), rtol=0, atol=1e-5)
  # Shave alone equals scoring the cropped images.
  np.testing.assert_allclose(
    iq.psnr(x, y, data_range=2.0, shave=s), iq.psnr(x[crop], y[crop], data_range=2.0), rtol=1e-6
  )


# ------------------------------------------------------------------------- errors


def test_errors():
  x, _ = _pair(3)
  shapes = r"same shape; got \(2, 24, 26, 3\) and \(2, 24, 25, 3\)"
  with pytest.raises(ValueError, match=shapes):
    iq.ssim(x, x[:, :, :-1], data_range=1.0)
  with pytest.raises(ValueError, match=r"\[B, H, W, C\].*\(24, 26, 3\)"):
    iq.psnr(x[0], x[0], data_range=1.0)
  with pytest.raises(ValueError, match=r"l1 needs images \[B, H, W, C\]"):
    iq.l1(x[0], x)
  with pytest.raises(ValueError, match="data_range must be > 0"):
    iq.psnr(x, x, data_range=0)
  with pytest.raises(ValueError, match="shave=12 leaves no pixels"):
    iq.psnr(x, x, data_range=1.0, shave=12)
  with pytest.raises(ValueError, match=r"smaller than the 11x11 window"):
    iq.ssim(x, x, data_range=1.0, shave=7)
  with pytest.raises(ValueError, match="positive odd"):
    iq.ssim(x, x, data_range=1.0, gaussian=False, win_size=6)
  with pytest.raises(ValueError, match="set by sigma"):
    iq.ssim(x, x, data_range=1.0, win_size=7)
  with pytest.raises(ValueError, match="needs data_min"):
    iq.ssim(x, x, data_range=1.0, y_channel=True)
  with pytest.raises(ValueError, match=r"needs RGB images.*\(2, 24, 26, 1\)"):
    iq.psnr(x[..., :1], x[..., :1], data_range=1.0, y_channel=True, data_min=0.0)


def test_exported():
  assert metrics.ssim is iq.ssim and metrics.psnr is iq.psnr
  assert metrics.l1 is iq.l1 and metrics.rgb_to_y is iq.rgb_to_y

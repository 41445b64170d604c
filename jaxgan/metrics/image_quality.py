"""Full-reference image quality: L1, PSNR and SSIM (for Pix2Pix / super-resolution).

All functions take two batches of images ``[B, H, W, C]`` (NHWC, the same shape) and
return one score per image, ``[B]``; they are jittable. PSNR and SSIM need an explicit
``data_range`` (max - min of the value range): ``2.0`` for jaxgan's [-1, 1] images,
``1.0`` for [0, 1], ``255.0`` for [0, 255]. Scores are computed in float32 (float64
when given float64 inputs with ``jax_enable_x64``).

SSIM follows ``skimage.metrics.structural_similarity(..., channel_axis=-1)``: the SSIM
map of each channel, averaged over its interior (a ``(win_size - 1) // 2`` border is
left out, so the filter mode does not matter), then averaged over the channels.

- ``gaussian=True`` (default): Wang et al. (2004), an 11x11 Gaussian window (sigma 1.5,
  truncated at 3.5 sigma) and population covariances; matches skimage's
  ``gaussian_weights=True, use_sample_covariance=False`` (skimage's own default for
  ``use_sample_covariance`` is True, even with ``gaussian_weights=True``).
- ``gaussian=False``: skimage's default, a 7x7 uniform window with sample covariances.

SSIM is scale- but not shift-invariant (its luminance term compares local means):
[-1, 1] images scored with ``data_range=2`` agree with skimage on the same arrays but
score lower than the same images mapped to [0, 1] or [0, 255], the usual convention
in papers. Map them first (``(x + 1) / 2`` with ``data_range=1``) for comparable
numbers. PSNR is shift-invariant; L1 is in the images' units.

Super-resolution evaluation usually scores the luma of [0, 255] RGB images
(``y_channel=True``; ITU-R BT.601, Y in [16, 235], scored with a data range of 255)
after cropping ``shave`` pixels (typically the scale factor) from every side.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

# ITU-R BT.601 luma of [0, 1] RGB on the [16, 235] scale (as MATLAB's rgb2ycbcr).
_Y_WEIGHTS = (65.481, 128.553, 24.966)
_Y_OFFSET = 16.0
_Y_RANGE = 255.0


def _float_pair(x, y, name: str):
  """``x, y`` as float arrays of one dtype, checked to be ``[B, H, W, C]`` alike."""
  x, y = jnp.asarray(x), jnp.asarray(y)
  if x.ndim != 4 or y.ndim != 4:
    raise ValueError(f"{name} needs images [B, H, W, C]; got shapes {x.shape} and {y.shape}")
  if x.shape != y.shape:
    raise ValueError(f"{name} needs images of the same shape; got {x.shape} and {y.shape}")
  dtype = jnp.promote_types(jnp.result_type(x, y), jnp.float32)
  if not jnp.issubdtype(dtype, jnp.floating):
    dtype = jnp.float32
  return x.astype(dtype), y.astype(dtype)


def _check_range(data_range, name: str = "data_range") -> None:
  if isinstance(data_range, (int, float, np.number)) and not data_range > 0:
    raise ValueError(f"{name} must be > 0; got {data_range}")


def rgb_to_y(images, *, data_range, data_min):
  """ITU-R BT.601 luma ``[..., 1]`` in [16, 235] of RGB ``images [..., 3]``.

  The images are first mapped to [0, 1] with ``(images - data_min) / data_range``
  (``data_min=-1, data_range=2`` for jaxgan's [-1, 1] images; ``0, 255`` for uint8
  values). The result is what SR papers score, with a data range of 255; it agrees
  with ``skimage.color.rgb2ycbcr(rgb)[..., :1]`` for [0, 1] input.
  """
  images = jnp.asarray(images)
  if images.ndim < 1 or images.shape[-1] != 3:
    raise ValueError(f"rgb_to_y needs RGB images [..., 3]; got shape {images.shape}")
  _check_range(data_range)
  images = images.astype(jnp.promote_types(images.dtype, jnp.float32))
  unit = (images - data_min) / data_range
  weights = jnp.asarray(_Y_WEIGHTS, images.dtype)
  return _Y_OFFSET + jnp.sum(unit * weights, axis=-1, keepdims=True)


def _prepare(x, y, name: str, *, data_range, shave: int, y_channel: bool, data_min):
  """Checked, shaved and (optionally) luma images, and the data range to score with."""
  x, y = _float_pair(x, y, name)
  _check_range(data_range)
  shave = int(shave)
  _, height, width, channels = x.shape
  if shave < 0 or 2 * shave >= min(height, width):
    raise ValueError(f"{name}: shave={shave} leaves no pixels of images with shape {x.shape}")
  if shave:
    x, y = (a[:, shave : height - shave, shave : width - shave, :] for a in (x, y))
  if y_channel:
    if channels != 3:
      raise ValueError(f"{name}: y_channel needs RGB images; got shape {x.shape}")
    if data_min is None:
      raise ValueError(
        f"{name}: y_channel needs data_min, the low end of the value range "
        "(-1.0 for [-1, 1] images, 0.0 for [0, 1] or [0, 255])"
      )
    x, y = (rgb_to_y(a, data_range=data_range, data_min=data_min) for a in (x, y))
    data_range = _Y_RANGE
  return x, y, data_range


def l1(x, y):
  """Mean absolute error of each image pair, ``[B]`` (in the images' units)."""
  x, y = _float_pair(x, y, "l1")
  return jnp.mean(jnp.abs(x - y), axis=(1, 2, 3))


def psnr(x, y, *, data_range, shave: int = 0, y_channel: bool = False, data_min=None):
  """Peak signal-to-noise ratio in dB of each image pair, ``[B]``.

  ``10 log10(data_range**2 / mse)``, ``inf`` for identical images; as
  ``skimage.metrics.peak_signal_noise_ratio(x[i], y[i], data_range=data_range)``.

  Args:
    x, y: images ``[B, H, W, C]``.
    data_range: max - min of the images' value range (e.g. 2.0 for [-1, 1]).
    shave: pixels cropped from each side of H and W before scoring.
    y_channel: score the BT.601 luma of RGB images (see :func:`rgb_to_y`) with a data
      range of 255; needs ``data_min``.
    data_min: the low end of the value range; used only with ``y_channel``.
  """
  x, y, data_range = _prepare(x, y, "psnr", data_range=data_range, shave=shave, y_channel=y_channel, data_min=data_min)
  return _psnr(x, y, data_range)


@jax.jit
def _psnr(x, y, data_range):
  diff = (x - y) / jnp.asarray(data_range, x.dtype)
  mse = jnp.mean(jnp.square(diff), axis=(1, 2, 3))
  return -10.0 * jnp.log10(mse)


def _gaussian_taps(sigma: float, truncate: float) -> tuple[np.ndarray, int]:
  """``scipy.ndimage``'s 1-D Gaussian taps, radius ``int(truncate * sigma + 0.5)``."""
  radius = int(truncate * sigma + 0.5)
  taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
  return taps / taps.sum(), 2 * radius + 1


def _filter_valid(images, taps: tuple[float, ...]):
  """Separable 'valid' correlation of ``[N, H, W, C]`` with ``taps`` along H then W."""
  size = len(taps)
  for axis in (1, 2):
    out = images.shape[axis] - size + 1
    images = sum(tap * jax.lax.slice_in_dim(images, k, k + out, axis=axis) for k, tap in enumerate(taps))
  return images


@functools.partial(jax.jit, static_argnames=("taps", "cov_norm"))
def _ssim(x, y, data_range, k1, k2, *, taps, cov_norm):
  dtype = x.dtype
  scale = jnp.asarray(data_range, dtype)
  x, y = x / scale, y / scale  # SSIM with range R == SSIM of images / R with range 1.
  # Variances from per-channel centred images, to limit cancellation in float32; the
  # filter weights sum to 1, so the local means are the centred means + the offsets.
  x_mean = jnp.mean(x, axis=(1, 2), keepdims=True)
  y_mean = jnp.mean(y, axis=(1, 2), keepdims=True)
  xc, yc = x - x_mean, y - y_mean
  stacked = jnp.concatenate([xc, yc, xc * xc, yc * yc, xc * yc], axis=-1)
  mx, my, mxx, myy, mxy = jnp.split(_filter_valid(stacked, taps), 5, axis=-1)
  vx = cov_norm * (mxx - mx * mx)
  vy = cov_norm * (myy - my * my)
  vxy = cov_norm * (mxy - mx * my)
  ux, uy = mx + x_mean, my + y_mean
  c1 = jnp.square(jnp.asarray(k1, dtype))
  c2 = jnp.square(jnp.asarray(k2, dtype))
  num = (2 * ux * uy + c1) * (2 * vxy + c2)
  den = (ux * ux + uy * uy + c1) * (vx + vy + c2)
  return jnp.mean(num / den, axis=(1, 2, 3))


def ssim(
  x,
  y,
  *,
  data_range,
  gaussian: bool = True,
  sigma: float = 1.5,
  win_size: int | None = None,
  k1: float = 0.01,
  k2: float = 0.03,
  use_sample_covariance: bool | None = None,
  shave: int = 0,
  y_channel: bool = False,
  data_min=None,
):
  """Structural similarity of each image pair, ``[B]`` (1 for identical images).

  The mean over channels of each channel's SSIM map, averaged over the interior that
  excludes a ``(win_size - 1) // 2`` border: as
  ``skimage.metrics.structural_similarity(x[i], y[i], channel_axis=-1,
  data_range=data_range, gaussian_weights=gaussian, ...)``, with
  ``use_sample_covariance=False`` passed there in the Gaussian mode.

  Args:
    x, y: images ``[B, H, W, C]``; H and W (after ``shave``) at least ``win_size``.
    data_range: max - min of the images' value range (e.g. 2.0 for [-1, 1]).
    gaussian: True: Gaussian-weighted window of std ``sigma``, truncated at 3.5 sigma
      (11x11 for sigma 1.5), population covariance (Wang et al. 2004). False: a
      uniform ``win_size`` window (default 7), sample covariance (skimage's default).
    sigma: the Gaussian window's standard deviation.
    win_size: the uniform window's odd side; must be None with ``gaussian`` (the
      Gaussian window's size follows from ``sigma``).
    k1, k2: the stabilising constants, ``C1 = (k1 R)^2``, ``C2 = (k2 R)^2``.
    use_sample_covariance: normalise covariances by ``N - 1`` instead of ``N`` (``N``
      the window's pixel count); default False if ``gaussian`` else True.
    shave: pixels cropped from each side of H and W before scoring.
    y_channel: score the BT.601 luma of RGB images (see :func:`rgb_to_y`) with a data
      range of 255; needs ``data_min``.
    data_min: the low end of the value range; used only with ``y_channel``.
  """
  x, y, data_range = _prepare(x, y, "ssim", data_range=data_range, shave=shave, y_channel=y_channel, data_min=data_min)
  if gaussian:
    if win_size is not None:
      raise ValueError(f"ssim: win_size={win_size} is set by sigma when gaussian=True")
    if not sigma > 0:
      raise ValueError(f"ssim: sigma must be > 0; got {sigma}")
    taps, win_size = _gaussian_taps(float(sigma), 3.5)
  else:
    win_size = 7 if win_size is None else int(win_size)
    if win_size < 1 or win_size % 2 != 1:
      raise ValueError(f"ssim: win_size must be a positive odd number; got {win_size}")
    taps = np.full(win_size, 1.0 / win_size)
  if use_sample_covariance is None:
    use_sample_covariance = not gaussian
  if min(x.shape[1:3]) < win_size:
    raise ValueError(
      f"ssim: images of shape {x.shape} (after shave={shave}) are smaller than the {win_size}x{win_size} window"
    )
  if any(isinstance(k, (int, float, np.number)) and not k >= 0 for k in (k1, k2)):
    raise ValueError(f"ssim: k1 and k2 must be >= 0; got {k1} and {k2}")
  count = win_size * win_size
  cov_norm = count / (count - 1) if use_sample_covariance and count > 1 else 1.0
  return _ssim(x, y, data_range, k1, k2, taps=tuple(float(t) for t in taps), cov_norm=float(cov_norm))


def mean_scores(per_image: list[dict[str, float]]) -> dict[str, float]:
  """The mean of every score over a list of per-image score dicts (all with the same keys)."""
  if not per_image:
    raise ValueError("no images to score")
  return {k: float(np.mean([s[k] for s in per_image])) for k in per_image[0]}

"""MATLAB's bicubic ``imresize``: exact in numpy (how the SR literature makes LR images), and traceable in JAX.

SR papers (SRCNN, VDSR, SRResNet/SRGAN, EDSR ...) and their benchmark LR files make
low-resolution images with MATLAB's ``imresize(hr, 1/s, 'bicubic')``, whose defaults
differ from other "bicubic" resizers (Pillow, OpenCV, ``jax.image``):

* the kernel is Keys' cubic convolution with a = -0.5::

      k(x) = 1.5|x|^3 - 2.5|x|^2 + 1            for |x| <= 1
             -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2    for 1 < |x| <= 2,   0 beyond

* when shrinking (scale < 1) it antialiases: the kernel is stretched to
  ``scale * k(scale * x)``, 4 / scale input pixels wide;
* output pixel ``i`` (1-based) samples input position ``u = i / scale + (1 - 1 / scale) / 2``
  (pixel centres aligned), with the weights ``h(u - j)`` of the input pixels ``j``
  normalised to sum to 1;
* pixels outside the image are mirrored with the edge pixel repeated ("symmetric",
  ``[... b a | a b c ...]``), as in current MATLAB releases and the Python ports the
  SR code uses (e.g. BasicSR's ``matlab_functions.imresize``); older MATLAB releases
  replicate the edge pixel instead (``boundary='replicate'``);
* the output size is ``ceil(scale * size)``; the dimension with the smaller scale is
  resized first (rows first on a tie).

Here the two passes run in float64 and a uint8 input is rounded and clipped once at
the end (the Python ports do the same; MATLAB's own uint8 path may round between the
passes, at most one grey level apart). Pillow's ``BICUBIC`` uses the same kernel and
antialiasing, but renormalises the weights at the borders instead of mirroring and
works in fixed point, so it agrees with this in the interior up to rounding only.

Two entry points, one kernel (:func:`resize_matrix`):

* :func:`matlab_imresize` (numpy, float64 passes, uint8 rounded once): the SR data pipeline,
  benchmark LR images and the bicubic baseline;
* :func:`imresize` (float32, numpy or JAX arrays ``[..., H, W, C]``, traceable and exactly
  differentiable): one ``[out, in]`` matrix per axis, an image resize is ``W_h @ x @ W_w^T`` per
  channel, inside ``jax.jit``; the two products commute, so the axis order does not matter (up to
  rounding). Unlike SinGAN's official ``imresize``, which converts to uint8 between calls, nothing
  is quantised, and nothing is clamped (SinGAN clamps at its call sites:
  :func:`jaxgan.data.single_image.imresize_clamped`).

This module imports nothing from jaxgan: ``jaxgan.nn`` and ``jaxgan.data`` both use it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

CUBIC_A = -0.5
KERNEL_WIDTH = 4.0  # the support of the cubic kernel, in input pixels at scale 1
BOUNDARIES = ("symmetric", "replicate")


def cubic(x: np.ndarray) -> np.ndarray:
  """Keys' cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``)."""
  ax = np.abs(np.asarray(x, np.float64))
  ax2, ax3 = ax * ax, ax * ax * ax
  a = CUBIC_A
  near = (a + 2) * ax3 - (a + 3) * ax2 + 1
  far = a * ax3 - 5 * a * ax2 + 8 * a * ax - 4 * a
  return np.where(ax <= 1, near, np.where(ax <= 2, far, 0.0))


def _source_index(indices: np.ndarray, length: int, boundary: str) -> np.ndarray:
  """0-based indices outside [0, length) mapped into it."""
  if boundary == "replicate":
    return np.clip(indices, 0, length - 1)
  period = np.mod(indices, 2 * length)
  return np.where(period < length, period, 2 * length - 1 - period)


def resize_matrix(
  in_length: int, out_length: int, scale: float | None = None, *, antialiasing: bool = True, boundary: str = "symmetric"
) -> np.ndarray:
  """The ``[out_length, in_length]`` float64 matrix of one bicubic ``imresize`` pass.

  ``scale`` defaults to ``out_length / in_length`` (MATLAB's scale when the output size
  is given); each row holds the normalised weights of one output pixel.
  """
  if boundary not in BOUNDARIES:
    raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
  if in_length < 1 or out_length < 1:
    raise ValueError(f"lengths must be positive, got {in_length} -> {out_length}")
  scale = out_length / in_length if scale is None else float(scale)
  width = KERNEL_WIDTH
  if scale < 1 and antialiasing:
    kernel = lambda x: scale * cubic(scale * x)
    width = KERNEL_WIDTH / scale
  else:
    kernel = cubic
  u = np.arange(1, out_length + 1, dtype=np.float64) / scale + 0.5 * (1 - 1 / scale)
  left = np.floor(u - width / 2)
  taps = math.ceil(width) + 2
  indices = left[:, None] + np.arange(taps)[None, :]  # 1-based input positions
  weights = kernel(u[:, None] - indices)
  weights /= weights.sum(axis=1, keepdims=True)
  source = _source_index(indices.astype(np.int64) - 1, in_length, boundary)
  matrix = np.zeros((out_length, in_length), np.float64)
  np.add.at(matrix, (np.repeat(np.arange(out_length), taps), source.ravel()), weights.ravel())
  return matrix


def output_size(size: Sequence[int], scale: float) -> tuple[int, int]:
  """MATLAB's ``ceil(scale * [h w])``, computed robustly for exact quotients like 1 / 3."""
  return tuple(max(1, math.ceil(round(scale * s, 9))) for s in size)


def matlab_imresize(
  image: np.ndarray,
  scale: float | None = None,
  *,
  size: Sequence[int] | None = None,
  antialiasing: bool = True,
  boundary: str = "symmetric",
) -> np.ndarray:
  """MATLAB's ``imresize(image, scale, 'bicubic')`` or ``imresize(image, [h w], 'bicubic')``.

  Args:
    image: ``HxW`` or ``HxWxC`` (channels resized independently), uint8 or float.
    scale: the resize factor (e.g. ``1 / 4`` to make x4 LR images); or give ``size``.
    size: the output ``(h, w)``; then each dimension's scale is ``size / input size``.
    antialiasing: stretch the kernel when shrinking (MATLAB's default, True).
    boundary: ``'symmetric'`` (current MATLAB) or ``'replicate'`` (older releases).

  Returns:
    uint8 (rounded, clipped to 0..255) for a uint8 input, float64 otherwise (not
    clipped: bicubic overshoots near edges).
  """
  image = np.asarray(image)
  if image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
    raise ValueError(f"expected an HxW or HxWxC image, got shape {image.shape}")
  if image.dtype != np.uint8 and not np.issubdtype(image.dtype, np.floating):
    raise ValueError(f"expected a uint8 or float image, got dtype {image.dtype}")
  if (scale is None) == (size is None):
    raise ValueError(f"give exactly one of scale and size, got scale={scale!r}, size={size!r}")
  in_size = image.shape[:2]
  if size is None:
    if not scale > 0:
      raise ValueError(f"scale must be positive, got {scale!r}")
    out_size, scales = output_size(in_size, scale), (float(scale),) * 2
  else:
    out_size = tuple(int(s) for s in size)
    if len(out_size) != 2 or min(out_size) < 1:
      raise ValueError(f"size must be a positive (h, w), got {size!r}")
    scales = tuple(o / i for o, i in zip(out_size, in_size))
  result = image.astype(np.float64)
  order = sorted(range(2), key=lambda d: scales[d])  # stable: rows first on a tie
  for dim in order:
    matrix = resize_matrix(in_size[dim], out_size[dim], scales[dim], antialiasing=antialiasing, boundary=boundary)
    result = np.moveaxis(np.tensordot(matrix, np.moveaxis(result, dim, 0), axes=1), 0, dim)
  if image.dtype == np.uint8:
    return np.clip(np.rint(result), 0, 255).astype(np.uint8)
  return result


def bicubic_downscale(image: np.ndarray, factor: int, **kwargs) -> np.ndarray:
  """``matlab_imresize(image, 1 / factor)`` for an image whose sides are multiples of ``factor``."""
  if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
    raise ValueError(f"factor must be a positive integer, got {factor!r}")
  h, w = np.shape(image)[:2]
  if h % factor or w % factor:
    raise ValueError(
      f"image size {h}x{w} is not a multiple of the downscaling factor {factor}; "
      "crop it first (see jaxgan.data.hr_crops.modcrop)"
    )
  return matlab_imresize(image, size=(h // factor, w // factor), **kwargs)


# -- float32, numpy or JAX (traceable) ------------------------------------------------------------


def output_side(side: int, scale: float) -> int:
  """MATLAB's output side for a scale factor: ``ceil(scale * side)``."""
  return output_size((side, side), scale)[0]


def _check_side(name: str, value) -> int:
  if not isinstance(value, (int, np.integer)) or value < 1:
    raise ValueError(f"{name} must be a positive integer, got {value!r}")
  return int(value)


@functools.lru_cache(maxsize=256)
def _float32_matrix(in_side: int, out_side: int, scale: float, antialias: bool) -> np.ndarray:
  matrix = resize_matrix(in_side, out_side, scale, antialiasing=antialias)
  matrix = matrix.astype(np.float32)
  matrix.setflags(write=False)
  return matrix


def axis_matrix(
  in_side: int, out_side: int | None = None, *, scale: float | None = None, antialias: bool = True
) -> np.ndarray:
  """The ``[out_side, in_side]`` float32 matrix that resizes one axis.

  Give ``scale`` (then ``out_side`` defaults to ``ceil(scale * in_side)``), or ``out_side``
  alone (then ``scale = out_side / in_side``, MATLAB's rule for an output size).
  """
  in_side = _check_side("in_side", in_side)
  if scale is None:
    if out_side is None:
      raise ValueError("give scale or out_side")
    out_side = _check_side("out_side", out_side)
    scale = out_side / in_side
  else:
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
      raise ValueError(f"scale must be a positive number, got {scale!r}")
    out_side = output_side(in_side, scale) if out_side is None else _check_side("out_side", out_side)
  return _float32_matrix(in_side, out_side, float(scale), bool(antialias))


def imresize(
  images,
  scale: float | tuple[float, float] | None = None,
  *,
  output_shape: tuple[int, int] | None = None,
  antialias: bool = True,
):
  """Resize ``[..., H, W, C]`` images (numpy or JAX arrays) like MATLAB's ``imresize``.

  ``scale`` (one factor, or ``(scale_h, scale_w)``) gives sides ``ceil(scale * side)``;
  ``output_shape=(h, w)`` gives those sides with the scale ``h / H``, ``w / W``; given both,
  the weights use ``scale`` and the sides ``output_shape`` (SinGAN's imresize_to_shape).
  Float32 in, float32 out; values are not clipped.
  """
  if images.ndim < 3:
    raise ValueError(f"images must have shape [..., H, W, C], got {images.shape}")
  h, w = images.shape[-3], images.shape[-2]
  if scale is None and output_shape is None:
    raise ValueError("give scale or output_shape")
  scales = (None, None) if scale is None else (tuple(scale) if isinstance(scale, (tuple, list)) else (scale, scale))
  sides = (None, None) if output_shape is None else tuple(output_shape)
  mh = axis_matrix(h, sides[0], scale=scales[0], antialias=antialias)
  mw = axis_matrix(w, sides[1], scale=scales[1], antialias=antialias)
  if isinstance(images, np.ndarray):
    xp = np
  else:
    import jax.numpy as xp  # pylint: disable=import-outside-toplevel
  out = xp.einsum("oh,...hwc->...owc", mh, images.astype(np.float32))
  return xp.einsum("pw,...owc->...opc", mw, out)

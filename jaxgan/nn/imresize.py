"""MATLAB's bicubic ``imresize`` on float arrays, numpy or JAX (traceable, differentiable).

The weights are :func:`jaxgan.data.matlab_resize.resize_matrix` (Keys' cubic, a = -0.5,
antialiased when shrinking, symmetric boundary, sides ``ceil(scale * side)``): resizing one
axis is a ``[out, in]`` matrix built in numpy from static sizes, so an image resize is
``W_h @ x @ W_w^T`` per channel. That runs inside ``jax.jit`` and is exactly differentiable;
the two products commute, so the axis order does not matter (up to rounding). For uint8
images and the SR data pipeline use :func:`jaxgan.data.matlab_resize.imresize`. Unlike
SinGAN's official ``imresize``, which converts to uint8 between calls, nothing is quantised,
and nothing is clamped (SinGAN clamps at its call sites:
:func:`jaxgan.data.single_image.imresize_clamped`).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from jaxgan.data import matlab_resize


def output_side(side: int, scale: float) -> int:
  """MATLAB's output side for a scale factor: ``ceil(scale * side)``."""
  return matlab_resize.output_size((side, side), scale)[0]


def _check_side(name: str, value) -> int:
  if not isinstance(value, (int, np.integer)) or value < 1:
    raise ValueError(f"{name} must be a positive integer, got {value!r}")
  return int(value)


@functools.lru_cache(maxsize=256)
def _resize_matrix(in_side: int, out_side: int, scale: float, antialias: bool) -> np.ndarray:
  matrix = matlab_resize.resize_matrix(in_side, out_side, scale, antialiasing=antialias)
  matrix = matrix.astype(np.float32)
  matrix.setflags(write=False)
  return matrix


def resize_matrix(in_side: int, out_side: int | None = None, *, scale: float | None = None,
                  antialias: bool = True) -> np.ndarray:
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
  return _resize_matrix(in_side, out_side, float(scale), bool(antialias))


def imresize(images, scale: float | tuple[float, float] | None = None, *,
             output_shape: tuple[int, int] | None = None, antialias: bool = True):
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
  scales = (None, None) if scale is None else (
      tuple(scale) if isinstance(scale, (tuple, list)) else (scale, scale))
  sides = (None, None) if output_shape is None else tuple(output_shape)
  mh = resize_matrix(h, sides[0], scale=scales[0], antialias=antialias)
  mw = resize_matrix(w, sides[1], scale=scales[1], antialias=antialias)
  if isinstance(images, np.ndarray):
    xp = np
  else:
    import jax.numpy as xp  # pylint: disable=import-outside-toplevel
  out = xp.einsum("oh,...hwc->...owc", mh, images.astype(np.float32))
  return xp.einsum("pw,...owc->...opc", mw, out)

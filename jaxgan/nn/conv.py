"""Strided convolutions whose backward pass takes XLA:CPU's fast paths.

A stride-``s`` convolution of ``x`` is the stride-1 convolution of its space-to-depth
rearrangement (``s x s`` blocks of the padded input moved into channels) with the kernel
rearranged the same way (taps zero-padded up to a multiple of ``s``). Both are the same
linear map; on XLA:CPU the stride-1 form's input and kernel gradients are ordinary
convolutions that run on Eigen, while the gradients XLA derives for the strided form are an
lhs-dilated and a window-dilated convolution that run several times slower (measured per
layer: benchmarks/README.md, "Strided convolutions"). So :func:`conv_general_dilated` computes
the forward pass as one strided convolution (XLA's fastest form of it) and, on CPU only,
the backward pass through the space-to-depth form; on GPU/TPU it is XLA's own convolution
throughout. It has ``lax.conv_general_dilated``'s signature, so ``nnx.Conv`` takes it as its
``conv_general_dilated``: :func:`Conv` is that ``nnx.Conv``, with the same parameters.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import jax
import jax.numpy as jnp
from flax import nnx

_NHWC = ("NHWC", "HWIO", "NHWC")


def space_to_depth_conv(x: jax.Array, kernel: jax.Array, stride: int,
                        padding: tuple[tuple[int, int], tuple[int, int]]) -> jax.Array:
  """The stride-``stride`` convolution of NHWC ``x`` (explicit ``padding``) as a stride-1 one."""
  s = stride
  b, h, w, c = x.shape
  kh, kw, _, o = kernel.shape
  (top, bottom), (left, right) = padding
  out_h = (h + top + bottom - kh) // s + 1
  out_w = (w + left + right - kw) // s + 1
  th, tw = -(-kh // s), -(-kw // s)  # taps per axis of the stride-1 kernel
  rows, cols = s * (out_h - 1 + th), s * (out_w - 1 + tw)  # padded input the blocks cover
  x = jax.lax.pad(x, jnp.zeros((), x.dtype),
                  ((0, 0, 0), (top, rows - h - top, 0), (left, cols - w - left, 0), (0, 0, 0)))
  x = x.reshape(b, rows // s, s, cols // s, s, c).transpose(0, 1, 3, 2, 4, 5)
  x = x.reshape(b, rows // s, cols // s, s * s * c)
  kernel = jnp.pad(kernel, ((0, th * s - kh), (0, tw * s - kw), (0, 0), (0, 0)))
  kernel = kernel.reshape(th, s, tw, s, -1, o).transpose(0, 2, 1, 3, 4, 5).reshape(th, tw, -1, o)
  return jax.lax.conv_general_dilated(x, kernel, (1, 1), "VALID", dimension_numbers=_NHWC)


def _strided(x, kernel, stride, padding):
  return jax.lax.conv_general_dilated(x, kernel, (stride, stride), padding, dimension_numbers=_NHWC)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def strided_conv(x: jax.Array, kernel: jax.Array, stride: int,
                 padding: tuple[tuple[int, int], tuple[int, int]]) -> jax.Array:
  """NHWC/HWIO convolution with square ``stride`` and explicit ``padding``, fast gradients."""
  return _strided(x, kernel, stride, padding)


def _strided_fwd(x, kernel, stride, padding):
  return _strided(x, kernel, stride, padding), (x, kernel)


def _strided_bwd(stride, padding, residuals, g):
  x, kernel = residuals

  def vjp_of(conv):
    return lambda x, kernel, g: jax.vjp(lambda x, k: conv(x, k, stride, padding), x, kernel)[1](g)

  return jax.lax.platform_dependent(x, kernel, g, cpu=vjp_of(space_to_depth_conv), default=vjp_of(_strided))


strided_conv.defvjp(_strided_fwd, _strided_bwd)


def _explicit(padding: Any, x_shape, k_shape, strides) -> tuple[tuple[int, int], ...] | None:
  if isinstance(padding, str):
    return tuple(jax.lax.padtype_to_pads(x_shape[1:3], k_shape[:2], strides, padding))
  return tuple((int(lo), int(hi)) for lo, hi in padding)


def conv_general_dilated(lhs: jax.Array, rhs: jax.Array, window_strides: Sequence[int], padding: Any,
                         lhs_dilation=None, rhs_dilation=None, dimension_numbers=None,
                         feature_group_count: int = 1, precision=None, **kwargs) -> jax.Array:
  """``lax.conv_general_dilated``; 2-D NHWC strided convolutions go through :func:`strided_conv`."""
  nhwc = jax.lax.conv_dimension_numbers(lhs.shape, rhs.shape, _NHWC)
  plain = (lhs.ndim == 4 and len(set(window_strides)) == 1 and window_strides[0] > 1
           and all(d in (None, 1) or tuple(d) == (1, 1) for d in (lhs_dilation, rhs_dilation))
           and feature_group_count == 1 and precision is None and not any(kwargs.values())
           and jax.lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers) == nhwc)
  if not plain:
    return jax.lax.conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                                        dimension_numbers, feature_group_count, precision=precision, **kwargs)
  pads = _explicit(padding, lhs.shape, rhs.shape, tuple(window_strides))
  return strided_conv(lhs, rhs, int(window_strides[0]), pads)


def Conv(*args, **kwargs) -> nnx.Conv:  # noqa: N802 (a layer constructor)
  """``nnx.Conv`` (same arguments, same parameters) computing with :func:`conv_general_dilated`."""
  return nnx.Conv(*args, conv_general_dilated=conv_general_dilated, **kwargs)

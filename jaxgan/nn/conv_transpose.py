"""PyTorch-semantics transposed convolution, computed as stride-1 convolutions per output phase.

``ConvTranspose2d(k, s, p, output_padding)`` writes ``x[i] * w[t]`` to output position
``s*i - p + t``. Output positions ``o = s*q + r`` of one phase ``r`` only receive kernel taps
``t = (r + p) mod s + s*m``, so each phase is an ordinary stride-1 correlation of the input
with a sub-kernel, and the phases are interleaved (depth-to-space). On XLA:CPU this is several
times faster than the lhs-dilated convolution that ``nnx.ConvTranspose`` lowers to, whose
kernel gradient is a reversed-window convolution without a fast path (see
``benchmarks/conv_layers.py``); on GPU/TPU the two are equivalent formulations.

The kernel is stored ``[kh, kw, in, out]`` in PyTorch's orientation (not flipped): a PyTorch
weight ``W`` of shape ``(in, out, kh, kw)`` is ``W.transpose(2, 3, 0, 1)`` here.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from flax import nnx

from jaxgan.nn.conv import SMALL_COUT, conv2d, patch_gemm_applies, xla_work_floor
from jaxgan.nn.init import normal_init
from jaxgan.nn.patch_gemm import few_outputs_conv_transpose, patch_gemm_conv_transpose

_DN = ("NHWC", "HWIO", "NHWC")


def output_size(n: int, *, kernel: int, stride: int, padding: int, output_padding: int = 0) -> int:
  """PyTorch's ConvTranspose output length."""
  return (n - 1) * stride - 2 * padding + kernel + output_padding


def _phase(n: int, out: int, r: int, *, kernel: int, stride: int, padding: int):
  """Taps (in correlation order) and the input padding (lo, hi) of output phase ``r``."""
  t = r + padding
  first, shift = t % stride, t // stride
  taps = list(range(first, kernel, stride))[::-1]
  q = len(range(r, out, stride))  # outputs of this phase
  lo = len(taps) - 1 - shift
  hi = q + len(taps) - 1 - n - lo
  return taps, (lo, hi), q


def conv_transpose(x: jax.Array, kernel: jax.Array, *, stride: int, padding: int, output_padding: int = 0) -> jax.Array:
  """PyTorch ``conv_transpose2d`` of NHWC ``x`` with a ``[kh, kw, in, out]`` kernel (no bias)."""
  if not 0 <= output_padding < stride:
    raise ValueError(f"output_padding={output_padding} must be in [0, stride={stride})")
  b, h, w, _ = x.shape
  kh, kw, _, _ = kernel.shape
  if xla_work_floor(b * h * w, kernel.shape):
    return _dilated(x, kernel, stride, padding, output_padding)
  if patch_gemm_applies(b * h * w, kernel.shape):  # few input pixels: one product per tap on CPU
    return jax.lax.platform_dependent(
      x,
      kernel,
      cpu=lambda x, k: patch_gemm_conv_transpose(x, k, stride, padding, output_padding),
      default=lambda x, k: _xla_conv_transpose(x, k, stride, padding, output_padding),
    )
  return _xla_conv_transpose(x, kernel, stride, padding, output_padding)


def _xla_conv_transpose(x, kernel, stride, padding, output_padding):
  """By phases where they have equal lengths, else XLA's lhs-dilated convolution."""
  _, h, w, _ = x.shape
  kh, kw, _, _ = kernel.shape
  out_h = output_size(h, kernel=kh, stride=stride, padding=padding, output_padding=output_padding)
  out_w = output_size(w, kernel=kw, stride=stride, padding=padding, output_padding=output_padding)
  if out_h % stride or out_w % stride:  # phases of unequal length: use the dilated form
    return _dilated(x, kernel, stride, padding, output_padding)
  return _by_phases(x, kernel, stride, padding, output_padding)


def _dilated(x, kernel, stride, padding, output_padding):
  """XLA's own form: the lhs-dilated convolution with the flipped kernel (and XLA's gradients)."""
  pads = [(k - 1 - padding, k - 1 - padding + output_padding) for k in kernel.shape[:2]]
  return jax.lax.conv_general_dilated(
    x, kernel[::-1, ::-1], (1, 1), pads, lhs_dilation=(stride, stride), dimension_numbers=_DN
  )


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _by_phases(x, kernel, stride, padding, output_padding):
  return _forward(x, kernel, stride, padding, output_padding)


def _by_phases_fwd(x, kernel, stride, padding, output_padding):
  return _forward(x, kernel, stride, padding, output_padding), (x, kernel)


def _forward(x, kernel, stride, padding, output_padding):
  """The phases; on CPU, with few output channels (where Eigen's convolutions are slow), one matrix
  product and the taps added into place (pix2pix's 128 -> 3 output layer: 10.5 -> 1.9 ms)."""
  if kernel.shape[3] <= SMALL_COUT:
    return jax.lax.platform_dependent(
      x,
      kernel,
      cpu=lambda x, k: few_outputs_conv_transpose(x, k, stride, padding, output_padding),
      default=lambda x, k: _phases_forward(x, k, stride, padding, output_padding),
    )
  return _phases_forward(x, kernel, stride, padding, output_padding)


def _by_phases_bwd(stride, padding, output_padding, residuals, g):
  """The transposed convolution is the adjoint of the strided convolution ``conv(g, W^T)``: its
  input gradient is that convolution (one strided conv, XLA's fast forward path) and its kernel
  gradient is that convolution's kernel gradient with ``x`` as the cotangent (one kernel
  gradient for all phases, through :func:`conv2d`'s)."""
  x, kernel = residuals
  pads = ((padding, padding - output_padding),) * 2  # conv(g) then has exactly x's size
  conv = lambda g, k: conv2d(g, k, stride, pads)  # noqa: E731
  swap = lambda k: jnp.swapaxes(k, 2, 3)  # noqa: E731  [kh, kw, in, out] <-> [kh, kw, out, in]
  dx = conv(g, swap(kernel))
  (dk,) = jax.vjp(lambda k: conv(g, k), swap(kernel))[1](x)
  return dx, swap(dk)


_by_phases.defvjp(_by_phases_fwd, _by_phases_bwd)


def _phases_forward(x, kernel, stride, padding, output_padding):
  """The output phases: stride-1 convolutions with static sub-kernels, interleaved."""
  b, h, w, _ = x.shape
  kh, kw, _, cout = kernel.shape
  out_h = output_size(h, kernel=kh, stride=stride, padding=padding, output_padding=output_padding)
  out_w = output_size(w, kernel=kw, stride=stride, padding=padding, output_padding=output_padding)
  rows = []
  for rh in range(stride):
    taps_h, pad_h, qh = _phase(h, out_h, rh, kernel=kh, stride=stride, padding=padding)
    cols = []
    for rw in range(stride):
      taps_w, pad_w, qw = _phase(w, out_w, rw, kernel=kw, stride=stride, padding=padding)
      if not taps_h or not taps_w:
        cols.append(jnp.zeros((b, qh, qw, cout), x.dtype))
        continue
      sub = kernel[taps_h[-1] :: stride, taps_w[-1] :: stride][::-1, ::-1]  # the taps, by static slices
      xp = jax.lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), (*pad_h, 0), (*pad_w, 0), (0, 0, 0)))
      cols.append(jax.lax.conv_general_dilated(xp, sub, (1, 1), "VALID", dimension_numbers=_DN))
    rows.append(jnp.stack(cols, axis=3))  # [b, qh, qw, s(w phase), c]
  y = jnp.stack(rows, axis=2)  # [b, qh, s(h phase), qw, s(w phase), c]
  return y.reshape(b, out_h, out_w, cout)


class ConvTranspose(nnx.Module):
  """``torch.nn.ConvTranspose2d`` in NHWC: same output size, alignment and parameters."""

  def __init__(
    self,
    in_features: int,
    out_features: int,
    kernel_size: int,
    *,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    use_bias: bool = True,
    kernel_init=normal_init(),
    bias_init=nnx.initializers.zeros,
    rngs: nnx.Rngs,
  ):
    if not 0 <= padding <= kernel_size - 1:
      raise ValueError(f"padding={padding} must be in [0, kernel_size - 1 = {kernel_size - 1}]")
    self.stride, self.padding, self.output_padding = stride, padding, output_padding
    self.kernel = nnx.Param(kernel_init(rngs.params(), (kernel_size, kernel_size, in_features, out_features)))
    self.bias = nnx.Param(bias_init(rngs.params(), (out_features,))) if use_bias else None

  def __call__(self, x: jax.Array) -> jax.Array:
    y = conv_transpose(
      x, self.kernel[...], stride=self.stride, padding=self.padding, output_padding=self.output_padding
    )
    return y if self.bias is None else y + self.bias[...]

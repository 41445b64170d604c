"""Convolutions of few pixels as matrix products over explicit patches (im2col).

Where a convolution has few output pixels (or a transposed convolution few input pixels) and a
large kernel (the innermost levels of pix2pix's U-Net: 512 and 1024 channels at 1x1 to 8x8), its
cost is reading the kernel, not arithmetic. XLA:CPU's convolutions and the space-to-depth and
phase forms of :mod:`jaxgan.nn.conv` and :mod:`jaxgan.nn.conv_transpose` then spend most of their
time rearranging the kernel (transposes, flips, phase slices: each a kernel-sized copy per call;
measured per layer in benchmarks/README.md, "Few pixels"). Here the kernel is only ever read in
its stored ``[kh, kw, in, out]`` layout, as one ``[kh kw in, out]`` matrix or ``kh kw`` stacked
``[in, out]`` matrices (both free reshapes), and the small activations are rearranged instead:

* convolution: ``y = P(x) @ K`` with ``P(x)`` the ``[pixels, kh kw in]`` patches; input
  gradient ``P^T(g @ K^T)`` (``P^T`` sums the patches back, a few pads); kernel gradient
  ``P(x)^T @ g``.
* transposed convolution (PyTorch's ``conv_transpose2d``, the adjoint of the strided
  convolution): per tap ``t`` ``z_t = x @ K_t``, then ``y = P^T(z)``; input gradient
  ``sum_t (K_t @ P(g)_t^T)^T``; kernel gradient ``K_t' = x^T @ P(g)_t``: products batched over the
  taps, each in the layout XLA multiplies without copying the kernel.

Both are :func:`jax.custom_vjp` functions whose backward passes are ordinary JAX (differentiable
again). They equal ``lax.conv_general_dilated`` up to float rounding (tests/test_nn_patch_gemm.py).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

Padding = tuple[tuple[int, int], tuple[int, int]]


def patches(x: jax.Array, kh: int, kw: int, stride: int, padding: Padding) -> jax.Array:
  """``[n, oh, ow, kh kw, c]``: the zero-padded input under each output pixel, taps in the
  kernel's row-major order (matching ``kernel.reshape(kh * kw, c, out)``)."""
  (top, bottom), (left, right) = padding
  x = jax.lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), (top, bottom, 0), (left, right, 0), (0, 0, 0)))
  _, h, w, _ = x.shape
  oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
  s = stride
  taps = [x[:, i : i + s * (oh - 1) + 1 : s, j : j + s * (ow - 1) + 1 : s] for i in range(kh) for j in range(kw)]
  return jnp.stack(taps, axis=3)


def _unpatch(p: jax.Array, x_shape, dtype, kh: int, kw: int, stride: int, padding: Padding) -> jax.Array:
  """The adjoint of :func:`patches`: each patch added back where it was read from."""
  zeros = jnp.zeros(x_shape, dtype)
  return jax.vjp(lambda x: patches(x, kh, kw, stride, padding), zeros)[1](p.astype(dtype))[0]


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def patch_gemm_conv(x: jax.Array, kernel: jax.Array, stride: int, padding: Padding) -> jax.Array:
  """``lax.conv_general_dilated(x, kernel, (stride, stride), padding)`` (NHWC, HWIO) as ``P(x) @ K``."""
  kh, kw, _, cout = kernel.shape
  p = patches(x, kh, kw, stride, padding)
  n, oh, ow = p.shape[:3]
  return (p.reshape(n * oh * ow, -1) @ kernel.reshape(-1, cout)).reshape(n, oh, ow, cout)


def _conv_fwd(x, kernel, stride, padding):
  return patch_gemm_conv(x, kernel, stride, padding), (x, kernel)


def _conv_bwd(stride, padding, residuals, g):
  x, kernel = residuals
  kh, kw, cin, cout = kernel.shape
  p = patches(x, kh, kw, stride, padding)
  n, oh, ow = p.shape[:3]
  gm = g.reshape(n * oh * ow, cout)
  # g @ K^T: the kernel read in place (XLA multiplies by a transposed 2-D operand without copying it).
  dp = jax.lax.dot_general(gm, kernel.reshape(-1, cout), (((1,), (1,)), ((), ())))
  dx = _unpatch(dp.reshape(n, oh, ow, kh * kw, cin), x.shape, x.dtype, kh, kw, stride, padding)
  dk = jax.lax.dot_general(p.reshape(n * oh * ow, -1), gm, (((0,), (0,)), ((), ())))
  return dx, dk.reshape(kernel.shape).astype(kernel.dtype)


patch_gemm_conv.defvjp(_conv_fwd, _conv_bwd)


def _transpose_padding(padding: int, output_padding: int) -> Padding:
  """The padding of the strided convolution whose adjoint is the transposed convolution."""
  return ((padding, padding - output_padding),) * 2


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def patch_gemm_conv_transpose(
  x: jax.Array, kernel: jax.Array, stride: int, padding: int, output_padding: int = 0
) -> jax.Array:
  """PyTorch ``conv_transpose2d`` of NHWC ``x`` with a ``[kh, kw, in, out]`` kernel (as
  :func:`jaxgan.nn.conv_transpose`) by one product per kernel tap."""
  kh, kw, cin, cout = kernel.shape
  n, h, w, _ = x.shape
  taps, pixels = kh * kw, n * h * w
  xs = jnp.broadcast_to(x.reshape(1, pixels, cin), (taps, pixels, cin))
  z = jax.lax.dot_general(xs, kernel.reshape(taps, cin, cout), (((2,), (1,)), ((0,), (0,))))  # [taps, pixels, out]
  z = z.reshape(taps, n, h, w, cout).transpose(1, 2, 3, 0, 4)
  out_h = (h - 1) * stride - 2 * padding + kh + output_padding
  out_w = (w - 1) * stride - 2 * padding + kw + output_padding
  return _unpatch(z, (n, out_h, out_w, cout), z.dtype, kh, kw, stride, _transpose_padding(padding, output_padding))


def _transpose_fwd(x, kernel, stride, padding, output_padding):
  return patch_gemm_conv_transpose(x, kernel, stride, padding, output_padding), (x, kernel)


def _transpose_bwd(stride, padding, output_padding, residuals, g):
  x, kernel = residuals
  kh, kw, cin, cout = kernel.shape
  n, h, w, _ = x.shape
  taps, pixels = kh * kw, n * h * w
  gp = patches(g, kh, kw, stride, _transpose_padding(padding, output_padding)).reshape(pixels, taps, cout)
  gt = gp.transpose(1, 2, 0)  # [taps, out, pixels]: small (few pixels), the kernel is not moved
  dxt = jax.lax.dot_general(kernel.reshape(taps, cin, cout), gt, (((2,), (1,)), ((0,), (0,))))  # [taps, in, pixels]
  dx = dxt.sum(0).T.reshape(x.shape).astype(x.dtype)
  xt = jnp.broadcast_to(x.reshape(pixels, cin).T[None], (taps, cin, pixels))
  dk = jax.lax.dot_general(xt, gp.transpose(1, 0, 2), (((2,), (1,)), ((0,), (0,))))  # [taps, in, out]
  return dx, dk.reshape(kernel.shape).astype(kernel.dtype)


patch_gemm_conv_transpose.defvjp(_transpose_fwd, _transpose_bwd)


def few_outputs_conv_transpose(
  x: jax.Array, kernel: jax.Array, stride: int, padding: int, output_padding: int = 0
) -> jax.Array:
  """The same transposed convolution for a kernel with few output channels (a generator's output
  layer): one product of all input pixels with the kernel as an ``[in, kh kw out]`` matrix (small:
  moving it costs nothing), then the taps added into place. Forward only (no custom gradient)."""
  kh, kw, cin, cout = kernel.shape
  n, h, w, _ = x.shape
  z = (x.reshape(n * h * w, cin) @ kernel.transpose(2, 0, 1, 3).reshape(cin, kh * kw * cout)).reshape(
    n, h, w, kh * kw, cout
  )
  out_h = (h - 1) * stride - 2 * padding + kh + output_padding
  out_w = (w - 1) * stride - 2 * padding + kw + output_padding
  return _unpatch(z, (n, out_h, out_w, cout), z.dtype, kh, kw, stride, _transpose_padding(padding, output_padding))

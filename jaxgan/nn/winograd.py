"""Stride-1 3x3 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, 2016).

Each 2x2 block of outputs is computed from the 4x4 input tile under it: the tile is transformed
(``d -> B^T d B``), the kernel too (``g -> G g G^T``), the 16 transformed positions are each one
matrix product over the input channels, and the products are transformed back (``A^T m A``).
That is 16 products per 2x2 outputs instead of 36: 2.25x fewer multiplications than the direct
convolution, in 16 large matrix products that run at XLA:CPU's matrix-multiply speed. The
transforms are additions (and halvings of the kernel), fused by XLA into a few passes over
memory. The result equals the direct convolution up to float32 rounding (the transforms add
and subtract at most nine terms; tests/test_nn_winograd.py bounds it against ``lax``).

Used for the forward pass of :func:`jaxgan.nn.conv.conv2d` on CPU where the measurements in
benchmarks/README.md ("Winograd") say it is the faster one; the gradients stay the rules of
:mod:`jaxgan.nn.conv` (the input gradient is itself a stride-1 3x3 convolution, so it comes here
too).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

# The nonzero entries of each row of F(2x2, 3x3)'s matrices, as (column, sign): B^T (4x4) and A^T
# (2x4) hold only +-1; G (4x3) is [[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]].
_BT = (((0, 1), (2, -1)), ((1, 1), (2, 1)), ((2, 1), (1, -1)), ((1, 1), (3, -1)))
_AT = (((0, 1), (1, 1), (2, 1)), ((1, 1), (2, -1), (3, -1)))
_G = (((0, 1.0),), ((0, 0.5), (1, 0.5), (2, 0.5)), ((0, 0.5), (1, -0.5), (2, 0.5)), ((2, 1.0),))


def _combine(row, terms):
  """``sum(coefficient * terms[column])`` over a row's nonzero (column, coefficient) entries."""
  total = None
  for column, coefficient in row:
    term = terms[column]
    if abs(coefficient) != 1:
      term = term * coefficient
    if total is None:
      total = term if coefficient > 0 or abs(coefficient) != 1 else -term
    else:
      total = total - term if coefficient == -1 else total + term
  return total


def transformed_kernel(kernel: jax.Array) -> list[list[jax.Array]]:
  """``G g G^T`` of an HWIO 3x3 kernel: 4x4 ``[cin, cout]`` matrices."""
  rows = [_combine(row, [kernel[i] for i in range(3)]) for row in _G]  # each [3, cin, cout]
  return [[_combine(col, [r[j] for j in range(3)]) for col in _G] for r in rows]


def winograd_conv3x3(x: jax.Array, kernel: jax.Array, padding: tuple[tuple[int, int], tuple[int, int]]) -> jax.Array:
  """The stride-1 convolution of NHWC ``x`` with an HWIO 3x3 ``kernel`` (explicit zero
  ``padding``), ``lax.conv_general_dilated``'s result."""
  b, h, w, cin = x.shape
  if kernel.shape[:2] != (3, 3):
    raise ValueError(f"winograd_conv3x3 needs a 3x3 kernel, got {kernel.shape[:2]}")
  cout = kernel.shape[3]
  (top, bottom), (left, right) = padding
  out_h, out_w = h + top + bottom - 2, w + left + right - 2
  th, tw = -(-out_h // 2), -(-out_w // 2)  # 2x2 output tiles per axis (an odd side gets one more)
  zero = jnp.zeros((), x.dtype)
  x = jax.lax.pad(x, zero, ((0, 0, 0), (top, 2 * th + 2 - h - top, 0), (left, 2 * tw + 2 - w - left, 0), (0, 0, 0)))
  rows = [x[:, i : i + 2 * th : 2] for i in range(4)]  # the tiles' i-th rows, [b, th, 2 tw + 2, cin]
  half = [_combine(row, rows) for row in _BT]  # B^T d
  u = transformed_kernel(kernel.astype(x.dtype))
  products = []
  for a in range(4):
    cols = [half[a][:, :, j : j + 2 * tw : 2] for j in range(4)]
    products.append([(_combine(_BT[c], cols).reshape(-1, cin) @ u[a][c]).reshape(b, th, tw, cout) for c in range(4)])
  out = [[None, None], [None, None]]
  for p in range(2):
    m = [_combine(_AT[p], [products[a][c] for a in range(4)]) for c in range(4)]  # A^T m, row p
    for q in range(2):
      out[p][q] = _combine(_AT[q], m)
  y = jnp.stack([out[0][0], out[0][1], out[1][0], out[1][1]]).reshape(2, 2, b, th, tw, cout)
  y = y.transpose(2, 3, 0, 4, 1, 5).reshape(b, 2 * th, 2 * tw, cout)
  return y[:, :out_h, :out_w]

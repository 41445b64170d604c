"""Stride-1 3x3 convolutions by Winograd's minimal filtering F(m x m, 3x3) (Lavin & Gray, 2016).

Each ``m x m`` block of outputs is computed from the ``(m + 2) x (m + 2)`` input tile under it:
the tile is transformed (``d -> B^T d B``), the kernel too (``g -> G g G^T``), each of the
``(m + 2)^2`` transformed positions is one matrix product over the input channels, and the
products are transformed back (``A^T M A``). F(4x4, 3x3) takes 36 products per 16 outputs
instead of 144 multiplications: 4x fewer, in large matrix products that run at XLA:CPU's
matrix-multiply speed; F(2x2, 3x3) 2.25x fewer. The transforms are sums with small constant
coefficients, which XLA fuses into a few passes over memory.

The result is the convolution up to float32 rounding: F(2x2, 3x3)'s transforms only add and
subtract (relative error ~1e-6), F(4x4, 3x3)'s coefficients (up to 8, and 1/24) lose more
(~1e-5 relative); tests/test_nn_winograd.py bounds both against ``lax``.

:func:`jaxgan.nn.conv.conv2d` uses it for float32 forward passes on CPU where the measurements in
benchmarks/README.md ("Winograd") say it is the faster one; the gradients stay the rules of
:mod:`jaxgan.nn.conv` (the input gradient is itself a stride-1 3x3 convolution, so it comes here
too).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

# (B^T, G, A^T) of F(m x m, 3x3) for the output tile side m.
MATRICES = {
  2: (
    np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]),
    np.array([[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]]),
    np.array([[1, 1, 1, 0], [0, 1, -1, -1]]),
  ),
  4: (
    np.array(
      [
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
      ]
    ),
    np.array(
      [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
      ]
    ),
    np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]),
  ),
}


def _combine(row: np.ndarray, terms: list[jax.Array]) -> jax.Array:
  """``sum(row[j] * terms[j])`` over the row's nonzero entries (no multiplication by +-1)."""
  total = None
  for coefficient, term in zip(row, terms):
    if coefficient == 0:
      continue
    if abs(coefficient) != 1:
      term = term * np.asarray(abs(coefficient), term.dtype)
    if total is None:
      total = term if coefficient > 0 else -term
    else:
      total = total + term if coefficient > 0 else total - term
  return total


def transformed_kernel(kernel: jax.Array, m: int = 4) -> list[list[jax.Array]]:
  """``G g G^T`` of an HWIO 3x3 kernel: ``(m + 2) x (m + 2)`` ``[cin, cout]`` matrices."""
  g = MATRICES[m][1]
  rows = [_combine(row, [kernel[i] for i in range(3)]) for row in g]  # each [3, cin, cout]
  return [[_combine(col, [r[j] for j in range(3)]) for col in g] for r in rows]


def winograd_conv3x3(
  x: jax.Array, kernel: jax.Array, padding: tuple[tuple[int, int], tuple[int, int]], m: int = 4
) -> jax.Array:
  """The stride-1 convolution of NHWC ``x`` with an HWIO 3x3 ``kernel`` (explicit zero
  ``padding``) by F(``m`` x ``m``, 3x3): ``lax.conv_general_dilated``'s result."""
  if kernel.shape[:2] != (3, 3):
    raise ValueError(f"winograd_conv3x3 needs a 3x3 kernel, got {kernel.shape[:2]}")
  if m not in MATRICES:
    raise ValueError(f"winograd_conv3x3: output tile side m must be one of {sorted(MATRICES)}, got {m}")
  bt, _, at = MATRICES[m]
  n = m + 2  # input tile side
  b, h, w, cin = x.shape
  cout = kernel.shape[3]
  (top, bottom), (left, right) = padding
  out_h, out_w = h + top + bottom - 2, w + left + right - 2
  th, tw = -(-out_h // m), -(-out_w // m)  # output tiles per axis (the last one may stick out)
  zero = jnp.zeros((), x.dtype)
  x = jax.lax.pad(x, zero, ((0, 0, 0), (top, m * th + 2 - h - top, 0), (left, m * tw + 2 - w - left, 0), (0, 0, 0)))
  rows = [x[:, i : i + m * th : m] for i in range(n)]  # the tiles' i-th rows, [b, th, m tw + 2, cin]
  half = [_combine(row, rows) for row in bt]  # B^T d
  u = transformed_kernel(kernel.astype(x.dtype), m)
  # Per row a of the transformed tiles: its n columns at once (B^T d B)[a, :] as one array (the
  # coefficients of B broadcast over them: one fused pass), and their n products as one batched
  # matrix product: n products per row instead of n^2 separate ones compiles about twice as fast
  # and ran no slower (benchmarks/README.md, "Winograd").
  coefficients = jnp.asarray(bt.T, x.dtype)  # [column j, position c]
  products = []
  for a in range(n):
    v = sum(coefficients[j][:, None, None, None, None] * half[a][None, :, :, j : j + m * tw : m] for j in range(n))
    ma = jax.lax.dot_general(v.reshape(n, -1, cin), jnp.stack(u[a]), (((2,), (1,)), ((0,), (0,))))
    products.append([ma[c].reshape(b, th, tw, cout) for c in range(n)])
  out = []
  for p in range(m):
    row = [_combine(at[p], [products[a][c] for a in range(n)]) for c in range(n)]  # A^T M, row p
    out.extend(_combine(at[q], row) for q in range(m))
  y = jnp.stack(out).reshape(m, m, b, th, tw, cout).transpose(2, 3, 0, 4, 1, 5)
  return y.reshape(b, m * th, m * tw, cout)[:, :out_h, :out_w]

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

:func:`jaxgan.nn.conv.conv2d` uses it on CPU for float32 forward passes (the input gradient is
itself a stride-1 3x3 convolution, so it comes here too) and, transposed
(:func:`winograd_kernel_gradient`), for kernel gradients, where the measurements in
benchmarks/README.md ("Winograd") say it is the faster one; beyond the cache in chunks.
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


def _transformed_input(x: jax.Array, m: int):
  """``B^T d B`` of the tiles of NHWC ``x`` (padded to exactly ``m th + 2`` x ``m tw + 2`` pixels), by
  transformed row ``a``: ``[n, b th tw, cin]`` (the row's ``n`` columns), one array per row. Each row's
  columns are one array (the coefficients of ``B`` broadcast over them: one fused pass)."""
  bt = MATRICES[m][0]
  n = m + 2
  b, rows_in, cols_in, cin = x.shape
  th, tw = (rows_in - 2) // m, (cols_in - 2) // m
  rows = [x[:, i : i + m * th : m] for i in range(n)]  # the tiles' i-th rows, [b, th, m tw + 2, cin]
  half = [_combine(row, rows) for row in bt]  # B^T d
  coefficients = jnp.asarray(bt.T, x.dtype)  # [column j, position c]
  for a in range(n):
    v = sum(coefficients[j][:, None, None, None, None] * half[a][None, :, :, j : j + m * tw : m] for j in range(n))
    yield v.reshape(n, -1, cin)


def _tiled(x: jax.Array, u: list[jax.Array], m: int) -> jax.Array:
  """F(``m`` x ``m``, 3x3) of NHWC ``x`` padded to exactly ``m th + 2`` x ``m tw + 2`` pixels, with the
  transformed kernel ``u`` (per transformed row a ``[n, cin, cout]`` stack): ``[b, m th, m tw, cout]``."""
  at = MATRICES[m][2]
  n = m + 2  # input tile side
  b, rows_in, cols_in, _ = x.shape
  th, tw = (rows_in - 2) // m, (cols_in - 2) // m
  cout = u[0].shape[-1]
  # Per row a of the transformed tiles, their n products as one batched matrix product: n products
  # per row instead of n^2 separate ones compiles about twice as fast and ran no slower
  # (benchmarks/README.md, "Winograd").
  products = []
  for a, v in enumerate(_transformed_input(x, m)):
    ma = jax.lax.dot_general(v, u[a], (((2,), (1,)), ((0,), (0,))))
    products.append([ma[c].reshape(b, th, tw, cout) for c in range(n)])
  out = []
  for p in range(m):
    row = [_combine(at[p], [products[a][c] for a in range(n)]) for c in range(n)]  # A^T M, row p
    out.extend(_combine(at[q], row) for q in range(m))
  y = jnp.stack(out).reshape(m, m, b, th, tw, cout).transpose(2, 3, 0, 4, 1, 5)
  return y.reshape(b, m * th, m * tw, cout)


def chunks(batch: int, tile_rows: int, row_bytes: int, budget: int | None) -> tuple[int, int]:
  """``(images, rows)`` per chunk of a Winograd pass whose transformed data take ``row_bytes`` per
  image row of tiles: at most ``budget`` bytes per chunk where possible (whole images together
  where one fits, else bands of tile rows of one image, balanced so that the last band wastes
  the fewest rows); ``budget=None``: the whole batch at once."""
  if budget is None or batch * tile_rows * row_bytes <= budget:
    return batch, tile_rows
  if tile_rows * row_bytes <= budget:
    fit = budget // (tile_rows * row_bytes)
    return max(k for k in range(1, batch + 1) if batch % k == 0 and k <= fit), tile_rows
  bands = -(-tile_rows // max(1, budget // row_bytes))
  return 1, -(-tile_rows // bands)


def _chunked(x: jax.Array, images: int, rows: int, m: int, fn, *extra: jax.Array):
  """``fn(x_chunk, *extra_chunks)`` for every chunk of ``images`` images by ``rows`` tile rows of the
  tile-padded ``x`` (each ``m rows + 2`` input rows) and of the ``extra`` arrays (``m rows`` rows
  each): ``(chunk, count)``, ``chunk(i)`` computing chunk ``i`` (images first, then bands of rows)."""
  b = x.shape[0]
  bands = (x.shape[1] - 2) // (m * rows)

  def chunk(i):
    first_image, first_row = (i // bands) * images, (i % bands) * m * rows
    take = lambda a, n: jax.lax.dynamic_slice_in_dim(  # noqa: E731
      jax.lax.dynamic_slice_in_dim(a, first_image, images, axis=0), first_row, n, axis=1
    )
    return fn(take(x, m * rows + 2), *(take(e, m * rows) for e in extra))

  return chunk, (b // images) * bands


def winograd_conv3x3(
  x: jax.Array,
  kernel: jax.Array,
  padding: tuple[tuple[int, int], tuple[int, int]],
  m: int = 4,
  budget: int | None = None,
) -> jax.Array:
  """The stride-1 convolution of NHWC ``x`` with an HWIO 3x3 ``kernel`` (explicit zero
  ``padding``) by F(``m`` x ``m``, 3x3): ``lax.conv_general_dilated``'s result.

  With a ``budget`` (bytes) the output is computed in chunks (:func:`chunks`: images, or bands
  of tile rows) one after the other, a loop, so that each chunk's transformed tiles
  (``(m + 2)^2 x tiles x max(cin, cout)`` floats) stay in cache where the whole batch's would not."""
  if kernel.shape[:2] != (3, 3):
    raise ValueError(f"winograd_conv3x3 needs a 3x3 kernel, got {kernel.shape[:2]}")
  if m not in MATRICES:
    raise ValueError(f"winograd_conv3x3: output tile side m must be one of {sorted(MATRICES)}, got {m}")
  b, h, w, cin = x.shape
  cout = kernel.shape[3]
  (top, bottom), (left, right) = padding
  out_h, out_w = h + top + bottom - 2, w + left + right - 2
  th, tw = -(-out_h // m), -(-out_w // m)  # output tiles per axis (the last ones may stick out)
  images, rows = chunks(b, th, (m + 2) ** 2 * tw * max(cin, cout) * x.dtype.itemsize, budget)
  th = -(-th // rows) * rows
  zero = jnp.zeros((), x.dtype)
  x = jax.lax.pad(x, zero, ((0, 0, 0), (top, m * th + 2 - h - top, 0), (left, m * tw + 2 - w - left, 0), (0, 0, 0)))
  u = [jnp.stack(row) for row in transformed_kernel(kernel.astype(x.dtype), m)]
  if (images, rows) == (b, th):
    y = _tiled(x, u, m)
  else:
    chunk, count = _chunked(x, images, rows, m, lambda xc: _tiled(xc, u, m))
    y = jax.lax.map(chunk, jnp.arange(count))  # [b / images x bands, images, m rows, m tw, cout]
    y = y.reshape(b // images, th // rows, images, m * rows, m * tw, cout).transpose(0, 2, 1, 3, 4, 5)
    y = y.reshape(b, m * th, m * tw, cout)
  return y[:, :out_h, :out_w]


def _tiled_kernel_gradient(x: jax.Array, g: jax.Array, m: int) -> jax.Array:
  """``dU`` ``[n, n, cin, cout]`` of F(``m`` x ``m``, 3x3) from NHWC ``x`` padded to exactly
  ``m th + 2`` x ``m tw + 2`` pixels and the output gradient ``g`` padded to ``m th`` x ``m tw``."""
  at = MATRICES[m][2]
  n = m + 2
  th, tw = g.shape[1] // m, g.shape[2] // m
  cout = g.shape[3]
  g_rows = [g[:, p : m * th : m] for p in range(m)]  # [b, th, m tw, cout]
  g_half = [_combine(col, g_rows) for col in at.T]  # (A dY)[a] = sum_p A^T[p, a] dY[p]
  a_cols = jnp.asarray(at, x.dtype)  # [q, position c]
  du = []
  for a, v in enumerate(_transformed_input(x, m)):
    dm = sum(a_cols[q][:, None, None, None, None] * g_half[a][None, :, :, q : m * tw : m] for q in range(m))
    du.append(jax.lax.dot_general(v, dm.reshape(n, -1, cout), (((1,), (1,)), ((0,), (0,)))))
  return jnp.stack(du)


def winograd_kernel_gradient(
  x: jax.Array,
  g: jax.Array,
  padding: tuple[tuple[int, int], tuple[int, int]],
  m: int = 4,
  budget: int | None = None,
) -> jax.Array:
  """The kernel gradient of :func:`winograd_conv3x3` (stride 1, explicit zero ``padding``): the
  HWIO ``[3, 3, cin, cout]`` gradient for NHWC input ``x`` and output gradient ``g``.

  The forward algorithm transposed: the output gradient's tiles transformed (``A dY A^T``), per
  transformed position one matrix product over all tiles with the transformed input tiles
  (``B^T d B``), summed into ``dU``, and ``dw = G^T dU G``: 36 products of
  ``[cin, tiles] x [tiles, cout]`` instead of 9 of ``[cin, pixels] x [pixels, cout]``. With a
  ``budget`` (bytes), ``dU`` is summed over chunks (:func:`chunks`) of at most that many bytes of
  transformed data (``(m + 2)^2 x tiles x (cin + cout)`` floats), one after the other."""
  if m not in MATRICES:
    raise ValueError(f"winograd_kernel_gradient: output tile side m must be one of {sorted(MATRICES)}, got {m}")
  gm = MATRICES[m][1]
  n = m + 2
  b, h, w, cin = x.shape
  cout = g.shape[3]
  (top, bottom), (left, right) = padding
  out_h, out_w = h + top + bottom - 2, w + left + right - 2
  if g.shape[:3] != (b, out_h, out_w):
    raise ValueError(f"winograd_kernel_gradient: g has shape {g.shape}, expected {(b, out_h, out_w, cout)}")
  th, tw = -(-out_h // m), -(-out_w // m)
  images, rows = chunks(b, th, n**2 * tw * (cin + cout) * x.dtype.itemsize, budget)
  th = -(-th // rows) * rows
  zero = jnp.zeros((), x.dtype)
  x = jax.lax.pad(x, zero, ((0, 0, 0), (top, m * th + 2 - h - top, 0), (left, m * tw + 2 - w - left, 0), (0, 0, 0)))
  g = jax.lax.pad(g.astype(x.dtype), zero, ((0, 0, 0), (0, m * th - out_h, 0), (0, m * tw - out_w, 0), (0, 0, 0)))
  if (images, rows) == (b, th):
    du = _tiled_kernel_gradient(x, g, m)
  else:
    chunk, count = _chunked(x, images, rows, m, lambda xc, gc: _tiled_kernel_gradient(xc, gc, m), g)
    du = jax.lax.fori_loop(0, count, lambda i, total: total + chunk(i), jnp.zeros((n, n, cin, cout), x.dtype))
  # dw = G^T dU G: dw[i][j] = sum_a sum_c G[a, i] G[c, j] dU[a][c]
  half_w = [_combine(gm[:, i], [du[a] for a in range(n)]) for i in range(3)]  # each [n, cin, cout]
  return jnp.stack([jnp.stack([_combine(gm[:, j], [hw[c] for c in range(n)]) for j in range(3)]) for hw in half_w])

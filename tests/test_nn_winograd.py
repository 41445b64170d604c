"""jaxgan.nn.winograd (F(2x2, 3x3)) and the rule by which jaxgan.nn.conv2d uses it on CPU."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.nn import conv as conv_module
from jaxgan.nn import conv2d
from jaxgan.nn.winograd import MATRICES, chunks, transformed_kernel, winograd_conv3x3, winograd_kernel_gradient
from jaxgan.train import compiler

pytestmark = pytest.mark.usefixtures("conv_paths_at_any_size")  # small shapes, the CPU forms
DN = ("NHWC", "HWIO", "NHWC")


def _lax(x, k, padding):
  return jax.lax.conv_general_dilated(x, k, (1, 1), padding, dimension_numbers=DN)


def _arrays(shape, cout, seed=0):
  rng = np.random.default_rng(seed)
  x = jnp.asarray(rng.standard_normal(shape), jnp.float32)
  k = jnp.asarray(rng.standard_normal((3, 3, shape[-1], cout)) / np.sqrt(9 * shape[-1]), jnp.float32)
  return x, k


@pytest.mark.parametrize(
  "shape,cout,padding",
  [
    ((1, 3, 3, 1), 1, ((0, 0), (0, 0))),  # one output pixel
    ((2, 7, 9, 5), 3, ((1, 1), (1, 1))),  # odd output sides: a tile row and column cut off
    ((3, 8, 8, 4), 6, ((2, 0), (0, 1))),  # uneven padding
    ((1, 1, 6, 2), 2, ((1, 1), (0, 0))),  # a one-pixel-high input
    ((2, 12, 10, 16), 8, ((0, 0), (2, 2))),
  ],
)
@pytest.mark.parametrize("m,tolerance", [(2, 2e-6), (4, 3e-5)])
def test_winograd_is_the_convolution(shape, cout, padding, m, tolerance):
  x, k = _arrays(shape, cout, seed=sum(shape))
  want = _lax(x, k, padding)
  got = jax.jit(winograd_conv3x3, static_argnums=(2, 3))(x, k, padding, m)
  assert got.shape == want.shape
  np.testing.assert_allclose(got, want, rtol=0, atol=tolerance * float(jnp.max(jnp.abs(want))))


@pytest.mark.parametrize(
  "batch,budget,plan",
  [
    (4, None, (4, 6)),  # no budget: one pass
    (4, 10**9, (4, 6)),  # all fits
    (4, 2 * 6 * 100, (2, 6)),  # two whole images per chunk
    (3, 2 * 6 * 100, (1, 6)),  # ... only divisors of the batch: one image
    (1, 250, (1, 2)),  # bands of two tile rows: 2 + 2 + 2
    (1, 450, (1, 3)),  # at most 4 rows fit: two balanced bands of 3, not 4 + 2
    (1, 50, (1, 1)),  # not even one row fits: one row at a time
  ],
)
def test_chunks_fit_the_budget_and_waste_least(batch, budget, plan):
  assert chunks(batch, 6, 100, budget) == plan


@pytest.mark.parametrize("budget", [None, 1, 3000, 9000, 40000])
def test_chunked_winograd_equals_one_pass(budget):
  """Chunks (bands of tile rows, images) computed one after the other give the one-pass result:
  the same tiles (rows padded up to whole bands are cropped), for the forward pass and the kernel
  gradient."""
  x, k = _arrays((3, 21, 10, 6), 5, seed=7)
  padding = ((1, 1), (0, 2))
  forward = jax.jit(winograd_conv3x3, static_argnums=(2, 3, 4))
  whole = forward(x, k, padding, 4, None)
  chunked = forward(x, k, padding, 4, budget)
  assert chunked.shape == whole.shape == _lax(x, k, padding).shape
  # (the products' blocking, so their rounding, follows the operands' sizes)
  np.testing.assert_allclose(chunked, whole, rtol=0, atol=3e-5 * float(jnp.max(jnp.abs(whole))))
  g = jnp.asarray(np.random.default_rng(3).standard_normal(whole.shape), jnp.float32)
  gradient = jax.jit(winograd_kernel_gradient, static_argnums=(2, 3, 4))
  want = gradient(x, g, padding, 4, None)
  got = gradient(x, g, padding, 4, budget)
  np.testing.assert_allclose(got, want, rtol=0, atol=3e-5 * float(jnp.max(jnp.abs(want))))


@pytest.mark.parametrize(
  "shape,cout,padding",
  [
    ((1, 3, 3, 1), 1, ((0, 0), (0, 0))),
    ((2, 7, 9, 5), 3, ((1, 1), (1, 1))),
    ((3, 8, 8, 4), 6, ((2, 0), (0, 1))),
    ((1, 1, 6, 2), 2, ((1, 1), (0, 0))),
  ],
)
@pytest.mark.parametrize("m,tolerance", [(2, 2e-6), (4, 3e-5)])
def test_winograd_kernel_gradient_is_the_convolutions(shape, cout, padding, m, tolerance):
  """The transposed algorithm is the kernel gradient of the convolution: the adjoint of
  ``k -> conv(x, k)`` applied to ``g``, checked against ``lax`` and by <conv(x, k), g> = <k, dk>."""
  x, k = _arrays(shape, cout, seed=sum(shape) + 1)
  y, vjp = jax.vjp(lambda k: _lax(x, k, padding), k)
  g = jnp.asarray(np.random.default_rng(9).standard_normal(y.shape), jnp.float32)
  (want,) = vjp(g)
  got = jax.jit(winograd_kernel_gradient, static_argnums=(2, 3))(x, g, padding, m)
  assert got.shape == k.shape
  np.testing.assert_allclose(got, want, rtol=0, atol=tolerance * float(jnp.max(jnp.abs(want))))
  np.testing.assert_allclose(jnp.vdot(got, k), jnp.vdot(y, g), rtol=1e-4, atol=1e-4)


def test_winograd_kernel_gradient_rejects_a_wrong_output_gradient():
  x, _ = _arrays((1, 6, 6, 2), 2)
  with pytest.raises(ValueError, match="expected"):
    winograd_kernel_gradient(x, jnp.ones((1, 6, 6, 3)), ((0, 0), (0, 0)))
  with pytest.raises(ValueError, match="m must be one of"):
    winograd_kernel_gradient(x, jnp.ones((1, 4, 4, 3)), ((0, 0), (0, 0)), 3)


def test_winograd_error_stays_small_for_wide_layers():
  """256 input channels (a CycleGAN ResNet block): F(4x4, 3x3)'s error relative to the output's
  scale, against the float64 convolution, stays near float32 rounding."""
  x, k = _arrays((1, 20, 20, 256), 8, seed=5)
  want = _lax(np.asarray(x, np.float64), np.asarray(k, np.float64), ((1, 1), (1, 1)))
  got = jax.jit(winograd_conv3x3, static_argnums=(2, 3))(x, k, ((1, 1), (1, 1)), 4)
  assert float(np.max(np.abs(np.asarray(got, np.float64) - want)) / np.max(np.abs(want))) < 3e-5


@pytest.mark.parametrize("m", sorted(MATRICES))
def test_transformed_kernel_is_g_kernel_gt(m):
  g = MATRICES[m][1]
  kernel = np.random.default_rng(0).standard_normal((3, 3, 2, 3)).astype(np.float32)
  u = np.stack([np.stack(row) for row in transformed_kernel(jnp.asarray(kernel), m)])
  np.testing.assert_allclose(u, np.einsum("ai,ijco,bj->abco", g, kernel, g), rtol=1e-6, atol=1e-6)


def test_winograd_rejects_other_kernels_and_tiles():
  x, _ = _arrays((1, 6, 6, 2), 2)
  with pytest.raises(ValueError, match="3x3"):
    winograd_conv3x3(x, jnp.ones((5, 5, 2, 2)), ((0, 0), (0, 0)))
  with pytest.raises(ValueError, match="m must be one of"):
    winograd_conv3x3(x, jnp.ones((3, 3, 2, 2)), ((0, 0), (0, 0)), 3)


def _compiled_ops(fn, *args) -> str:
  return jax.jit(fn, compiler_options=compiler.options("cpu")).lower(*args).compile().as_text()


@pytest.mark.parametrize(
  "shape,cout,applies",
  [
    ((4, 130, 130, 32), 32, True),  # 32 channels, enough work
    ((4, 130, 130, 16), 32, False),  # too few input channels
    ((4, 130, 130, 32), 16, False),  # too few output channels
    ((1, 18, 18, 64), 64, False),  # too little work to pay for compiling it
    ((8, 130, 130, 64), 64, True),  # tiles beyond the cache: in chunks
    ((1, 66, 66, 256), 256, True),  # CycleGAN's ResNet block
    ((4, 66, 66, 128), 128, True),  # fast style transfer's residual block
  ],
)
def test_rule_decides_by_shape(shape, cout, applies):
  assert conv_module.winograd_applies(shape, (3, 3, shape[-1], cout), 1, ((0, 0), (0, 0))) is applies
  assert not conv_module.winograd_applies(shape, (3, 3, shape[-1], cout), 2, ((0, 0), (0, 0)))
  assert not conv_module.winograd_applies(shape, (4, 4, shape[-1], cout), 1, ((0, 0), (0, 0)))
  assert not conv_module.winograd_applies(shape, (3, 3, shape[-1], cout), 1, ((0, 0), (0, 0)), jnp.bfloat16)


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="the Winograd path is CPU-only")
@pytest.mark.parametrize("chunked", [False, True])
def test_conv2d_forward_and_both_gradients_use_matrix_products_on_cpu(monkeypatch, chunked):
  monkeypatch.setattr(conv_module, "WINOGRAD_MIN_WORK", 0)  # small shapes, compiled fast
  if chunked:  # beyond the one-pass size: a loop over chunks
    monkeypatch.setattr(conv_module, "WINOGRAD_MAX_BYTES", 0)
    monkeypatch.setattr(conv_module, "WINOGRAD_CHUNK_BYTES", 36 * 3 * 64 * 4)
  x, k = _arrays((1, 10, 12, 32), 32)
  pad = ((1, 1), (1, 1))
  forward = _compiled_ops(lambda x, k: conv2d(x, k, 1, pad), x, k)
  assert "convolution(" not in forward and "dot(" in forward
  assert ("while(" in forward) is chunked
  # The input gradient is the forward convolution of the cotangent: Winograd too; the kernel
  # gradient is the algorithm transposed.
  g = jnp.ones((1, 10, 12, 32))
  for i in (0, 1):
    grad = _compiled_ops(lambda x, k, g, i=i: jax.vjp(lambda x, k: conv2d(x, k, 1, pad), x, k)[1](g)[i], x, k, g)
    assert "convolution(" not in grad and ("while(" in grad) is chunked
  few = _compiled_ops(lambda x, k: conv2d(x, k, 1, pad), x[..., :16], k[:, :, :16])
  assert "convolution(" in few


def test_conv2d_with_winograd_equals_lax_values_gradients_and_second_order(monkeypatch):
  monkeypatch.setattr(conv_module, "WINOGRAD_MIN_WORK", 0)  # small shapes, compiled fast
  x, k = _arrays((2, 9, 11, 32), 32, seed=3)
  pad = ((1, 1), (1, 1))
  assert conv_module.winograd_applies(x.shape, k.shape, 1, pad)
  y, vjp = jax.vjp(lambda x, k: conv2d(x, k, 1, pad), x, k)
  y_ref, vjp_ref = jax.vjp(lambda x, k: _lax(x, k, pad), x, k)
  scale = float(jnp.max(jnp.abs(y_ref)))
  np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5 * scale)
  g = jnp.asarray(np.random.default_rng(4).standard_normal(y.shape), jnp.float32)
  for got, want in zip(jax.jit(vjp)(g), vjp_ref(g)):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * float(jnp.max(jnp.abs(want))))

  # A gradient penalty: the gradient of |dy/dx|^2 with respect to the kernel.
  def penalty(conv, k):
    dx = jax.grad(lambda x: jnp.sum(jnp.tanh(conv(x, k, pad))))(x)
    return jnp.sum(dx**2)

  got = jax.jit(jax.grad(lambda k: penalty(lambda x, k, p: conv2d(x, k, 1, p), k)))(k)
  want = jax.grad(lambda k: penalty(_lax, k))(k)
  np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * float(jnp.max(jnp.abs(want))))

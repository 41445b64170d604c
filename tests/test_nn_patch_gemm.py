"""jaxgan.nn.patch_gemm: convolutions of few pixels as matrix products over explicit patches."""

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.nn import conv2d, conv_transpose
from jaxgan.nn.conv import PATCH_GEMM_PIXELS_PER_CHANNEL, patch_gemm_applies
from jaxgan.nn.patch_gemm import few_outputs_conv_transpose, patch_gemm_conv, patch_gemm_conv_transpose, patches

DN = ("NHWC", "HWIO", "NHWC")
pytestmark = pytest.mark.usefixtures("conv_paths_at_any_size")  # small shapes, the CPU forms
conv_module = importlib.import_module("jaxgan.nn.conv")
transpose_module = importlib.import_module("jaxgan.nn.conv_transpose")


def _lax(x, k, stride, padding):
  return jax.lax.conv_general_dilated(x, k, (stride, stride), padding, dimension_numbers=DN)


def _lax_transpose(x, k, stride, padding, output_padding):
  """PyTorch's conv_transpose2d as XLA's lhs-dilated convolution with the flipped kernel."""
  kh = k.shape[0]
  pads = [(kh - 1 - padding, kh - 1 - padding + output_padding)] * 2
  return jax.lax.conv_general_dilated(
    x, k[::-1, ::-1], (1, 1), pads, lhs_dilation=(stride, stride), dimension_numbers=DN
  )


def _random(seed, *shapes):
  rng = np.random.default_rng(seed)
  return [jnp.asarray(rng.standard_normal(s), jnp.float32) for s in shapes]


def _assert_vjp_equal(f, reference, x, k, seed, rtol=1e-5):
  y, vjp = jax.vjp(f, x, k)
  y_ref, vjp_ref = jax.vjp(reference, x, k)
  scale = float(jnp.abs(y_ref).max())
  np.testing.assert_allclose(y, y_ref, rtol=rtol, atol=rtol * scale)
  (g,) = _random(seed, y.shape)
  for got, want in zip(jax.jit(vjp)(g), vjp_ref(g)):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * float(jnp.abs(want).max()))


CONVS = [  # (batch, height, width, cin, cout, kernel, stride, padding)
  (1, 2, 2, 8, 6, 4, 2, ((1, 1), (1, 1))),  # pix2pix's innermost level: one output pixel
  (2, 8, 8, 5, 7, 4, 2, ((1, 1), (1, 1))),
  (1, 9, 7, 3, 4, 3, 2, ((1, 1), (1, 1))),
  (2, 5, 6, 4, 3, 3, 1, ((1, 0), (0, 2))),
  (1, 7, 7, 2, 5, 5, 3, ((2, 2), (2, 2))),
  (3, 4, 4, 6, 2, 2, 2, ((0, 0), (0, 0))),
]


@pytest.mark.parametrize("batch,h,w,cin,cout,kernel,stride,padding", CONVS)
def test_patch_product_convolution_equals_lax_with_both_gradients(batch, h, w, cin, cout, kernel, stride, padding):
  x, k = _random(0, (batch, h, w, cin), (kernel, kernel, cin, cout))
  _assert_vjp_equal(
    lambda x, k: patch_gemm_conv(x, k, stride, padding), lambda x, k: _lax(x, k, stride, padding), x, k, seed=1
  )


TRANSPOSES = [  # (batch, height, width, cin, cout, kernel, stride, padding, output_padding)
  (1, 1, 1, 8, 6, 4, 2, 1, 0),  # pix2pix's innermost up level: 1x1 -> 2x2
  (2, 2, 3, 5, 4, 4, 2, 1, 0),
  (1, 4, 4, 3, 5, 4, 2, 1, 0),
  (1, 3, 3, 4, 3, 3, 2, 1, 1),  # output padding
  (2, 2, 2, 3, 2, 6, 3, 1, 2),
  (4, 1, 1, 7, 5, 4, 1, 0, 0),  # DCGAN's first layer (z -> 4x4)
]


@pytest.mark.parametrize("batch,h,w,cin,cout,kernel,stride,padding,output_padding", TRANSPOSES)
def test_patch_product_transposed_convolution_equals_lax_with_both_gradients(
  batch, h, w, cin, cout, kernel, stride, padding, output_padding
):
  x, k = _random(2, (batch, h, w, cin), (kernel, kernel, cin, cout))
  args = (stride, padding, output_padding)
  _assert_vjp_equal(
    lambda x, k: patch_gemm_conv_transpose(x, k, *args), lambda x, k: _lax_transpose(x, k, *args), x, k, seed=3
  )


@pytest.mark.parametrize("stride,padding,output_padding", [(2, 1, 0), (2, 0, 1), (1, 1, 0), (3, 1, 2)])
def test_few_outputs_transposed_convolution_equals_the_phases(stride, padding, output_padding):
  x, k = _random(4, (2, 6, 5, 7), (4, 4, 7, 3))
  np.testing.assert_allclose(
    few_outputs_conv_transpose(x, k, stride, padding, output_padding),
    _lax_transpose(x, k, stride, padding, output_padding),
    rtol=1e-5,
    atol=1e-5,
  )


def test_patches_adjoint_identity():
  """<P(x), p> = <x, P^T(p)>: the input gradient sums every patch back where it was read."""
  x, p = _random(5, (2, 6, 5, 3), (2, 3, 2, 9, 3))
  padding = ((1, 1), (1, 0))
  px, vjp = jax.vjp(lambda x: patches(x, 3, 3, 2, padding), x)
  assert px.shape == p.shape
  np.testing.assert_allclose(jnp.vdot(px, p), jnp.vdot(x, vjp(p)[0]), rtol=1e-5)


def test_gradient_penalty_through_patch_products_equals_lax():
  """Second order (a critic's input-gradient norm, differentiated by its kernels): the custom
  backward passes are ordinary JAX, differentiable again."""
  x, k1, k2 = _random(6, (2, 4, 4, 3), (4, 4, 3, 5), (3, 3, 5, 2))
  x2, kt = _random(7, (2, 1, 1, 3), (4, 4, 3, 5))
  pads = ((1, 1), (1, 1))

  def penalty(conv, up, ks):
    def critic(x):
      h = jax.nn.leaky_relu(conv(x, ks[0], 2, pads), 0.2) + up(x2, ks[2])[:, :2, :2]
      return jnp.sum(jnp.tanh(conv(h, ks[1], 1, pads)))

    return jnp.sum(jax.grad(critic)(x) ** 2)

  ours = (patch_gemm_conv, lambda x, k: patch_gemm_conv_transpose(x, k, 2, 1, 0))
  theirs = (_lax, lambda x, k: _lax_transpose(x, k, 2, 1, 0))
  got = jax.jit(jax.grad(lambda ks: penalty(*ours, ks)))((k1, k2, kt))
  want = jax.grad(lambda ks: penalty(*theirs, ks))((k1, k2, kt))
  for a, b in zip(got, want):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * float(np.abs(b).max()))


def test_rule_counts_pixels_per_output_channel_and_skips_single_taps():
  assert PATCH_GEMM_PIXELS_PER_CHANNEL == 0.25  # patches at most a quarter of the kernel
  assert patch_gemm_applies(128, (4, 4, 1024, 512))  # pix2pix's U-Net at 8x8 and below
  assert not patch_gemm_applies(129, (4, 4, 1024, 512))
  assert patch_gemm_applies(128, (4, 4, 100, 512))  # DCGAN's first layer, batch 128
  assert not patch_gemm_applies(1, (1, 1, 512, 512))  # a 1x1 convolution is a matrix product already


def _ops(f, *args):
  return jax.jit(f).lower(*args).compile().as_text()


def test_conv2d_and_conv_transpose_take_patch_products_on_cpu_where_the_rule_says(monkeypatch):
  """Few pixels: no convolution left in the compiled CPU program, forward or backward; more pixels
  (or the rule off): the convolution paths of jaxgan.nn.conv."""
  small, k, small_t = _random(8, (1, 4, 4, 6), (4, 4, 6, 16), (1, 2, 2, 6))  # 2x2 outputs, 2x2 inputs: 4 per 16
  step = lambda f: jax.grad(lambda x, k: jnp.sum(jnp.tanh(f(x, k))), argnums=(0, 1))  # noqa: E731
  conv = lambda x, k: conv2d(x, k, 2, ((1, 1), (1, 1)))  # noqa: E731
  up = lambda x, k: conv_transpose(x, k, stride=2, padding=1)  # noqa: E731
  for f, x in ((conv, small), (up, small_t)):
    assert " convolution(" not in _ops(step(f), x, k)
  (large,) = _random(9, (1, 6, 6, 6))  # 9 outputs / 36 inputs
  for f in (conv, up):
    assert " convolution(" in _ops(step(f), large, k)
  monkeypatch.setattr(conv_module, "PATCH_GEMM_PIXELS_PER_CHANNEL", 0)
  assert " convolution(" in _ops(step(conv), small, k)


def _sin_sum(f):
  return lambda x, k: jnp.sum(jnp.sin(f(x, k)))


def test_patch_products_in_conv2d_and_conv_transpose_equal_the_other_paths(monkeypatch):
  """The same layers through the rule (patch products) and with it off (space-to-depth, phases)."""
  x, k, xt, kt = _random(10, (2, 4, 4, 5), (4, 4, 5, 32), (2, 2, 2, 5), (4, 4, 5, 32))  # 8 pixels, 32 channels
  assert patch_gemm_applies(8, k.shape)
  conv = lambda x, k: conv2d(x, k, 2, ((1, 1), (1, 1)))  # noqa: E731
  up = lambda x, k: conv_transpose(x, k, stride=2, padding=1)  # noqa: E731
  results = []
  for limit in (PATCH_GEMM_PIXELS_PER_CHANNEL, 0):
    monkeypatch.setattr(conv_module, "PATCH_GEMM_PIXELS_PER_CHANNEL", limit)
    results.append(
      [jax.jit(jax.value_and_grad(_sin_sum(f), argnums=(0, 1)))(a, b) for f, a, b in ((conv, x, k), (up, xt, kt))]
    )
  for got, want in zip(jax.tree.leaves(results[0]), jax.tree.leaves(results[1])):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

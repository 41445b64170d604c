"""jaxgan.nn.conv (strided convolutions with space-to-depth gradients) and jaxgan.train.compiler."""

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxgan.nn import Conv, conv2d, conv_general_dilated, space_to_depth_conv
from jaxgan.nn.conv import LARGE_BATCH, materialized
from jaxgan.nn.conv_transpose import conv_transpose
from jaxgan.train import compiler

pytestmark = pytest.mark.usefixtures("conv_paths_at_any_size")  # small shapes, the CPU forms
DN = ("NHWC", "HWIO", "NHWC")
CASES = [  # (height, width, kernel, stride, padding)
  (8, 8, 4, 2, ((1, 1), (1, 1))),
  (9, 7, 3, 2, ((1, 1), (1, 1))),
  (10, 11, 4, 2, ((0, 0), (2, 1))),
  (12, 13, 5, 3, ((2, 2), (2, 2))),
  (6, 6, 1, 2, ((0, 0), (0, 0))),
  (5, 9, 2, 2, ((0, 1), (1, 0))),
]


@pytest.fixture(autouse=True)
def _no_patch_products(monkeypatch):
  """These small shapes would take jaxgan.nn.patch_gemm (tests/test_nn_patch_gemm.py): keep the
  paths tested here (space-to-depth, phases, few outputs)."""
  monkeypatch.setattr(importlib.import_module("jaxgan.nn.conv"), "PATCH_GEMM_PIXELS_PER_CHANNEL", 0)


def _lax(x, k, stride, padding):
  return jax.lax.conv_general_dilated(x, k, (stride, stride), padding, dimension_numbers=DN)


def _arrays(h, w, kernel, seed=0, cin=3, cout=5, batch=2):
  rng = np.random.default_rng(seed)
  x = jnp.asarray(rng.standard_normal((batch, h, w, cin)), jnp.float32)
  k = jnp.asarray(rng.standard_normal((kernel, kernel, cin, cout)), jnp.float32)
  return x, k


@pytest.mark.parametrize("h,w,kernel,stride,padding", CASES)
def test_space_to_depth_is_the_conv2dolution(h, w, kernel, stride, padding):
  x, k = _arrays(h, w, kernel)
  np.testing.assert_allclose(
    space_to_depth_conv(x, k, stride, padding), _lax(x, k, stride, padding), rtol=1e-5, atol=1e-5
  )


@pytest.mark.parametrize("batch", [2, LARGE_BATCH])  # LARGE_BATCH: XLA's own kernel gradient
@pytest.mark.parametrize("h,w,kernel,stride,padding", CASES)
def test_conv2d_value_and_both_gradients_equal_lax(h, w, kernel, stride, padding, batch):
  x, k = _arrays(h, w, kernel, seed=1, batch=batch)
  y, vjp = jax.vjp(lambda x, k: conv2d(x, k, stride, padding), x, k)
  y_ref, vjp_ref = jax.vjp(lambda x, k: _lax(x, k, stride, padding), x, k)
  g = jnp.asarray(np.random.default_rng(2).standard_normal(y.shape), jnp.float32)
  np.testing.assert_array_equal(y, y_ref)  # the forward pass is XLA's own convolution
  for got, want in zip(jax.jit(vjp)(g), vjp_ref(g)):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch", [2, LARGE_BATCH])  # LARGE_BATCH: the input gradient by phases
def test_second_order_gradients_match(batch):
  """The gradient penalty differentiates through the input gradient: a custom_vjp must allow it."""
  x, k = _arrays(8, 8, 4, batch=batch)
  pads = ((1, 1), (1, 1))

  def penalty(conv, k):
    gx = jax.grad(lambda x: jnp.sum(jnp.tanh(conv(x, k, 2, pads))))(x)
    return jnp.sum(gx**2)

  np.testing.assert_allclose(
    jax.grad(lambda k: penalty(conv2d, k))(k), jax.grad(lambda k: penalty(_lax, k))(k), rtol=1e-4, atol=1e-4
  )


@pytest.mark.parametrize("padding", ["SAME", "VALID", ((1, 2), (0, 1))])
def test_conv_general_dilated_takes_lax_arguments(padding):
  x, k = _arrays(9, 10, 3)
  dn = jax.lax.conv_dimension_numbers(x.shape, k.shape, DN)
  for strides in [(2, 2), (1, 1), (1, 2)]:
    np.testing.assert_allclose(
      conv_general_dilated(x, k, strides, padding, dimension_numbers=dn),
      jax.lax.conv_general_dilated(x, k, strides, padding, dimension_numbers=dn),
      rtol=1e-5,
      atol=1e-5,
    )


def test_conv_module_has_nnx_conv_parameters_and_outputs():
  make = dict(in_features=3, out_features=4, kernel_size=(4, 4), strides=2, padding=((1, 1), (1, 1)))
  ours, theirs = Conv(**make, rngs=nnx.Rngs(0)), nnx.Conv(**make, rngs=nnx.Rngs(0))
  assert isinstance(ours, nnx.Conv)
  same = jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), nnx.state(ours), nnx.state(theirs))
  assert all(jax.tree.leaves(same))
  x = jnp.asarray(np.random.default_rng(0).standard_normal((2, 8, 8, 3)), jnp.float32)
  np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-6, atol=1e-6)


def test_conv_transpose_uses_no_gather():
  """Sub-kernels are static slices: a gather (and its scatter in the gradient) costs a pass over the kernel."""
  x, k = _arrays(4, 4, 4, cout=3)
  hlo = jax.jit(jax.grad(lambda k: jnp.sum(conv_transpose(x, k, stride=2, padding=1)))).lower(k).as_text()
  assert "gather" not in hlo and "scatter" not in hlo


def test_compiler_options_on_cpu_and_the_opt_out(monkeypatch):
  monkeypatch.delenv("JAXGAN_XLA_DEFAULTS", raising=False)
  assert compiler.options("gpu") == {}
  assert compiler.options("cpu") == compiler.CPU_OPTIONS  # this jax accepts them
  x, k = _arrays(10, 10, 3, cin=8, cout=8)
  text = compiler.jit(lambda x, k: _lax(x, k, 1, ((1, 1), (1, 1))), platform="cpu").lower(x, k).compile().as_text()
  assert "ynn" not in text
  monkeypatch.setenv("JAXGAN_XLA_DEFAULTS", "1")
  assert compiler.options("cpu") == {}


def test_unknown_options_fall_back_to_defaults(monkeypatch):
  monkeypatch.setattr(compiler, "CPU_OPTIONS", {"xla_cpu_experimental_ynn_fusion_type": "NOT_A_TYPE"})
  assert compiler.options("cpu") == {}
  assert float(compiler.jit(lambda x: x * 2, platform="cpu")(1.5)) == 3.0


def test_jit_nested_under_another_trace():
  """A compiler.jit function called inside another jit (or grad/vmap) compiles with the outer one."""
  inner = compiler.jit(lambda x: jnp.sin(x) * 2, platform="cpu")
  outer = compiler.jit(lambda x: inner(x) + 1, platform="cpu")
  np.testing.assert_allclose(outer(jnp.ones(3)), np.sin(1.0) * 2 + 1, rtol=1e-6)
  np.testing.assert_allclose(jax.jit(jax.vmap(inner))(jnp.ones((2, 3))), np.sin(1.0) * 2, rtol=1e-6)
  np.testing.assert_allclose(jax.grad(lambda x: inner(x).sum())(jnp.zeros(2)), [2.0, 2.0], rtol=1e-6)
  assert inner.__name__ == "<lambda>" and "ynn" not in inner.lower(jnp.ones(3)).compile().as_text()


@pytest.mark.parametrize(
  "h,w,kernel,stride,padding,output_padding",
  [
    (4, 5, 4, 2, 1, 0),
    (1, 1, 4, 1, 0, 0),
    (3, 3, 3, 2, 1, 1),
    (5, 4, 4, 2, 0, 0),
    (2, 3, 6, 3, 1, 2),
    (3, 4, 3, 2, 0, 1),
  ],
)
def test_conv_transpose_gradients_equal_those_of_its_forward(h, w, kernel, stride, padding, output_padding):
  """The custom backward (the adjoint strided convolution) equals autodiff of the phase forward pass
  and of XLA's own transposed convolution."""
  ct_module = importlib.import_module("jaxgan.nn.conv_transpose")  # the module: the package exports the function
  x, k = _arrays(h, w, kernel, seed=3, cin=3, cout=4)
  args = (stride, padding, output_padding)
  y, vjp = jax.vjp(
    lambda x, k: conv_transpose(x, k, stride=stride, padding=padding, output_padding=output_padding), x, k
  )
  g = jnp.asarray(np.random.default_rng(4).standard_normal(y.shape), jnp.float32)
  pads = [(kernel - 1 - padding, kernel - 1 - padding + output_padding)] * 2
  dilated = lambda x, k: jax.lax.conv_general_dilated(  # noqa: E731
    x, k[::-1, ::-1], (1, 1), pads, lhs_dilation=(stride, stride), dimension_numbers=DN
  )
  for reference in (lambda x, k: ct_module._phases_forward(x, k, *args), dilated):  # pylint: disable=protected-access
    y_ref, vjp_ref = jax.vjp(reference, x, k)
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
    for got, want in zip(jax.jit(vjp)(g), vjp_ref(g)):
      np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
  "stride,padding", [(1, ((1, 1), (1, 1))), (1, ((0, 0), (0, 0))), (1, ((1, 0), (0, 1))), (2, ((1, 1), (1, 1)))]
)
def test_gradient_penalty_through_conv2d_equals_lax(stride, padding):
  """Second order through a stack of convolutions (a critic), the input gradient's norm: as lax."""
  rng = np.random.default_rng(5)
  x = jnp.asarray(rng.standard_normal((2, 11, 10, 3)), jnp.float32)
  ks = [
    jnp.asarray(rng.standard_normal((3, 3, 3, 4)) * 0.3, jnp.float32),
    jnp.asarray(rng.standard_normal((3, 3, 4, 2)) * 0.3, jnp.float32),
  ]

  def critic(conv, ks, x):
    h = jax.nn.leaky_relu(conv(x, ks[0], stride, padding), 0.2)
    return jnp.sum(conv(h, ks[1], 1, padding))

  def penalty(conv, ks):
    gx = jax.grad(lambda x: critic(conv, ks, x))(x)
    return jnp.mean((jnp.sqrt(jnp.sum(gx**2, axis=(1, 2, 3))) - 1) ** 2)

  got = jax.jit(jax.grad(lambda ks: penalty(conv2d, ks)))(ks)
  want = jax.grad(lambda ks: penalty(_lax, ks))(ks)
  for a, b in zip(got, want):  # float32 rounding relative to the largest entry (~1e3 here)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6 * float(np.abs(b).max()))
  hlo = jax.jit(jax.grad(lambda ks: penalty(conv2d, ks))).lower(ks).compile().as_text()
  assert "rhs_reversal" not in hlo  # XLA's slow reversed-window kernel gradient is gone


@pytest.mark.parametrize(
  "kernel,cout,padding",
  [(7, 3, ((0, 0), (0, 0))), (4, 1, ((1, 1), (1, 1))), (3, 3, ((2, 0), (1, 1))), (3, 4, ((0, 0), (0, 0)))],
)
def test_few_output_channels_use_one_matrix_product_and_equal_lax(kernel, cout, padding):
  """cout <= SMALL_COUT: a dot and shifted slices on CPU; values and both gradients as XLA's conv."""
  from jaxgan.nn.conv import SMALL_COUT  # pylint: disable=import-outside-toplevel

  assert cout <= SMALL_COUT
  rng = np.random.default_rng(7)
  x = jnp.asarray(rng.standard_normal((2, 13, 11, 5)), jnp.float32)
  k = jnp.asarray(rng.standard_normal((kernel, kernel, 5, cout)) * 0.3, jnp.float32)
  g = jnp.asarray(rng.standard_normal(_lax(x, k, 1, padding).shape), jnp.float32)
  got = jax.jit(lambda x, k: jax.vjp(lambda x, k: conv2d(x, k, 1, padding), x, k))(x, k)
  want = jax.vjp(lambda x, k: _lax(x, k, 1, padding), x, k)
  np.testing.assert_allclose(got[0], want[0], rtol=1e-4, atol=1e-5)
  for a, b in zip(got[1](g), want[1](g)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
  hlo = jax.jit(lambda x, k: conv2d(x, k, 1, padding)).lower(x, k).compile().as_text()
  assert " convolution(" not in hlo and " dot(" in hlo.replace("dot_general(", "dot(")


@pytest.mark.parametrize("first", [1.5, np.nan])
def test_materialized_is_the_identity_with_its_gradient(first):
  x = jnp.arange(24.0).reshape(2, 3, 4).at[0, 0, 0].set(first)
  y, vjp = jax.vjp(jax.jit(materialized), x)
  np.testing.assert_array_equal(y, x)
  g = jnp.linspace(-1.0, 1.0, 24).reshape(2, 3, 4)
  np.testing.assert_array_equal(vjp(g)[0], g)
  np.testing.assert_array_equal(jax.vmap(materialized)(x), x)


@pytest.mark.parametrize("stride", [1, 2])
def test_kernel_gradient_operands_are_materialised_on_cpu(stride):
  """The producer of a kernel gradient's operands is computed once (a conditional is never fused
  into), not again inside the operand transposes."""
  x = jnp.ones((2, 8, 8, 8))
  k = jnp.ones((3, 3, 8, 8))
  step = jax.jit(jax.grad(lambda k, x: jnp.sum(jnp.tanh(conv2d(jnp.exp(x), k, stride, ((1, 1), (1, 1)))) ** 2)))
  hlo = step.lower(k, x).compile().as_text()
  assert " conditional(" in hlo


@pytest.mark.parametrize("transposed", [False, True])
def test_below_the_work_floor_a_convolution_is_xlas_own(monkeypatch, transposed):
  """Under ``XLA_BELOW_WORK`` multiply-adds the traced program is lax's convolution with XLA's own
  gradients (no custom rule, no platform branch); from the floor on, jaxgan's. Same values."""
  conv_module = importlib.import_module("jaxgan.nn.conv")
  x = jnp.asarray(np.random.default_rng(0).standard_normal((2, 8, 8, 4)), jnp.float32)
  k = jnp.asarray(np.random.default_rng(1).standard_normal((4, 4, 4, 8)), jnp.float32)
  if transposed:
    f = lambda x, k: conv_transpose(x, k, stride=2, padding=1)  # noqa: E731
    work = 2 * 8 * 8 * 4 * 4 * 4 * 8  # input pixels x taps x cin x cout
  else:
    f = lambda x, k: conv2d(x, k, 2, ((1, 1), (1, 1)))  # noqa: E731
    work = 2 * 4 * 4 * 4 * 4 * 4 * 8  # output pixels x taps x cin x cout
  loss = lambda x, k: jnp.sum(jnp.tanh(f(x, k)))  # noqa: E731
  results = {}
  for floor, custom in ((work + 1, False), (work, True)):
    monkeypatch.setattr(conv_module, "XLA_BELOW_WORK", floor)
    jaxpr = str(jax.make_jaxpr(jax.grad(loss, argnums=(0, 1)))(x, k))
    assert ("custom_vjp_call" in jaxpr) is custom and ("platform_index" in jaxpr) is custom
    results[custom] = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))(x, k)
  for a, b in zip(jax.tree.leaves(results[False]), jax.tree.leaves(results[True])):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)

"""Properties of jaxgan.nn.remat: checkpointed blocks give the plain blocks' values, gradients and
updated statistics, and the compiled step holds less memory (XLA's own plan, not a timing)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxgan.nn.remat import checkpoint, remat_call
from jaxgan.train.state import split_module
from tests.small_models import MODELS


def _chain(ws, x):
  for w in ws:
    x = jnp.tanh(jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))
  return x


def _two_layer_blocks(block):
  def loss(ws, x):
    for w in ws:
      x = block(w, x)
    return jnp.sum(jnp.square(x))

  return loss


def _weights(n, c=8):
  keys = jax.random.split(jax.random.PRNGKey(0), n)
  return [0.2 * jax.random.normal(k, (2, 3, 3, c, c)) for k in keys]


def test_checkpoint_same_value_and_gradient():
  ws, x = _weights(4), jax.random.normal(jax.random.PRNGKey(1), (2, 12, 12, 8))
  plain = jax.value_and_grad(_two_layer_blocks(_chain), argnums=(0, 1))
  remat = jax.value_and_grad(_two_layer_blocks(checkpoint(_chain)), argnums=(0, 1))
  chex.assert_trees_all_close(jax.jit(plain)(ws, x), jax.jit(remat)(ws, x), rtol=1e-4, atol=1e-4)


def test_checkpoint_second_derivative():
  """A gradient penalty differentiates the gradient: the same through a checkpointed block."""
  ws, x = _weights(2), jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 8))

  def penalty(block):
    def f(ws):
      g = jax.grad(lambda x: jnp.sum(_two_layer_blocks(block)(ws, x)))(x)
      return jnp.sum(jnp.square(g))

    return jax.jit(jax.value_and_grad(f))

  chex.assert_trees_all_close(penalty(_chain)(ws), penalty(checkpoint(_chain))(ws), rtol=1e-4, atol=1e-3)


def test_checkpoint_saves_memory_even_on_cpu():
  """XLA plans fewer bytes of temporaries for the checkpointed chain (``jax.checkpoint`` alone is
  merged back into the forward pass by XLA:CPU)."""
  ws, x = _weights(8, c=16), jnp.ones((1, 64, 64, 16))

  def temp(block):
    compiled = jax.jit(jax.grad(_two_layer_blocks(block))).lower(ws, x).compile()
    return compiled.memory_analysis().temp_size_in_bytes

  one = 64 * 64 * 16 * 4
  assert temp(checkpoint(_chain)) < temp(_chain) - 8 * one


class _Norm(nnx.Module):
  def __init__(self):
    self.conv = nnx.Conv(3, 4, (3, 3), rngs=nnx.Rngs(0))
    self.bn = nnx.BatchNorm(4, rngs=nnx.Rngs(0))


def test_remat_call_updates_statistics_and_passes_static_arguments():
  def unit(m, h, key, *, scale):
    return scale * jax.random.normal(key, ()) * m.bn(m.conv(h), use_running_average=False)

  def run(enabled):
    m = _Norm()
    graphdef, params, stats = split_module(m)

    def loss(params):
      m = nnx.merge(graphdef, params, stats, copy=True)
      y = remat_call(unit, m, x, jax.random.PRNGKey(3), enabled=enabled, scale=2.0)
      return jnp.sum(jnp.square(y)), nnx.state(m, nnx.BatchStat)

    return jax.jit(jax.value_and_grad(loss, has_aux=True))(params)

  x = jax.random.normal(jax.random.PRNGKey(1), (2, 6, 6, 3))
  plain, remat = run(False), run(True)
  chex.assert_trees_all_close(plain, remat, rtol=1e-4, atol=1e-4)
  assert float(jnp.abs(remat[0][1]["bn"]["mean"][...]).sum()) > 0  # statistics were updated


@pytest.mark.parametrize("name", sorted(MODELS))
def test_models_same_with_and_without_remat(name):
  make, shapes, kwargs = MODELS[name]
  xs = [jax.random.normal(jax.random.PRNGKey(i), s) for i, s in enumerate(shapes)]

  def run(remat):
    graphdef, params, stats = split_module(make(remat=remat, rngs=nnx.Rngs(0)))

    def loss(params):
      m = nnx.merge(graphdef, params, stats, copy=True)
      y = m(*xs, **kwargs)
      return jnp.sum(jnp.square(y)), (y, nnx.state(m, nnx.BatchStat))

    return jax.jit(jax.value_and_grad(loss, has_aux=True))(params)

  plain, remat = run(False), run(True)
  chex.assert_trees_all_equal_structs(plain, remat)
  chex.assert_trees_all_close(plain, remat, rtol=1e-4, atol=1e-5)
  assert np.isfinite(float(plain[0][0]))

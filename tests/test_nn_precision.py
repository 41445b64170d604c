"""``--precision=bfloat16``: every convolution and matmul of every model runs in bfloat16, while
outputs, gradients, statistics (and so optimiser state and checkpoints) stay float32."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from jax.extend.core import jaxprs_in_params

from jaxgan.nn.precision import PRECISIONS, cast_floating, compute_dtype
from jaxgan.train.state import Network, split_module
from tests.small_models import MODELS

MATMULS = ("conv_general_dilated", "dot_general")


def matmul_dtypes(jaxpr) -> list[tuple[str, ...]]:
  """Operand dtypes of every convolution and dot in ``jaxpr`` and its sub-jaxprs."""
  found = []
  for eqn in jaxpr.eqns:
    if eqn.primitive.name in MATMULS:
      found.append(tuple(str(v.aval.dtype) for v in eqn.invars))
    for sub in jaxprs_in_params(eqn.params):
      found += matmul_dtypes(sub)
  return found


def _network(name, dtype):
  make, shapes, kwargs = MODELS[name]
  graphdef, params, stats = split_module(make(rngs=nnx.Rngs(0)))
  xs = [jax.random.normal(jax.random.PRNGKey(i), s) for i, s in enumerate(shapes)]
  net = Network(graphdef, optax.sgd(0.1), compute_dtype=dtype)

  def loss(params):
    y, new_stats = net.apply(params, stats, *xs, **kwargs)
    return jnp.sum(jnp.square(y)), (y, new_stats)

  return loss, params


@pytest.mark.parametrize("name", sorted(MODELS))
def test_bfloat16_compute_float32_interfaces(name):
  loss, params = _network(name, jnp.bfloat16)
  grad = jax.grad(loss, has_aux=True)
  dtypes = matmul_dtypes(jax.make_jaxpr(grad)(params).jaxpr)
  assert dtypes and all(d == ("bfloat16", "bfloat16") for d in dtypes), dtypes
  grads, (y, stats) = jax.jit(grad)(params)
  assert y.dtype == jnp.float32
  assert {l.dtype for l in jax.tree.leaves((grads, stats))} <= {jnp.dtype(jnp.float32)}
  # Close to the float32 network (bfloat16 has 8 significant bits).
  _, (y32, _) = jax.jit(jax.grad(_network(name, None)[0], has_aux=True))(params)
  err = float(jnp.linalg.norm(y - y32) / jnp.linalg.norm(y32))
  assert err < 0.05, err


@pytest.mark.parametrize("name", ["unet", "resnet"])
def test_float32_has_no_casts(name):
  loss, params = _network(name, compute_dtype("float32"))
  dtypes = matmul_dtypes(jax.make_jaxpr(jax.grad(loss, has_aux=True))(params).jaxpr)
  assert dtypes and all(d == ("float32", "float32") for d in dtypes)


def test_cast_floating_leaves_other_leaves_alone():
  tree = {"x": jnp.ones(2), "k": jax.random.PRNGKey(0), "n": None, "i": jnp.arange(3), "b": True}
  out = cast_floating(tree, jnp.bfloat16)
  assert out["x"].dtype == jnp.bfloat16 and out["k"].dtype == jnp.uint32
  assert out["n"] is None and out["i"].dtype == tree["i"].dtype and out["b"] is True
  np.testing.assert_array_equal(out["k"], tree["k"])


def test_unknown_precision_is_named():
  assert set(PRECISIONS) == {"float32", "bfloat16"}
  with pytest.raises(ValueError, match="float16"):
    compute_dtype("float16")

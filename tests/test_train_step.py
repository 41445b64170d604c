"""Properties of the compiled GAN/DCGAN train steps."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.methods import dcgan, gan
from jaxgan.train import sharding
from jaxgan.train.loop import compile_train_step, init_or_restore
from tests import tiny

BUILDERS = {"dcgan": (dcgan.build, tiny.dcgan_config), "gan": (gan.build, tiny.gan_config)}


def _method(name, **kw):
  build, make_config = BUILDERS[name]
  return build(make_config(**kw))


def _bitwise_equal(a, b) -> bool:
  return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


@pytest.mark.parametrize("name,g_fakes", [("dcgan", "shared"), ("dcgan", "new"), ("gan", "new"), ("gan", "shared")])
def test_step_is_d_phase_then_g_phase_with_each_net_untouched_by_the_other(name, g_fakes):
  method = _method(name, g_fakes=g_fakes)
  state = method.init_state(jax.random.PRNGKey(0))
  batch = jax.tree.map(jnp.asarray, tiny.image_batch(method.config))
  n = batch["image"].shape[0]

  @jax.jit
  def phases(state, batch):
    key = state.step_key()
    d1, _ = method.d_update(state.nets, batch["image"], jax.random.fold_in(key, 0))
    if g_fakes == "new":
      return d1, method.g_update({"G": state.nets["G"], "D": d1}, n, jax.random.fold_in(key, 1))[0]
    # shared: G's loss on G(z) with the D phase's z, scored by the updated D, G run again here
    z = method.noise(jax.random.split(jax.random.fold_in(key, 0), 3)[0], n)
    k_d = jax.random.split(jax.random.fold_in(key, 1), 3)[2]
    g = state.nets["G"]
    grads, (stats, _) = jax.grad(method.g_loss, has_aux=True)(g.params, g.stats, d1, z, k_d)
    return d1, method.generator.update(g, grads, stats)

  d1, g1 = phases(state, batch)
  new_state, metrics = jax.jit(method.train_step)(state, batch)
  # D after the step is exactly the D phase's result: the G update left D (params, BN stats, Adam) alone.
  assert _bitwise_equal(new_state.nets["D"], d1)
  # G after the step is the G phase applied to the original G: the D phase did not touch G (shared:
  # backpropagating through the kept fakes equals running G again on the same noise).
  if g_fakes == "new":
    assert _bitwise_equal(new_state.nets["G"], g1)
  else:
    chex.assert_trees_all_close(new_state.nets["G"], g1, rtol=1e-5, atol=1e-6)
  assert not _bitwise_equal(new_state.nets["G"].params, state.nets["G"].params)
  assert not _bitwise_equal(new_state.nets["D"].params, state.nets["D"].params)
  assert int(new_state.step) == 1
  assert set(metrics) >= {"d_loss", "g_loss", "d_real", "d_fake"}


def test_dcgan_shares_the_fakes_by_default_and_the_choice_changes_g_only():
  """The reference code's order (one G forward): the D update is the same either way, G's differs."""
  shared, new = _method("dcgan"), _method("dcgan", g_fakes="new")
  assert shared.config.g_fakes == "shared" and _method("gan").config.g_fakes == "new"
  state = shared.init_state(jax.random.PRNGKey(1))
  batch = jax.tree.map(jnp.asarray, tiny.image_batch(shared.config))
  a, _ = jax.jit(shared.train_step)(state, batch)
  b, _ = jax.jit(new.train_step)(state, batch)
  assert _bitwise_equal(a.nets["D"], b.nets["D"])
  assert not _bitwise_equal(a.nets["G"].params, b.nets["G"].params)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_d_loss_has_no_gradient_through_the_generator(name):
  method = _method(name)
  state = method.init_state(jax.random.PRNGKey(1))
  real = jnp.asarray(tiny.image_batch(method.config)["image"])

  def d_objective_of_g(g_params):
    nets = dict(state.nets)
    nets["G"] = nets["G"].replace(params=g_params)
    d, _ = method.d_update(nets, real, jax.random.PRNGKey(2))
    return sum(jnp.sum(x) for x in jax.tree.leaves(d.params))

  grads = jax.grad(d_objective_of_g)(state.nets["G"].params)
  assert all(np.all(np.asarray(g) == 0) for g in jax.tree.leaves(grads))


def test_g_loss_gradient_reaches_generator_and_lowers_its_loss():
  method = _method("dcgan")
  state = method.init_state(jax.random.PRNGKey(3))
  g, d = state.nets["G"], state.nets["D"]
  z = method.noise(jax.random.PRNGKey(4), 8)
  loss = lambda p: method.g_loss(p, g.stats, d, z, jax.random.PRNGKey(5))[0]
  grads = jax.grad(loss)(g.params)
  assert any(np.any(np.asarray(x) != 0) for x in jax.tree.leaves(grads))
  stepped = jax.tree.map(lambda p, gr: p - 1e-3 * gr, g.params, grads)
  assert loss(stepped) < loss(g.params)


@pytest.mark.parametrize("d_steps", [1, 3])
def test_d_steps_use_distinct_minibatches(d_steps):
  method = _method("gan", d_steps=d_steps)
  state = method.init_state(jax.random.PRNGKey(0))
  batch = jax.tree.map(jnp.asarray, tiny.image_batch(method.config))
  assert batch["image"].shape[0] == 8 * d_steps
  new_state, _ = jax.jit(method.train_step)(state, batch)
  # Replaying the D phase by hand with the rows of step i (rows j*k + i) reproduces D.
  key, nets = state.step_key(), dict(state.nets)
  rows = batch["image"].reshape((8, d_steps) + batch["image"].shape[1:])
  for i in range(d_steps):
    nets["D"], _ = method.d_update(nets, rows[:, i], jax.random.fold_in(key, i))
  chex.assert_trees_all_close(new_state.nets["D"].params, nets["D"].params, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_same_seed_same_state_and_other_seed_other_state(name):
  method = _method(name)
  batch = jax.tree.map(jnp.asarray, tiny.image_batch(method.config))
  step = jax.jit(method.train_step)

  def run(seed):
    state = method.init_state(jax.random.PRNGKey(seed))
    for _ in range(3):
      state, _ = step(state, batch)
    return state

  assert _bitwise_equal(run(0), run(0))
  assert not _bitwise_equal(run(0).nets["G"].params, run(1).nets["G"].params)


def test_compiled_step_is_not_recompiled_and_donates_state():
  method = _method("dcgan")
  mesh = sharding.make_mesh()
  state, state_sh = init_or_restore(method.init_state, jax.random.PRNGKey(0), mesh)
  local = tiny.image_batch(method.config)
  step = compile_train_step(method.train_step, state_sh, sharding.batch_shardings(local, mesh), mesh)
  for i in range(4):
    old = state
    state, metrics = step(state, sharding.global_batch(tiny.image_batch(method.config, seed=i), mesh), None)
  assert step._cache_size() == 1
  assert all(x.is_deleted() for x in jax.tree.leaves(old.nets))  # donated
  assert int(state.step) == 4
  assert all(np.isfinite(float(v)) for v in metrics.values())


def test_gradient_penalty_option_adds_a_metric_and_changes_d():
  plain = _method("dcgan", loss="wgan")
  penalised = _method("dcgan", loss="wgan", gp_weight=10.0)
  batch = jax.tree.map(jnp.asarray, tiny.image_batch(plain.config))
  s0 = plain.init_state(jax.random.PRNGKey(0))
  a, ma = jax.jit(plain.train_step)(s0, batch)
  b, mb = jax.jit(penalised.train_step)(penalised.init_state(jax.random.PRNGKey(0)), batch)
  assert "gradient_penalty" in mb and "gradient_penalty" not in ma
  assert float(mb["gradient_penalty"]) >= 0
  assert not _bitwise_equal(a.nets["D"].params, b.nets["D"].params)

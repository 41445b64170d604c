"""Tests of jaxgan.train.image_pool: CycleGAN's history of generated images.

Images are tagged: image ``t`` is filled with the constant ``t`` (tags start at 1,
0 is an empty slot), so every returned or stored image names the input it was.
"""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.train import image_pool

SHAPE = (2, 2, 1)


def _tagged(tags):
  tags = np.asarray(tags, np.float32)
  return jnp.asarray(np.broadcast_to(tags[:, None, None, None], (len(tags),) + SHAPE))


def _tags(images):
  images = np.asarray(images)
  flat = images.reshape(images.shape[0], -1)
  assert (flat == flat[:, :1]).all(), "an image was made up, not passed through"
  return flat[:, 0].astype(int)


query = jax.jit(image_pool.query_pool)
query_one = jax.jit(image_pool.query_image)


def test_fill_phase_returns_the_inputs_and_stores_them_in_order():
  pool = image_pool.init_pool(5, SHAPE)
  assert pool.pool_size == 5 and pool.buffer.shape == (5,) + SHAPE
  assert pool.count.dtype == jnp.int32 and int(pool.count) == 0
  pool, out = query(pool, _tagged([1, 2, 3]), jax.random.key(0))
  np.testing.assert_array_equal(_tags(out), [1, 2, 3])
  assert int(pool.count) == 3
  np.testing.assert_array_equal(_tags(pool.buffer), [1, 2, 3, 0, 0])
  # The batch that fills the pool: its first two images fill it, the third may swap.
  pool, out = query(pool, _tagged([4, 5, 6]), jax.random.key(1))
  np.testing.assert_array_equal(_tags(out)[:2], [4, 5])
  assert int(pool.count) == 5
  assert _tags(out)[2] in (1, 2, 3, 4, 5, 6)


def _check_history(initial, inputs, returned, final):
  """Replays the official rule on tags: every swap returns a stored image and stores the input."""
  stored = list(initial)
  from_pool = 0
  for t, r in zip(inputs, returned):
    if r != t:
      assert r in stored, f"returned {r}, which was not in the pool {stored}"
      stored.remove(r)
      stored.append(t)
      from_pool += 1
  assert sorted(stored) == sorted(final)
  return from_pool


def test_full_pool_returns_stored_images_half_the_time():
  size, n = 4, 600
  pool, _ = query(image_pool.init_pool(size, SHAPE), _tagged(range(1, size + 1)), jax.random.key(0))
  inputs = np.arange(size + 1, size + 1 + n)
  new_pool, out = query(pool, _tagged(inputs), jax.random.key(7))
  returned = _tags(out)
  assert int(new_pool.count) == size
  assert set(returned) <= set(range(1, size + 1 + n)), "never made-up images"
  assert (returned <= inputs).all(), "never an image from the future"
  from_pool = _check_history(range(1, size + 1), inputs, returned, _tags(new_pool.buffer))
  # Binomial(600, 0.5): mean 300, sd 12.2; 5 sd either side.
  assert 239 <= from_pool <= 361, from_pool


def test_one_by_one_each_swap_replaces_the_returned_slot_uniformly():
  size, steps = 3, 300
  pool, _ = query(image_pool.init_pool(size, SHAPE), _tagged([1, 2, 3]), jax.random.key(0))
  keys = jax.random.split(jax.random.key(3), steps)
  slots = []
  for i in range(steps):
    tag = 4 + i
    before = _tags(pool.buffer)
    pool, out = query_one(pool, _tagged([tag])[0], keys[i])
    (r,) = _tags(out[None])
    after = _tags(pool.buffer)
    changed = np.flatnonzero(before != after)
    if r == tag:
      assert changed.size == 0
    else:
      assert changed.size == 1 and before[changed[0]] == r and after[changed[0]] == tag
      slots.append(int(changed[0]))
  counts = np.bincount(slots, minlength=size)
  expected = len(slots) / size
  chi2 = ((counts - expected) ** 2 / expected).sum()
  assert 100 <= len(slots) <= 200 and chi2 < 25, (len(slots), counts)


def test_pool_size_zero_is_the_identity():
  pool = image_pool.init_pool(0, SHAPE)
  images = _tagged([3, 1, 2])
  new_pool, out = image_pool.query_pool(pool, images, jax.random.key(0))
  assert out is images and new_pool is pool
  new_pool, out = query(pool, images, jax.random.key(0))
  np.testing.assert_array_equal(out, images)
  assert new_pool.buffer.shape == (0,) + SHAPE and int(new_pool.count) == 0


def test_deterministic_given_the_key_and_jit_equals_no_jit():
  pool, _ = query(image_pool.init_pool(3, SHAPE), _tagged([1, 2]), jax.random.key(0))
  images = _tagged(range(10, 30))
  a_pool, a = query(pool, images, jax.random.key(5))
  b_pool, b = query(pool, images, jax.random.key(5))
  c_pool, c = image_pool.query_pool(pool, images, jax.random.key(5))
  for x, y in ((a, b), (a, c), (a_pool.buffer, b_pool.buffer), (a_pool.buffer, c_pool.buffer)):
    np.testing.assert_array_equal(x, y)
  assert int(a_pool.count) == int(c_pool.count) == 3
  _, d = query(pool, images, jax.random.key(6))
  assert not np.array_equal(a, d)
  # Raw uint32 keys work too.
  _, e = query(pool, images, jax.random.PRNGKey(5))
  assert _tags(e).shape == (20,)


def test_batch_equals_images_one_by_one():
  pool, _ = query(image_pool.init_pool(4, SHAPE), _tagged([1, 2]), jax.random.key(0))
  images, key = _tagged(range(10, 22)), jax.random.key(9)
  batch_pool, batch_out = query(pool, images, key)
  one_pool, outs = pool, []
  for image, k in zip(images, image_pool.image_keys(key, images.shape[0])):
    one_pool, out = query_one(one_pool, image, k)
    outs.append(out)
  np.testing.assert_array_equal(batch_out, jnp.stack(outs))
  np.testing.assert_array_equal(batch_pool.buffer, one_pool.buffer)
  assert int(batch_pool.count) == int(one_pool.count) == 4


def test_state_restored_mid_fill_continues_identically():
  pool, _ = query(image_pool.init_pool(6, SHAPE), _tagged([1, 2, 3]), jax.random.key(0))
  saved = {"buffer": np.asarray(pool.buffer), "count": np.asarray(pool.count)}
  restored = image_pool.ImagePool(buffer=jnp.asarray(saved["buffer"]), count=jnp.asarray(saved["count"]))
  images, key = _tagged(range(4, 14)), jax.random.key(2)
  a_pool, a = query(pool, images, key)
  b_pool, b = query(restored, images, key)
  np.testing.assert_array_equal(a, b)
  np.testing.assert_array_equal(a_pool.buffer, b_pool.buffer)
  assert int(a_pool.count) == int(b_pool.count) == 6
  # A count restored as another integer type (e.g. int64 from numpy) is accepted.
  _, c = image_pool.query_pool(restored.replace(count=np.int64(saved["count"])), images, key)
  np.testing.assert_array_equal(a, c)


def test_the_pool_lives_in_a_jitted_train_state():
  state = {"pool": image_pool.init_pool(2, SHAPE), "step": jnp.zeros((), jnp.int32)}

  @jax.jit
  def step(state, images, key):
    pool, out = image_pool.query_pool(state["pool"], images, key)
    return {"pool": pool, "step": state["step"] + 1}, out.sum()

  for s in range(3):
    state, _ = step(state, _tagged([2 * s + 1, 2 * s + 2]), jax.random.key(s))
  assert int(state["step"]) == 3 and int(state["pool"].count) == 2
  assert set(_tags(state["pool"].buffer)) <= set(range(1, 7))


def test_gradients_do_not_flow_through_the_pool():
  pool = image_pool.init_pool(2, SHAPE)
  grad = jax.grad(lambda x: image_pool.query_pool(pool, x, jax.random.key(0))[1].sum())
  np.testing.assert_array_equal(grad(_tagged([1, 2])), 0.0)


def test_bad_images_are_rejected():
  pool = image_pool.init_pool(2, SHAPE)
  with pytest.raises(ValueError, match=r"shape \(2, 2, 1\)"):
    image_pool.query_pool(pool, jnp.zeros((3, 2, 2, 3)), jax.random.key(0))
  with pytest.raises(ValueError, match="an image"):
    image_pool.query_image(pool, jnp.zeros((1, 2, 2, 1)), jax.random.key(0))
  with pytest.raises(ValueError, match="bfloat16"):
    image_pool.query_pool(pool, jnp.zeros((3,) + SHAPE, jnp.bfloat16), jax.random.key(0))
  with pytest.raises(ValueError, match="pool_size"):
    image_pool.init_pool(-1, SHAPE)


_SHARDED = textwrap.dedent("""
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import NamedSharding, PartitionSpec as P
    from jaxgan.train import image_pool
    assert jax.device_count() == 4
    mesh = jax.make_mesh((4,), ('data',), axis_types=(jax.sharding.AxisType.Auto,))
    rep, split = NamedSharding(mesh, P()), NamedSharding(mesh, P('data'))
    images = jnp.arange(1, 13, dtype=jnp.float32)[:, None, None, None] * jnp.ones((12, 2, 2, 1))
    pool = image_pool.init_pool(5, (2, 2, 1))
    f = jax.jit(image_pool.query_pool, in_shardings=(rep, split, rep), out_shardings=(rep, split))
    key = jax.random.key(1)
    for _ in range(3):
      want_pool, want = image_pool.query_pool(pool, images, key)
      pool, got = f(pool, jax.device_put(images, split), key)
      np.testing.assert_array_equal(got, want)
      np.testing.assert_array_equal(pool.buffer, want_pool.buffer)
      assert got.sharding.is_equivalent_to(split, 4) and pool.buffer.sharding.is_fully_replicated
      images, key = images + 12, jax.random.fold_in(key, 1)
    print('ok')
""")


def test_sharded_batch_with_a_replicated_pool():
  env = dict(
    os.environ,
    JAX_PLATFORMS="cpu",
    XLA_FLAGS=os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4",
  )
  r = subprocess.run(
    [sys.executable, "-c", _SHARDED], check=False, env=env, capture_output=True, text=True, timeout=300
  )
  assert r.returncode == 0 and "ok" in r.stdout, r.stderr[-3000:]

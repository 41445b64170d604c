"""Worker: the compiled train step on an 8-device mesh equals the 1-device step.

Needs 8 CPU devices, set before JAX starts (XLA_FLAGS=--xla_force_host_platform_device_count=8).
Prints the largest absolute difference per method and exits non-zero if any exceeds the tolerance.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from jaxgan.methods import dcgan, gan  # noqa: E402
from jaxgan.train import sharding  # noqa: E402
from jaxgan.train.loop import compile_train_step, init_or_restore  # noqa: E402
from tests import tiny  # noqa: E402


def run(method, mesh, steps=3):
  state, state_sh = init_or_restore(method.init_state, jax.random.PRNGKey(0), mesh)
  local = tiny.image_batch(method.config)
  step = compile_train_step(method.train_step, state_sh, sharding.batch_shardings(local, mesh), mesh)
  for i in range(steps):
    state, metrics = step(state, sharding.global_batch(tiny.image_batch(method.config, seed=i), mesh))
  return jax.device_get(state), jax.device_get(metrics), step


def main():
  assert jax.device_count() == 8, jax.devices()
  worst = 0.0
  for name, method in {"dcgan": dcgan.build(tiny.dcgan_config()),
                       "gan": gan.build(tiny.gan_config(d_steps=2))}.items():
    s8, m8, step8 = run(method, sharding.make_mesh(8))
    s1, m1, _ = run(method, sharding.make_mesh(1))
    diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
               for a, b in zip(jax.tree.leaves(s8), jax.tree.leaves(s1)))
    mdiff = max(abs(float(m8[k]) - float(m1[k])) for k in m1)
    print(f"{name}: max |state_8dev - state_1dev| = {diff:.3g}, metrics {mdiff:.3g}")
    worst = max(worst, diff, mdiff)
  sys.exit(0 if worst < 1e-4 else 1)


if __name__ == "__main__":
  main()

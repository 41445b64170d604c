"""Worker: the compiled train step on an 8-device mesh equals the 1-device step.

Needs 8 CPU devices, set before JAX starts (XLA_FLAGS=--xla_force_host_platform_device_count=8).
Prints the largest absolute difference per method and exits non-zero if any exceeds the tolerance.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from jaxgan.methods import cyclegan, dcgan, gan, pix2pix  # noqa: E402
from jaxgan.train import sharding  # noqa: E402
from jaxgan.train.loop import compile_train_step, init_or_restore  # noqa: E402
from tests import tiny  # noqa: E402


def translation_batch(keys, config, seed=0):
  """A random batch of two image arrays named ``keys`` (pix2pix a/b, CycleGAN A/image, B/image)."""
  rng = np.random.default_rng(seed)
  shape = (config.batch_size, config.crop_size, config.crop_size)
  return {keys[0]: rng.uniform(-1, 1, shape + (config.input_nc,)).astype(np.float32),
          keys[1]: rng.uniform(-1, 1, shape + (config.output_nc,)).astype(np.float32)}


def run(method, mesh, make_batch, steps=3):
  state, state_sh = init_or_restore(method.init_state, jax.random.PRNGKey(0), mesh)
  local = make_batch(method.config)
  step = compile_train_step(method.train_step, state_sh, sharding.batch_shardings(local, mesh), mesh)
  for i in range(steps):
    state, metrics = step(state, sharding.global_batch(make_batch(method.config, seed=i), mesh))
  return jax.device_get(state), jax.device_get(metrics), step


def main():
  assert jax.device_count() == 8, jax.devices()
  worst = 0.0
  translation = dict(ngf=2, ndf=2, batch_size=8, n_epochs=1, n_epochs_decay=1)
  cases = {
      "dcgan": (dcgan.build(tiny.dcgan_config()), tiny.image_batch),
      "gan": (gan.build(tiny.gan_config(d_steps=2)), tiny.image_batch),
      # Batch norm over the sharded global batch, dropout masks drawn for the global batch.
      "pix2pix": (pix2pix.build(pix2pix.Config(netG="unet_128", load_size=128, crop_size=128, **translation)),
                  lambda c, seed=0: translation_batch(("a", "b"), c, seed)),
      # The image pools (replicated) are fed the sharded fakes. No norm: the conv biases before an
      # instance norm (the default) have exactly-zero gradients, whose rounding noise Adam's first
      # steps turn into +-lr differences between any two compilations; batch norm is covered above,
      # and its scale gradients in these 2-channel ResNet blocks cancel to ~1e-3 relative rounding.
      "cyclegan": (cyclegan.build(cyclegan.Config(input_nc=1, output_nc=1, load_size=32, crop_size=32,
                                                  pool_size=4, norm="none", **translation)),
                   lambda c, seed=0: translation_batch(("A/image", "B/image"), c, seed)),
  }
  only = sys.argv[1:]
  for name, (method, make_batch) in cases.items():
    if only and name not in only:
      continue
    s8, m8, step8 = run(method, sharding.make_mesh(8), make_batch)
    s1, m1, _ = run(method, sharding.make_mesh(1), make_batch)
    diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
               for a, b in zip(jax.tree.leaves(s8), jax.tree.leaves(s1)))
    mdiff = max(abs(float(m8[k]) - float(m1[k])) for k in m1)
    print(f"{name}: max |state_8dev - state_1dev| = {diff:.3g}, metrics {mdiff:.3g}")
    worst = max(worst, diff, mdiff)
  sys.exit(0 if worst < 1e-4 else 1)


if __name__ == "__main__":
  main()

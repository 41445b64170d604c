"""Worker: train a tiny DCGAN or pix2pix (``--method``) with ``fit`` and save its final networks to an .npz.

Run as one process (any number of local devices) or as one of several processes
(``--coordinator_address/--num_processes/--process_id``); used by test_distributed.py.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from jaxgan.data import BatchLoader, labelled_transform  # noqa: E402
from jaxgan.methods import dcgan, pix2pix  # noqa: E402
from jaxgan.train import compiler, distributed, sharding  # noqa: E402
from jaxgan.train.loop import LoopOptions, fit  # noqa: E402
from tests import tiny  # noqa: E402


def dcgan_parts(steps: int):
  """``(method, source, transform, sample_fn)`` of a tiny DCGAN on 16x16 labelled images."""
  method = dcgan.build(tiny.dcgan_config(num_steps=steps, checkpoint_every=2))
  return method, tiny.ListSource(n=40, size=16), labelled_transform(image_size=16, channels=1), method.sample


def pix2pix_parts(steps: int):
  """``(method, source, transform, sample_fn)`` of a tiny pix2pix (U-Net 128, batch norm, dropout) on
  random pairs, resized to 136 and randomly cropped and flipped as the official pipeline."""
  config = pix2pix.Config(
    netG="unet_128",
    ngf=2,
    ndf=2,
    load_size=136,
    crop_size=128,
    batch_size=4,
    num_samples=2,
    num_steps=steps,
    checkpoint_every=2,
  )
  method = pix2pix.build(config)
  source = tiny.PairedSource(n=8, size=128)
  held_out = [pix2pix.test_transform(config)(source[i], None) for i in range(config.num_samples)]
  a = np.stack([p["a"] for p in held_out])
  b = np.stack([p["b"] for p in held_out])
  predict = compiler.jit(method.predict)

  def sample_fn(state):
    """Rows of input | output | target."""
    return np.stack([a, np.asarray(jax.device_get(predict(state, a))), b], axis=1)

  return method, source, pix2pix.train_transform(config), sample_fn


METHODS = {"dcgan": dcgan_parts, "pix2pix": pix2pix_parts}


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--method", choices=sorted(METHODS), default="dcgan")
  p.add_argument("--workdir", required=True)
  p.add_argument("--out", required=True)
  p.add_argument("--steps", type=int, default=3)
  p.add_argument("--coordinator_address", default="")
  p.add_argument("--num_processes", type=int, default=0)
  p.add_argument("--process_id", type=int, default=-1)
  a = p.parse_args()
  distributed.initialize(a.coordinator_address, a.num_processes, a.process_id)
  method, source, transform, sample_fn = METHODS[a.method](a.steps)
  loader = BatchLoader(
    source,
    global_batch_size=method.config.batch_size,
    seed=0,
    transform=transform,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
  )
  state = fit(
    workdir=a.workdir,
    init_fn=method.init_state,
    train_step=method.train_step,
    batches=loader,
    options=LoopOptions(num_steps=a.steps, checkpoint_every=2, log_every=1, sample_every=2, progress=False),
    key=jax.random.PRNGKey(0),
    sample_fn=sample_fn,
    mesh=sharding.make_mesh(),
  )
  nets = jax.tree.map(lambda x: np.asarray(jax.device_get(x)), state.nets)
  if jax.process_index() == 0:
    np.savez(a.out, *jax.tree.leaves(nets))
  print(
    f"process {jax.process_index()}/{jax.process_count()} devices={jax.device_count()} step={int(state.step)}",
    flush=True,
  )


if __name__ == "__main__":
  main()

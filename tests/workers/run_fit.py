"""Worker: train a tiny DCGAN with ``fit`` and save its final params to an .npz.

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
from jaxgan.methods import dcgan  # noqa: E402
from jaxgan.train import distributed, sharding  # noqa: E402
from jaxgan.train.loop import LoopOptions, fit  # noqa: E402
from tests import tiny  # noqa: E402


def main():
  p = argparse.ArgumentParser()
  p.add_argument("--workdir", required=True)
  p.add_argument("--out", required=True)
  p.add_argument("--steps", type=int, default=3)
  p.add_argument("--coordinator_address", default="")
  p.add_argument("--num_processes", type=int, default=0)
  p.add_argument("--process_id", type=int, default=-1)
  a = p.parse_args()
  distributed.initialize(a.coordinator_address, a.num_processes, a.process_id)
  config = tiny.dcgan_config(num_steps=a.steps, checkpoint_every=2)
  method = dcgan.build(config)
  loader = BatchLoader(tiny.ListSource(n=40, size=16), global_batch_size=config.batch_size, seed=0,
                       transform=labelled_transform(image_size=16, channels=1),
                       process_index=jax.process_index(), process_count=jax.process_count())
  state = fit(workdir=a.workdir, init_fn=method.init_state, train_step=method.train_step, batches=loader,
              options=LoopOptions(num_steps=a.steps, checkpoint_every=2, log_every=1, sample_every=2,
                                  progress=False),
              key=jax.random.PRNGKey(0), sample_fn=method.sample, mesh=sharding.make_mesh())
  params = jax.tree.map(lambda x: np.asarray(jax.device_get(x)), state.nets)
  if jax.process_index() == 0:
    leaves = jax.tree.leaves(params)
    np.savez(a.out, *leaves)
  print(f"process {jax.process_index()}/{jax.process_count()} devices={jax.device_count()} "
        f"step={int(state.step)}", flush=True)


if __name__ == "__main__":
  main()

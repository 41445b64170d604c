"""Glue shared by every method's ``train`` mode: data, workdir, loop, restore."""

from __future__ import annotations

import json
import os
from typing import Callable

import jax
import numpy as np

from jaxgan import config as config_lib
from jaxgan.config import TrainConfig
from jaxgan.data import BatchLoader, labelled_source, labelled_transform
from jaxgan.train import distributed, sharding
from jaxgan.train.checkpoint import Checkpointer
from jaxgan.train.loop import LoopOptions, fit, init_or_restore
from jaxgan.train.state import TrainState


def run_key(config: TrainConfig) -> jax.Array:
  """The key every state of a run is initialised from."""
  return jax.random.PRNGKey(config.seed)


def mesh_for(config: TrainConfig) -> jax.sharding.Mesh:
  return sharding.make_mesh(config.num_devices or None)


def loop_options(config: TrainConfig, *, progress: bool = True, restore_step: bool = True) -> LoopOptions:
  return LoopOptions(num_steps=config.num_steps, checkpoint_every=config.checkpoint_every,
                     keep_checkpoints=config.keep_checkpoints, log_every=config.log_every,
                     sample_every=config.sample_every, eval_every=config.eval_every, progress=progress,
                     on_nonfinite=config.on_nonfinite, restore_step=config.restore_step if restore_step else 0)


def built_by_process0_first(make: Callable):
  """``make()`` on process 0, then (after a barrier) on the others: datasets are built once."""
  value = make() if jax.process_index() == 0 else None
  distributed.barrier("dataset-built")
  return value if jax.process_index() == 0 else make()


def loader(config: TrainConfig, source, *, global_batch_size: int, transform) -> BatchLoader:
  """This process's slice of every global batch of ``source``."""
  return BatchLoader(source, global_batch_size=global_batch_size, seed=config.seed, transform=transform,
                     process_index=jax.process_index(), process_count=jax.process_count())


def labelled_batches(config: TrainConfig, *, global_batch_size: int, image_size: int, channels: int,
                     split: str = "train") -> BatchLoader:
  """This process's slice of every global batch of a labelled dataset."""
  data_dir = config.resolved_data_dir()
  source = built_by_process0_first(lambda: labelled_source(config.dataset, split=split, data_dir=data_dir))
  return loader(config, source, global_batch_size=global_batch_size,
                transform=labelled_transform(image_size=image_size, channels=channels))


def labelled_arrays(source, *, image_size: int, channels: int) -> tuple[np.ndarray, np.ndarray]:
  """A whole labelled split as arrays: images in [-1, 1] ``[N, S, S, C]``, int labels ``[N]``."""
  transform = labelled_transform(image_size=image_size, channels=channels)
  examples = [transform(source[i]) for i in range(len(source))]
  return np.stack([e["image"] for e in examples]), np.asarray([e["label"] for e in examples])


def labelled_sources(config: TrainConfig, splits: tuple[str, ...]) -> list:
  """Sources of several splits of ``config.dataset``; process 0 builds the dataset first."""
  data_dir = config.resolved_data_dir()
  return built_by_process0_first(
      lambda: [labelled_source(config.dataset, split=s, data_dir=data_dir) for s in splits])


def once_per_step(eval_fn: Callable[[TrainState], dict]) -> Callable[[TrainState], dict]:
  """``eval_fn`` remembering its result for the last step it saw.

  ``fit`` evaluates at the last step; a method's ``train`` that then reports the final
  evaluation gets that result back instead of computing it again.
  """
  last: dict = {}

  def evaluate(state: TrainState) -> dict:
    step = int(jax.device_get(state.step))
    if last.get("step") != step:
      last.update(step=step, result=eval_fn(state))
    return last["result"]

  return evaluate


def write_json(config: TrainConfig, name: str, values: dict) -> str:
  """Write ``values`` to ``<workdir>/<name>`` atomically (process 0 only); returns the path."""
  path = os.path.join(os.path.abspath(config.workdir), name)
  if jax.process_index() == 0:
    with open(path + ".tmp", "w") as f:
      json.dump(values, f, indent=2, sort_keys=True)
    os.replace(path + ".tmp", path)
  return path


def prepare_workdir(config: TrainConfig) -> str:
  """Create the workdir and check the config against the one recorded there (ValueError naming
  the differing fields); returns its absolute path. :func:`record_config` writes it, once the
  checkpoint has restored."""
  workdir = os.path.abspath(config.workdir)
  if jax.process_index() == 0:
    os.makedirs(workdir, exist_ok=True)
    config_lib.check_recorded(config, os.path.join(workdir, "config.json"))
  distributed.barrier("workdir-ready")
  return workdir


def record_config(config: TrainConfig) -> None:
  """Write ``<workdir>/config.json`` (process 0): only after the run's state has restored (or been
  created), so that a failed resume leaves the recorded settings as they were."""
  if jax.process_index() == 0:
    config_lib.record(config, os.path.join(os.path.abspath(config.workdir), "config.json"))


def train(config: TrainConfig, *, init_fn: Callable, train_step: Callable, batches, sample_fn=None,
          eval_fn=None) -> TrainState:
  workdir = prepare_workdir(config)
  if jax.process_index() == 0:
    print(f"jaxgan: workdir {workdir}", flush=True)
  state = fit(workdir=workdir, init_fn=init_fn, train_step=train_step, batches=batches,
              options=loop_options(config), key=run_key(config), sample_fn=sample_fn,
              eval_fn=eval_fn, mesh=mesh_for(config), on_restored=lambda _: record_config(config))
  if jax.process_index() == 0:
    print(f"jaxgan: done at step {int(state.step)}; checkpoints, samples and TensorBoard events "
          f"in {workdir}", flush=True)
  return state


def restore(config: TrainConfig, init_fn: Callable) -> TrainState:
  """The latest checkpoint of ``config.workdir``; FileNotFoundError naming the folder if none."""
  directory = os.path.join(os.path.abspath(config.workdir), "checkpoints")
  if not os.path.isdir(directory):
    raise FileNotFoundError(f"no checkpoint in {directory}: train first (--mode=train)")
  ckpt = Checkpointer(directory)
  try:
    if ckpt.latest_step() is None:
      raise FileNotFoundError(f"no checkpoint in {directory}: train first (--mode=train)")
    state, _ = init_or_restore(init_fn, run_key(config), mesh_for(config), ckpt)
  finally:
    ckpt.close()
  return state

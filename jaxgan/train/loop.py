"""``fit``: the one host-side training loop shared by every method."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Callable, Iterator, Mapping, Protocol

import jax
import numpy as np
import tqdm

from jaxgan import visualize
from jaxgan.train import compiler
from jaxgan.train import sharding as sharding_lib
from jaxgan.train.checkpoint import Checkpointer, abstract_with_shardings
from jaxgan.train.state import TrainState
from jaxgan.train.writers import MetricWriter


class Batches(Protocol):
  """What ``fit`` needs from a data pipeline: this process's batches from a given step on."""

  def iterate(self, start_step: int = 0) -> Iterator[Mapping[str, np.ndarray]]: ...


@dataclasses.dataclass(frozen=True)
class LoopOptions:
  """How often the loop checkpoints, logs, samples and evaluates (0 disables)."""

  num_steps: int
  checkpoint_every: int = 1000
  keep_checkpoints: int = 3
  log_every: int = 50
  sample_every: int = 500
  eval_every: int = 0
  progress: bool = True

  def __post_init__(self):
    if self.num_steps < 0:
      raise ValueError(f"num_steps must be >= 0, got {self.num_steps}")
    for name in ("checkpoint_every", "log_every", "sample_every", "eval_every"):
      if getattr(self, name) < 0:
        raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


def compile_train_step(train_step: Callable, state_shardings: Any, batch_shardings: Any,
                       mesh: jax.sharding.Mesh) -> Callable:
  """``jax.jit`` of a pure step with the state donated and pinned shardings (jaxgan's compile options)."""
  return compiler.jit(train_step, platform=mesh.devices.flat[0].platform, donate_argnums=0,
                 in_shardings=(state_shardings, batch_shardings),
                 out_shardings=(state_shardings, sharding_lib.replicated(mesh)))


def init_or_restore(init_fn: Callable[[jax.Array], TrainState], key: jax.Array, mesh: jax.sharding.Mesh,
                    checkpointer: Checkpointer | None = None, state_rule=None) -> tuple[TrainState, Any]:
  """The latest checkpoint if there is one, else a fresh state created already sharded."""
  abstract = jax.eval_shape(init_fn, key)
  shardings = sharding_lib.state_shardings(abstract, mesh, state_rule)
  if checkpointer is not None and checkpointer.latest_step() is not None:
    state = checkpointer.restore(abstract_with_shardings(abstract, shardings))
  else:
    state = compiler.jit(init_fn, platform=mesh.devices.flat[0].platform, out_shardings=shardings)(key)
  return state, shardings


def _is_due(step: int, every: int, last: int) -> bool:
  return every > 0 and (step % every == 0 or step == last)


def _same_on_every_process(flag: bool) -> bool:
  """Process 0's ``flag``, so that every process takes the same branch (their clocks differ)."""
  if jax.process_count() == 1:
    return flag
  from jax.experimental import multihost_utils
  return bool(multihost_utils.broadcast_one_to_all(np.int32(flag)))


class _Deadline:
  """Whether the next step would end past ``deadline`` (``time.monotonic()``), at the mean time
  per step after the first one (which compiles), evaluations and checkpoints included."""

  def __init__(self, deadline: float | None, every: int):
    self.deadline, self.every = deadline, every
    self.first_done = None  # time.monotonic() when the first step had finished

  def first_step_done(self, state: TrainState) -> None:
    if self.deadline is not None:
      jax.block_until_ready(state.step)
      self.first_done = time.monotonic()

  def passed(self, step: int, steps_done: int) -> bool:
    if self.deadline is None or step % self.every:
      return False
    now = time.monotonic()
    mean = (now - self.first_done) / (steps_done - 1) if steps_done > 1 else 0.0
    return _same_on_every_process(now + mean > self.deadline)


def fit(*, workdir: str | os.PathLike, init_fn: Callable[[jax.Array], TrainState], train_step: Callable,
        batches: Batches, options: LoopOptions, key: jax.Array,
        sample_fn: Callable[[TrainState], np.ndarray] | None = None,
        eval_fn: Callable[[TrainState], Mapping[str, float]] | None = None,
        mesh: jax.sharding.Mesh | None = None, state_rule=None,
        deadline: float | None = None) -> TrainState:
  """Train ``options.num_steps`` steps in total, resuming from ``<workdir>/checkpoints``.

  ``init_fn(key) -> TrainState`` and ``train_step(state, batch) -> (state, metrics)`` are pure;
  the data order is a function of the step, so a resumed run equals an uninterrupted one.
  Writes TensorBoard events to ``<workdir>/tensorboard`` and sample grids to
  ``<workdir>/samples``; nothing outside ``workdir``.

  ``deadline`` (a ``time.monotonic()`` time; None: none) stops training early, with a
  checkpoint, before the first step that would end past it at the mean time per step so far
  (steps are uneven: an evaluation may still overrun it). With several processes the
  decision is process 0's, taken every ``log_every`` steps, so that all stop at one step.
  """
  workdir = os.path.abspath(os.fspath(workdir))
  mesh = mesh or sharding_lib.make_mesh()
  is_main = jax.process_index() == 0
  ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), keep=options.keep_checkpoints)
  writer = MetricWriter(os.path.join(workdir, "tensorboard"))
  state, state_shardings = init_or_restore(init_fn, key, mesh, ckpt, state_rule)
  start = int(jax.device_get(state.step))
  last = options.num_steps
  step_fn = None
  bar = tqdm.tqdm(total=last, initial=start, disable=not (options.progress and is_main),
                  dynamic_ncols=True, unit="step")
  batch_iter = batches.iterate(start)
  step = saved = start
  timer = _Deadline(deadline, 1 if jax.process_count() == 1 else max(options.log_every, 1))
  try:
    while step < last:
      if timer.passed(step, step - start):
        break
      local_batch = next(batch_iter)
      batch = sharding_lib.global_batch(local_batch, mesh)
      if step_fn is None:
        step_fn = compile_train_step(train_step, state_shardings,
                                     sharding_lib.batch_shardings(local_batch, mesh), mesh)
        t0 = time.perf_counter()
      state, metrics = step_fn(state, batch)
      step += 1
      bar.update(1)
      if step - start == 1:
        timer.first_step_done(state)
      if _is_due(step, options.log_every, last):
        values = {k: float(v) for k, v in jax.device_get(metrics).items()}
        values["steps_per_sec"] = (step - start) / max(time.perf_counter() - t0, 1e-9)
        writer.scalars(step, {f"train/{k}": v for k, v in values.items()})
        bar.set_postfix({k: f"{v:.4g}" for k, v in values.items() if k != "steps_per_sec"}, refresh=False)
      if sample_fn is not None and _is_due(step, options.sample_every, last):
        grid = visualize.make_grid(jax.device_get(sample_fn(state)))
        if is_main:
          visualize.save_png(os.path.join(workdir, "samples", f"step_{step:08d}.png"), grid)
        writer.image(step, "samples", grid)
      if eval_fn is not None and _is_due(step, options.eval_every, last):
        writer.scalars(step, {f"eval/{k}": float(v) for k, v in eval_fn(state).items()})
      if options.checkpoint_every and step % options.checkpoint_every == 0:
        ckpt.save(step, state)
        saved = step
    if saved != step:
      ckpt.save(step, state)
  finally:
    batch_iter.close() if hasattr(batch_iter, "close") else None
    bar.close()
    ckpt.close()
    writer.close()
  return state

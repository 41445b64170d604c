"""``fit``: the one host-side training loop shared by every method."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import signal
import threading
import time
from typing import Any, Callable, Iterator, Mapping, Protocol

import jax
import jax.numpy as jnp
import numpy as np
import tqdm

from jaxgan import visualize
from jaxgan.errors import NonFiniteError, Preempted
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
  on_nonfinite: str = "stop"  # or "skip_step": a step whose metrics or state are not finite changes nothing
  restore_step: int = 0  # resume from this checkpoint (0: the newest readable one)

  def __post_init__(self):
    if self.num_steps < 0:
      raise ValueError(f"num_steps must be >= 0, got {self.num_steps}")
    if self.on_nonfinite not in ("stop", "skip_step"):
      raise ValueError(f"on_nonfinite must be 'stop' or 'skip_step', got {self.on_nonfinite!r}")
    for name in ("checkpoint_every", "log_every", "sample_every", "eval_every"):
      if getattr(self, name) < 0:
        raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


def compile_train_step(
  train_step: Callable, state_shardings: Any, batch_shardings: Any, mesh: jax.sharding.Mesh
) -> Callable:
  """``jax.jit`` of a pure ``train_step(state, batch, consts)`` with the state donated and pinned
  shardings (the constants replicated; jaxgan's compile options)."""
  replicated = sharding_lib.replicated(mesh)
  return compiler.jit(
    train_step,
    platform=mesh.devices.flat[0].platform,
    donate_argnums=0,
    in_shardings=(state_shardings, batch_shardings, replicated),
    out_shardings=(state_shardings, replicated),
  )


def init_or_restore(
  init_fn: Callable[[jax.Array], TrainState],
  key: jax.Array,
  mesh: jax.sharding.Mesh,
  checkpointer: Checkpointer | None = None,
  state_rule=None,
  restore_step: int = 0,
) -> tuple[TrainState, Any]:
  """The newest readable checkpoint (or ``restore_step``'s) if there is one, else a fresh state
  created already sharded (see :meth:`Checkpointer.restore_newest`)."""
  abstract = jax.eval_shape(init_fn, key)
  shardings = sharding_lib.state_shardings(abstract, mesh, state_rule)
  if checkpointer is not None and (restore_step or checkpointer.latest_step() is not None):
    state, _ = checkpointer.restore_newest(abstract_with_shardings(abstract, shardings), restore_step)
  else:
    state = compiler.jit(init_fn, platform=mesh.devices.flat[0].platform, out_shardings=shardings)(key)
  return state, shardings


def _finite_leaves(tree: Any) -> jax.Array:
  """One bool per floating leaf of ``tree``: all its values finite."""
  return jnp.stack(
    [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.inexact)]
    or [jnp.bool_(True)]
  )


def skipping_nonfinite(train_step: Callable) -> Callable:
  """``train_step`` whose update is dropped (state kept, step counted) where its metrics or new
  state are not all finite; the metric ``skipped_steps`` is 1 for such a step, else 0 (``fit``
  reports the total since it started)."""

  def step(state: TrainState, batch, consts):
    new, metrics = train_step(state, batch, consts)
    ok = jnp.all(_finite_leaves((new, metrics)))
    kept = jax.tree.map(lambda n, o: jnp.where(ok, n, o), new, state).replace(step=new.step)
    return kept, {**metrics, "skipped_steps": 1.0 - ok.astype(jnp.float32)}

  return step


class _NonFiniteGuard:
  """Stops training at the first NaN/inf seen in the metrics (at every log and before every
  checkpoint, sample and evaluation) or in the state (before it is saved, sampled or evaluated),
  so that nothing non-finite is saved or scored. Under ``skip_step`` only the state is checked."""

  def __init__(self, checkpoints: Checkpointer, on_nonfinite: str):
    self.checkpoints, self.on_nonfinite = checkpoints, on_nonfinite
    self._leaves = jax.jit(_finite_leaves)

  def check_metrics(self, step: int, values: Mapping[str, float]) -> None:
    if self.on_nonfinite == "skip_step":  # a skipped step's metrics are not finite, its state is
      return
    for name, value in values.items():
      if not math.isfinite(value):
        self._stop(step, f"train/{name} is {value}")

  def check_state(self, step: int, state: TrainState, metrics: Mapping[str, Any]) -> None:
    self.check_metrics(step, {k: float(v) for k, v in jax.device_get(metrics).items()})
    finite = np.asarray(jax.device_get(self._leaves(state)))
    if not finite.all():
      paths = [
        jax.tree_util.keystr(p)
        for p, x in jax.tree_util.tree_flatten_with_path(state)[0]
        if jnp.issubdtype(x.dtype, jnp.inexact)
      ]
      self._stop(step, f"the state {paths[int(np.argmin(finite))]} is not finite")

  def _stop(self, step: int, what: str) -> None:
    self.checkpoints.wait()
    last = self.checkpoints.latest_step()
    kept = (
      f"the last checkpoint, step {last}, is kept in {self.checkpoints.directory}"
      if last is not None
      else "no checkpoint had been saved"
    )
    hint = "; --on_nonfinite=skip_step drops such steps instead" if self.on_nonfinite == "stop" else ""
    raise NonFiniteError(f"step {step}: {what}: training stopped; {kept} (a lower learning rate may help{hint})")


class _StopSignals:
  """While active (main thread only): the first SIGTERM/SIGINT asks the loop to stop after the
  current step with a checkpoint; a second one exits at once."""

  def __init__(self):
    self.signum = None

  def _handle(self, signum, frame):  # pylint: disable=unused-argument
    if self.signum is not None:
      os._exit(128 + signum)  # pylint: disable=protected-access
    self.signum = signum
    print(
      f"\njaxgan: {signal.Signals(signum).name}: stopping after this step with a checkpoint (again to exit at once)",
      flush=True,
    )

  def requested(self, step: int, every: int) -> bool:
    """Whether to stop before ``step``: on several processes process 0's signal, every ``every`` steps."""
    if jax.process_count() == 1:
      return self.signum is not None
    return step % every == 0 and _same_on_every_process(self.signum is not None)

  @contextlib.contextmanager
  def active(self):
    if threading.current_thread() is not threading.main_thread():
      yield self
      return
    previous = {s: signal.signal(s, self._handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
      yield self
    finally:
      for s, handler in previous.items():
        signal.signal(s, handler)


@dataclasses.dataclass
class _Outputs:
  """What a run writes besides checkpoints, when due: scalars (and the progress bar), sample
  grids, evaluations; the last two only of a finite state."""

  workdir: str
  options: LoopOptions
  writer: MetricWriter
  guard: _NonFiniteGuard
  bar: Any
  sample_fn: Callable[[TrainState], np.ndarray] | None
  eval_fn: Callable[[TrainState], Mapping[str, float]] | None

  def write(self, step: int, state: TrainState, metrics: Mapping[str, Any], rate: Callable[[], float]) -> None:
    last = self.options.num_steps
    if _is_due(step, self.options.log_every, last):
      values = {k: float(v) for k, v in jax.device_get(metrics).items()}
      self.guard.check_metrics(step, values)
      values["steps_per_sec"] = rate()
      self.writer.scalars(step, {f"train/{k}": v for k, v in values.items()})
      self.bar.set_postfix({k: f"{v:.4g}" for k, v in values.items() if k != "steps_per_sec"}, refresh=False)
    if self.sample_fn is not None and _is_due(step, self.options.sample_every, last):
      self.guard.check_state(step, state, metrics)
      grid = visualize.make_grid(jax.device_get(self.sample_fn(state)))
      if jax.process_index() == 0:
        visualize.save_png(os.path.join(self.workdir, "samples", f"step_{step:08d}.png"), grid)
      self.writer.image(step, "samples", grid)
    if self.eval_fn is not None and _is_due(step, self.options.eval_every, last):
      self.guard.check_state(step, state, metrics)
      self.writer.scalars(step, {f"eval/{k}": float(v) for k, v in self.eval_fn(state).items()})


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


def fit(
  *,
  workdir: str | os.PathLike,
  init_fn: Callable[[jax.Array], TrainState],
  train_step: Callable,
  batches: Batches,
  options: LoopOptions,
  key: jax.Array,
  sample_fn: Callable[[TrainState], np.ndarray] | None = None,
  eval_fn: Callable[[TrainState], Mapping[str, float]] | None = None,
  mesh: jax.sharding.Mesh | None = None,
  state_rule=None,
  deadline: float | None = None,
  on_restored: Callable[[TrainState], None] | None = None,
  consts: Any = None,
) -> TrainState:
  """Train ``options.num_steps`` steps in total, resuming from ``<workdir>/checkpoints``.

  ``init_fn(key) -> TrainState`` and ``train_step(state, batch, consts) -> (state, metrics)`` are
  pure; the data order is a function of the step, so a resumed run equals an uninterrupted one.
  ``consts`` (a pytree of arrays the step reads but never updates: a frozen VGG, style Grams; or
  None) are replicated over the mesh and passed to every step, never checkpointed.
  Writes TensorBoard events to ``<workdir>/tensorboard`` and sample grids to
  ``<workdir>/samples``; nothing outside ``workdir``. ``on_restored(state)`` runs once the state
  is restored (or created), before the first step.

  Nothing is lost: an unreadable newest checkpoint is moved aside and the next one restored
  (:meth:`Checkpointer.restore_newest`); a NaN/inf in the metrics or state stops training with
  :class:`~jaxgan.errors.NonFiniteError` before anything non-finite is saved (or, with
  ``on_nonfinite="skip_step"``, drops that step's update); SIGTERM/SIGINT stop after the current
  step with a checkpoint and raise :class:`~jaxgan.errors.Preempted`; a failed save raises.

  ``deadline`` (a ``time.monotonic()`` time; None: none) stops training early, with a
  checkpoint, before the first step that would end past it at the mean time per step so far
  (steps are uneven: an evaluation may still overrun it). With several processes the
  decisions to stop (deadline, signal) are process 0's, taken every ``log_every`` steps, so that
  all stop at one step.
  """
  workdir = os.path.abspath(os.fspath(workdir))
  mesh = mesh or sharding_lib.make_mesh()
  is_main = jax.process_index() == 0
  ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), keep=options.keep_checkpoints)
  writer = MetricWriter(os.path.join(workdir, "tensorboard"))
  guard = _NonFiniteGuard(ckpt, options.on_nonfinite)
  if options.on_nonfinite == "skip_step":
    train_step = skipping_nonfinite(train_step)
  signals = _StopSignals()
  bar = batch_iter = None
  try:
    state, state_shardings = init_or_restore(init_fn, key, mesh, ckpt, state_rule, options.restore_step)
    if on_restored is not None:
      on_restored(state)
    consts = sharding_lib.replicate(consts, mesh)
    start = int(jax.device_get(state.step))
    last = options.num_steps
    step_fn = None
    bar = tqdm.tqdm(
      total=last, initial=start, disable=not (options.progress and is_main), dynamic_ncols=True, unit="step"
    )
    outputs = _Outputs(workdir, options, writer, guard, bar, sample_fn, eval_fn)
    batch_iter = batches.iterate(start)
    step = saved = start
    skipped = 0.0
    every = 1 if jax.process_count() == 1 else max(options.log_every, 1)
    timer = _Deadline(deadline, every)
    with signals.active():
      while step < last:
        if timer.passed(step, step - start):
          break
        if signals.requested(step, every):
          break
        local_batch = next(batch_iter)
        batch = sharding_lib.global_batch(local_batch, mesh)
        if step_fn is None:
          step_fn = compile_train_step(
            train_step, state_shardings, sharding_lib.batch_shardings(local_batch, mesh), mesh
          )
          t0 = time.perf_counter()
        state, metrics = step_fn(state, batch, consts)
        if "skipped_steps" in metrics:  # a running total (on the device: no synchronisation)
          skipped = metrics["skipped_steps"] + skipped
          metrics = {**metrics, "skipped_steps": skipped}
        step += 1
        bar.update(1)
        if step - start == 1:
          timer.first_step_done(state)
        outputs.write(step, state, metrics, lambda: (step - start) / max(time.perf_counter() - t0, 1e-9))  # noqa: B023
        if options.checkpoint_every and step % options.checkpoint_every == 0:
          guard.check_state(step, state, metrics)
          ckpt.save(step, state)
          saved = step
      if saved != step:
        guard.check_state(step, state, metrics)
        ckpt.save(step, state)
      ckpt.wait()
    if signals.signum is not None and step < last:
      raise Preempted(signals.signum, step, ckpt.directory)
  finally:
    if batch_iter is not None and hasattr(batch_iter, "close"):
      batch_iter.close()
    if bar is not None:
      bar.close()
    ckpt.close()
    writer.close()
  return state

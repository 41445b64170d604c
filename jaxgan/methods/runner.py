"""Glue shared by every method's modes: data, workdir, loop; restore for the non-training modes."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import sys
import time
from typing import Callable

import jax
import numpy as np

from jaxgan import atomic
from jaxgan import config as config_lib
from jaxgan.config import TrainConfig
from jaxgan.data import BatchLoader, labelled_source, labelled_transform
from jaxgan.methods.protocol import Method
from jaxgan.metrics.classifier import cached_classifier
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
  return LoopOptions(
    num_steps=config.num_steps,
    checkpoint_every=config.checkpoint_every,
    keep_checkpoints=config.keep_checkpoints,
    log_every=config.log_every,
    sample_every=config.sample_every,
    eval_every=config.eval_every,
    progress=progress,
    on_nonfinite=config.on_nonfinite,
    restore_step=config.restore_step if restore_step else 0,
  )


def built_by_process0_first(make: Callable):
  """``make()`` on process 0, then (after a barrier) on the others: datasets are built once."""
  value = make() if jax.process_index() == 0 else None
  distributed.barrier("dataset-built")
  return value if jax.process_index() == 0 else make()


def loader(config: TrainConfig, source, *, global_batch_size: int, transform) -> BatchLoader:
  """This process's slice of every global batch of ``source``."""
  return BatchLoader(
    source,
    global_batch_size=global_batch_size,
    seed=config.seed,
    transform=transform,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
  )


def labelled_batches(
  config: TrainConfig, *, global_batch_size: int, image_size: int, channels: int, split: str = "train"
) -> BatchLoader:
  """This process's slice of every global batch of a labelled dataset."""
  data_dir = config.resolved_data_dir()
  source = built_by_process0_first(lambda: labelled_source(config.dataset, split=split, data_dir=data_dir))
  return loader(
    config,
    source,
    global_batch_size=global_batch_size,
    transform=labelled_transform(image_size=image_size, channels=channels),
  )


def labelled_arrays(
  source, *, image_size: int, channels: int, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
  """A labelled split (its first ``limit`` examples; all by default) as arrays: images in [-1, 1]
  ``[N, S, S, C]``, int labels ``[N]``."""
  transform = labelled_transform(image_size=image_size, channels=channels)
  n = len(source) if limit is None else min(limit, len(source))
  examples = [transform(source[i]) for i in range(n)]
  return np.stack([e["image"] for e in examples]), np.asarray([e["label"] for e in examples])


def judge_classifier(config: TrainConfig, source, *, image_size: int, channels: int, steps: int, **options):
  """A classifier of ``source``'s labels (the judge of generated images), trained once on all of
  ``source`` and cached in ``<workdir>/classifier`` (:func:`jaxgan.metrics.classifier.cached_classifier`;
  ``options``: its ``features``, ...)."""
  images, labels = labelled_arrays(source, image_size=image_size, channels=channels)
  directory = os.path.join(os.path.abspath(config.workdir), "classifier")
  return cached_classifier(directory, images, labels, source.num_classes, steps=steps, seed=config.seed, **options)


def labelled_sources(config: TrainConfig, splits: tuple[str, ...]) -> list:
  """Sources of several splits of ``config.dataset``; process 0 builds the dataset first."""
  data_dir = config.resolved_data_dir()
  return built_by_process0_first(lambda: [labelled_source(config.dataset, split=s, data_dir=data_dir) for s in splits])


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
    atomic.write_json(path, values)
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


def train(
  config: TrainConfig,
  method: Method,
  *,
  batches,
  sample_fn=None,
  eval_fn=None,
  started: float | None = None,
  part: Part | None = None,
) -> TrainState:
  """``fit`` ``method`` into ``config.workdir``: the config checked against the recorded one, then
  recorded once the state has restored; ``method.consts`` passed to every step (see
  :func:`jaxgan.train.loop.fit`).

  ``--time_budget_minutes`` counts from ``started`` (a ``time.monotonic()``; default: now). A run
  the budget stops before ``--num_steps`` is a prefix of the unlimited one (same steps, same
  data) and counts as finished (:func:`mark_finished`).

  ``part``: one fit of a run made of several (SinGAN's scales): its own folder, key and mesh;
  the run's start and end are reported by the method.
  """
  started = time.monotonic() if started is None else started
  workdir = prepare_workdir(config)
  if part is None and jax.process_index() == 0:
    print(f"jaxgan: workdir {workdir}", flush=True)
  deadline = started + 60 * config.time_budget_minutes if config.time_budget_minutes else None
  state = fit(
    workdir=os.path.join(workdir, part.folder) if part else workdir,
    init_fn=method.init_state,
    train_step=method.train_step,
    batches=batches,
    options=loop_options(config, progress=part.progress if part else True, restore_step=part is None),
    key=part.key if part else run_key(config),
    sample_fn=sample_fn,
    eval_fn=eval_fn,
    mesh=part.mesh if part and part.mesh else mesh_for(config),
    deadline=deadline,
    consts=method.consts,
    on_restored=lambda _: record_config(config),
  )
  if part is not None:
    return state
  step = int(state.step)
  if deadline is not None and 0 < step < config.num_steps:
    mark_finished(config, step, f"--time_budget_minutes={config.time_budget_minutes:g}")
  if jax.process_index() == 0:
    print(
      f"jaxgan: stopped at step {step} after {(time.monotonic() - started) / 60:.1f} min; checkpoints, "
      f"samples and TensorBoard events in {workdir}",
      flush=True,
    )
  return state


@dataclasses.dataclass(frozen=True)
class Part:
  """One of several fits of a run (:func:`train`'s ``part``): trained in ``<workdir>/<folder>``
  from ``key``, on ``mesh`` (default: the run's); ``restore_step`` does not apply to it."""

  folder: str
  key: jax.Array
  mesh: jax.sharding.Mesh | None = None
  progress: bool = True


# -- what the non-training modes restore -----------------------------------------------------------

FINISHED = "finished.json"  # a run that ended on purpose before --num_steps: {"step": N, "reason": ...}
_NOT_FOR_TRAINING = re.compile(r"^--?(no)?(mode|allow_partial|restore_step)(=|$)")
_SCRIPTS = {"semi_supervised": "sgan"}  # Config modules whose experiment script has another name


def latest_step(directory: str) -> int | None:
  """The newest checkpoint step in ``directory`` (None: none); creates nothing."""
  if not os.path.isdir(directory):
    return None
  ckpt = Checkpointer(directory)
  try:
    return ckpt.latest_step()
  finally:
    ckpt.close()


def _read_json(path: str) -> dict:
  try:
    with open(path) as f:
      value = json.load(f)
  except (OSError, ValueError):
    return {}
  return value if isinstance(value, dict) else {}


def run_length(config: TrainConfig, latest: int | None = None) -> int:
  """The step at which the run of ``config.workdir`` is finished.

  The ``num_steps`` of its ``config.json`` (what training was started with; pix2pix and
  CycleGAN record their epochs as steps there), else ``--num_steps``; or ``latest`` when
  :data:`FINISHED` records that the run ended there on purpose (a time budget, an import).
  """
  workdir = os.path.abspath(config.workdir)
  recorded = _read_json(os.path.join(workdir, "config.json")).get("num_steps")
  total = recorded if isinstance(recorded, int) and not isinstance(recorded, bool) else config.num_steps
  if latest is not None and latest < total and _read_json(os.path.join(workdir, FINISHED)).get("step") == latest:
    return latest
  return total


def mark_finished(config: TrainConfig, step: int, reason: str) -> None:
  """Record that the checkpoint of ``step`` is a finished model although ``step < num_steps``."""
  write_json(config, FINISHED, {"step": step, "reason": reason})


def train_command(config: TrainConfig) -> str:
  """The command that trains ``config.workdir``: this process's own command line with
  ``--mode=train`` (last: it wins over a flagfile's) when it runs the method's experiment
  script, else one built from ``config`` (its values that are not the defaults)."""
  module = type(config).__module__.rsplit(".", 1)[-1]
  script = f"{_SCRIPTS.get(module, module)}.py"
  if sys.argv and os.path.basename(sys.argv[0]) == script:
    args, value_next = [], False
    for arg in sys.argv[1:]:
      if value_next:  # the value of "--mode X" or "--restore_step N"
        value_next = False
        continue
      match = _NOT_FOR_TRAINING.match(arg)
      if match is None:
        args.append(arg)
      else:
        value_next = not match.group(3) and match.group(2) != "allow_partial"
    return shlex.join(["python", sys.argv[0], *args, "--mode=train"])
  args = [f"--workdir={config.workdir}"]
  for f in dataclasses.fields(config):
    value = getattr(config, f.name)
    if f.name in ("workdir", "allow_partial", "restore_step") or value == f.default:
      continue
    name = f.metadata.get("flag") or f.name
    if isinstance(value, bool):
      args.append(f"--{name}" if value else f"--no{name}")
    else:
      args.append(f"--{name}={','.join(map(str, value)) if isinstance(value, tuple) else value}")
  return shlex.join(["python", f"experiments/{script}", "--mode=train", *args])


def require_trained(
  config: TrainConfig, step: int | None, total: int, *, detail: str = "", quiet: bool = False
) -> None:
  """Stop with ``train first: <command>`` unless the run of ``config.workdir`` is finished
  (``step >= total``) or ``--allow_partial`` takes it at ``step``; then say so (unless ``quiet``).

  The one check of every mode that uses a trained model; ``step`` None: no checkpoint.
  """
  workdir = os.path.abspath(config.workdir)
  if step is None:
    raise FileNotFoundError(f"train first: {train_command(config)} (no checkpoint in {workdir})")
  if step >= total:
    return
  where = f"step {step} of {total}{detail}"
  if not config.allow_partial:
    raise FileNotFoundError(
      f"train first: {train_command(config)} ({workdir} is at {where}; --allow_partial uses it as it is)"
    )
  if not quiet and jax.process_index() == 0:
    print(f"jaxgan: --allow_partial: using {where} (the run in {workdir} is not finished)", flush=True)


def restore(
  config: TrainConfig, init_fn: Callable, *, require_finished: bool = True, part: Part | None = None
) -> TrainState:
  """The latest checkpoint of ``config.workdir`` (of its ``part``), which must end its run (see
  :func:`require_trained`) unless not ``require_finished``; FileNotFoundError without a
  checkpoint. Creates nothing."""
  workdir = os.path.abspath(config.workdir)
  directory = os.path.join(workdir, part.folder, "checkpoints") if part else os.path.join(workdir, "checkpoints")
  latest = latest_step(directory)
  total = run_length(config, latest)
  if require_finished:
    require_trained(config, latest, total, quiet=True)
  elif latest is None:
    raise FileNotFoundError(f"no checkpoint in {directory}")
  ckpt = Checkpointer(directory)
  try:
    key, mesh = (part.key, part.mesh or mesh_for(config)) if part else (run_key(config), mesh_for(config))
    state, _ = init_or_restore(init_fn, key, mesh, ckpt)
  finally:
    ckpt.close()
  if require_finished:  # the step restored (an older one if the latest was unreadable)
    require_trained(config, int(jax.device_get(state.step)), total)
  return state

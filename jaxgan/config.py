"""Configuration: frozen dataclasses whose fields are the flags of the experiment scripts.

A field's metadata may carry ``help`` (flag help), ``choices`` (the one dict the value is
looked up in) and ``check`` (a predicate with a description). ``__post_init__`` of every
config calls :func:`validate`, so a bad value stops with a message naming the field before
anything is compiled.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Callable, Mapping

from jaxgan import atomic
from jaxgan.nn.precision import PRECISIONS, compute_dtype


def field(
  default: Any,
  help: str,
  *,
  choices: Mapping[str, Any] | None = None,
  check: tuple[Callable[[Any], bool], str] | None = None,
  run_only: bool = False,
  flag: str | None = None,
):
  """A dataclass field with flag metadata.

  ``run_only`` marks fields that do not change what is trained (paths, frequencies, tool
  options): a workdir may be resumed with other values of them. ``flag`` names the
  command-line flag when it cannot be the field's name (e.g. ``--class``).
  """
  metadata = {"help": help, "run_only": run_only, "flag": flag}
  if choices is not None:
    metadata["choices"] = choices
  if check is not None:
    metadata["check"] = check
  return dataclasses.field(default=default, metadata=metadata)


POSITIVE = (lambda v: v > 0, "must be > 0")
NON_NEGATIVE = (lambda v: v >= 0, "must be >= 0")
PROBABILITY = (lambda v: 0 <= v < 1, "must be in [0, 1)")


def validate(config) -> None:
  """Check every field against its ``choices`` and ``check``; raise ValueError naming it."""
  for f in dataclasses.fields(config):
    value = getattr(config, f.name)
    choices = f.metadata.get("choices")
    name = f.metadata.get("flag") or f.name
    if choices is not None and value not in choices:
      raise ValueError(f"{name}={value!r} is not one of {sorted(choices)}")
    check = f.metadata.get("check")
    if check is not None:
      predicate, what = check
      values = value if isinstance(value, tuple) else (value,)
      if not all(predicate(v) for v in values):
        raise ValueError(f"{name}={value!r} {what}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ComputeConfig:
  """How the networks compute: memory-for-time and precision options (every method has them)."""

  remat: bool = field(
    False,
    "Recompute each network block's activations in the backward pass (gradient "
    "checkpointing): less memory for about one more forward pass; same results.",
    run_only=True,
  )
  precision: str = field(
    "float32",
    "Compute dtype of the networks: float32, or bfloat16 (mixed precision: "
    "parameters, optimiser state, losses and checkpoints stay float32).",
    choices=PRECISIONS,
  )

  def compute_dtype(self) -> Any:
    """The networks' compute dtype (None: float32 throughout)."""
    return compute_dtype(self.precision)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig(ComputeConfig):
  """Fields shared by every method: where, how long, how often, on what data."""

  workdir: str = field(
    "",
    "Directory for checkpoints, TensorBoard events and samples "
    "(resumes from its latest checkpoint). Required for training.",
    run_only=True,
  )
  seed: int = field(0, "Seed of the parameters, the noise and the data order.")
  dataset: str = field(
    "digits",
    "Data: 'digits', 'idx:DIR' (MNIST-format IDX files), "
    "'folder:DIR' (class sub-folders) or 'tfds:NAME' prepared in --data_dir.",
  )
  data_dir: str = field("", "Where tfds datasets are built/read; default <workdir>/tfds.", run_only=True)
  num_steps: int = field(10_000, "Total number of training steps.", check=NON_NEGATIVE, run_only=True)
  batch_size: int = field(128, "Global batch size (all devices and hosts together).", check=POSITIVE)
  checkpoint_every: int = field(
    1000, "Save a checkpoint every N steps (and at the end).", check=NON_NEGATIVE, run_only=True
  )
  keep_checkpoints: int = field(3, "Number of checkpoints kept.", check=POSITIVE, run_only=True)
  log_every: int = field(50, "Write scalars every N steps.", check=NON_NEGATIVE, run_only=True)
  sample_every: int = field(
    500, "Write a sample grid every N steps (and at the end).", check=NON_NEGATIVE, run_only=True
  )
  eval_every: int = field(0, "Run the evaluation hook every N steps (0: never).", check=NON_NEGATIVE, run_only=True)
  num_devices: int = field(0, "Devices of the mesh (0: all visible).", check=NON_NEGATIVE, run_only=True)
  on_nonfinite: str = field(
    "stop",
    "What a NaN/inf in the training metrics or state does: 'stop' (one line "
    "naming the step and the metric; the last finite checkpoint is kept) or "
    "'skip_step' (that step's update is dropped, counted in train/skipped_steps).",
    choices={"stop": "stop training", "skip_step": "drop the update"},
    run_only=True,
  )
  restore_step: int = field(
    0,
    "Resume from this checkpoint step instead of the newest readable one (later "
    "checkpoints are moved aside, not deleted); 0: the newest.",
    check=NON_NEGATIVE,
    run_only=True,
  )
  time_budget_minutes: float = field(
    0.0,
    "Stop training after this many minutes of wall time "
    "(checkpointing the last step; the run then counts as finished), or at "
    "--num_steps; 0: no limit.",
    check=NON_NEGATIVE,
    run_only=True,
  )
  allow_partial: bool = field(
    False, "Let the non-training modes use a checkpoint of an unfinished run (step < --num_steps).", run_only=True
  )

  def __post_init__(self):
    validate(self)

  def resolved_data_dir(self) -> str:
    return self.data_dir or os.path.join(self.workdir, "tfds")

  def replace(self, **changes):
    return dataclasses.replace(self, **changes)


def to_dict(config) -> dict[str, Any]:
  return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def check_recorded(config, path: str | os.PathLike) -> None:
  """Refuse (ValueError naming the fields) if ``path`` records a run with other settings.

  Protects a workdir's checkpoints from being resumed by a run with other hyperparameters;
  ``run_only`` fields may differ.
  """
  path = os.fspath(path)
  if not os.path.exists(path):
    return
  current = json.loads(json.dumps(to_dict(config)))
  with open(path) as f:
    previous = json.load(f)
  run_only = {f.name for f in dataclasses.fields(config) if f.metadata.get("run_only")}
  diff = {
    k: (previous.get(k), current.get(k))
    for k in set(previous) | set(current)
    if k not in run_only and previous.get(k) != current.get(k)
  }
  if diff:
    details = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in sorted(diff.items()))
    raise ValueError(f"{path} records a run with other settings ({details}); use a new --workdir or the same settings")


def record(config, path: str | os.PathLike) -> None:
  """Write the config to ``path`` atomically (after :func:`check_recorded`)."""
  atomic.write_json(path, json.loads(json.dumps(to_dict(config))))


def write_or_check(config, path: str | os.PathLike) -> None:
  """:func:`check_recorded`, then :func:`record` if ``path`` does not exist yet."""
  check_recorded(config, path)
  if not os.path.exists(os.fspath(path)):
    record(config, path)

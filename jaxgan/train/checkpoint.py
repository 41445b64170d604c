"""Orbax checkpoints of the TrainState in ``<workdir>/checkpoints``."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from typing import Any

import jax
import orbax.checkpoint as ocp

from jaxgan.errors import CheckpointError

ASIDE = "checkpoints_aside"  # beside the checkpoints folder: steps moved out of a run's way, never deleted


# What jaxgan's own checkpoints held in ``TrainState.extra`` before constants became ``fit``'s
# ``consts`` (2026-12-01): the frozen VGG of SR and style transfer, and style transfer's Gram
# matrices. A checkpoint written then restores: these are read and dropped.
FORMER_CONSTANTS = ("vgg", "style_grams")


class Checkpointer:
  """Periodic, atomic saves keeping the last ``keep``; restore into an abstract sharded state.

  Every process must call :meth:`save` (orbax coordinates multi-host writes).
  """

  def __init__(self, directory: str | os.PathLike, *, keep: int = 3):
    if keep < 1:
      raise ValueError(f"keep_checkpoints must be >= 1, got {keep}")
    self.directory = os.path.abspath(os.fspath(directory))
    self._manager = ocp.CheckpointManager(
      self.directory,
      options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True),
      item_handlers=ocp.StandardCheckpointHandler(),
    )

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def save(self, step: int, state: Any) -> None:
    """Start an asynchronous save of ``state`` as ``step`` (arrays are copied before it returns).

    A previous save that failed (a full disk) raises here, so that training stops at the next save.
    """
    self._manager.check_for_errors()
    self._manager.save(step, args=ocp.args.StandardSave(state), force=True)

  def restore(self, abstract_state: Any, step: int | None = None) -> Any:
    """Restore ``step`` (latest by default) into the shapes/dtypes/shardings of ``abstract_state``."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError(f"no checkpoint in {self.directory}")
    return self._manager.restore(step, args=ocp.args.StandardRestore(abstract_state))

  def with_former_constants(self, abstract_state: Any, step: int) -> Any | None:
    """``abstract_state`` whose ``extra`` also holds the :data:`FORMER_CONSTANTS` that checkpoint
    ``step`` has and the state no longer does (restored, then dropped); None if it has none."""
    extra = self._manager.item_metadata(step).tree.get("extra")
    if not isinstance(extra, dict) or not isinstance(getattr(abstract_state, "extra", None), dict):
      return None
    former = {k: extra[k] for k in FORMER_CONSTANTS if k in extra and k not in abstract_state.extra}
    if not former:
      return None
    as_abstract = jax.tree.map(lambda m: jax.ShapeDtypeStruct(tuple(m.shape), m.dtype), former)
    return abstract_state.replace(extra={**abstract_state.extra, **as_abstract})

  def shape_differences(self, abstract_state: Any, step: int) -> list[str]:
    """Arrays whose shape or dtype in checkpoint ``step`` differs from ``abstract_state`` ("name:
    checkpoint -> now"); raises OSError/ValueError if the checkpoint's metadata is unreadable."""
    saved = {m.name: m for m in jax.tree.leaves(self._manager.item_metadata(step).tree) if hasattr(m, "shape")}
    now = {
      ".".join(_key_name(k) for k in path): leaf
      for path, leaf in jax.tree_util.tree_flatten_with_path(abstract_state)[0]
    }
    diffs = []
    for name in sorted(set(saved) | set(now)):
      old, new = saved.get(name), now.get(name)
      if old is None or new is None:
        diffs.append(
          f"{name}: {'absent' if old is None else 'present'} in the checkpoint, "
          f"{'absent' if new is None else 'present'} now"
        )
      elif tuple(old.shape) != tuple(new.shape) or old.dtype != new.dtype:
        diffs.append(f"{name}: {old.dtype}{list(old.shape)} in the checkpoint, {new.dtype}{list(new.shape)} now")
    return diffs

  def set_aside(self, step: int, reason: str) -> str:
    """Move checkpoint ``step`` to ``<workdir>/checkpoints_aside/<step>.<reason>`` (never deleted);
    returns the new path. Process 0 moves; every process then sees the step gone."""
    target = os.path.join(os.path.dirname(self.directory), ASIDE, f"{step}.{reason}")
    if jax.process_index() == 0:
      n, base = 1, target
      while os.path.exists(target):
        n += 1
        target = f"{base}.{n}"
      os.makedirs(os.path.dirname(target), exist_ok=True)
      shutil.move(os.path.join(self.directory, str(step)), target)
    from jaxgan.train import distributed  # pylint: disable=import-outside-toplevel

    distributed.barrier(f"checkpoint-{step}-set-aside")
    self._manager.reload()
    return target

  def restore_newest(self, abstract_state: Any, step: int = 0) -> tuple[Any, int]:
    """The newest checkpoint that restores, and its step; ``step`` > 0: that one.

    A checkpoint that cannot be read is reported in one line, moved aside and the next newer one
    tried. One whose arrays have other shapes than ``abstract_state`` (a run with other settings)
    is not touched: :class:`~jaxgan.errors.CheckpointError` names the differing arrays. With
    ``step``, the checkpoints after it are moved aside (a resumed run would write over them).
    """
    steps = sorted(self.all_steps(), reverse=True)
    if step:
      if step not in steps:
        raise CheckpointError(
          f"--restore_step={step}: no such checkpoint in {self.directory} "
          f"(steps: {', '.join(map(str, sorted(steps))) or 'none'})"
        )
      for later in [s for s in steps if s > step]:
        print(
          f"jaxgan: --restore_step={step}: checkpoint {later} moved to {self.set_aside(later, 'after_restore_step')}",
          file=sys.stderr,
          flush=True,
        )
      steps = [step]
    for candidate in steps:
      target = abstract_state
      try:
        target = self.with_former_constants(abstract_state, candidate) or abstract_state
        diffs = self.shape_differences(target, candidate)
      except Exception:  # pylint: disable=broad-except  (unreadable metadata: the restore decides)
        diffs = []
      if diffs:
        raise CheckpointError(
          f"checkpoint {candidate} in {self.directory} was saved by a run with other settings "
          f"({'; '.join(diffs[:3])}{'; ...' if len(diffs) > 3 else ''}); use a new --workdir or that "
          "run's settings"
        )
      try:
        with _quiet_unraisable():
          state = self.restore(target, candidate)
        if target is not abstract_state:
          print(
            f"jaxgan: checkpoint {candidate} in {self.directory} holds constants that later checkpoints leave "
            f"out ({', '.join(k for k in FORMER_CONSTANTS if k in state.extra)}): read, not used",
            file=sys.stderr,
            flush=True,
          )
          state = state.replace(extra={k: v for k, v in state.extra.items() if k in abstract_state.extra})
        return state, candidate
      except Exception as e:  # pylint: disable=broad-except  (orbax raises many kinds for a damaged file)
        reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:200]
        moved = self.set_aside(candidate, "unreadable")
        print(
          f"jaxgan: checkpoint {candidate} in {self.directory} is unreadable ({reason}); moved to {moved}",
          file=sys.stderr,
          flush=True,
        )
    raise CheckpointError(
      f"no readable checkpoint left in {self.directory} "
      f"(unreadable ones were moved to {os.path.join(os.path.dirname(self.directory), ASIDE)}); "
      "run again to start over"
    )

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()


def abstract_with_shardings(abstract_state: Any, shardings: Any) -> Any:
  """ShapeDtypeStructs carrying the target shardings, for :meth:`Checkpointer.restore`."""
  return jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s), abstract_state, shardings)


def _key_name(key: Any) -> str:
  for attr in ("name", "key", "idx"):
    if hasattr(key, attr):
      return str(getattr(key, attr))
  return str(key)


@contextlib.contextmanager
def _quiet_unraisable():
  """Silence "Exception ignored in coroutine" reports of orbax's aborted reads (the exception
  itself still propagates and is reported once)."""
  hook = sys.unraisablehook
  sys.unraisablehook = lambda unraisable: None
  try:
    yield
  finally:
    sys.unraisablehook = hook

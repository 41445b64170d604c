"""Orbax checkpoints of the TrainState in ``<workdir>/checkpoints``."""

from __future__ import annotations

import os
from typing import Any

import jax
import orbax.checkpoint as ocp


class Checkpointer:
  """Periodic, atomic saves keeping the last ``keep``; restore into an abstract sharded state.

  Every process must call :meth:`save` (orbax coordinates multi-host writes).
  """

  def __init__(self, directory: str | os.PathLike, *, keep: int = 3):
    if keep < 1:
      raise ValueError(f"keep_checkpoints must be >= 1, got {keep}")
    self.directory = os.path.abspath(os.fspath(directory))
    self._manager = ocp.CheckpointManager(
        self.directory, options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def save(self, step: int, state: Any) -> None:
    """Start an asynchronous save of ``state`` as ``step`` (arrays are copied before it returns)."""
    self._manager.save(step, args=ocp.args.StandardSave(state), force=True)

  def restore(self, abstract_state: Any, step: int | None = None) -> Any:
    """Restore ``step`` (latest by default) into the shapes/dtypes/shardings of ``abstract_state``."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError(f"no checkpoint in {self.directory}")
    return self._manager.restore(step, args=ocp.args.StandardRestore(abstract_state))

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()


def abstract_with_shardings(abstract_state: Any, shardings: Any) -> Any:
  """ShapeDtypeStructs carrying the target shardings, for :meth:`Checkpointer.restore`."""
  return jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s),
                      abstract_state, shardings)

"""The errors jaxgan reports to a user as one line, and the exit code of each.

``jaxgan.experiment.main`` turns a :class:`UserError` (and a few standard exceptions: bad values,
missing files, a full disk, a missing optional dependency) into ``jaxgan: error: <message>`` and
its exit code; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

# Exit codes of the experiment scripts (absl's usage errors exit 1; a signal: 128 + its number).
EXIT_BAD_INPUT = 2  # a bad flag value, a missing or unreadable input file, other settings than the workdir's
EXIT_NONFINITE = 3  # training produced NaN/inf
EXIT_CHECKPOINT = 4  # no readable checkpoint to resume or use
EXIT_MISSING_DEPENDENCY = 5  # an optional package a mode needs is not installed
EXIT_DISK = 6  # writing failed: disk full or not writable


class UserError(Exception):
  """An error a user can fix from its message alone."""

  exit_code = EXIT_BAD_INPUT


class NonFiniteError(UserError):
  """Training produced a NaN/inf; nothing non-finite was saved."""

  exit_code = EXIT_NONFINITE


class CheckpointError(UserError):
  """No checkpoint that can be restored into this run (unreadable, or other shapes)."""

  exit_code = EXIT_CHECKPOINT


class Preempted(Exception):
  """Training stopped by a signal after saving a checkpoint (not an error: resume with the same command)."""

  def __init__(self, signum: int, step: int, directory: str):
    import signal  # pylint: disable=import-outside-toplevel

    self.signum, self.step, self.directory = signum, step, directory
    self.exit_code = 128 + signum
    name = signal.Signals(signum).name
    super().__init__(
      f"stopped by {name} at step {step}; checkpoint saved in {directory}; run the same command to resume"
    )

"""The absl entry point shared by ``experiments/*.py``: flags -> Config -> train / tools.

Flags are derived from the method's ``Config`` dataclass, so ``--flagfile`` works and an
unknown flag or a bad value stops with a message naming it before anything is compiled.
"""

from __future__ import annotations

import errno
import os
import sys
from types import ModuleType

from absl import app, flags, logging

from jaxgan import errors
from jaxgan import flags as flags_lib

_COMMON = {
  "coordinator_address": ("", "host:port of process 0 for a multi-process run."),
  "num_processes": (0, "Number of processes of a multi-process run."),
  "process_id": (-1, "Index of this process in a multi-process run."),
}


def define_common_flags(flag_values: flags.FlagValues) -> None:
  flags.DEFINE_string("coordinator_address", "", _COMMON["coordinator_address"][1], flag_values=flag_values)
  flags.DEFINE_integer("num_processes", 0, _COMMON["num_processes"][1], flag_values=flag_values)
  flags.DEFINE_integer("process_id", -1, _COMMON["process_id"][1], flag_values=flag_values)
  flags.DEFINE_bool(
    "verbose", False, "Show the full traceback of an error (also: JAXGAN_DEBUG=1).", flag_values=flag_values
  )
  flags.DEFINE_bool(
    "distributed_auto",
    False,
    "Call jax.distributed.initialize() with cluster auto-detection (TPU pods, SLURM, MPI).",
    flag_values=flag_values,
  )


_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}


def reported_exit(e: BaseException) -> tuple[int | None, str]:
  """The exit code and one-line message for an exception a user can act on; (None, "") for
  anything else (a bug: its traceback is shown)."""
  if isinstance(e, errors.Preempted):
    return e.exit_code, str(e)
  hint = "\n(--verbose or JAXGAN_DEBUG=1 shows the traceback)"
  if isinstance(e, errors.UserError):
    return e.exit_code, f"error: {e}{hint}"
  if isinstance(e, OSError) and e.errno in _DISK_ERRNOS:
    where = f" writing {e.filename}" if e.filename else ""
    return errors.EXIT_DISK, f"error: {os.strerror(e.errno).lower()}{where}; free space or use another --workdir{hint}"
  if isinstance(e, (ValueError, OSError)):  # bad data, paths or settings: say which, briefly
    return errors.EXIT_BAD_INPUT, f"error: {e}{hint}"
  if isinstance(e, ModuleNotFoundError) and e.name:
    package = e.name.split(".")[0]
    return errors.EXIT_MISSING_DEPENDENCY, (
      f"error: this needs the optional package '{package}', which is not installed (pip install {package}){hint}"
    )
  return None, ""


def main(method: ModuleType, argv: list[str] | None = None) -> None:
  """The script of a method module (:mod:`jaxgan.methods.protocol`): define the flags of
  ``method.Config`` and run ``method.MODES[--mode](config)`` under absl."""
  modes = method.MODES
  flag_values = flags.FLAGS
  flags_lib.define_flags(method.Config, flag_values)
  define_common_flags(flag_values)
  flags.DEFINE_enum("mode", "train", sorted(modes), "What to do.", flag_values=flag_values)

  def run(_argv):
    if not flag_values["verbosity"].present:
      logging.set_verbosity(logging.WARNING)  # orbax and tfds log every save at INFO
    if len(_argv) > 1:
      raise app.UsageError(f"unexpected arguments {_argv[1:]}; flags look like --name=value")
    try:
      config = flags_lib.config_from_flags(method.Config, flag_values)
    except ValueError as e:
      raise app.UsageError(str(e)) from None
    if not config.workdir:
      raise app.UsageError("--workdir is required")
    # Imported here so that flag errors are reported before JAX starts.
    from jaxgan.train import distributed

    if flag_values.distributed_auto:
      distributed.initialize_auto()
    else:
      try:
        distributed.initialize(flag_values.coordinator_address, flag_values.num_processes, flag_values.process_id)
      except ValueError as e:
        raise app.UsageError(str(e)) from None
    try:
      modes[flag_values.mode](config)
    except Exception as e:  # pylint: disable=broad-except  (reported_exit re-raises what it does not know)
      code, message = reported_exit(e)
      debug = flag_values.verbose or os.environ.get("JAXGAN_DEBUG")
      if code is None or (debug and not isinstance(e, errors.Preempted)):
        raise
      print(f"jaxgan: {message}", file=sys.stderr, flush=True)
      sys.exit(code)

  app.run(run, argv=argv or sys.argv)

"""The absl entry point shared by ``experiments/*.py``: flags -> Config -> train / tools.

Flags are derived from the method's ``Config`` dataclass, so ``--flagfile`` works and an
unknown flag or a bad value stops with a message naming it before anything is compiled.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

from absl import app, flags, logging

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
  flags.DEFINE_bool("distributed_auto", False, "Call jax.distributed.initialize() with cluster "
                    "auto-detection (TPU pods, SLURM, MPI).", flag_values=flag_values)


def main(method: ModuleType, modes: dict, argv: list[str] | None = None) -> None:
  """Define the flags of ``method.Config`` and run ``modes[--mode](config)`` under absl."""
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
        distributed.initialize(flag_values.coordinator_address, flag_values.num_processes,
                               flag_values.process_id)
      except ValueError as e:
        raise app.UsageError(str(e)) from None
    try:
      modes[flag_values.mode](config)
    except (ValueError, OSError) as e:  # bad data, paths or settings: say which, briefly
      if os.environ.get("JAXGAN_DEBUG"):
        raise
      print(f"jaxgan: error: {e}\n(set JAXGAN_DEBUG=1 for the traceback)", file=sys.stderr)
      sys.exit(2)

  app.run(run, argv=argv or sys.argv)

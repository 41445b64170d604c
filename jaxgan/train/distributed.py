"""Multi-process start-up: ``jax.distributed.initialize`` before any device is touched."""

from __future__ import annotations

import jax
from jax.experimental import multihost_utils


def initialize(coordinator_address: str = "", num_processes: int = 0, process_id: int = -1) -> None:
  """Join a multi-process run.

  With ``coordinator_address`` set, all three values are given explicitly (e.g. several CPU
  processes on one machine). With ``num_processes == 0`` and no address, nothing is done
  unless ``auto`` is requested by the caller through :func:`initialize_auto`.
  """
  if not coordinator_address:
    if num_processes > 1 or process_id >= 0:
      raise ValueError("--num_processes/--process_id need --coordinator_address (host:port)")
    return
  if num_processes < 1 or not 0 <= process_id < num_processes:
    raise ValueError(f"--process_id={process_id} must be in [0, --num_processes={num_processes})")
  jax.distributed.initialize(
    coordinator_address=coordinator_address, num_processes=num_processes, process_id=process_id
  )


def initialize_auto() -> None:
  """Let JAX detect the cluster (TPU pods, SLURM, Open MPI, Kubernetes...)."""
  jax.distributed.initialize()


def barrier(name: str) -> None:
  """Wait until every process reaches this point (no-op on one process)."""
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices(name)

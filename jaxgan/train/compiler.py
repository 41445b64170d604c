"""The XLA compile options of jaxgan's own jitted functions, and ``jit`` that applies them.

On CPU, XLA (jax 0.10) hands convolutions and dots to YNNPACK fusions by default; on the
development machine YNNPACK's convolutions ran several times slower than XLA's Eigen ones
and its dots were no faster (benchmarks/README.md, "YNNPACK on XLA:CPU"). So every function
jaxgan compiles for CPU clears the option's list
(``xla_cpu_experimental_ynn_fusion_type``) and turns on copy insertion's region analysis
(``xla_cpu_copy_insertion_use_region_analysis``; without it XLA:CPU copies donated parameters
and optimiser moments before updating them in place). Per compilation: nothing global, nothing a
user's own ``jax.jit`` sees.
GPU/TPU compilations get no options.

``JAXGAN_XLA_DEFAULTS=1`` in the environment keeps XLA's defaults (for comparisons, or a
future XLA whose YNNPACK path is the faster one). An XLA that rejects these options compiles
with its defaults.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Callable

import jax

CPU_OPTIONS = {
  # YNNPACK's convolutions are slower than XLA's Eigen ones on CPU (see the module docstring).
  "xla_cpu_experimental_ynn_fusion_type": "",
  # Copy insertion that sees through control flow regions: without it XLA copies the donated
  # parameters and Adam moments before updating them in place (102 state copies in the
  # pix2pix step, none with it).
  "xla_cpu_copy_insertion_use_region_analysis": True,
}


@functools.cache
def _accepted(items: tuple[tuple[str, Any], ...]) -> bool:
  """Whether this XLA:CPU compiles with the options (one tiny compilation, once)."""
  try:
    jax.jit(lambda x: x + 1, compiler_options=dict(items)).lower(0.0).compile()
  except Exception:  # noqa: BLE001 -- an unknown option or value: XLA's own error types vary
    return False
  return True


def options(platform: str | None = None) -> dict[str, Any]:
  """The compile options for ``platform`` (default: JAX's default backend)."""
  if os.environ.get("JAXGAN_XLA_DEFAULTS", "") not in ("", "0"):
    return {}
  if (platform or jax.default_backend()) != "cpu":
    return {}
  items = tuple(sorted(CPU_OPTIONS.items()))
  return dict(items) if _accepted(items) else {}


def _top_level() -> bool:
  """Whether no trace is active (only a top-level ``jax.jit`` may take compile options)."""
  try:
    from jax._src import core  # pylint: disable=import-outside-toplevel

    return bool(core.trace_state_clean())
  except (ImportError, AttributeError):  # a jax without it: assume top level, as most calls are
    return True


class _Jit:
  """A ``jax.jit`` with compile options, that is its plain ``jax.jit`` when called under a trace
  (inside another jitted function, whose own compilation then decides)."""

  def __init__(self, fn: Callable[..., Any], options: dict[str, str], kwargs: dict[str, Any]):
    self._plain = jax.jit(fn, **kwargs)
    self._with_options = jax.jit(fn, compiler_options=options, **kwargs) if options else self._plain
    functools.update_wrapper(self, fn)

  def __call__(self, *args, **kwargs):
    return (self._with_options if _top_level() else self._plain)(*args, **kwargs)

  def lower(self, *args, **kwargs):
    return self._with_options.lower(*args, **kwargs)

  def __getattr__(self, name: str) -> Any:  # eval_shape, trace, ...
    return getattr(self._with_options, name)


def jit(fn: Callable[..., Any], *, platform: str | None = None, **kwargs: Any) -> Any:
  """``jax.jit(fn, **kwargs)`` compiled with :func:`options` for ``platform``."""
  return _Jit(fn, options(platform), kwargs)

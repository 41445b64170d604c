"""Test-session settings: faster XLA compiles on small CPUs, shared by worker subprocesses.

Set here (test infrastructure), never in library code:
- XLA's LLVM backend at -O0: the tests' networks are tiny, so compile time dominates;
- JAX's persistent compilation cache, so identical programs compiled by several tests and
  worker processes are compiled once per session.
"""

import os
import tempfile

import pytest

_CACHE = os.path.join(tempfile.gettempdir(), "jaxgan-test-xla-cache")
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", _CACHE)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.3")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


@pytest.fixture
def fit_spy(monkeypatch):
  """A :class:`tests.tiny.FitSpy` on every ``fit`` the test runs."""
  from tests.tiny import FitSpy  # pylint: disable=import-outside-toplevel -- after the settings above

  return FitSpy(monkeypatch)


@pytest.fixture
def conv_paths_at_any_size(monkeypatch):
  """jaxgan.nn.conv's CPU forms at every size: the small shapes of the convolution tests would
  otherwise be XLA's own convolutions (``jaxgan.nn.conv.XLA_BELOW_WORK``)."""
  import importlib  # pylint: disable=import-outside-toplevel

  monkeypatch.setattr(importlib.import_module("jaxgan.nn.conv"), "XLA_BELOW_WORK", 0)

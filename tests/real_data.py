"""Real test data by registry name (:mod:`jaxgan.download`): shipped, cached or in a mirror.

``real_data('set5', 'baby.png')`` is the path of ``baby.png`` in the Set5 entry. The tests read
nothing else outside the repository: shipped entries (``jaxgan/assets``) are always there; the
others are in the cache (``$JAXGAN_HOME``, filled by ``python -m jaxgan.download NAME``) or in a
mirror folder (``$JAXGAN_MIRROR``). An entry that is not there skips the test with the download
command as its reason, except under CI (``CI=true``), where it fails: ``.ci/run`` points
``$JAXGAN_MIRROR`` at the mirror, so everything must resolve there. A missing file inside an
entry that is there always fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jaxgan import download
from jaxgan.download import store


def under_ci() -> bool:
  return os.environ.get("CI") == "true"


def real_data(name: str, *parts: str) -> Path:
  """Path of ``parts`` inside the registry entry ``name``; skips (fails under CI) if it is absent."""
  try:
    root = download.resolve(name)
  except download.NotAvailableError:
    root = None  # skipped / failed below, outside the except: no chained NotAvailableError
  if root is None:
    reason = f"{name} not available: run `{download.download_command(name)}`"
    alternatives = download.REGISTRY[name].alternatives
    if alternatives:
      reason += f" (or {' / '.join(f'`{download.download_command(a)}`' for a in alternatives)})"
    if under_ci():
      mirror = os.environ.get(store.MIRROR_ENV, "")
      pytest.fail(f"{reason} (CI: .ci/run points $JAXGAN_MIRROR at the mirror; here it is {mirror!r})")
    pytest.skip(reason)
  path = root.joinpath(*parts)
  if not path.exists():
    pytest.fail(f"{name} is at {root} but has no {'/'.join(parts)}")
  return path

"""The project's real test data (``../shared/data`` beside the checkout; see its README).

``JAXGAN_SHARED_DATA`` overrides the location. A missing file fails the test with the
path it looked for: the real-data tests never skip silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
  return Path(os.environ.get("JAXGAN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def shared_data(*parts: str) -> Path:
  """Path of ``parts`` under the shared data folder; fails the test if it is not there."""
  path = shared_data_root().joinpath(*parts)
  if not path.exists():
    pytest.fail(f"real test data missing: {path} (set JAXGAN_SHARED_DATA to the folder that "
                "holds sr/, singan/, style/ and vgg16/)")
  return path

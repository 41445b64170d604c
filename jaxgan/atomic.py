"""Atomic file writes: a reader (or a run killed mid-write) sees the old file or the new one, never
half of one. Every file jaxgan writes outside orbax's checkpoints and tfds's builds goes through here.

This module imports nothing from jaxgan: every layer may use it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from typing import Any


def _read_umask() -> int:
  mask = os.umask(0)
  os.umask(mask)
  return mask


# Read once, at import: os.umask can only be read by setting it, which another thread must not see.
_UMASK = _read_umask()


@contextlib.contextmanager
def replacing(path: str | os.PathLike) -> Iterator[str]:
  """Yield a temporary path beside ``path`` (same extension, so writers that pick the format by
  it work); when the block ends, the file written there replaces ``path``. Creates the folder;
  on an error the temporary file is removed and ``path`` is left as it was."""
  path = os.fspath(path)
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  stem, ext = os.path.splitext(os.path.basename(path))
  fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{stem}.", suffix=f".tmp{ext}")
  os.close(fd)
  try:
    yield tmp
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 -> what open() would have given
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.remove(tmp)
    raise


def write_text(path: str | os.PathLike, text: str) -> str:
  """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
  with replacing(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
    f.write(text)
  return os.fspath(path)


def write_json(path: str | os.PathLike, values: Any, *, indent: int = 2) -> str:
  """Write ``values`` as JSON (sorted keys) to ``path`` atomically; returns the path."""
  return write_text(path, json.dumps(values, indent=indent, sort_keys=True) + "\n")

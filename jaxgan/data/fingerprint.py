"""Cache keys for datasets built from user files.

A dataset built from a folder is stored under a tfds config name that holds a
short hash of the resolved path and of every file's name, size and mtime (and of
the build options), so two folders never share a cache entry and a changed
folder is rebuilt instead of silently reused.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import re
from collections.abc import Iterable


def files_fingerprint(
  root: str | os.PathLike,
  files: Iterable[str | os.PathLike],
  options: dict[str, object] | None = None,
) -> str:
  """A 12-hex-digit hash of root's resolved path, the files' stats and options."""
  digest = hashlib.sha256()
  digest.update(str(pathlib.Path(root).resolve()).encode())
  root = os.path.abspath(root)
  for name, value in sorted((options or {}).items()):
    digest.update(f"\0option {name}={value!r}".encode())
  for path in sorted(os.path.abspath(f) for f in files):
    stat = os.stat(path)
    relative = pathlib.PurePath(os.path.relpath(path, root)).as_posix()
    digest.update(f"\0file {relative} {stat.st_size} {stat.st_mtime_ns}".encode())
  return digest.hexdigest()[:12]


def config_name(root: str | os.PathLike, fingerprint: str) -> str:
  """A readable tfds config name: the folder's base name plus the fingerprint."""
  base = pathlib.Path(root).resolve().name.lower()
  base = re.sub(r"[^a-z0-9]+", "_", base).strip("_")[:40] or "root"
  return f"{base}_{fingerprint}"

"""Flags that take a path or a registered name: ``--dataset=bsd68``, ``--image=balloons``.

A value is, in this order: an existing path (used as it is); a registry entry's name (its
path); ``ENTRY/FILE`` (a file of a folder entry, with or without its extension, e.g.
``singan_harmonization/tree``); or a bare file name looked up in the folder entries the flag
searches (``--image=balloons`` in ``singan_images``). A registered name that is not available
raises :class:`NotAvailableError` with the download command; anything else that does not exist
raises ``FileNotFoundError`` naming the flag. Nothing is created or downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from jaxgan.download.registry import REGISTRY
from jaxgan.download.store import NotAvailableError, resolve

KINDS = ("file", "dir", "any")


def _file_in(folder: Path, stem: str) -> Path | None:
  if (folder / stem).is_file():
    return folder / stem
  matches = sorted(p for p in folder.iterdir() if p.is_file() and p.stem == stem) if folder.is_dir() else []
  return matches[0] if matches else None


def _check_kind(path: Path, kind: str, shown: str) -> str:
  if kind == "file" and not path.is_file():
    raise FileNotFoundError(f"{shown}: {path} is not a file")
  if kind == "dir" and not path.is_dir():
    raise FileNotFoundError(f"{shown}: {path} is not a folder")
  return str(path)


def resolve_flag(value: str, *, flag: str, kind: str = "any", search: Sequence[str] = (), shown: str = "") -> str:
  """The local path that ``flag=value`` names (see the module docstring).

  Errors start with ``shown`` (default ``flag=value``; a data spec passes the whole spec, e.g.
  ``--dataset=gray2color:bsd68``).
  """
  shown = shown or f"{flag}={value}"
  if kind not in KINDS:
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
  if not value:
    raise ValueError(f"{flag} is empty")
  if os.path.exists(value):
    return _check_kind(Path(value), kind, shown)
  try:
    if value in REGISTRY:
      return _check_kind(resolve(value), kind, shown)
    head, _, tail = value.partition("/")
    if tail and head in REGISTRY:
      found = _file_in(resolve(head), tail)
      if found is None:
        raise FileNotFoundError(f"{shown}: {head} has no file {tail!r}")
      return _check_kind(found, kind, shown)
    if "/" not in value and kind != "dir":
      for name in search:
        found = _file_in(resolve(name), value)
        if found is not None:
          return _check_kind(found, kind, shown)
  except NotAvailableError as e:
    raise NotAvailableError(f"{shown}: {e}") from None
  where = f" nor a file of {', '.join(search)}" if search else ""
  raise FileNotFoundError(
    f"{shown}: no such {'folder' if kind == 'dir' else 'file'}, not a "
    f"registered name{where} (`python -m jaxgan.download --list` lists the names)"
  )

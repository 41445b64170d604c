"""Where entries live: the shipped assets, the cache (``$JAXGAN_HOME``) and mirror folders.

Cache layout (default ``~/.cache/jaxgan``)::

    downloads/<file>          archives as downloaded (shared by entries that use the same one)
    <entry>/...               the entry's files: downloads themselves, or extracted archives
    <entry>/.complete         written last: the entry is there and verified
    hashes.json               SHA-256 recorded at first download, for files with no published one

A mirror (``--mirror DIR`` / ``$JAXGAN_MIRROR``, several joined with ``os.pathsep``) may hold the
downloads by file name (at its root or in a folder named after the entry), which are verified and
copied into the cache, or ready-made results at the entry's ``mirror`` paths, which are used where
they are (nothing is copied; a mirror is read-only).
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path

from jaxgan import atomic
from jaxgan.download import fetch
from jaxgan.download.registry import REGISTRY, Entry, Remote

ASSETS = Path(__file__).resolve().parents[1] / "assets"
HOME_ENV = "JAXGAN_HOME"
MIRROR_ENV = "JAXGAN_MIRROR"
COMPLETE = ".complete"


class NotAvailableError(FileNotFoundError):
  """A registered entry that is neither shipped, cached nor in a mirror."""


def home() -> Path:
  return Path(os.environ.get(HOME_ENV) or Path("~/.cache/jaxgan").expanduser())


def mirrors(extra: str | os.PathLike | None = None) -> list[Path]:
  """``extra`` (a --mirror flag) first, then ``$JAXGAN_MIRROR``'s folders."""
  folders = [str(extra)] if extra else []
  folders += [p for p in os.environ.get(MIRROR_ENV, "").split(os.pathsep) if p]
  return [Path(p).expanduser() for p in folders]


def entry(name: str) -> Entry:
  if name not in REGISTRY:
    raise KeyError(f"{name!r} is not a registered name; `python -m jaxgan.download --list` lists them")
  return REGISTRY[name]


def download_command(name: str) -> str:
  return f"python -m jaxgan.download {name}"


def cached_path(e: Entry) -> Path:
  return home() / e.name / e.path


def locate(name: str, *, mirror: str | os.PathLike | None = None) -> tuple[Path, str] | None:
  """``(path, where)`` of the entry itself (no alternatives): shipped, cache or mirror; or None."""
  e = entry(name)
  if e.shipped:
    return ASSETS / e.shipped, "shipped"
  if (home() / e.name / COMPLETE).is_file() and cached_path(e).exists():
    return cached_path(e), "cache"
  for folder in mirrors(mirror):
    for rel in e.mirror:
      if (folder / rel).exists():
        return folder / rel, f"mirror {folder}"
  return None


def resolve(name: str, *, mirror: str | os.PathLike | None = None) -> Path:
  """Local path of a registered entry, or of the first available alternative.

  Never downloads: raises :class:`NotAvailableError` with the download command.
  """
  for candidate in (name, *entry(name).alternatives):
    found = locate(candidate, mirror=mirror)
    if found:
      return found[0]
  alts = entry(name).alternatives
  also = f" (or {' / '.join(download_command(a) for a in alts)})" if alts else ""
  raise NotAvailableError(f"{name} is not downloaded: run `{download_command(name)}`{also}")


# -- hashes recorded at first download ------------------------------------------------------------


def _records_path() -> Path:
  return home() / "hashes.json"


def recorded(remote: Remote) -> str | None:
  path = _records_path()
  if remote.published or not path.is_file():
    return None
  return json.loads(path.read_text()).get(remote.url)


def record(remote: Remote, sha256: str) -> None:
  if remote.published:
    return
  path = _records_path()
  records = json.loads(path.read_text()) if path.is_file() else {}
  if records.get(remote.url) == sha256:
    return
  records[remote.url] = sha256
  atomic.write_json(path, records, indent=1)


# -- fetching an entry ----------------------------------------------------------------------------


def _mirror_copy(e: Entry, remote: Remote, mirror: str | os.PathLike | None) -> Path | None:
  for folder in mirrors(mirror):
    for candidate in (folder / remote.name, folder / e.name / remote.subdir / remote.name):
      if candidate.is_file():
        return candidate
  return None


def _get(e: Entry, remote: Remote, dest: Path, *, mirror, quiet: bool) -> None:
  if dest.is_file():
    return
  source = _mirror_copy(e, remote, mirror)
  if source is not None:
    sha = fetch.copy_from_mirror(source, remote, dest, recorded=recorded(remote))
  else:
    sha = fetch.download(remote, dest, recorded=recorded(remote), quiet=quiet)
  record(remote, sha)


def _safe_members(names: list[str], archive: Path) -> None:
  for member in names:
    parts = Path(member).parts
    if Path(member).is_absolute() or ".." in parts:
      raise fetch.DownloadError(f"{archive}: member {member!r} would be written outside the folder")


def extract(archive: Path, into: Path) -> None:
  """Unpack a .zip / .tar(.gz) into ``into`` (created), refusing paths that leave it."""
  into.mkdir(parents=True, exist_ok=True)
  if zipfile.is_zipfile(archive):
    with zipfile.ZipFile(archive) as z:
      _safe_members(z.namelist(), archive)
      z.extractall(into)
  elif tarfile.is_tarfile(archive):
    with tarfile.open(archive) as t:
      members = t.getmembers()
      _safe_members([m.name for m in members], archive)
      bad = [m.name for m in members if not (m.isfile() or m.isdir())]
      if bad:
        raise fetch.DownloadError(f"{archive}: links or special files in the archive: {bad[:3]}")
      t.extractall(into)
  else:
    raise fetch.DownloadError(f"{archive}: neither a zip nor a tar archive")


def _keep_members(folder: Path, members: tuple[str, ...], name: str) -> None:
  missing = [m for m in members if not (folder / m).is_file()]
  if missing:
    raise fetch.DownloadError(f"{name}: the archive lacks {len(missing)} expected files, e.g. {missing[:3]}")
  keep = set(members)
  for path in folder.iterdir():
    if path.name not in keep:
      shutil.rmtree(path) if path.is_dir() else path.unlink()


def fetch_entry(name: str, *, mirror: str | os.PathLike | None = None, quiet: bool = False) -> Path:
  """Make ``name`` available in the cache (unless shipped or mirrored ready-made); its path."""
  e = entry(name)
  found = locate(name, mirror=mirror)
  if found:
    return found[0]
  folder = home() / e.name
  if not e.extract:
    for remote in e.remotes:
      _get(e, remote, folder / remote.subdir / remote.name, mirror=mirror, quiet=quiet)
  else:
    archives = []
    for remote in e.remotes:
      archives.append(home() / "downloads" / remote.name)
      _get(e, remote, archives[-1], mirror=mirror, quiet=quiet)
    home().mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{e.name}.", dir=home()))
    try:
      for archive in archives:
        extract(archive, staging)
      if not (staging / e.path).exists():
        raise fetch.DownloadError(f"{name}: the archive has no {e.path!r}")
      if e.members:
        _keep_members(staging / e.path, e.members, name)
      if folder.exists():
        shutil.rmtree(folder)
      os.replace(staging, folder)
    finally:
      shutil.rmtree(staging, ignore_errors=True)
  (folder / COMPLETE).write_text(json.dumps({"name": e.name, "files": [r.url for r in e.remotes]}))
  return cached_path(e)


def status(name: str, *, mirror: str | os.PathLike | None = None) -> tuple[str, Path | None]:
  """``('shipped' | 'cache' | 'mirror DIR' | 'missing', path)`` of the entry itself."""
  found = locate(name, mirror=mirror)
  return (found[1], found[0]) if found else ("missing", None)

"""Fetch one file: over HTTP(S) with resume, or from a mirror folder; verified, then renamed.

The bytes go to ``<dest>.part``; an interrupted transfer keeps it and the next attempt asks the
server for the rest (``Range``); a server that ignores the range sends the whole file again. Only
a file whose size and checksum agree with what is expected is renamed to ``dest`` (atomic on one
filesystem); a mismatch removes the partial file and raises :class:`ChecksumError`.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from jaxgan.download.registry import Remote

CHUNK = 1 << 20
USER_AGENT = "jaxgan-download/1"


class DownloadError(OSError):
  """A download that could not complete; the message names the URL and what to do."""


class ChecksumError(DownloadError):
  """A file whose size or checksum is not the expected one (the file has been removed)."""


def digests(path: str | os.PathLike) -> dict[str, str]:
  """``{'sha256': hex, 'md5': hex}`` of a file, read in chunks."""
  sha, md5 = hashlib.sha256(), hashlib.md5()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(CHUNK), b""):
      sha.update(block)
      md5.update(block)
  return {"sha256": sha.hexdigest(), "md5": md5.hexdigest()}


def check(path: Path, remote: Remote, recorded: str | None, *, origin: str) -> str:
  """The file's SHA-256 if it is the expected file; else remove it and raise ChecksumError.

  ``recorded`` is the SHA-256 that an earlier download recorded (for remotes with no published
  checksum); ``origin`` (a URL or a mirror path) goes into the message.
  """
  size = path.stat().st_size
  problems = []
  if remote.size is not None and size != remote.size:
    problems.append(f"size {size:,} bytes, expected {remote.size:,}")
  got = digests(path)
  if remote.sha256 and got["sha256"] != remote.sha256:
    problems.append(f"SHA-256 {got['sha256']}, expected {remote.sha256} (published)")
  if remote.sha256_prefix and not got["sha256"].startswith(remote.sha256_prefix):
    problems.append(
      f"SHA-256 {got['sha256']}, expected one starting {remote.sha256_prefix} "
      "(the hash prefix in the published file name)"
    )
  if remote.md5 and got["md5"] != remote.md5:
    problems.append(f"MD5 {got['md5']}, expected {remote.md5} (published)")
  if recorded and got["sha256"] != recorded:
    problems.append(f"SHA-256 {got['sha256']}, expected {recorded} (recorded at the first download)")
  if problems:
    path.unlink(missing_ok=True)
    raise ChecksumError(f"{origin}: not the expected file ({'; '.join(problems)}); the file was removed")
  return got["sha256"]


class IncompleteTransfer(Exception):
  """A transfer cut short after ``got`` bytes (resumable)."""

  def __init__(self, got: int, total: int | None):
    super().__init__(f"{got:,} of {total if total is None else f'{total:,}'} bytes")
    self.got = got


def _progress(total: int | None, initial: int, desc: str, quiet: bool):
  from tqdm import tqdm  # pylint: disable=import-outside-toplevel

  return tqdm(
    total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, disable=quiet, leave=False
  )


def _open(url: str, start: int, timeout: float):
  headers = {"User-Agent": USER_AGENT}
  if start:
    headers["Range"] = f"bytes={start}-"
  return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def _transfer(url: str, part: Path, *, timeout: float, quiet: bool) -> None:
  """One attempt: append the rest of ``url`` to ``part``; IncompleteTransfer if cut short."""
  start = part.stat().st_size if part.exists() else 0
  try:
    response = _open(url, start, timeout)
  except urllib.error.HTTPError as e:
    if e.code == 416 and start:  # the range starts at or past the end: start again
      part.unlink()
      response = _open(url, 0, timeout)
    else:
      raise
  with response:
    resumed = start and response.status == 206
    if not resumed:
      start = 0
    length = response.headers.get("Content-Length")
    total = start + int(length) if length is not None else None
    got = start
    with (
      open(part, "ab" if resumed else "wb") as f,
      _progress(total, start, part.name.removesuffix(".part"), quiet) as bar,
    ):
      while True:
        try:
          block = response.read(CHUNK)
        except (OSError, ValueError, http.client.HTTPException) as e:  # reset, IncompleteRead, timeout
          raise IncompleteTransfer(got, total) from e
        if not block:
          break
        f.write(block)
        got += len(block)
        bar.update(len(block))
    if total is not None and got < total:
      raise IncompleteTransfer(got, total)


def download(
  remote: Remote,
  dest: Path,
  *,
  recorded: str | None = None,
  attempts: int = 3,
  timeout: float = 60.0,
  quiet: bool = False,
) -> str:
  """Download ``remote`` to ``dest`` (resuming ``dest.part``); its SHA-256 once verified."""
  dest.parent.mkdir(parents=True, exist_ok=True)
  part = dest.with_name(dest.name + ".part")
  progress = -1
  for attempt in range(1, attempts + 1):
    try:
      _transfer(remote.url, part, timeout=timeout, quiet=quiet)
      break
    except IncompleteTransfer as e:
      if attempt == attempts or e.got <= progress:
        raise DownloadError(
          f"{remote.url}: the transfer stopped after {e} ({attempts} attempts); "
          f"the partial file {part} is kept: run the same command again to "
          "resume"
        ) from e
      progress = e.got
    except urllib.error.HTTPError as e:
      raise DownloadError(f"{remote.url}: HTTP {e.code} {e.reason}") from e
    except (urllib.error.URLError, OSError) as e:
      reason = getattr(e, "reason", e)
      raise DownloadError(
        f"{remote.url}: {reason} (no internet? put the file in a mirror folder "
        "and pass --mirror DIR or set $JAXGAN_MIRROR)"
      ) from e
  sha = check(part, remote, recorded, origin=remote.url)
  os.replace(part, dest)
  return sha


def copy_from_mirror(source: Path, remote: Remote, dest: Path, *, recorded: str | None = None) -> str:
  """Copy a mirror's copy of ``remote`` to ``dest``, verified like a download."""
  dest.parent.mkdir(parents=True, exist_ok=True)
  part = dest.with_name(dest.name + ".part")
  shutil.copyfile(source, part)
  sha = check(part, remote, recorded, origin=str(source))
  os.replace(part, dest)
  return sha

"""Data and weights by name: official URLs, checksums, a cache and offline mirrors.

    python -m jaxgan.download bsd68 vgg16     # fetch into $JAXGAN_HOME (default ~/.cache/jaxgan)
    python -m jaxgan.download --list          # what is shipped, cached, mirrored or missing

From Python: :func:`resolve` (never downloads), :func:`fetch_entry`, :func:`resolve_flag` for
flags that take a path or a name.
"""

from jaxgan.download.fetch import ChecksumError, DownloadError
from jaxgan.download.names import resolve_flag
from jaxgan.download.registry import REGISTRY, Entry, Remote
from jaxgan.download.store import (
  NotAvailableError,
  download_command,
  fetch_entry,
  home,
  locate,
  mirrors,
  resolve,
  status,
)

__all__ = [
  "ChecksumError",
  "DownloadError",
  "Entry",
  "NotAvailableError",
  "REGISTRY",
  "Remote",
  "download_command",
  "fetch_entry",
  "home",
  "locate",
  "mirrors",
  "resolve",
  "resolve_flag",
  "status",
]

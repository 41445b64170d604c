"""``python -m jaxgan.download NAME [NAME ...]`` / ``jaxgan-download``: fetch by name.

python -m jaxgan.download --list                   # every name and where it is
python -m jaxgan.download bsd68 vgg16              # into $JAXGAN_HOME (~/.cache/jaxgan)
python -m jaxgan.download horse2zebra --mirror /data/mirror   # offline: from a folder
"""

from __future__ import annotations

import argparse
import os
import sys

from jaxgan.download import fetch, store
from jaxgan.download.registry import REGISTRY


def _size(n: int | None) -> str:
  if n is None:
    return "?"
  for unit in ("B", "KB", "MB", "GB"):
    if n < 1024 or unit == "GB":
      return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
    n /= 1024
  return "?"


def _local_size(path) -> int:
  return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def list_entries(mirror: str | None, out=None) -> None:
  out = out or sys.stdout
  print(f"cache: {store.home()}   mirrors: {', '.join(map(str, store.mirrors(mirror))) or 'none'}", file=out)
  print(f"{'name':30s} {'kind':8s} {'size':>9s}  {'where':18s} description", file=out)
  for name, e in REGISTRY.items():
    where, path = store.status(name, mirror=mirror)
    check = "published" if e.remotes and all(r.published for r in e.remotes) else ("recorded" if e.remotes else "")
    size = e.total_size if e.total_size is not None or path is None else _local_size(path)
    print(
      f"{name:30s} {e.kind:8s} {_size(size):>9s}  {where:18s} {e.description}"
      + (f" [checksum: {check}]" if check else "")
      + (f"\n{'':50s} {path}" if path else ""),
      file=out,
    )


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(
    prog="python -m jaxgan.download", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
  )
  parser.add_argument("names", nargs="*", help="registered names (see --list)")
  parser.add_argument("--list", action="store_true", help="list every name and where it is")
  parser.add_argument("--mirror", help="a folder holding the files (offline); also $JAXGAN_MIRROR")
  parser.add_argument("--quiet", action="store_true", help="no progress bar")
  args = parser.parse_args(argv)
  if args.list:
    try:
      list_entries(args.mirror)
    except BrokenPipeError:  # `--list | head`: the reader stopped early
      os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
  if not args.names:
    parser.error("give one or more names, or --list")
  unknown = [n for n in args.names if n not in REGISTRY]
  if unknown:
    parser.error(f"unknown name(s) {', '.join(unknown)}: `python -m jaxgan.download --list` lists them")
  for name in args.names:
    try:
      path = store.fetch_entry(name, mirror=args.mirror, quiet=args.quiet)
    except (fetch.DownloadError, OSError) as e:
      print(f"jaxgan.download: {name}: {e}", file=sys.stderr)
      return 1
    print(f"{name}: {path}")
  return 0


if __name__ == "__main__":
  sys.exit(main())

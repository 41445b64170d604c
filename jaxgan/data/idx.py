"""The IDX file format of MNIST and Fashion-MNIST: reading, writing, finding files.

An IDX file is two zero bytes, a type code, the number of dimensions, each
dimension as a big-endian uint32, then the values in C order, big-endian.
Files may be gzip-compressed (detected from their first bytes, not their name).
"""

from __future__ import annotations

import gzip
import os
import pathlib

import numpy as np

_GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> big-endian numpy dtype.
_IDX_DTYPES: dict[int, np.dtype] = {
  0x08: np.dtype("u1"),
  0x09: np.dtype("i1"),
  0x0B: np.dtype(">i2"),
  0x0C: np.dtype(">i4"),
  0x0D: np.dtype(">f4"),
  0x0E: np.dtype(">f8"),
}
_IDX_CODES = {dtype.newbyteorder(">"): code for code, dtype in _IDX_DTYPES.items()}

# split -> file-name prefix, as in the MNIST distribution.
IDX_SPLIT_PREFIXES: dict[str, str] = {"train": "train", "test": "t10k"}


class IdxFormatError(ValueError):
  """A file that is not a valid IDX file; the message names the file."""

  def __init__(self, path: str | os.PathLike, reason: str):
    self.path = os.fspath(path)
    super().__init__(f"bad IDX file {self.path}: {reason}")


def _read_bytes(path: str | os.PathLike) -> bytes:
  with open(path, "rb") as f:
    data = f.read()
  if data[:2] == _GZIP_MAGIC:
    try:
      data = gzip.decompress(data)
    except (OSError, EOFError) as e:
      raise IdxFormatError(path, f"corrupt or truncated gzip data ({e})") from e
  return data


def _parse_header(path, data: bytes) -> tuple[np.dtype, tuple[int, ...], int]:
  """Returns (dtype, shape, offset of the values) from the start of an IDX file."""
  if len(data) < 4:
    raise IdxFormatError(path, f"only {len(data)} bytes, too short for a header")
  if data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
    raise IdxFormatError(
      path,
      f"bad magic number 0x{data[:4].hex()} (expected 0x0000TTNN with "
      f"type TT in {sorted(f'{c:02x}' for c in _IDX_DTYPES)})",
    )
  ndim = data[3]
  if ndim == 0:
    raise IdxFormatError(path, "zero dimensions in the magic number")
  offset = 4 + 4 * ndim
  if len(data) < offset:
    raise IdxFormatError(path, f"truncated header ({len(data)} bytes)")
  shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, offset=4))
  return _IDX_DTYPES[data[2]], shape, offset


def read_idx(path: str | os.PathLike) -> np.ndarray:
  """Reads a (possibly gzipped) IDX file into a native-endian numpy array.

  Raises:
    IdxFormatError: naming the file, on a bad magic number or a truncated or
      over-long file.
  """
  data = _read_bytes(path)
  dtype, shape, offset = _parse_header(path, data)
  expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
  actual = len(data) - offset
  if actual != expected:
    what = "truncated" if actual < expected else "too long"
    raise IdxFormatError(path, f"{what}: shape {shape} needs {expected} bytes of values, found {actual}")
  values = np.frombuffer(data, dtype, offset=offset).reshape(shape)
  return values.astype(dtype.newbyteorder("="))


def read_idx_shape(path: str | os.PathLike) -> tuple[int, ...]:
  """The shape in an IDX file's header (reads only the header of raw files)."""
  with open(path, "rb") as f:
    head = f.read(2)
  if head == _GZIP_MAGIC:
    opener = gzip.open
  else:
    opener = open
  try:
    with opener(path, "rb") as f:
      start = f.read(4)
      rest = f.read(4 * start[3]) if len(start) == 4 else b""
  except (OSError, EOFError) as e:
    raise IdxFormatError(path, f"corrupt or truncated gzip data ({e})") from e
  return _parse_header(path, start + rest)[1]


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
  """Writes ``array`` as an IDX file, gzip-compressed when the name ends in .gz."""
  array = np.asarray(array)
  big = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
  if big not in _IDX_CODES:
    raise ValueError(f"IDX cannot store dtype {array.dtype}")
  if not 1 <= array.ndim <= 255:
    raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
  header = bytes([0, 0, _IDX_CODES[big], array.ndim])
  header += np.asarray(array.shape, ">u4").tobytes()
  data = header + np.ascontiguousarray(array, dtype=big).tobytes()
  if os.fspath(path).endswith(".gz"):
    data = gzip.compress(data, mtime=0)
  with open(path, "wb") as f:
    f.write(data)


def _find_one(directory: pathlib.Path, prefix: str, kind: str) -> pathlib.Path | None:
  """Finds e.g. ``train-images-idx3-ubyte`` (also ``.gz`` / ``train-images.idx3-ubyte``)."""
  ndim = 3 if kind == "images" else 1
  stems = (f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte")
  for stem in stems:
    for name in (stem, stem + ".gz"):
      if (directory / name).is_file():
        return directory / name
  return None


def find_idx_files(
  directory: str | os.PathLike,
) -> dict[str, tuple[pathlib.Path, pathlib.Path]]:
  """Returns {split: (images file, labels file)} for the MNIST-named files found.

  The 'train' pair is required; 't10k' files give the 'test' split when present.

  Raises:
    FileNotFoundError / NotADirectoryError: naming the directory.
    ValueError: naming the file, when only one file of a pair exists.
  """
  directory = pathlib.Path(directory)
  if not directory.exists():
    raise FileNotFoundError(f"IDX directory {directory} does not exist")
  if not directory.is_dir():
    raise NotADirectoryError(f"IDX path {directory} is not a directory")
  found = {}
  for split, prefix in IDX_SPLIT_PREFIXES.items():
    images = _find_one(directory, prefix, "images")
    labels = _find_one(directory, prefix, "labels")
    if images is None and labels is None:
      continue
    if images is None or labels is None:
      present = images or labels
      raise ValueError(f"{present} has no matching {'labels' if labels is None else 'images'} file in {directory}")
    found[split] = (images, labels)
  if "train" not in found:
    raise FileNotFoundError(
      f"no MNIST-format IDX files in {directory}: expected "
      "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] "
      "(and optionally t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])"
    )
  return found


def read_idx_pair(images_path: pathlib.Path, labels_path: pathlib.Path) -> tuple[np.ndarray, np.ndarray]:
  """Reads uint8 images (N, H, W[, C]) -> (N, H, W, C) and int64 labels (N,)."""
  images = read_idx(images_path)
  labels = read_idx(labels_path)
  if images.dtype != np.uint8 or images.ndim not in (3, 4):
    raise IdxFormatError(
      images_path, f"expected uint8 images of shape (N, H, W[, C]), got {images.dtype} {images.shape}"
    )
  if labels.ndim != 1 or labels.dtype.kind not in "iu":
    raise IdxFormatError(labels_path, f"expected integer labels of shape (N,), got {labels.dtype} {labels.shape}")
  if len(labels) != len(images):
    raise IdxFormatError(labels_path, f"{len(labels)} labels for {len(images)} images in {images_path}")
  if len(labels) and labels.min() < 0:
    raise IdxFormatError(labels_path, f"negative label {labels.min()}")
  if images.ndim == 3:
    images = images[..., None]
  return images, labels.astype(np.int64)

"""Random access to decoded examples over a tfds data source: the part every source shares.

A subclass says how one stored record becomes an example (``_example``); this class gives
``len``, ``source[i]`` (negative indices as for a list, a clear ``IndexError`` outside) and
``source.__getitems__(indices)``, which reads the records in one batched call where the
data source has one (``array_record`` does), as grain and the loader use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def decode_name(name: Any) -> str:
  """A stored ``name`` feature (bytes from tfds' Text) as ``str``."""
  return name.decode() if isinstance(name, bytes) else str(name)


class RecordSource:
  """Base of the jaxgan sources: ``_example(raw, index)`` decodes one record."""

  def __init__(self, data_source, *, batched_reads: bool = True):
    self._data_source = data_source
    self._batched_reads = batched_reads and hasattr(data_source, "__getitems__")

  def __len__(self) -> int:
    return len(self._data_source)

  def _example(self, raw: Any, index: int) -> dict[str, Any]:
    raise NotImplementedError

  def _position(self, index: Any) -> int:
    index = int(index)
    if not -len(self) <= index < len(self):
      raise IndexError(f"index {index} out of range for {len(self)} examples")
    return index % len(self)

  def __getitem__(self, index: int) -> dict[str, Any]:
    index = self._position(index)
    return self._example(self._data_source[index], index)

  def __getitems__(self, indices: Sequence[int]) -> list[dict[str, Any]]:
    indices = [self._position(i) for i in indices]
    if self._batched_reads:
      raw = self._data_source.__getitems__(indices)
    else:
      raw = [self._data_source[i] for i in indices]
    return [self._example(r, i) for r, i in zip(raw, indices)]

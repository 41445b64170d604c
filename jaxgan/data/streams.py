"""Several batch streams read in lockstep: e.g. a labelled and an unlabelled stream."""

from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np


class ZippedBatches:
  """Batches of several loaders merged into one dict, keys prefixed by the loader's name.

  ``ZippedBatches({'labeled': a, 'unlabeled': b}).batch(s)`` is
  ``{'labeled/image': ..., 'labeled/label': ..., 'unlabeled/image': ...}``: every stream is
  a pure function of the step, so the zip is too (resumable, per-process as its parts).
  """

  def __init__(self, loaders: Mapping[str, object]):
    if not loaders:
      raise ValueError("ZippedBatches needs at least one loader")
    self.loaders = dict(loaders)

  def batch(self, step: int) -> dict[str, np.ndarray]:
    return {f"{name}/{k}": v for name, loader in self.loaders.items() for k, v in loader.batch(step).items()}

  def iterate(self, start_step: int = 0, stop_step: int | None = None) -> Iterator[dict[str, np.ndarray]]:
    iterators = {name: loader.iterate(start_step, stop_step) for name, loader in self.loaders.items()}
    try:
      while True:
        merged = {}
        for name, it in iterators.items():
          try:
            part = next(it)
          except StopIteration:
            return
          merged.update({f"{name}/{k}": v for k, v in part.items()})
        yield merged
    finally:
      for it in iterators.values():
        it.close()

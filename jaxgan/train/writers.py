"""Metric writers: TensorBoard event files (tensorboardX) from process 0 only."""

from __future__ import annotations

import os
from typing import Mapping

import jax
import numpy as np


class MetricWriter:
  """Scalars and image grids to ``<logdir>`` as TensorBoard events; a no-op off process 0."""

  def __init__(self, logdir: str | os.PathLike, *, enabled: bool | None = None):
    self.enabled = jax.process_index() == 0 if enabled is None else enabled
    self._writer = None
    if self.enabled:
      from tensorboardX import SummaryWriter

      self._writer = SummaryWriter(os.fspath(logdir), flush_secs=30)

  def scalars(self, step: int, values: Mapping[str, float]) -> None:
    if self._writer is None:
      return
    for name, value in values.items():
      self._writer.add_scalar(name, float(value), global_step=int(step))

  def image(self, step: int, name: str, image_uint8: np.ndarray) -> None:
    """One HxWxC uint8 image (e.g. a sample grid)."""
    if self._writer is None:
      return
    self._writer.add_image(name, np.asarray(image_uint8), global_step=int(step), dataformats="HWC")

  def flush(self) -> None:
    if self._writer is not None:
      self._writer.flush()

  def close(self) -> None:
    if self._writer is not None:
      self._writer.close()
      self._writer = None

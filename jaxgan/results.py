"""What a test mode writes: a fresh results folder (never over an earlier one) with
``images/NAME_<column>.png``, an ``index.html`` table and ``metrics.json``."""

from __future__ import annotations

import os

import numpy as np

from jaxgan import atomic, visualize
from jaxgan.data import images as images_lib


def fresh_dir(path: str) -> str:
  """``path``, or ``path-1``, ``path-2``... if it exists: earlier results are never overwritten."""
  candidate, k = path, 0
  while os.path.exists(candidate):
    k += 1
    candidate = f"{path}-{k}"
  return candidate


def run_folder(config, step: int) -> str:
  """A fresh folder for the test results of ``step``: ``--results_dir``, or
  ``<workdir>/test_step<step>`` (``-1``, ``-2``... appended if it exists)."""
  return fresh_dir(os.path.abspath(config.results_dir or os.path.join(config.workdir, f"test_step{step}")))


class ResultsWriter:
  """Writes a test run: ``images/NAME_<suffix>.png``, ``index.html``, ``metrics.json``."""

  def __init__(self, out_dir: str, columns: list[str]):
    self.out_dir = out_dir
    self.columns = columns
    self.rows: list[tuple[str, list[str]]] = []

  def add(self, name: str, images: dict[str, np.ndarray]) -> None:
    """One row: ``{suffix: float image}`` in the order of the page's columns."""
    stem = os.path.splitext(os.path.basename(name))[0]
    paths = [os.path.join("images", f"{stem}_{suffix}.png") for suffix in images]
    for rel, image in zip(paths, images.values()):
      visualize.save_png(os.path.join(self.out_dir, rel), images_lib.to_uint8(image))
    self.rows.append((name, paths))

  def finish(self, title: str, metrics: dict | None = None) -> str:
    """Write ``index.html`` (and ``metrics.json``); returns the page's path."""
    if not self.rows:
      raise ValueError("no test inputs")
    columns = self.columns[: len(self.rows[0][1])]
    page = visualize.save_html_table(
      os.path.join(self.out_dir, "index.html"), columns=columns, rows=self.rows, title=title
    )
    if metrics:
      atomic.write_json(os.path.join(self.out_dir, "metrics.json"), metrics)
    print(f"jaxgan: wrote {len(self.rows)} translations and {page}", flush=True)
    return page

"""Tiny configurations, data and workdir helpers shared by the training tests (fast on 2 CPU cores)."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil

import jax
import numpy as np

from jaxgan.methods import dcgan, gan


def dcgan_config(**overrides) -> dcgan.Config:
  kw = dict(image_size=16, channels=1, ngf=8, ndf=8, nz=8, batch_size=8, num_samples=4,
            checkpoint_every=2, log_every=1, sample_every=2, num_steps=4)
  kw.update(overrides)
  return dcgan.Config(**kw)


def gan_config(**overrides) -> gan.Config:
  kw = dict(image_size=8, channels=1, g_hidden=(16, 16), d_units=8, d_pieces=2, nz=4, batch_size=8,
            num_samples=4, num_steps=4, checkpoint_every=2, log_every=1, sample_every=2)
  kw.update(overrides)
  return gan.Config(**kw)


def image_batch(config, seed: int = 0) -> dict[str, np.ndarray]:
  rng = np.random.default_rng(seed)
  n = config.batch_size * config.d_steps
  shape = (n, config.image_size, config.image_size, config.channels)
  return {"image": rng.uniform(-1, 1, shape).astype(np.float32),
          "label": rng.integers(0, 10, n).astype(np.int32)}


class ListSource:
  """A random-access source of synthetic labelled uint8 images."""

  num_classes = 10

  def __init__(self, n: int = 40, size: int = 16, channels: int = 1, seed: int = 0):
    rng = np.random.default_rng(seed)
    self.images = rng.integers(0, 256, (n, size, size, channels), dtype=np.uint8)
    self.labels = rng.integers(0, 10, n)

  def __len__(self):
    return len(self.images)

  def __getitem__(self, i):
    return {"image": self.images[i], "label": int(self.labels[i])}


def tree_state(path) -> dict[str, tuple[int, int]] | None:
  """Every file and folder under ``path`` with its size and mtime; None when ``path`` does not exist."""
  if not os.path.exists(path):
    return None
  state = {}
  for root, dirs, files in os.walk(path):
    for name in dirs + files:
      full = os.path.join(root, name)
      info = os.stat(full)
      state[os.path.relpath(full, path)] = (info.st_size, info.st_mtime_ns)
  return state


def unfinished_copy(workdir, dest, num_steps: int) -> str:
  """A copy of a trained workdir whose ``config.json`` records a longer run: what a run of
  ``num_steps`` stopped at the copied workdir's last checkpoint leaves."""
  shutil.copytree(workdir, dest)
  path = os.path.join(dest, "config.json")
  with open(path) as f:
    recorded = json.load(f)
  with open(path, "w") as f:
    json.dump({**recorded, "num_steps": num_steps}, f)
  return str(dest)


def train_first(script: str, workdir, reason: str) -> str:
  """The regex of the "train first" error of a tool mode of ``experiments/<script>.py`` on ``workdir``."""
  return ("^" + re.escape(f"train first: python experiments/{script}.py --mode=train --workdir={workdir} ") + ".*"
          + re.escape(f" ({reason})") + "$")


class FitSpy:
  """What every ``fit`` of a test did, recorded in :attr:`runs` as ``{"start", "steps", "traces",
  "cache"}``: the step its state started from (restored or fresh), the train steps it ran, and how
  often its train step was traced and compiled (1 each: never recompiled, e.g. after an evaluation,
  a sample grid or a checkpoint). Installed with ``monkeypatch`` on ``jaxgan.train.loop``."""

  def __init__(self, monkeypatch):
    from jaxgan.train import loop  # pylint: disable=import-outside-toplevel
    self.runs: list[dict] = []
    self._jitted: list = []
    real_init, real_compile = loop.init_or_restore, loop.compile_train_step

    def init_or_restore(*args, **kwargs):
      state, shardings = real_init(*args, **kwargs)
      self.runs.append({"start": int(jax.device_get(state.step)), "steps": 0, "traces": 0})
      return state, shardings

    def compile_train_step(train_step, *args, **kwargs):
      run = self.runs[-1]

      @functools.wraps(train_step)
      def traced(*args):
        run["traces"] += 1
        return train_step(*args)

      jitted = real_compile(traced, *args, **kwargs)
      self._jitted.append((run, jitted))

      def counted(*args):
        run["steps"] += 1
        return jitted(*args)

      return counted

    monkeypatch.setattr(loop, "init_or_restore", init_or_restore)
    monkeypatch.setattr(loop, "compile_train_step", compile_train_step)

  def summary(self) -> list[tuple[int, int]]:
    """``(start step, steps run)`` of every ``fit`` so far; checks that none recompiled its step."""
    for run, jitted in self._jitted:
      assert run["traces"] == 1 and jitted._cache_size() == 1, (run, jitted._cache_size())  # pylint: disable=protected-access
    return [(run["start"], run["steps"]) for run in self.runs]

  def clear(self) -> None:
    self.runs.clear()
    self._jitted.clear()

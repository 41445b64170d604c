"""Tiny configurations, data and workdir helpers shared by the training tests (fast on 2 CPU cores)."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

from jaxgan.methods import dcgan, gan
from jaxgan.metrics import features


def dcgan_config(**overrides) -> dcgan.Config:
  kw = dict(
    image_size=16,
    channels=1,
    ngf=8,
    ndf=8,
    nz=8,
    batch_size=8,
    num_samples=4,
    checkpoint_every=2,
    log_every=1,
    sample_every=2,
    num_steps=4,
  )
  kw.update(overrides)
  return dcgan.Config(**kw)


def gan_config(**overrides) -> gan.Config:
  kw = dict(
    image_size=8,
    channels=1,
    g_hidden=(16, 16),
    d_units=8,
    d_pieces=2,
    nz=4,
    batch_size=8,
    num_samples=4,
    num_steps=4,
    checkpoint_every=2,
    log_every=1,
    sample_every=2,
  )
  kw.update(overrides)
  return gan.Config(**kw)


def image_batch(config, seed: int = 0) -> dict[str, np.ndarray]:
  """Random images in [-1, 1] and labels in [0, 10) for ``d_steps`` batches of an adversarial config."""
  rng = np.random.default_rng(seed)
  n = config.batch_size * config.d_steps
  shape = (n, config.image_size, config.image_size, config.channels)
  return {"image": rng.uniform(-1, 1, shape).astype(np.float32), "label": rng.integers(0, 10, n).astype(np.int32)}


def semi_supervised_batch(config, seed: int = 0) -> dict[str, np.ndarray]:
  """A random labelled and unlabelled batch of a :mod:`jaxgan.methods.semi_supervised` config."""
  rng = np.random.default_rng(seed)
  shape = (config.image_size, config.image_size, config.channels)
  n, n_labeled = config.batch_size, config.labeled_batch_size
  return {
    "labeled/image": rng.uniform(-1, 1, (n_labeled, *shape)).astype(np.float32),
    "labeled/label": rng.integers(0, config.num_classes, n_labeled).astype(np.int32),
    "unlabeled/image": rng.uniform(-1, 1, (n, *shape)).astype(np.float32),
    "unlabeled/label": np.full((n,), -1, np.int32),
  }


def sr_batch(config, seed: int = 0) -> dict[str, np.ndarray]:
  """Random LR images in [0, 1] and HR crops in [-1, 1] of a :mod:`jaxgan.methods.sr` config."""
  rng = np.random.default_rng(seed)
  n, s = config.batch_size, config.crop_size
  return {
    "lr": rng.uniform(0, 1, (n, s // config.scale, s // config.scale, 3)).astype(np.float32),
    "hr": rng.uniform(-1, 1, (n, s, s, 3)).astype(np.float32),
  }


def content_batch(config, seed: int = 0) -> dict[str, np.ndarray]:
  """Random content images in [-1, 1] of a :mod:`jaxgan.methods.style_transfer` config."""
  rng = np.random.default_rng(seed)
  shape = (config.batch_size, config.image_size, config.image_size, 3)
  return {"image": rng.uniform(-1, 1, shape).astype(np.float32)}


def random_vgg16(path, seed: int = 0) -> str:
  """Write a VGG16 of random kernels and zero biases (Keras names, no ImageNet weights) to the .npz
  ``path``: normal with variance 2 / fan-out, the scale of ``jaxgan.models.vgg.VGG``'s own init."""
  from jaxgan.interop import vgg as vgg_lib

  rng = np.random.default_rng(seed)
  shapes = vgg_lib.expected_shapes(16)
  params = {}
  for name, shape in shapes.items():
    conv, kind = name.split("/")
    fan_out = int(np.prod(shape[:2])) * shape[-1]
    params.setdefault(conv, {})[kind] = (
      np.zeros(shape, np.float32)
      if kind == "bias"
      else (rng.standard_normal(shape) * np.sqrt(2 / fan_out)).astype(np.float32)
    )
  vgg_lib.save_vgg_npz(vgg_lib.LossNetwork(params=params, depth=16, convention="keras"), path)
  return str(path)


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


class PairedSource:
  """A random-access source of synthetic uint8 (A, B) RGB image pairs, as pix2pix's sources give them."""

  def __init__(self, n: int = 8, size: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    self.a = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    self.b = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)

  def __len__(self):
    return len(self.a)

  def __getitem__(self, i):
    return {"a": self.a[i], "b": self.b[i], "name": str(i)}


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
  return (
    "^"
    + re.escape(f"train first: python experiments/{script}.py --mode=train --workdir={workdir} ")
    + ".*"
    + re.escape(f" ({reason})")
    + "$"
  )


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
    self.builds = 0  # methods built (their classes constructed) since the last clear()
    classes = _method_classes()
    while classes:  # and their subclasses (a dataclass subclass has its own __init__)
      cls = classes.pop()
      classes += cls.__subclasses__()
      if "__init__" in vars(cls):
        monkeypatch.setattr(cls, "__init__", self._counted_init(cls.__init__))

  def _counted_init(self, init):
    @functools.wraps(init)
    def counted(method, *args, **kwargs):
      outermost = not getattr(method, "_fit_spy_building", False)  # a subclass's init calls its base's
      if outermost:
        self.builds += 1
        object.__setattr__(method, "_fit_spy_building", True)
      try:
        init(method, *args, **kwargs)
      finally:
        if outermost:
          object.__setattr__(method, "_fit_spy_building", False)

    return counted

  def summary(self) -> list[tuple[int, int]]:
    """``(start step, steps run)`` of every ``fit`` so far; checks that none recompiled its step."""
    for run, jitted in self._jitted:
      assert run["traces"] == 1 and jitted._cache_size() == 1, (run, jitted._cache_size())  # pylint: disable=protected-access
    return [(run["start"], run["steps"]) for run in self.runs]

  def clear(self) -> None:
    self.runs.clear()
    self._jitted.clear()
    self.builds = 0


def _method_classes() -> list[type]:
  """The class every method's ``build`` constructs (jaxgan.methods.protocol)."""
  from jaxgan.methods import (  # pylint: disable=import-outside-toplevel
    cgan,  # noqa: F401 - its ConditionalMethod subclasses noise_to_image.Method
    cyclegan,
    gatys,
    noise_to_image,
    pix2pix,
    semi_supervised,
    singan,
    sr,
    style_transfer,
  )

  return [
    noise_to_image.Method,
    semi_supervised.Method,
    pix2pix.Pix2Pix,
    cyclegan.CycleGAN,
    sr.SuperResolution,
    style_transfer.StyleTransfer,
    singan.SinGAN,
    gatys.Gatys,
  ]


def small_inception(loaded):
  """A stand-in for ``features.inception`` (no Inception weights here, and 2048-d statistics cost
  ~10 s): 8 random projections of the images average-pooled to 4x4 (grey repeated to RGB, as the
  Inception does), named "inception"; the weights asked for are appended to ``loaded``."""
  rng = np.random.default_rng(0)
  params = {"pool": rng.normal(size=(48, 8)).astype(np.float32), "logits": rng.normal(size=(8, 5)).astype(np.float32)}

  def apply(params, images):
    images = jnp.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images
    small = jax.image.resize(images, (images.shape[0], 4, 4, 3), "linear")
    pool = jnp.tanh(small.reshape(images.shape[0], -1) @ params["pool"])
    return {"pool": pool, "logits": pool @ params["logits"]}

  extractor = features.Extractor("inception", apply, params)
  return lambda weights, **options: loaded.append(weights) or extractor


def embedded_pngs(extractor, page, suffix):
  """The features of a results folder's ``*_<suffix>.png`` files, read back, in the page's row order."""
  folder = os.path.dirname(page)
  names = dict.fromkeys(re.findall(rf'images/([^"]+)_{suffix}\.png', open(page).read()))
  images = [np.asarray(Image.open(os.path.join(folder, "images", f"{n}_{suffix}.png"))) for n in names]
  return features.embed(extractor, np.stack([x[..., None] if x.ndim == 2 else x for x in images]))

"""Resume == uninterrupted, bit for bit, for the methods whose own tests train no second run.

Each case trains 5 steps straight (checkpoints every 2), and 3 steps (stopped where the straight
run has no checkpoint) then resumed to 5 with samples, evaluations and a checkpoint after every
step. ``fit_spy`` shows the resumed run restored step 3 and ran only steps 4 and 5 (a run that
ignored its checkpoint and started over would end in the same state: only the spy tells them
apart), and that its compiled step was never traced or compiled again. DCGAN, pix2pix, CycleGAN
and SinGAN do the same in their own tests.
"""

from __future__ import annotations

import chex
import jax
import numpy as np
import pytest
from flax import nnx
from PIL import Image

from jaxgan.interop import vgg as vgg_lib
from jaxgan.methods import catgan, cgan, gan, sgan, sr
from jaxgan.methods import style_transfer as st
from jaxgan.models.vgg import VGG
from tests import tiny

TOTAL, STOP = 5, 3
FREQUENT = dict(sample_every=1, eval_every=1, checkpoint_every=1)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
  """One tfds folder (digits built once), a folder of photos and random VGG16 weights."""
  root = tmp_path_factory.mktemp("resume")
  photos = root / "photos"
  photos.mkdir()
  rng = np.random.default_rng(0)
  for i in range(3):
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    Image.fromarray(small).resize((48, 36), Image.Resampling.BICUBIC).save(photos / f"p{i}.png")
  vgg = root / "vgg16_random.npz"
  vgg_lib.save_vgg_npz(vgg_lib.LossNetwork.from_module(VGG(depth=16, rngs=nnx.Rngs(0)), "keras"), vgg)
  return {"tfds": str(root / "tfds"), "photos": str(photos), "vgg": str(vgg)}


def _train(module, config_cls, base: dict):
  def train(workdir, num_steps, **run):
    config = config_cls(**{**base, "workdir": str(workdir), "num_steps": num_steps, **run})
    return module.MODES["train"](config)

  return train


def _cases(shared):
  labelled = dict(
    dataset="digits", data_dir=shared["tfds"], log_every=1, checkpoint_every=2, sample_every=0, eval_every=0
  )
  semi = dict(labelled, image_size=8, num_labeled=20, batch_size=8, labeled_batch_size=4, nz=4, num_samples=4)
  return {
    "gan": _train(gan, gan.Config, {**tiny.gan_config().__dict__, **labelled, "d_steps": 2}),
    "cgan": _train(
      cgan,
      cgan.Config,
      dict(
        labelled,
        architecture="dcgan",
        image_size=16,
        ngf=8,
        ndf=8,
        nz=8,
        batch_size=10,
        num_samples=10,
        optimizer="adam",
        learning_rate=2e-4,
        classifier_steps=2,
        classifier_features=(4, 4, 4),
        eval_samples_per_class=1,
      ),
    ),
    "sgan": _train(sgan, sgan.Config, semi),
    "catgan": _train(catgan, catgan.Config, semi),
    "srgan": _train(
      sr,
      sr.Config,
      dict(
        dataset=shared["photos"],
        eval_dir=shared["photos"],
        data_dir=shared["tfds"],
        loss="srgan",
        vgg_weights=shared["vgg"],
        channels=8,
        n_blocks=2,
        d_channels=8,
        crop_size=24,
        batch_size=2,
        num_samples=2,
        num_test=1,
        log_every=1,
        checkpoint_every=2,
        sample_every=0,
        eval_every=0,
      ),
    ),
    "style": _train(
      st,
      st.Config,
      dict(
        content_dir=shared["photos"],
        style_image=shared["photos"] + "/p0.png",
        vgg_weights=shared["vgg"],
        data_dir=shared["tfds"],
        image_size=16,
        batch_size=2,
        num_samples=2,
        log_every=1,
        checkpoint_every=2,
        sample_every=0,
      ),
    ),
  }


@pytest.mark.parametrize("name", ["gan", "cgan", "sgan", "catgan", "srgan", "style"])
def test_resume_between_checkpoints_restores_and_is_bit_identical(shared, tmp_path, fit_spy, name):
  train = _cases(shared)[name]
  straight = train(tmp_path / "straight", TOTAL)
  train(tmp_path / "resumed", STOP)
  fit_spy.clear()
  resumed = train(tmp_path / "resumed", TOTAL, **FREQUENT)
  assert fit_spy.summary() == [(STOP, TOTAL - STOP)] and fit_spy.builds == 1  # one build a run
  chex.assert_trees_all_equal(jax.device_get(resumed), jax.device_get(straight))
  assert resumed.extra.keys().isdisjoint({"vgg", "style_grams"})  # constants are never checkpointed

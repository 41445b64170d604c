"""--mode=video and tiled --mode=test of pix2pix, CycleGAN, fast style transfer and SR, end to end on
tiny initialised workdirs (a step-0 checkpoint recorded as finished), and their flag errors."""

import os
import re

import numpy as np
import pytest
from PIL import Image

from jaxgan.methods import cyclegan, pix2pix, runner, sr
from jaxgan.methods import style_transfer as st
from jaxgan.train.checkpoint import Checkpointer
from tests.test_inference import _clip, _decoded
from tests.tiny import train_first

pytest.importorskip("imageio_ffmpeg")
pytestmark = pytest.mark.filterwarnings(r"ignore:os\.fork\(\) was called:RuntimeWarning")


def _initialised(config, method):
  """``config``'s workdir holding ``method``'s initial state as a finished step 0 (what --mode=import_torch
  leaves): the inference modes restore it as a trained model."""
  runner.prepare_workdir(config)
  ckpt = Checkpointer(os.path.join(os.path.abspath(config.workdir), "checkpoints"))
  try:
    ckpt.save(0, method.init_state(runner.run_key(config)))
  finally:
    ckpt.close()
  runner.record_config(config)
  runner.mark_finished(config, 0, "initialised by the test")
  return config


def _folder(path, **images):
  path.mkdir()
  for name, (h, w) in images.items():
    pixels = np.random.default_rng(h * w).integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path / f"{name}.png")
  return str(path)


def test_pix2pix_video_and_tiled_test(tmp_path, capsys):
  config = pix2pix.Config(workdir=str(tmp_path / "work"), netG="unet_128", ngf=2, ndf=2, inference_batch=3)
  _initialised(config, pix2pix.build(config))
  source = _clip(tmp_path / "in.mp4", frames=5)
  summary = pix2pix.video(config.replace(input=source))
  output = os.path.join(config.workdir, "videos", "in.mp4")  # the default --output
  assert summary.output == output and summary.frames == 5 and summary.temporal == "none"
  meta, frames = _decoded(output)
  assert frames.shape == (5, 32, 48, 3) and meta["fps"] == 10
  assert "jaxgan: 5 frames 32x48 -> 32x48 at 10 fps" in capsys.readouterr().out
  # An existing output is refused, named, and kept (--overwrite replaces it: tests/test_inference.py).
  before = os.path.getmtime(output)
  with pytest.raises(ValueError, match=re.escape(f"--output={output}: {output} exists: pass overwrite=True")):
    pix2pix.video(config.replace(input=source))
  assert os.path.getmtime(output) == before
  # Tiled --mode=test: an image of any size at its own size (no --size_policy resize). Running batch-norm
  # statistics (--notest_batch_stats): one pass over the tiles (the statistics passes: tests/test_inference.py).
  inputs = _folder(tmp_path / "inputs", wide=(130, 300))
  page = pix2pix.test(config.replace(test_input=inputs, tile=256, tile_overlap=64, test_batch_stats=False))
  fake = Image.open(os.path.join(os.path.dirname(page), "images", "wide_fake_B.png"))
  assert fake.size == (300, 130)


def test_cyclegan_video_in_either_direction_and_tiled_test(tmp_path):
  tiny = dict(ngf=2, ndf=2, input_nc=1, output_nc=1, netG="unet_128", crop_size=128, load_size=128)
  config = cyclegan.Config(workdir=str(tmp_path / "work"), **tiny)
  _initialised(config, cyclegan.build(config))
  source = _clip(tmp_path / "in.mp4", frames=4)
  out = str(tmp_path / "b_to_a.mkv")
  summary = cyclegan.video(config.replace(input=source, output=out, translate_with="G_B"))
  _, frames = _decoded(out)
  assert frames.shape == (4, 32, 48, 3) and summary.frames == 4  # grey outputs written as RGB
  assert (np.abs(frames[..., 0].astype(int) - frames[..., 2]) <= 3).all()
  inputs = _folder(tmp_path / "inputs", odd=(37, 45))  # fits in one tile: translated whole, at its size
  page = cyclegan.test(config.replace(test_input=inputs, tile=256, tile_overlap=16, translate_with="G_B"))
  images = os.path.join(os.path.dirname(page), "images")
  assert {Image.open(os.path.join(images, f"odd_{s}.png")).size for s in ("real_B", "fake_A", "rec_B")} == {(45, 37)}


def test_style_video_needs_no_vgg(tmp_path):
  config = st.Config(workdir=str(tmp_path / "work"), inference_batch=2)
  _initialised(config, st.build(config))
  source = _clip(tmp_path / "in.mp4", frames=3)
  summary = st.video(config.replace(input=source, output=str(tmp_path / "styled.mp4")))
  assert summary.frames == 3 and summary.output_size == (32, 48)


def test_sr_video_is_upscaled_and_tiled_test_scores(tmp_path):
  config = sr.Config(workdir=str(tmp_path / "work"), scale=2, channels=4, n_blocks=1, crop_size=16, num_steps=1)
  _initialised(config, sr.build(config))
  source = _clip(tmp_path / "in.mp4", frames=3)
  summary = sr.video(config.replace(input=source, output=str(tmp_path / "hr.mp4")))
  assert summary.output_size == (64, 96) and _decoded(tmp_path / "hr.mp4")[1].shape == (3, 64, 96, 3)
  folder = _folder(tmp_path / "hr", photo=(50, 70))
  page = sr.test(config.replace(test_input=folder, tile=16, tile_overlap=8))
  assert Image.open(os.path.join(os.path.dirname(page), "images", "photo_sr.png")).size == (70, 50)
  assert os.path.exists(os.path.join(os.path.dirname(page), "metrics.json"))


def test_inference_flag_errors_name_the_flag(tmp_path):
  with pytest.raises(ValueError, match="--tile=16 must be larger than --tile_overlap=32"):
    pix2pix.Config(tile=16)
  with pytest.raises(ValueError, match=r"ema_weight=1\.0 must be in \[0, 1\)"):
    sr.Config(ema_weight=1.0)
  with pytest.raises(ValueError, match="temporal='blur' is not one of"):
    st.Config(temporal="blur")
  config = pix2pix.Config(workdir=str(tmp_path / "work"))
  with pytest.raises(ValueError, match="--mode=video needs --input=VIDEO"):
    pix2pix.video(config)
  with pytest.raises(FileNotFoundError, match="--input=nope.mp4: no such file"):
    pix2pix.video(config.replace(input="nope.mp4"))
  source = _clip(tmp_path / "in.mp4", frames=2)
  with pytest.raises(ValueError, match=r"--output=out\.png: .*the output must be a video file"):
    cyclegan.video(cyclegan.Config(workdir=str(tmp_path / "work"), input=source, output="out.png"))
  assert sorted(os.listdir(tmp_path)) == ["in.mp4"]


@pytest.mark.parametrize("module", [pix2pix, cyclegan, st, sr], ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_video_on_an_untrained_workdir_says_train_first(tmp_path, module):
  source = _clip(tmp_path / "in.mp4", frames=2)
  config = module.Config(workdir=str(tmp_path / "work"), input=source)
  script = module.__name__.rsplit(".", 1)[-1]
  reason = f"no checkpoint in {tmp_path / 'work'}"
  with pytest.raises(FileNotFoundError, match=train_first(script, tmp_path / "work", reason)):
    module.MODES["video"](config)
  assert sorted(os.listdir(tmp_path)) == ["in.mp4"]  # no workdir, no output

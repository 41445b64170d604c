"""jaxgan.inference: tiled == whole image (instance norm, batch statistics, a CycleGAN generator, an SR
network), the gathered statistics are the whole image's, the tile grid's properties, videos
(round trip, audio, ema, streaming, flicker) and errors naming the file or value."""

import os
import subprocess

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from jaxgan.inference import Tiler, Translator, norm_statistics, translate_frames, translate_tiled, translate_video
from jaxgan.inference.tiled import Axis, plan_tiles
from jaxgan.models import resnet_generator, srresnet
from jaxgan.nn import Conv
from jaxgan.nn.norm import BatchNorm, InstanceNorm
from jaxgan.train.state import abstract_network, init_network

imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
pytestmark = pytest.mark.filterwarnings(r"ignore:os\.fork\(\) was called:RuntimeWarning")  # ffmpeg started here


class Small(nnx.Module):
  """conv 3x3 -> affine instance norm -> conv 3x3 stride 2 -> batch norm -> x2 nearest -> conv 3x3:
  stride 2, each output pixel depends on input pixels within 4 of it."""

  stride = 2
  in_channels = 3

  def __init__(self, rngs):
    pad = ((1, 1), (1, 1))
    self.c1 = Conv(3, 4, (3, 3), padding=pad, rngs=rngs)
    self.n1 = InstanceNorm(4, affine=True)
    self.c2 = Conv(4, 4, (3, 3), strides=(2, 2), padding=pad, rngs=rngs)
    self.n2 = BatchNorm(4, rngs=rngs)
    self.c3 = Conv(4, 3, (3, 3), padding=pad, rngs=rngs)

  def __call__(self, x, *, train):
    h = jax.nn.relu(self.n1(self.c1(x), train=train))
    h = jax.nn.relu(self.n2(self.c2(h), train=train))
    return jnp.tanh(self.c3(jnp.repeat(jnp.repeat(h, 2, axis=1), 2, axis=2)))


class Identity(nnx.Module):
  def __init__(self, rngs):
    del rngs

  def __call__(self, x, *, train):
    del train
    return x


def _translator(make, **options) -> Translator:
  network = abstract_network(make, optax.identity())
  return Translator.of(network, init_network(make, optax.identity(), jax.random.PRNGKey(0)), **options)


def _image(shape, seed=0):
  return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


@pytest.fixture(scope="module")
def small():
  return _translator(Small, train=True)  # batch norm with batch statistics: per-image statistics


def test_tiled_equals_whole_image_with_instance_norm_and_batch_statistics(small):
  """37 x 53: no multiple of the tile (24) nor of the stride (2)."""
  image = _image((37, 53, 3))
  tiler = Tiler(small, tile=24, overlap=16, batch=3)  # 3 does not divide the 6 tiles: a padded batch
  tiled = tiler(image)
  assert tiler.passes == 3  # the two norm sites' statistics, then the output
  whole = small.translate(image)
  np.testing.assert_allclose(tiled, whole, atol=2e-5)
  # The gathered statistics are the whole (padded) image's, site by site.
  padded = np.pad(image, ((0, 1), (0, 1), (0, 0)), mode="reflect")
  expected = norm_statistics.image_statistics(small.apply, small.arrays, jnp.asarray(padded)[None])
  assert len(tiler.statistics) == len(expected) == 2
  for (mean, var), (want_mean, want_var) in zip(tiler.statistics, expected):
    np.testing.assert_allclose(mean, want_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var, want_var, rtol=1e-5, atol=1e-6)
  # What they correct: a tile's own statistics are far from the whole image's.
  (own_mean, own_var), _ = norm_statistics.image_statistics(
    small.apply, small.arrays, jnp.asarray(image[:24, :24])[None]
  )
  assert np.abs(own_mean - expected[0][0]).max() > 0.01 or np.abs(own_var / expected[0][1] - 1).max() > 0.05


def test_tiled_equals_whole_image_for_a_cyclegan_generator():
  """The official ResNet generator (instance norm, reflection padding) without residual blocks, at 2
  channels: a receptive field of radius under 16 pixels, so overlap 64 (a quarter: 16) is exact;
  98 x 123 is no multiple of the tile (96) nor of the stride (4)."""
  make = lambda rngs: resnet_generator.ResnetGenerator(ngf=2, n_blocks=0, rngs=rngs)
  translator = _translator(make, train=True)
  image = _image((98, 123, 3), seed=2)
  tiler = Tiler(translator, tile=96, overlap=64, batch=4)
  np.testing.assert_allclose(tiler(image), translator.translate(image), atol=5e-5)
  assert tiler.passes == 6  # 5 instance norms, then the output


def test_tiled_super_resolution_is_upscaled_and_equals_the_whole_image():
  """SRResNet in inference mode (running statistics: no per-image statistics, one pass), x2."""
  make = lambda rngs: srresnet.SRResNet(scale=2, channels=4, n_blocks=1, rngs=rngs)
  translator = _translator(make, unit_input=True)
  assert (translator.scale, translator.stride) == (2, 1)
  image = _image((45, 61, 3), seed=3)
  tiler = Tiler(translator, tile=48, overlap=40, batch=2)  # receptive field radius 10
  out = tiler(image)
  assert out.shape == (90, 122, 3) and tiler.passes == 1
  np.testing.assert_allclose(out, translator.translate(image), atol=2e-5)


@pytest.mark.parametrize(
  "length,tile,overlap,stride", [(40, 24, 16, 2), (152, 128, 96, 4), (97, 10, 3, 1), (64, 16, 0, 4)]
)
def test_tile_grid_is_stride_aligned_overlapping_and_blends_to_one(length, tile, overlap, stride):
  length = -(-length // stride) * stride
  axis = Axis.plan(length, tile, overlap, stride)
  origins = np.asarray(axis.origins)
  assert origins[0] == 0 and origins[-1] + tile == length and (origins % stride == 0).all()
  assert (np.diff(origins) <= tile - overlap).all()  # neighbours overlap by at least `overlap`
  cores = axis.cores()
  assert cores[0][0] == 0 and cores[-1][1] == length and all(a[1] == b[0] for a, b in zip(cores, cores[1:]))
  assert all(o <= start < end <= o + tile for o, (start, end) in zip(axis.origins, cores))
  for scale in (1, 3):
    total = np.zeros(length * scale)
    for o, w in zip(axis.origins, axis.weights(scale)):
      total[o * scale : o * scale + tile * scale] += w
    np.testing.assert_allclose(total, 1.0, rtol=1e-6)  # a constant output stays constant


def test_constant_network_output_stays_constant_when_blended():
  image = np.full((37, 53, 3), 0.25, np.float32)
  identity = _translator(Identity)
  np.testing.assert_allclose(translate_tiled(identity, image, tile=16, overlap=8), image, atol=1e-6)


def test_tiling_errors_name_the_values(small):
  with pytest.raises(ValueError, match="tile=8 must be larger than overlap=8"):
    translate_tiled(small, _image((30, 30, 3)), tile=8, overlap=8)
  with pytest.raises(ValueError, match="overlap=-1 must be >= 0"):
    Tiler(small, tile=8, overlap=-1)
  with pytest.raises(ValueError, match="tile=0 must be a positive number"):
    Tiler(small, tile=0, overlap=0)
  with pytest.raises(ValueError, match="tile=9 and overlap=7 become 8 and 8 at the network's stride 4"):
    plan_tiles((40, 40), tile=9, overlap=7, stride=4)


# -- video --------------------------------------------------------------------------------------


def _clip(path, *, frames=9, size=(32, 48), fps=10, audio=False) -> str:
  """A blurred test pattern (H.264 at CRF 5, 4:2:0 chroma as most videos; 4:4:4 for odd sides), with a
  sine tone when ``audio``."""
  ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
  h, w = size
  source = ["-f", "lavfi", "-i", f"testsrc=size={w}x{h}:rate={fps},gblur=sigma=3"]
  if audio:
    source += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000", "-shortest"]
  chroma = "yuv420p" if h % 2 == w % 2 == 0 else "yuv444p"
  command = [ffmpeg, "-y", "-v", "error", *source, "-frames:v", str(frames), "-c:v", "libx264", "-crf", "5"]
  subprocess.run([*command, "-pix_fmt", chroma, str(path)], check=True, capture_output=True)
  return str(path)


def _decoded(path):
  reader = imageio_ffmpeg.read_frames(str(path))
  meta = next(reader)
  w, h = meta["size"]
  return meta, np.stack([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader])


def test_identity_video_round_trip_keeps_frames_size_fps_and_audio(tmp_path):
  source = _clip(tmp_path / "in.mp4", audio=True)
  summary = translate_video(_translator(Identity), source, str(tmp_path / "out.mp4"), batch=4, progress=False)
  meta_in, frames_in = _decoded(source)
  meta_out, frames_out = _decoded(tmp_path / "out.mp4")
  assert frames_out.shape == frames_in.shape == (9, 32, 48, 3) and summary.frames == 9
  assert meta_out["fps"] == meta_in["fps"] == summary.fps == 10
  assert np.abs(frames_out.astype(int) - frames_in).mean() < 3  # codec loss only (of 255)
  assert summary.audio == "copied" and meta_out.get("audio_codec") == meta_in["audio_codec"]
  assert summary.flicker == pytest.approx(1.0, abs=0.05)
  assert [n for n in os.listdir(tmp_path) if n.startswith(".")] == []  # no temporary files left


def test_upscaled_odd_sized_and_tiled_video(tmp_path):
  """An SR network x2 on a 4:4:4 clip of odd sides, each frame in tiles: the size is kept exactly."""
  source = _clip(tmp_path / "in.mp4", frames=3, size=(23, 31))
  make = lambda rngs: srresnet.SRResNet(scale=2, channels=4, n_blocks=0, rngs=rngs)
  summary = translate_video(
    _translator(make, unit_input=True), source, str(tmp_path / "out.mkv"), batch=2, tile=16, overlap=8, progress=False
  )
  meta, frames = _decoded(tmp_path / "out.mkv")
  assert frames.shape == (3, 46, 62, 3) and summary.output_size == (46, 62) and summary.audio == "none in the input"


class _Counted:
  """Frames made on demand, counting how many were taken."""

  def __init__(self, n):
    self.n, self.taken = n, 0

  def __iter__(self):
    for i in range(self.n):
      self.taken += 1
      yield np.full((4, 4, 3), i, np.float32)


def test_frames_are_streamed_and_ema_weight_zero_is_none():
  frames = _Counted(23)
  held = []
  for i, (frame, out) in enumerate(translate_frames(lambda x: x * 2, frames, batch=5)):
    held.append(frames.taken - i)  # frames read but not yet given back
    assert frame[0, 0, 0] == i and out[0, 0, 0] == 2 * i
  assert max(held) == 5 and frames.taken == 23  # never more than one batch
  none = [y for _, y in translate_frames(lambda x: x * 2, _Counted(7), batch=3)]
  zero = [y for _, y in translate_frames(lambda x: x * 2, _Counted(7), batch=3, temporal="ema", ema_weight=0.0)]
  np.testing.assert_array_equal(np.stack(zero), np.stack(none))
  ema = [y[0, 0, 0] for _, y in translate_frames(lambda x: x * 2, _Counted(3), batch=2, temporal="ema", ema_weight=0.5)]
  assert ema == [0.0, 0.5 * 2 + 0.5 * 0.0, 0.5 * 4 + 0.5 * 1.0]  # out_t = (1 - w) y_t + w out_(t-1)


class Jittery(nnx.Module):
  """sin(40 x): small changes of the input make large changes of the output."""

  def __init__(self, rngs):
    del rngs

  def __call__(self, x, *, train):
    del train
    return jnp.sin(40.0 * x)


def test_ema_lowers_the_flicker_of_a_jittery_network(tmp_path):
  source = _clip(tmp_path / "in.mp4", frames=6)
  jittery = _translator(Jittery)
  flicker = {
    temporal: translate_video(
      jittery, source, str(tmp_path / f"{temporal}.mp4"), temporal=temporal, ema_weight=0.7, progress=False
    ).flicker
    for temporal in ("none", "ema")
  }
  assert flicker["none"] > 1.5 and flicker["ema"] < 0.7 * flicker["none"]


def test_video_errors_name_the_file(tmp_path):
  identity = _translator(Identity)
  with pytest.raises(FileNotFoundError, match="nope.mp4: no such video file"):
    translate_video(identity, str(tmp_path / "nope.mp4"), str(tmp_path / "out.mp4"))
  text = tmp_path / "notes.mp4"
  text.write_text("not a video")
  with pytest.raises(ValueError, match="notes.mp4: not a video ffmpeg can read"):
    translate_video(identity, str(text), str(tmp_path / "out.mp4"), progress=False)
  source = _clip(tmp_path / "in.mp4", frames=2)
  (tmp_path / "taken.mp4").write_bytes(b"mine")
  with pytest.raises(ValueError, match="taken.mp4 exists: pass overwrite=True"):
    translate_video(identity, source, str(tmp_path / "taken.mp4"))
  assert (tmp_path / "taken.mp4").read_bytes() == b"mine"
  translate_video(identity, source, str(tmp_path / "taken.mp4"), overwrite=True, progress=False)
  assert _decoded(tmp_path / "taken.mp4")[1].shape == (2, 32, 48, 3)
  with pytest.raises(ValueError, match=r"out.gif: the output must be a video file \(.mp4"):
    translate_video(identity, source, str(tmp_path / "out.gif"))
  with pytest.raises(ValueError, match="ema_weight=1.0 must be in"):
    translate_video(identity, source, str(tmp_path / "out.mp4"), temporal="ema", ema_weight=1.0)
  with pytest.raises(ValueError, match="tile=16 must be larger than overlap=32"):
    translate_video(identity, source, str(tmp_path / "out.mp4"), tile=16)
  assert sorted(os.listdir(tmp_path)) == ["in.mp4", "notes.mp4", "taken.mp4"]  # nothing else written

"""Video translation: a file decoded, translated frame by frame in batches, and encoded, streamed.

:func:`translate_video` reads frames with ``imageio_ffmpeg.read_frames`` (RGB, one at a time),
translates them ``batch`` frames per call (split over the devices; with ``tile``, each frame
tile by tile, :mod:`jaxgan.inference.tiled`), and writes them with ``imageio_ffmpeg.write_frames``
(H.264, the input's frame rate; 4:2:0 chroma when both output sides are even, 4:4:4 otherwise,
so the size is kept). At most ``batch`` input frames and one output frame are held at a time,
whatever the length of the video. The input's audio stream, if it has one, is copied into the
output with the ffmpeg binary of imageio-ffmpeg (re-encoded as AAC if the container refuses a
copy; left out, with a note, if that fails too). The output is written to a temporary file
beside it and moved into place at the end: an interrupted run leaves no half video, and an
existing file is replaced only with ``overwrite``.

``temporal``: ``"none"`` translates every frame alone; ``"ema"`` blends each output with the
previous blended one, on the network's float outputs before rounding to uint8::

    out_0 = y_0,    out_t = (1 - ema_weight) * y_t + ema_weight * out_(t-1)

(an exponential moving average: less flicker, some ghosting on motion; ``ema_weight=0`` is
``none``). The summary's flicker figure is the mean absolute difference between consecutive
output frames (uint8, as written) divided by that of the input frames (as decoded): 1 means the
output changes as much as the input from frame to frame, above 1 that it flickers more.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import tqdm

from jaxgan import atomic
from jaxgan.data import images as images_lib
from jaxgan.inference.tiled import Tiler, check_tiling
from jaxgan.inference.translator import Translator

TEMPORAL = {
  "none": "every frame translated alone",
  "ema": "each output blended with the previous one: (1 - w) * y_t + w * out_(t-1), w = --ema_weight",
}
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".mov")
QUALITY = 7  # imageio-ffmpeg's 0..10 scale: x264 CRF 15


def _chunks(frames: Iterable[np.ndarray], size: int) -> Iterator[list[np.ndarray]]:
  chunk = []
  for frame in frames:
    chunk.append(frame)
    if len(chunk) == size:
      yield chunk
      chunk = []
  if chunk:
    yield chunk


def check_temporal(temporal: str, ema_weight: float) -> None:
  if temporal not in TEMPORAL:
    raise ValueError(f"temporal={temporal!r} is not one of {sorted(TEMPORAL)}")
  if not 0.0 <= ema_weight < 1.0:
    raise ValueError(f"ema_weight={ema_weight!r} must be in [0, 1)")


def translate_frames(
  translate: Callable[[np.ndarray], np.ndarray],
  frames: Iterable[np.ndarray],
  *,
  batch: int,
  temporal: str = "none",
  ema_weight: float = 0.5,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
  """``(input frame, output)`` for each of ``frames``, in order, ``translate([n, ...]) -> [n, ...]``
  called on ``batch`` frames at a time (fewer at the end); ``temporal`` as the module docstring.
  Reads the next frames only when the outputs of the last batch have been taken."""
  check_temporal(temporal, ema_weight)
  previous = None
  for chunk in _chunks(frames, batch):
    for frame, y in zip(chunk, translate(np.stack(chunk))):
      if temporal == "ema" and previous is not None:
        y = (1.0 - ema_weight) * y + ema_weight * previous
      previous = y
      yield frame, y


def frame_translator(translator: Translator, *, batch: int, tile: int = 0, overlap: int = 0):
  """``uint8 RGB frames [n, H, W, 3] -> float outputs [n, H s, W s, C]`` with ``translator``
  (whole frames ``batch`` at a time, or each frame tiled with ``batch`` tiles per call)."""
  tiler = Tiler(translator, tile=tile, overlap=overlap, batch=batch) if tile else None

  def translate(frames: np.ndarray) -> np.ndarray:
    x = np.stack([images_lib.to_float(images_lib.convert_channels(f, translator.in_channels)) for f in frames])
    if tiler is not None:
      return np.stack([tiler(image) for image in x])
    return translator.translate_batch(x, batch=batch)

  return translate


class _Change:
  """Mean absolute difference between consecutive frames (uint8 units), added frame by frame."""

  def __init__(self):
    self.previous = None
    self.total = 0.0
    self.pairs = 0

  def add(self, frame: np.ndarray) -> None:
    frame = np.asarray(frame, np.int16)
    if self.previous is not None:
      self.total += float(np.mean(np.abs(frame - self.previous)))
      self.pairs += 1
    self.previous = frame

  @property
  def mean(self) -> float | None:
    return self.total / self.pairs if self.pairs else None


@dataclasses.dataclass(frozen=True)
class VideoSummary:
  """What :func:`translate_video` did. ``flicker``: output change / input change (None with
  fewer than 2 frames or a still input); ``seconds_per_frame``: after the first batch (which
  compiles), unless it was the only one."""

  input: str
  output: str
  frames: int
  fps: float
  input_size: tuple[int, int]  # (height, width)
  output_size: tuple[int, int]
  temporal: str
  ema_weight: float
  tile: int
  seconds: float
  seconds_per_frame: float
  input_change: float | None
  output_change: float | None
  flicker: float | None
  audio: str

  def line(self) -> str:
    flicker = "n/a" if self.flicker is None else f"{self.flicker:.3f}"
    return (
      f"{self.frames} frames {self.input_size[0]}x{self.input_size[1]} -> {self.output_size[0]}x"
      f"{self.output_size[1]} at {self.fps:g} fps in {self.seconds:.1f} s ({self.seconds_per_frame:.3f} s/frame), "
      f"temporal={self.temporal}" + (f" ({self.ema_weight:g})" if self.temporal == "ema" else "") + f", flicker "
      f"{flicker} (output/input mean |frame change|), audio: {self.audio}"
    )


@contextlib.contextmanager
def _starting_ffmpeg() -> Iterator[None]:
  """Silence JAX's warning about ``os.fork`` while ffmpeg is started: subprocess forks only to
  exec ffmpeg at once, which is safe (the warning is about children that keep running Python)."""
  with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)
    yield


def _ffmpeg():
  try:
    import imageio_ffmpeg  # pylint: disable=import-outside-toplevel
  except ImportError as e:
    raise ValueError("video translation needs imageio-ffmpeg: pip install 'jaxgan[video]'") from e
  return imageio_ffmpeg


def check_paths(input_path: str, output_path: str, *, overwrite: bool) -> None:
  """FileNotFoundError / ValueError naming the file: the input is missing, the output is not a
  video file name, is the input, or exists without ``overwrite``."""
  if not os.path.isfile(input_path):
    raise FileNotFoundError(f"{input_path}: no such video file")
  if not output_path.lower().endswith(VIDEO_EXTENSIONS):
    raise ValueError(f"{output_path}: the output must be a video file ({', '.join(VIDEO_EXTENSIONS)})")
  if os.path.abspath(output_path) == os.path.abspath(input_path):
    raise ValueError(f"{output_path} is the input video: choose another output")
  if os.path.exists(output_path) and not overwrite:
    raise ValueError(f"{output_path} exists: pass overwrite=True (--overwrite) or choose another output")


def open_video(path: str) -> tuple[dict, Iterator[np.ndarray]]:
  """``(metadata, uint8 RGB frames [H, W, 3])`` of a video ffmpeg can read (ValueError naming
  the file otherwise); the frames are decoded one at a time as they are taken."""
  reader = _ffmpeg().read_frames(path)
  try:
    with _starting_ffmpeg():
      meta = next(reader)
  except (OSError, RuntimeError, StopIteration) as e:
    detail = [line for line in str(e).splitlines() if line.strip()]
    raise ValueError(f"{path}: not a video ffmpeg can read ({detail[-1] if detail else type(e).__name__})") from None
  if not meta.get("size") or not meta.get("fps"):
    reader.close()
    raise ValueError(f"{path}: not a video ffmpeg can read (no frame size or frame rate)")
  width, height = meta["size"]

  def frames():
    try:
      for data in reader:
        yield np.frombuffer(data, np.uint8).reshape(height, width, 3)
    finally:
      reader.close()

  return meta, frames()


def _writer(path: str, size: tuple[int, int], fps: float, quality: float):
  """A started ``imageio_ffmpeg.write_frames`` generator for frames of ``size`` (height, width)."""
  height, width = size
  even = height % 2 == 0 and width % 2 == 0
  writer = _ffmpeg().write_frames(
    path,
    (width, height),
    fps=fps,
    codec="libx264",
    quality=quality,
    pix_fmt_out="yuv420p" if even else "yuv444p",
    macro_block_size=1,
    ffmpeg_log_level="error",
  )
  with _starting_ffmpeg():
    writer.send(None)
  return writer


def _with_audio(video: str, source: str, output: str) -> str:
  """Mux ``source``'s audio stream into ``video`` as ``output`` (copied, else AAC); what happened."""
  ffmpeg = _ffmpeg().get_ffmpeg_exe()
  for codec in ("copy", "aac"):
    command = [ffmpeg, "-y", "-v", "error", "-i", video, "-i", source, "-map", "0:v:0", "-map", "1:a:0"]
    command += ["-c:v", "copy", "-c:a", codec, output]
    with _starting_ffmpeg():
      done = subprocess.run(command, capture_output=True, check=False).returncode == 0
    if done:
      return "copied" if codec == "copy" else "re-encoded (aac)"
  os.replace(video, output)
  return "left out (ffmpeg could not copy it)"


def translate_video(
  translator: Translator,
  input_path: str,
  output_path: str,
  *,
  batch: int = 4,
  temporal: str = "none",
  ema_weight: float = 0.5,
  tile: int = 0,
  overlap: int = 32,
  overwrite: bool = False,
  quality: float = QUALITY,
  progress: bool = True,
) -> VideoSummary:
  """Translate the video ``input_path`` into ``output_path`` frame by frame (see the module
  docstring); returns the :class:`VideoSummary`. ``tile > 0`` translates each frame in tiles
  (``overlap``; :func:`jaxgan.inference.translate_tiled`)."""
  check_paths(input_path, output_path, overwrite=overwrite)
  check_temporal(temporal, ema_weight)
  if tile:
    check_tiling(tile, overlap)
  meta, frames = open_video(input_path)
  fps = float(meta["fps"])
  estimate = round(fps * float(meta.get("duration") or 0)) or None
  translate = frame_translator(translator, batch=batch, tile=tile, overlap=overlap)
  changes = {"input": _Change(), "output": _Change()}
  started, first_batch = time.perf_counter(), None
  count, size = 0, None
  writer = None
  bar = tqdm.tqdm(total=estimate, disable=not progress, unit="frame", dynamic_ncols=True)
  with atomic.replacing(output_path) as tmp, _temporary_beside(output_path) as video_only:
    try:
      for frame, y in translate_frames(translate, frames, batch=batch, temporal=temporal, ema_weight=ema_weight):
        out = images_lib.to_uint8(y)
        out = np.repeat(out, 3, axis=-1) if out.shape[-1] == 1 else out
        if writer is None:
          size = out.shape[:2]
          writer = _writer(video_only, size, fps, quality)
        writer.send(np.ascontiguousarray(out))
        changes["input"].add(frame)
        changes["output"].add(out)
        count += 1
        if count == batch:
          first_batch = (time.perf_counter() - started, count)
        bar.update(1)
    finally:
      bar.close()
      frames.close()
      if writer is not None:
        writer.close()
    if not count:
      raise ValueError(f"{input_path}: no frames could be decoded")
    audio = "none in the input"
    if meta.get("audio_codec"):
      audio = _with_audio(video_only, input_path, tmp)
    else:
      os.replace(video_only, tmp)
  seconds = time.perf_counter() - started
  per_frame = seconds / count
  if first_batch is not None and count > first_batch[1]:
    per_frame = (seconds - first_batch[0]) / (count - first_batch[1])
  before, after = changes["input"].mean, changes["output"].mean
  return VideoSummary(
    input=input_path,
    output=output_path,
    frames=count,
    fps=fps,
    input_size=tuple(int(v) for v in meta["size"][::-1]),
    output_size=tuple(int(v) for v in size),
    temporal=temporal,
    ema_weight=ema_weight,
    tile=tile,
    seconds=seconds,
    seconds_per_frame=per_frame,
    input_change=before,
    output_change=after,
    flicker=after / before if before else None,
    audio=audio,
  )


@contextlib.contextmanager
def _temporary_beside(path: str) -> Iterator[str]:
  """A temporary file name beside ``path`` with its extension, removed at the end if still there."""
  directory = os.path.dirname(os.path.abspath(path))
  stem, ext = os.path.splitext(os.path.basename(path))
  fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{stem}.", suffix=f".video{ext}")
  os.close(fd)
  try:
    yield tmp
  finally:
    with contextlib.suppress(FileNotFoundError):
      os.remove(tmp)

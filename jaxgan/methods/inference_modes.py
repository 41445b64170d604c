"""``--mode=video`` and tiled ``--mode=test`` of the image-to-image methods (pix2pix, CycleGAN,
fast style transfer, SR): their flags and the code they share.

Each method gives a :class:`jaxgan.inference.Translator` of its restored generator (called as its
test mode calls it) and these functions do the rest: :func:`video` checks ``--input`` and
``--output`` before the checkpoint is restored, then runs :func:`jaxgan.inference.translate_video`;
:func:`image_translator` is what a test mode translates an image with (tiled with ``--tile``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import jax
import numpy as np

from jaxgan import inference
from jaxgan.config import NON_NEGATIVE, POSITIVE, PROBABILITY, field
from jaxgan.inference.video import check_paths

VIDEO_HELP = "--mode=video: the input video (any format ffmpeg reads)."
OUTPUT_HELP = "--mode=video: the output video (.mp4, .mkv, .mov); default <workdir>/videos/<input name>.mp4."
OVERWRITE_HELP = "--mode=video: replace an existing --output."


@dataclasses.dataclass(frozen=True, kw_only=True)
class InferenceConfig:
  """The flags of ``--mode=video`` and of tiling (``--mode=test`` and ``--mode=video``)."""

  input: str = field("", VIDEO_HELP, run_only=True)
  output: str = field("", OUTPUT_HELP, run_only=True)
  overwrite: bool = field(False, OVERWRITE_HELP, run_only=True)
  temporal: str = field(
    "none", "--mode=video: temporal smoothing of the outputs.", choices=inference.TEMPORAL, run_only=True
  )
  ema_weight: float = field(
    0.5, "--mode=video --temporal=ema: weight w of the previous output (0: none).", check=PROBABILITY, run_only=True
  )
  tile: int = field(
    0,
    "--mode=test (stylize) and --mode=video: translate each image in tiles of this side (rounded down to the "
    "generator's stride), blended, with whole-image norm statistics: images of any size at their own size "
    "(--size_policy is not used), memory bounded by --inference_batch tiles; 0: whole images.",
    check=NON_NEGATIVE,
    run_only=True,
  )
  tile_overlap: int = field(
    32,
    "With --tile: overlap of neighbouring tiles (rounded up to the stride); exact when the generator's receptive "
    "field radius is at most a quarter of it.",
    check=NON_NEGATIVE,
    run_only=True,
  )
  inference_batch: int = field(
    4,
    "Frames per call of --mode=video; with --tile, tiles per call (--mode=test, stylize, video); split over the "
    "devices.",
    check=POSITIVE,
    run_only=True,
  )

  def check_inference_flags(self) -> None:
    """ValueError naming the flags: ``--tile`` must be larger than ``--tile_overlap``."""
    if self.tile:
      inference.check_tiling(self.tile, self.tile_overlap, names=("--tile", "--tile_overlap"))


def image_translator(config: InferenceConfig, translator: inference.Translator) -> Callable[[np.ndarray], np.ndarray]:
  """``float image [H, W, C] -> output``: tiled with ``--tile`` (one :class:`jaxgan.inference.Tiler`
  for the run, so images of one size compile once), else whole."""
  if not config.tile:
    return translator.translate
  return inference.Tiler(translator, tile=config.tile, overlap=config.tile_overlap, batch=config.inference_batch)


def video_paths(config) -> tuple[str, str]:
  """``(input, output)`` of ``--mode=video``, checked (errors name the flag) before anything runs."""
  if not config.input:
    raise ValueError("--mode=video needs --input=VIDEO")
  source = os.path.abspath(config.input)
  if not os.path.isfile(source):
    raise FileNotFoundError(f"--input={config.input}: no such file")
  stem = os.path.splitext(os.path.basename(source))[0]
  output = os.path.abspath(config.output or os.path.join(config.workdir, "videos", stem + ".mp4"))
  try:
    check_paths(source, output, overwrite=config.overwrite)
  except ValueError as e:
    raise ValueError(f"--output={config.output or output}: {e}") from None
  return source, output


def video(config, make_translator: Callable[[], inference.Translator]) -> inference.VideoSummary:
  """``--mode=video``: ``--input`` translated frame by frame into ``--output`` with the translator
  ``make_translator()`` gives (it restores the checkpoint: called after the paths are checked)."""
  config.check_inference_flags()
  source, output = video_paths(config)
  summary = inference.translate_video(
    make_translator(),
    source,
    output,
    batch=config.inference_batch,
    temporal=config.temporal,
    ema_weight=config.ema_weight,
    tile=config.tile,
    overlap=config.tile_overlap,
    overwrite=config.overwrite,
    progress=jax.process_index() == 0,
  )
  print(f"jaxgan: {summary.line()} -> {output}", flush=True)
  return summary

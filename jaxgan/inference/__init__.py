"""Inference with trained image-to-image networks: any image size (tiled), and videos.

* :class:`Translator`: a network, its arrays and how the method calls it at test time;
  ``translate_batch`` runs whole images, split over the devices.
* :func:`translate_tiled` / :class:`Tiler`: images of any size tile by tile, blended, with
  norm layers using whole-image statistics (:mod:`jaxgan.inference.tiled`).
* :func:`translate_video`: a video file frame by frame, streamed, with an optional temporal
  blend and a flicker figure (:mod:`jaxgan.inference.video`).
"""

from jaxgan.inference.tiled import Tiler, check_tiling, translate_tiled
from jaxgan.inference.translator import Translator, fit_image
from jaxgan.inference.video import TEMPORAL, VideoSummary, translate_frames, translate_video

__all__ = [
  "TEMPORAL",
  "Tiler",
  "Translator",
  "VideoSummary",
  "check_tiling",
  "fit_image",
  "translate_frames",
  "translate_tiled",
  "translate_video",
]

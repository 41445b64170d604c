"""Video and large-image inference (``jaxgan.inference``): the figures of the README's "Video and
large images" section.

The network is fast style transfer's (``style_transformer``: instance norm, 1,679,235 parameters),
built as ``--mode=video`` builds it and initialised (seed 0): no trained style network can be
downloaded here. Time per frame and memory do not depend on the weights; flicker does (an
untrained network's outputs are smooth functions of the input).

* ``video``: a clip made here by panning a 256 x 256 window across the shipped
  ``jaxgan/assets/singan/Images/wild_bush.jpg`` (2048 x 1536; 5 px/frame to the right, a slow
  vertical sine), ``--frames`` frames at 25 fps (H.264, CRF 5), translated by
  :func:`jaxgan.inference.translate_video` with ``--temporal=none`` and ``ema``: seconds per frame
  after the first (compiling) batch, decoding and encoding included, and the flicker figure.
* ``photo``: the same image upscaled by 4/3 to 2731 x 2048 (Pillow bicubic), translated tiled
  (``--tile``, ``--overlap``, ``--batch``; whole-image instance-norm statistics) and whole, each in
  its own process: wall time, the process's peak resident memory, and XLA's plan of the compiled
  programs (``memory_analysis()``: arguments + outputs + temporaries) -- for tiles, the largest of
  the statistics passes' and the final pass's programs (compiled again for the plan, after the run,
  so the peak memory is the run's); and the largest difference between the two
  outputs (this network's receptive field is far larger than the overlap: not the exact case).

    python benchmarks/video_tiled.py --json=video_tiled.json
    python benchmarks/video_tiled.py --parts=photo --tile=512 --overlap=64
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import jax
import numpy as np
from PIL import Image

# Runnable as ``python benchmarks/video_tiled.py`` from the repository root.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxgan.data import images as images_lib  # noqa: E402
from jaxgan.inference import Tiler, norm_statistics, translate_video  # noqa: E402
from jaxgan.methods import style_transfer as st  # noqa: E402

IMAGE = os.path.join(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "jaxgan/assets/singan/Images/wild_bush.jpg"
)
WINDOW = 256


def translator():
  method = st.build(st.Config(workdir="unused"))
  return method.translator(method.init_state(jax.random.PRNGKey(0)))


def photo(scale: float) -> np.ndarray:
  image = Image.open(IMAGE).convert("RGB")
  w, h = image.size
  return np.asarray(image.resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC))


def make_clip(path: str, frames: int, fps: int = 25) -> str:
  """A 256 x 256 window panning across the image, written frame by frame."""
  import imageio_ffmpeg  # pylint: disable=import-outside-toplevel

  image = np.asarray(Image.open(IMAGE).convert("RGB"))
  h, w = image.shape[:2]
  writer = imageio_ffmpeg.write_frames(path, (WINDOW, WINDOW), fps=fps, quality=9, macro_block_size=1)
  writer.send(None)
  for t in range(frames):
    x = min(100 + 5 * t, w - WINDOW)
    y = int((h - WINDOW) / 2 + 200 * np.sin(2 * np.pi * t / max(frames, 1)))
    writer.send(np.ascontiguousarray(image[y : y + WINDOW, x : x + WINDOW]))
  writer.close()
  return path


def video(args) -> list[dict]:
  t = translator()
  rows = []
  with tempfile.TemporaryDirectory() as tmp:
    clip = make_clip(os.path.join(tmp, "pan.mp4"), args.frames)
    for temporal in ("none", "ema"):
      out = os.path.join(args.out_dir or tmp, f"pan_{temporal}.mp4")
      summary = translate_video(
        t, clip, out, batch=args.video_batch, temporal=temporal, ema_weight=args.ema_weight, overwrite=True
      )
      print(f"video: {summary.line()}", flush=True)
      rows.append(
        {
          "part": "video",
          "temporal": temporal,
          "ema_weight": args.ema_weight if temporal == "ema" else None,
          "frames": summary.frames,
          "seconds": summary.seconds,
          "seconds_per_frame": summary.seconds_per_frame,
          "flicker": summary.flicker,
          "input_change": summary.input_change,
          "output_change": summary.output_change,
        }
      )
  return rows


def peak_rss_gib() -> float:
  """This process's peak resident memory (``VmHWM``: of its own address space; ``getrusage`` would
  count the parent's before ``exec``)."""
  with open("/proc/self/status") as f:
    kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
  return kib / 2**20


def _plan_bytes(jitted, *args) -> int:
  analysis = jitted.lower(*args).compile().memory_analysis()
  return int(analysis.argument_size_in_bytes + analysis.output_size_in_bytes + analysis.temp_size_in_bytes)


def photo_part(args, mode: str) -> dict:
  """One process: ``mode`` is ``tiled`` or ``whole``; the output is saved (.npy) for the comparison."""
  t = translator()
  image = images_lib.to_float(photo(args.photo_scale))
  abstract = lambda shape: jax.ShapeDtypeStruct(shape, np.float32)
  started = time.perf_counter()
  if mode == "whole":
    out, passes = t.translate(image), 1
  else:
    tiler = Tiler(t, tile=args.tile, overlap=args.overlap, batch=args.batch)
    out, passes = tiler(image), tiler.passes
  seconds, peak = time.perf_counter() - started, peak_rss_gib()
  if mode == "whole":
    padded = -(-image.shape[0] // t.stride) * t.stride, -(-image.shape[1] // t.stride) * t.stride
    plan = _plan_bytes(jax.jit(t.apply_each), *t.arrays, abstract((1, *padded, 3)))
  else:
    tiles = abstract((tiler.batch, args.tile, args.tile, 3))
    masks = abstract((tiler.batch, args.tile, args.tile))
    sites = jax.eval_shape(lambda a, x: norm_statistics.image_statistics(t.apply, a, x), t.arrays, tiles)
    plans = [_plan_bytes(tiler._gather, t.arrays, tiles, masks, sites[:k]) for k in range(len(sites))]
    plan = max([*plans, _plan_bytes(tiler._output, t.arrays, tiles, sites)])
  np.save(args.save, out)
  return {
    "part": f"photo_{mode}",
    "size": list(image.shape[:2]),
    "seconds": seconds,
    "passes": passes,
    "peak_rss_gib": peak,
    "xla_plan_gib": plan / 2**30,
  }


def photo_rows(args) -> list[dict]:
  rows = []
  with tempfile.TemporaryDirectory() as tmp:
    outputs = {}
    for mode in ("tiled", "whole"):
      outputs[mode] = os.path.join(tmp, f"{mode}.npy")
      command = [sys.executable, os.path.abspath(__file__), f"--photo_part={mode}", f"--save={outputs[mode]}"]
      command += [f"--tile={args.tile}", f"--overlap={args.overlap}", f"--batch={args.batch}"]
      command += [f"--photo_scale={args.photo_scale}"]
      done = subprocess.run(command, check=True, capture_output=True, text=True)
      row = json.loads(done.stdout.strip().splitlines()[-1])
      print(f"photo ({mode}): {row}", flush=True)
      rows.append(row)
    difference = np.abs(np.load(outputs["tiled"]) - np.load(outputs["whole"]))
    rows[0]["max_abs_difference"] = float(difference.max())
    rows[0]["mean_abs_difference"] = float(difference.mean())
  return rows


def table(rows: list[dict]) -> str:
  lines = []
  for r in rows:
    if r["part"] == "video":
      flicker = "n/a" if r["flicker"] is None else f"{r['flicker']:.3f}"
      lines.append(
        f"video {r['frames']} frames 256x256, temporal={r['temporal']}"
        + (f" ({r['ema_weight']})" if r["ema_weight"] is not None else "")
        + f": {r['seconds_per_frame']:.3f} s/frame, {r['seconds']:.1f} s in all, flicker {flicker}"
      )
    else:
      lines.append(
        f"{r['part']} {r['size'][0]}x{r['size'][1]}: {r['seconds']:.1f} s, {r['passes']} passes, peak RSS "
        f"{r['peak_rss_gib']:.2f} GiB, XLA plan {r['xla_plan_gib']:.3f} GiB"
        + (f", |tiled - whole| max {r['max_abs_difference']:.3f}" if "max_abs_difference" in r else "")
      )
  return "\n".join(lines)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--parts", default="video,photo", help="video, photo or both (comma-separated).")
  parser.add_argument("--frames", type=int, default=300)
  parser.add_argument("--video_batch", type=int, default=4)
  parser.add_argument("--ema_weight", type=float, default=0.5)
  parser.add_argument("--tile", type=int, default=512)
  parser.add_argument("--overlap", type=int, default=64)
  parser.add_argument("--batch", type=int, default=4, help="Tiles per call.")
  parser.add_argument("--photo_scale", type=float, default=4 / 3, help="The photo: wild_bush.jpg scaled by this.")
  parser.add_argument("--out_dir", default="", help="Keep the translated videos here.")
  parser.add_argument("--json", default="")
  parser.add_argument("--photo_part", default="", help=argparse.SUPPRESS)
  parser.add_argument("--save", default="", help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.photo_part:
    print(json.dumps(photo_part(args, args.photo_part)), flush=True)
    return
  parts = args.parts.split(",")
  rows = (video(args) if "video" in parts else []) + (photo_rows(args) if "photo" in parts else [])
  print(table(rows))
  if args.json:
    with open(args.json, "w") as f:
      json.dump({"devices": str(jax.devices()), "rows": rows}, f, indent=2)


if __name__ == "__main__":
  main()

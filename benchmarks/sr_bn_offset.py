"""Batch-norm diagnosis of a trained SR workdir: per image, PSNR (Y) in inference mode (running
statistics, what is scored), in batch mode (the image's own statistics), and the mean luma
offset of the inference output against the HR image.

    python benchmarks/sr_bn_offset.py --workdir=/tmp/srresnet [--set=Set5] [--json=PATH]
    python benchmarks/sr_bn_offset.py --workdir=/tmp/srresnet --set=Set14 --set14=/data/my_set14

``--set`` is ``Set5`` (default) or ``Set14``, read from ``--set5`` / ``--set14`` (a registered name
or a folder; default the registry's ``set5``, shipped with jaxgan, and ``set14``, fetched by
``python -m jaxgan.download set14``), or itself any registered name or folder (as in
``benchmarks/sr_eval.py``).

A positive offset is an output brighter than the HR image (Y in [16, 235], MATLAB's
``rgb2ycbcr``, ``scale`` pixels shaved). It measures the gap between the batch statistics G
trained with and the running statistics it is scored with (README: the 30-minute SRResNet
recipe and ``--freeze_bn``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import jax
import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sr_eval  # noqa: E402

from jaxgan.data import images as images_lib  # noqa: E402
from jaxgan.methods import sr  # noqa: E402


def diagnose(method: sr.SuperResolution, state, images: list[tuple[str, np.ndarray]]) -> list[dict]:
  """One row per ``(name, uint8 HR image)``: inference / batch-mode PSNR, mean luma offset, bicubic PSNR."""
  scale = method.config.scale
  g = state.nets["G"]
  batch_mode = jax.jit(lambda g, lr: method.generator.apply(g.params, g.stats, lr, train=True)[0])
  rows = []
  for name, image in images:
    hr, lr = sr.eval_pair(image, scale)
    inference = method.super_resolve(state, lr)
    own = images_lib.to_uint8(np.asarray(batch_mode(g, lr[None].astype(np.float32) / 255.0)))[0]
    inner = (slice(scale, -scale), slice(scale, -scale))
    offset = (np.asarray(sr.luma(inference[None]))[0] - np.asarray(sr.luma(hr[None]))[0])[inner].mean()
    rows.append(
      {
        "image": name,
        "psnr_inference": sr.scores(inference, hr, scale)["psnr"],
        "psnr_batch_mode": sr.scores(own, hr, scale)["psnr"],
        "mean_luma_offset": float(offset),
        "psnr_bicubic": sr.scores(sr.bicubic_upscale(lr, scale), hr, scale)["psnr"],
      }
    )
  return rows


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True, help="a trained jaxgan SR workdir")
  parser.add_argument(
    "--set", default="Set5", help="Set5 or Set14 (from --set5 / --set14), or a registered name or folder (default Set5)"
  )
  parser.add_argument("--set5", default="set5", help="Set5: a registered name or a folder (default: the shipped set5)")
  parser.add_argument("--set14", default="set14", help="Set14: a registered name or a folder (default set14)")
  parser.add_argument("--json", default="", help="also write the rows here (never overwritten)")
  args = parser.parse_args(argv)
  try:
    folder = sr_eval.set_folder(args.set, set5=args.set5, set14=args.set14, flag="--set")
  except FileNotFoundError as e:  # NotAvailableError too: its message has the download command
    parser.error(str(e))
  if args.json and os.path.exists(args.json):
    parser.error(f"--json={args.json} exists; not overwriting it")
  method, state = sr_eval.load_workdir(args.workdir)
  rows = diagnose(method, state, sr.load_images(folder))
  print("| image | PSNR inference | PSNR batch mode | mean luma offset | PSNR bicubic |")
  print("|---|---:|---:|---:|---:|")
  for r in rows:
    print(
      f"| {r['image']} | {r['psnr_inference']:.2f} | {r['psnr_batch_mode']:.2f} | "
      f"{r['mean_luma_offset']:+.2f} | {r['psnr_bicubic']:.2f} |"
    )
  print(
    f"| mean | {np.mean([r['psnr_inference'] for r in rows]):.2f} | "
    f"{np.mean([r['psnr_batch_mode'] for r in rows]):.2f} | "
    f"{np.mean([r['mean_luma_offset'] for r in rows]):+.2f} | {np.mean([r['psnr_bicubic'] for r in rows]):.2f} |"
  )
  if args.json:
    with open(args.json, "x") as f:
      json.dump(
        {
          "workdir": args.workdir,
          "set": args.set,
          "folder": os.path.abspath(folder),
          "step": int(state.step),
          "images": rows,
        },
        f,
        indent=2,
      )


if __name__ == "__main__":
  main()

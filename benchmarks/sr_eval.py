"""Super-resolution quality: PSNR / SSIM (Y) of bicubic and trained SR workdirs on Set5 and Set14.

    python benchmarks/sr_eval.py                                    # the bicubic baseline only
    python benchmarks/sr_eval.py --workdir=SRResNet=/tmp/srresnet --workdir=SRGAN=/tmp/srgan \
        --workdir=/tmp/perceptual_sr --json=/tmp/sr_eval.json
    python benchmarks/sr_eval.py --sets=Set5 --set5=/data/my_set5   # another copy of Set5
    python benchmarks/sr_eval.py --sets=Set5,urban100               # any registered set or folder too

Every score follows :mod:`jaxgan.methods.sr`'s evaluation, the SR literature's: the HR image
``modcrop``-ped to a multiple of the scale, its LR by MATLAB's bicubic ``imresize`` rounded to
uint8, outputs clipped and rounded to uint8, PSNR and SSIM (11x11 Gaussian window) on
MATLAB's ``rgb2ycbcr`` luma of uint8 images (BT.601, [16, 235], integers) with ``scale``
pixels shaved from each border. Bicubic x4 here: Set5 28.42 dB / 0.8102, Set14 26.09 dB /
0.7042; the literature's tables (SRCNN / VDSR / EDSR): Set5 28.42 / 0.8104, Set14 26.00 /
0.7027 (Set14 circulates in several versions; this one's grey ``bridge.png`` is scored as
RGB with equal channels).

A workdir is given as ``LABEL=PATH`` or ``PATH`` (labelled by its generator and loss); its
``config.json`` says which networks to restore, and its latest checkpoint is scored (G in
inference mode: batch-norm running statistics). ``--sets`` lists the sets scored (default
``Set5,Set14``): ``Set5`` and ``Set14`` are read from ``--set5`` / ``--set14`` (each a registered
name or a folder; default the registry's ``set5``, shipped with jaxgan, and ``set14``, fetched by
``python -m jaxgan.download set14``); any other item is itself a registered name or a folder
(:func:`jaxgan.download.resolve_flag`), labelled as written. A set that is not there is reported
with its download command before anything is computed.
Prints a Markdown table; ``--json=PATH`` also writes every figure (per set: mean PSNR, SSIM, images, seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

# Runnable as ``python benchmarks/sr_eval.py`` from the repository root.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from jaxgan.download import resolve_flag  # noqa: E402
from jaxgan.methods import sr  # noqa: E402


def set_folder(label: str, *, set5: str = "set5", set14: str = "set14", flag: str = "--sets") -> str:
  """The folder of a set: ``Set5`` / ``Set14`` that of ``set5`` / ``set14`` (a registered name or a
  folder), any other label itself a registered name or a folder (``flag`` names it in errors).

  Raises FileNotFoundError; :class:`jaxgan.download.NotAvailableError`, with the download command,
  for a registered name not downloaded.
  """
  if label == "Set5":
    return resolve_flag(set5, flag="--set5", kind="dir")
  if label == "Set14":
    return resolve_flag(set14, flag="--set14", kind="dir")
  return resolve_flag(label, flag=flag, kind="dir")


def parse_workdir(spec: str) -> tuple[str | None, str]:
  """``'LABEL=PATH'`` -> (LABEL, PATH); ``'PATH'`` -> (None, PATH)."""
  label, sep, path = spec.partition("=")
  return (label, path) if sep and label else (None, spec)


def load_workdir(path: str) -> tuple[sr.SuperResolution, object]:
  """The method (from ``config.json``) and latest state of a trained workdir."""
  recorded = os.path.join(path, "config.json")
  if not os.path.isfile(recorded):
    raise FileNotFoundError(f"{path}: no config.json (not a jaxgan SR workdir)")
  config = sr.config_from_json(recorded).replace(workdir=os.path.abspath(path))
  method = sr.build(config)
  return method, method.restore(require_finished=False)  # any step: each row gives its step


def evaluate_all(workdirs: list[str], folders: dict[str, str], *, scale: int, limit: int = 0) -> list[dict]:
  """One row per method (bicubic first): ``{'method', 'step', <set>: {'psnr', 'ssim', ...}}``.

  ``folders`` maps each set's label to its folder of HR images.
  """
  sets = list(folders)
  images = {name: sr.load_images(folders[name], limit) for name in sets}
  rows = [
    {
      "method": "Bicubic",
      "workdir": None,
      "step": None,
      **{name: sr.bicubic_scores(images[name], scale) for name in sets},
    }
  ]
  for spec in workdirs:
    label, path = parse_workdir(spec)
    method, state = load_workdir(path)
    config = method.config
    if config.scale != scale:
      raise ValueError(f"{path} was trained for x{config.scale}, not --scale={scale}")
    row = {
      "method": label or f"{config.generator}/{config.loss}",
      "workdir": os.path.abspath(path),
      "step": int(state.step),
    }
    for name in sets:
      t0 = time.perf_counter()
      row[name] = {**method.evaluate(state, images[name]), "seconds": time.perf_counter() - t0}
    rows.append(row)
  return rows


def markdown_table(rows: list[dict], sets: list[str], scale: int) -> str:
  head = ["method", "step"] + [f"{s} x{scale} {m}" for s in sets for m in ("PSNR", "SSIM")]
  lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
  for row in rows:
    cells = [row["method"], "-" if row["step"] is None else str(row["step"])]
    for s in sets:
      cells += [f"{row[s]['psnr']:.2f}", f"{row[s]['ssim']:.4f}"]
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument(
    "--workdir", action="append", default=[], help="A trained SR workdir, LABEL=PATH or PATH (repeatable)."
  )
  parser.add_argument(
    "--sets",
    default="Set5,Set14",
    help="Comma-separated sets: Set5, Set14 (from --set5 / --set14), registered names or folders.",
  )
  parser.add_argument("--set5", default="set5", help="Set5: a registered name or a folder (default: the shipped set5).")
  parser.add_argument(
    "--set14",
    default="set14",
    help="Set14: a registered name or a folder (default set14: python -m jaxgan.download set14).",
  )
  parser.add_argument("--scale", type=int, default=4, help="Upscaling factor (workdirs must match).")
  parser.add_argument("--limit", type=int, default=0, help="Score only the first N images of each set.")
  parser.add_argument("--json", default="", help="Also write the rows (with per-set image counts) here.")
  args = parser.parse_args(argv)
  sets = [s.strip() for s in args.sets.split(",") if s.strip()]
  try:
    folders = {s: set_folder(s, set5=args.set5, set14=args.set14) for s in sets}
  except FileNotFoundError as e:  # NotAvailableError too: its message has the download command
    parser.error(str(e))
  rows = evaluate_all(args.workdir, folders, scale=args.scale, limit=args.limit)
  print(markdown_table(rows, sets, args.scale))
  if args.json:
    with open(args.json, "w") as f:
      json.dump(
        {
          "scale": args.scale,
          "sets": sets,
          "folders": {s: os.path.abspath(p) for s, p in folders.items()},
          "limit": args.limit,
          "rows": rows,
        },
        f,
        indent=2,
      )
  return rows


if __name__ == "__main__":
  main()

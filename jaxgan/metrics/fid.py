"""``python -m jaxgan.metrics.fid PATH_A PATH_B``: FID between two folders of images, like pytorch-fid.

python -m jaxgan.metrics.fid real/ generated/                       # FID (pytorch-fid's weights and resize)
python -m jaxgan.metrics.fid real/ generated/ --kid --isc           # and KID, and the IS of PATH_B
python -m jaxgan.metrics.fid real/ --save_stats real.npz            # pytorch-fid's statistics file
python -m jaxgan.metrics.fid real.npz generated/                    # a statistics file for either side

A path is a folder of images (every file with an image extension, read as RGB uint8, any sizes)
or a ``.npz`` statistics file (``mu``, ``sigma``; pytorch-fid's ``--save-stats`` files work).
The features are the FID Inception's pool3 (:mod:`jaxgan.models.inception`; ``--weights``: the
registered ``fid_inception`` (pytorch-fid's file, ``python -m jaxgan.download fid_inception``),
``fid_inception_torch_fidelity`` or a file), resized to 299 as pytorch-fid (``--resize=pytorch_fid``)
or torch-fidelity (``--resize=tf1``), in batches split over all devices.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from jaxgan import atomic
from jaxgan.data import images as images_lib
from jaxgan.metrics import distribution, features

_EXIT_BAD_INPUT = 2


def image_files(folder: str) -> list[str]:
  """The image files of ``folder`` (not recursive), sorted; ValueError when there are none."""
  if not os.path.isdir(folder):
    raise FileNotFoundError(f"{folder}: no such folder or statistics file")
  names = sorted(n for n in os.listdir(folder) if n.lower().endswith(images_lib.IMAGE_EXTENSIONS))
  if not names:
    raise ValueError(f"{folder} holds no images ({', '.join(images_lib.IMAGE_EXTENSIONS)})")
  return [os.path.join(folder, n) for n in names]


def folder_embeddings(extractor: features.Extractor, folder: str) -> dict[str, np.ndarray]:
  """:func:`jaxgan.metrics.features.embed_images` of every image of ``folder``, in file order."""
  return features.embed_images(extractor, [images_lib.load_image(p, channels=3) for p in image_files(folder)])


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxgan.metrics.fid", description=__doc__.split("\n\n")[0])
  parser.add_argument("paths", nargs="+", help="PATH_A [PATH_B]: folders of images or .npz statistics files")
  parser.add_argument("--weights", default="fid_inception", help="Inception weights: a registered name or a file")
  parser.add_argument("--resize", default="pytorch_fid", choices=("pytorch_fid", "tf1"))
  parser.add_argument("--batch_size", type=int, default=50)
  parser.add_argument("--save_stats", metavar="OUT.npz", help="write PATH_A's statistics (one path only)")
  parser.add_argument("--kid", action="store_true", help="also KID (both paths must be folders)")
  parser.add_argument("--kid_subset_size", type=int, default=distribution.KID_SUBSET_SIZE)
  parser.add_argument("--isc", action="store_true", help="also the Inception Score of PATH_B's images")
  parser.add_argument("--json", metavar="OUT.json", help="also write the results as JSON")
  args = parser.parse_args(argv)
  try:
    result = run(args)
  except (OSError, ValueError) as e:
    print(f"jaxgan.metrics.fid: error: {e}", file=sys.stderr)
    return _EXIT_BAD_INPUT
  for name, value in result.items():
    print(f"{name}: {value:.6g}" if isinstance(value, float) else f"{name}: {value}")
  return 0


def run(args: argparse.Namespace) -> dict:
  if args.save_stats:
    if len(args.paths) != 1:
      raise ValueError("--save_stats takes one path (the folder whose statistics are written)")
    if os.path.exists(args.save_stats):
      raise ValueError(f"{args.save_stats} exists: choose another path")
  elif len(args.paths) != 2:
    raise ValueError("give two paths (folders of images or .npz statistics), or one with --save_stats")
  if args.kid and any(p.endswith(".npz") for p in args.paths):
    raise ValueError("--kid needs the features of both sides: give two folders, not statistics files")
  if args.isc and (len(args.paths) < 2 or args.paths[1].endswith(".npz")):
    raise ValueError("--isc scores the images of PATH_B: give a folder as the second path")
  for path in args.paths:
    if not os.path.exists(path):
      raise FileNotFoundError(f"{path}: no such folder or statistics file")
  extractor = features.inception(args.weights, resize=args.resize, batch_size=args.batch_size, flag="--weights")
  sides = [
    distribution.load_statistics(p) if p.endswith(".npz") else folder_embeddings(extractor, p) for p in args.paths
  ]
  stats = [s if isinstance(s, tuple) else distribution.statistics(s["pool"]) for s in sides]
  if args.save_stats:
    return {"saved": distribution.save_statistics(args.save_stats, *stats[0])}
  result: dict = {"FID": distribution.frechet_distance(*stats[0], *stats[1])}
  if args.kid:
    subset = min(args.kid_subset_size, len(sides[0]["pool"]), len(sides[1]["pool"]))
    kid = distribution.kernel_distance(sides[0]["pool"], sides[1]["pool"], subset_size=subset)
    result.update(KID=kid["kid_mean"], KID_std=kid["kid_std"], KID_subset_size=subset)
  if args.isc:
    score = distribution.inception_score(
      sides[1]["logits"], splits=min(distribution.IS_SPLITS, len(sides[1]["logits"]))
    )
    result.update(IS=score["is_mean"], IS_std=score["is_std"])
  if args.json:
    atomic.write_json(args.json, {**result, "paths": args.paths, "weights": args.weights, "resize": args.resize})
  return result


if __name__ == "__main__":
  sys.exit(main())

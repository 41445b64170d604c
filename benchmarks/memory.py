"""The largest crop at which pix2pix and CycleGAN train in a memory budget, with and without
``--remat`` and ``--precision=bfloat16``, against PyTorch at the same sizes.

jaxgan: XLA's plan of the compiled train step (``memory_analysis()``: arguments plus
temporaries; the outputs alias the donated state), compiled for every crop tried and never
run, so crops far beyond this machine's memory can be planned. The largest crop whose plan fits
``--budget_gib`` (a multiple of ``--step``) is found from a straight-line fit in pixels and then
confirmed by compiling it and the next size up.

PyTorch: the official step (benchmarks/torch_steps.py) run at ``--torch_sizes``: its state
(weights and Adam's two moments, 12 bytes per parameter; the official ``zero_grad`` frees the
gradients between steps) plus the peak of the allocations made during one step
(``torch.profiler``). Its largest crop in the budget is extrapolated from the straight line
through those sizes (running it there would exceed this machine's memory); the table says so.

    python benchmarks/memory.py                     # both methods, 16 GiB
    python benchmarks/memory.py --methods=pix2pix --budget_gib=8 --json=memory.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from typing import Any, Callable

import jax
import numpy as np

# Runnable as ``python benchmarks/memory.py`` from the repository root.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import train_step as bench  # noqa: E402

from jaxgan.methods import cyclegan, pix2pix  # noqa: E402
from jaxgan.train import sharding  # noqa: E402
from jaxgan.train.loop import compile_train_step  # noqa: E402

GIB = 2**30
MIB = 2**20
# PyTorch's live state between steps: weights and Adam's exp_avg and exp_avg_sq (float32).
TORCH_STATE_BYTES_PER_PARAM = 12


@dataclasses.dataclass(frozen=True)
class Setup:
  config: Callable[..., Any]  # Config class
  build: Callable[[Any], Any]
  batch: Callable[[Any, int], dict[str, np.ndarray]]
  step: int  # crops are multiples of this
  sizes: tuple[int, ...]  # crops at which both sides are measured (PyTorch runs a step at each)


# pix2pix's PyTorch peak at 256 is Adam's weight-sized temporaries (54M parameters), not the
# activations: its sizes start where the activations show.
SETUPS = {
  "pix2pix": Setup(pix2pix.Config, pix2pix.build, bench.paired_batch, 256, (1024, 1536, 2048)),  # unet_256
  "cyclegan": Setup(cyclegan.Config, cyclegan.build, bench.unpaired_batch, 64, (256, 512)),
}
# label -> (--remat, --precision)
SETTINGS = {
  "float32": (False, "float32"),
  "remat": (True, "float32"),
  "bfloat16": (False, "bfloat16"),
  "remat+bfloat16": (True, "bfloat16"),
}


def planned_bytes(name: str, crop: int, *, remat: bool, precision: str) -> int:
  """Arguments + temporaries of the compiled step of ``name`` at ``crop`` x ``crop`` (batch 1)."""
  setup = SETUPS[name]
  config = setup.config(crop_size=crop, load_size=crop, remat=remat, precision=precision)
  method = setup.build(config)
  mesh = sharding.make_mesh()
  abstract = jax.eval_shape(method.init_state, jax.random.PRNGKey(0))
  local = jax.eval_shape(lambda: setup.batch(method.config, 0))
  step = compile_train_step(
    method.train_step, sharding.state_shardings(abstract, mesh), sharding.batch_shardings(local, mesh), mesh
  )
  consts = jax.eval_shape(lambda: method.consts)
  memory = bench.compiled_memory(step.lower(abstract, local, consts).compile())
  return memory["argument_size_in_bytes"] + memory["temp_size_in_bytes"]


def largest_crop(measure: Callable[[int], int], step: int, budget: int, probes: tuple[int, int]) -> tuple[int, dict]:
  """The largest multiple of ``step`` whose ``measure`` fits ``budget``, and every size measured.

  ``measure`` grows with the crop; two ``probes`` give a line in pixels that predicts the answer,
  which is then confirmed (it fits, the next multiple does not) by measuring.
  """
  seen: dict[int, int] = {}

  def at(crop: int) -> int:
    if crop not in seen:
      seen[crop] = measure(crop)
    return seen[crop]

  (s1, s2) = probes
  slope = (at(s2) - at(s1)) / (s2 * s2 - s1 * s1)
  intercept = at(s1) - slope * s1 * s1
  guess = max(step, int(math.sqrt(max(budget - intercept, 0) / slope)) // step * step) if slope > 0 else s2
  crop = guess
  while crop > step and at(crop) > budget:
    crop -= step
  while at(crop + step) <= budget:
    crop += step
  if at(crop) > budget:
    return 0, seen
  return crop, seen


def torch_bytes(name: str, crop: int, seed: int = 0) -> dict:
  """PyTorch's state and step peak at ``crop`` (one warm-up step, then one profiled step)."""
  import torch_steps  # pylint: disable=import-outside-toplevel
  from vs_pytorch import torch_step_peak_mib  # pylint: disable=import-outside-toplevel

  step = torch_steps.make(name, seed=seed, crop_size=crop)
  t0 = time.perf_counter()
  step.step()
  seconds = time.perf_counter() - t0
  peak = torch_step_peak_mib(step.step) * MIB
  state = TORCH_STATE_BYTES_PER_PARAM * step.params
  return {"crop": crop, "state_bytes": state, "step_peak_bytes": peak, "bytes": state + peak, "step_s": seconds}


def fit_line(points: list[tuple[int, float]]) -> tuple[float, float]:
  """Least-squares ``bytes = intercept + slope * pixels`` through ``(crop, bytes)`` points."""
  x = np.array([c * c for c, _ in points], float)
  y = np.array([b for _, b in points], float)
  slope, intercept = np.polyfit(x, y, 1)
  return float(intercept), float(slope)


def crop_in_budget(intercept: float, slope: float, budget: float, step: int) -> int:
  return int(math.sqrt(max(budget - intercept, 0.0) / slope)) // step * step if slope > 0 else 0


def run(name: str, args) -> list[dict]:
  setup = SETUPS[name]
  budget = args.budget_gib * GIB
  rows = []
  sizes = [int(s) for s in args.torch_sizes.split(",")] if args.torch_sizes else list(setup.sizes)
  for label in args.settings.split(","):
    remat, precision = SETTINGS[label]
    t0 = time.perf_counter()
    measure = lambda crop, r=remat, p=precision: planned_bytes(name, crop, remat=r, precision=p)  # noqa: E731
    crop, seen = largest_crop(measure, setup.step, budget, probes=(2 * setup.step, 4 * setup.step))
    at_sizes = {s: measure(s) for s in sizes}
    intercept, slope = fit_line(sorted(seen.items()))
    row = {
      "method": name,
      "setting": f"jaxgan {label}",
      "largest_crop": crop,
      "how": "XLA plan, compiled",
      "bytes_at_largest": seen.get(crop),
      "mib_at": {s: b / MIB for s, b in at_sizes.items()},
      "mib_per_megapixel": slope * 1e6 / MIB,
      "planned": {c: b / MIB for c, b in sorted(seen.items())},
      "seconds": time.perf_counter() - t0,
    }
    rows.append(row)
    print(
      f"# {name} {label}: largest crop {crop} ({row['seconds']:.0f} s; planned MiB "
      f"{ {c: round(b) for c, b in row['planned'].items()} })",
      flush=True,
    )
  if not args.no_torch:
    measured = [torch_bytes(name, s, args.seed) for s in sizes]
    intercept, slope = fit_line([(m["crop"], m["bytes"]) for m in measured])
    rows.append(
      {
        "method": name,
        "setting": "PyTorch float32",
        "largest_crop": crop_in_budget(intercept, slope, budget, setup.step),
        "how": f"extrapolated from {', '.join(map(str, sizes))}",
        "mib_at": {m["crop"]: m["bytes"] / MIB for m in measured},
        "mib_per_megapixel": slope * 1e6 / MIB,
        "torch": measured,
      }
    )
    print(f"# {name} PyTorch: {rows[-1]['mib_at']}", flush=True)
  return rows


def markdown_table(rows: list[dict], budget_gib: float) -> str:
  head = ["method", "setting", "MiB at crop", "MiB per megapixel", f"largest crop in {budget_gib:g} GiB", "how"]
  lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
  for r in rows:
    at = ", ".join(f"{mib:.0f} at {s}" for s, mib in r["mib_at"].items())
    cells = [r["method"], r["setting"], at]
    crop = r["largest_crop"]
    cells += [f"{r['mib_per_megapixel']:.0f}", f"{crop}x{crop}" if crop else "none", r["how"]]
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--methods", default=",".join(SETUPS), help=f"Comma-separated: {', '.join(SETUPS)}.")
  parser.add_argument("--budget_gib", type=float, default=16.0, help="Memory budget in GiB.")
  parser.add_argument(
    "--torch_sizes",
    default="",
    help="Crops at which both sides are measured (PyTorch runs one step at each); "
    f"default per method: {', '.join(f'{n} {s.sizes}' for n, s in SETUPS.items())}.",
  )
  parser.add_argument("--settings", default=",".join(SETTINGS), help=f"jaxgan settings: {', '.join(SETTINGS)}.")
  parser.add_argument("--no_torch", action="store_true", help="jaxgan's plans only.")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--json", default="", help="Also write the rows here.")
  args = parser.parse_args(argv)
  names = [m.strip() for m in args.methods.split(",") if m.strip()]
  if bad := [m for m in names if m not in SETUPS]:
    parser.error(f"--methods: unknown {bad}; choose from {', '.join(SETUPS)}")
  if bad := [s for s in args.settings.split(",") if s not in SETTINGS]:
    parser.error(f"--settings: unknown {bad}; choose from {', '.join(SETTINGS)}")
  if args.budget_gib <= 0:
    parser.error("--budget_gib must be positive")
  for name in names:
    sizes = [int(s) for s in args.torch_sizes.split(",")] if args.torch_sizes else SETUPS[name].sizes
    if bad := [s for s in sizes if s % SETUPS[name].step]:
      parser.error(f"--torch_sizes: {bad} are not multiples of {SETUPS[name].step} ({name})")
  if not args.no_torch:
    try:
      import torch  # pylint: disable=import-outside-toplevel
    except ImportError:
      sys.exit("benchmarks/memory.py needs PyTorch for its PyTorch rows: pip install torch, or pass --no_torch")
    torch.set_num_threads(os.cpu_count())
  print(
    f"# jax {jax.__version__} ({jax.default_backend()}), budget {args.budget_gib:g} GiB, "
    f"{time.strftime('%Y-%m-%d %H:%M %Z')}",
    flush=True,
  )
  rows = [row for name in names for row in run(name, args)]
  print()
  print(markdown_table(rows, args.budget_gib))
  if args.json:
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
      json.dump(
        {"jax": jax.__version__, "backend": jax.default_backend(), "budget_gib": args.budget_gib, "rows": rows},
        f,
        indent=2,
        default=str,
      )
    print(f"\n# wrote {args.json}")
  return rows


if __name__ == "__main__":
  main()

"""SinGAN: time of one training iteration at each scale of an image's pyramid.

    python benchmarks/singan_scales.py --image=balloons
    python benchmarks/singan_scales.py --image=IMG --max_size=128 --scales=0,5 --json=/tmp/singan.json

For every scale ``n`` the state is made by ``SinGAN.init_state`` from the previous scale's
(untrained) state, exactly as ``train_scales`` chains them, and ``make_train_step(n)`` (one
iteration: ``d_steps`` critic and ``g_steps`` generator updates) is jitted with the state
donated. After ``--warmup`` iterations, ``--steps`` are timed, blocking on the result.
``hours_at_num_steps`` extrapolates to the config's iterations per scale (2000 by default):
the time a full run spends training, without checkpoints, samples and evaluations.
Any SinGAN config field can be given as ``--set=FIELD=VALUE,...`` (e.g. ``nfc=64``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import jax
import jax.numpy as jnp

# Runnable as ``python benchmarks/singan_scales.py`` from the repository root.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import train_step as bench  # noqa: E402

from jaxgan.methods import singan  # noqa: E402

COLUMNS = [
  ("scale", "scale", "d"),
  ("H x W", "shape", "s"),
  ("nfc", "nfc", "d"),
  ("compile s", "compile_s", ".1f"),
  ("s / iteration", "iteration_s", ".3f"),
  ("h at num_steps", "hours_at_num_steps", ".2f"),
]


def parse_scales(text: str, num_scales: int) -> list[int]:
  """``'all'`` or comma-separated scale indices (negative counts from the finest)."""
  if text == "all":
    return list(range(num_scales))
  scales = []
  for item in filter(None, (s.strip() for s in text.split(","))):
    n = int(item)
    n = n + num_scales if n < 0 else n
    if not 0 <= n < num_scales:
      raise ValueError(f"--scales: {item} is not a scale of this pyramid (0..{num_scales - 1})")
    scales.append(n)
  return sorted(set(scales))


def markdown_table(rows: list[dict]) -> str:
  formatted = [{**r, "shape": f"{r['shape'][0]} x {r['shape'][1]}"} for r in rows]
  head = "| " + " | ".join(name for name, _, _ in COLUMNS) + " |"
  sep = "|" + "|".join("---:" for _ in COLUMNS) + "|"
  body = ["| " + " | ".join(format(r[k], f) for _, k, f in COLUMNS) + " |" for r in formatted]
  return "\n".join([head, sep, *body])


def bench_scales(
  config: singan.Config, scales: list[int] | None, *, steps: int, warmup: int, seed: int = 0
) -> list[dict]:
  spec, reals = singan.load_reals(config)
  method = singan.SinGAN(config, spec)
  wanted = set(range(spec.num_scales) if scales is None else scales)
  rows, state = [], None
  for n in range(max(wanted) + 1):
    real = jnp.asarray(reals[n][None])
    state = method.init_state(jax.random.PRNGKey(seed + n), n, real, state)
    if n not in wanted:
      continue
    step = jax.jit(method.make_train_step(n), donate_argnums=0)
    batch = {"real": real}
    # init_state's state is kept for the next scale: time a copy (the step donates it).
    timed = jax.tree_util.tree_map(jnp.copy, state)
    t0 = time.perf_counter()
    compiled = step.lower(timed, batch).compile()
    compile_s = time.perf_counter() - t0
    for _ in range(warmup):
      timed, metrics = compiled(timed, batch)
    jax.block_until_ready(timed)
    t0 = time.perf_counter()
    for _ in range(steps):
      timed, metrics = compiled(timed, batch)
    jax.block_until_ready((timed, metrics))
    iteration_s = (time.perf_counter() - t0) / steps
    rows.append(
      {
        "scale": n,
        "shape": list(spec.shapes[n]),
        "nfc": method.widths(n)[0],
        "compile_s": compile_s,
        "iteration_s": iteration_s,
        "hours_at_num_steps": iteration_s * config.num_steps / 3600,
      }
    )
    print(f"# scale {n} {spec.shapes[n]}: {iteration_s:.3f} s/iteration, compile {compile_s:.1f} s", flush=True)
  return rows


def main(argv: list[str] | None = None) -> list[dict]:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--image", required=True, help="The training image (a file or a name: balloons).")
  parser.add_argument(
    "--max_size",
    type=int,
    default=singan.Config.max_size,
    help="Longest side at the finest scale (default: the official 250).",
  )
  parser.add_argument("--scales", default="all", help="'all' or comma-separated scales (-1: finest).")
  parser.add_argument("--steps", type=int, default=3, help="Timed iterations per scale.")
  parser.add_argument("--warmup", type=int, default=1, help="Untimed iterations after compiling.")
  parser.add_argument("--set", default="", help="SinGAN config overrides, e.g. 'nfc=64,pyramid=sr'.")
  parser.add_argument("--data_dir", default="", help="tfds data dir for the one-image dataset.")
  parser.add_argument("--json", default="", help="Also write the rows (and the environment) here.")
  args = parser.parse_args(argv)
  if args.steps < 1 or args.warmup < 0:
    parser.error("--steps must be >= 1 and --warmup >= 0")

  config = singan.Config(image=args.image, max_size=args.max_size, data_dir=args.data_dir)
  config = bench.apply_overrides(config, args.set)
  spec, _ = singan.load_reals(config)
  image = os.path.abspath(singan.check_image(config))
  try:
    scales = parse_scales(args.scales, spec.num_scales)
  except ValueError as e:
    parser.error(str(e))
  env = {
    "jax": jax.__version__,
    "backend": jax.default_backend(),
    "device_kind": jax.devices()[0].device_kind,
    "cpu_count": os.cpu_count(),
    "loadavg_start": bench._loadavg(),
    "image": image,  # pylint: disable=protected-access
    "num_steps": config.num_steps,
    "num_scales": spec.num_scales,
  }
  print(
    f"# jax {env['jax']} on {env['backend']} ({env['device_kind']}, {env['cpu_count']} CPUs); "
    f"{args.image}: {spec.num_scales} scales, finest {spec.shapes[-1]}",
    flush=True,
  )
  rows = bench_scales(config, scales, steps=args.steps, warmup=args.warmup)
  env["loadavg_end"] = bench._loadavg()  # pylint: disable=protected-access
  total = sum(r["hours_at_num_steps"] for r in rows)
  print(f"# load average (1 min) at start {env['loadavg_start']}, at end {env['loadavg_end']}")
  print()
  print(markdown_table(rows))
  print(f"\n# these scales at {config.num_steps} iterations each: {total:.2f} h of training")
  if args.json:
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
      json.dump({"environment": env, "rows": rows, "total_hours": total}, f, indent=2)
    print(f"# wrote {args.json}")
  return rows


if __name__ == "__main__":
  main()

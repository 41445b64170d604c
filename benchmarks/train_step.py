"""Benchmark of the compiled GAN/DCGAN train steps, exactly as ``fit`` builds and runs them.

    python benchmarks/train_step.py --preset=dcgan64_b128 --steps=10
    python benchmarks/train_step.py --preset=all --json=/tmp/train_step.json

For each preset: the state is created with ``init_or_restore(method.init_state, key, mesh)``
and the step compiled with ``compile_train_step`` over ``sharding.make_mesh()``; a fixed
random batch is put with ``sharding.global_batch``. After ``--warmup`` steps, ``--steps``
steps are timed, blocking on the result. FLOPs per step are XLA's own count (the compiled
step's ``cost_analysis()``); MFU divides the achieved FLOP/s by a float32 matmul measured
in the same process. See benchmarks/README.md for what every column means.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import sys
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

# Runnable as ``python benchmarks/train_step.py`` from the repository root.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxgan.methods import cyclegan, dcgan, gan, pix2pix  # noqa: E402
from jaxgan.train import sharding  # noqa: E402
from jaxgan.train.loop import compile_train_step, init_or_restore  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Preset:
  method: str  # name of the method module
  build: Callable[[Any], Any]  # config -> an object with init_state and train_step
  config: Any
  batch: Callable[[Any, int], dict[str, np.ndarray]] = None  # (config, seed) -> batch; default random_batch

  def make_batch(self, config: Any, seed: int) -> dict[str, np.ndarray]:
    return (self.batch or random_batch)(config, seed)


PRESETS: dict[str, Callable[[], Preset]] = {
  # jaxgan.methods.dcgan.Config defaults: 64x64x3, ngf = ndf = 64, batch 128.
  "dcgan64_b128": lambda: Preset("dcgan", dcgan.build, dcgan.Config()),
  # The Quickstart setting (experiments/flags/dcgan_digits.flags): 16x16 grey digits, ngf = ndf = 64.
  "dcgan16_digits": lambda: Preset(
    "dcgan", dcgan.build, dcgan.Config(image_size=16, channels=1, ngf=64, ndf=64, batch_size=128)
  ),
  # jaxgan.methods.gan.Config defaults: 28x28x1 MNIST, batch 100.
  "gan_mnist_b100": lambda: Preset("gan", gan.build, gan.Config()),
  # jaxgan.methods.pix2pix.Config defaults: unet_256 + 70x70 PatchGAN (batch norm), 256x256, batch 1;
  # and batch 16.
  "pix2pix256_b1": lambda: Preset("pix2pix", pix2pix.build, pix2pix.Config(), lambda c, s: paired_batch(c, s)),
  "pix2pix256_b16": lambda: Preset(
    "pix2pix", pix2pix.build, pix2pix.Config(batch_size=16), lambda c, s: paired_batch(c, s)
  ),
  # jaxgan.methods.cyclegan.Config defaults: two resnet_9blocks G + two 70x70 PatchGAN D,
  # instance norm, 256x256, batch 1, pools of 50.
  "cyclegan256_b1": lambda: Preset("cyclegan", cyclegan.build, cyclegan.Config(), lambda c, s: unpaired_batch(c, s)),
}


# -- helpers (small, pure, tested in tests/test_benchmarks.py) -------------------------------


def cost_flops(cost: Any) -> float | None:
  """The ``flops`` of a ``cost_analysis()`` result: a dict, or a list of dicts (older jax)."""
  if cost is None:
    return None
  if isinstance(cost, dict):
    cost = [cost]
  total, found = 0.0, False
  for entry in cost:
    if entry and "flops" in entry:
      total += float(entry["flops"])
      found = True
  return total if found else None


def compiled_memory(compiled: Any) -> dict[str, int | None]:
  """Argument, output, temp and generated-code bytes of a compiled executable (None if unknown)."""
  try:
    m = compiled.memory_analysis()
  except Exception:  # noqa: BLE001 - not every backend implements it
    m = None
  if isinstance(m, (list, tuple)):
    m = m[0] if m else None
  names = (
    "argument_size_in_bytes",
    "output_size_in_bytes",
    "alias_size_in_bytes",
    "temp_size_in_bytes",
    "generated_code_size_in_bytes",
  )
  return {n: (int(getattr(m, n)) if m is not None and getattr(m, n, None) is not None else None) for n in names}


def max_rss_bytes() -> int:
  """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
  rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
  return int(rss if platform.system() == "Darwin" else rss * 1024)


def device_peak_bytes(device: jax.Device) -> int | None:
  """``peak_bytes_in_use`` of an accelerator's allocator, None where not reported (CPU)."""
  try:
    stats = device.memory_stats()
  except Exception:  # noqa: BLE001
    return None
  return int(stats["peak_bytes_in_use"]) if stats and "peak_bytes_in_use" in stats else None


def best_time(fn: Callable[[], Any], repeats: int) -> float:
  """Smallest wall time of ``repeats`` blocked calls of ``fn``."""
  best = float("inf")
  for _ in range(repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    best = min(best, time.perf_counter() - t0)
  return best


def measure_peak_flops(n: int = 2048, repeats: int = 5, dtype=jnp.float32) -> float:
  """FLOP/s of the best of ``repeats`` jitted, blocked ``n x n @ n x n`` matmuls."""
  ka, kb = jax.random.split(jax.random.PRNGKey(0))
  a = jax.random.normal(ka, (n, n), dtype)
  b = jax.random.normal(kb, (n, n), dtype)
  matmul = jax.jit(jnp.dot)
  jax.block_until_ready(matmul(a, b))  # compile
  return 2.0 * n**3 / best_time(lambda: matmul(a, b), repeats)


def random_batch(config: Any, seed: int = 0) -> dict[str, np.ndarray]:
  """A fixed random batch of the shape the method's data pipeline feeds."""
  rng = np.random.default_rng(seed)
  n = config.batch_size * config.d_steps
  shape = (n, config.image_size, config.image_size, config.channels)
  return {"image": rng.uniform(-1, 1, shape).astype(np.float32), "label": rng.integers(0, 10, n).astype(np.int32)}


def paired_batch(config: Any, seed: int = 0) -> dict[str, np.ndarray]:
  """A fixed random pix2pix batch: A and B crops of ``crop_size``."""
  rng = np.random.default_rng(seed)
  size = (config.batch_size, config.crop_size, config.crop_size)
  return {
    "a": rng.uniform(-1, 1, size + (config.input_nc,)).astype(np.float32),
    "b": rng.uniform(-1, 1, size + (config.output_nc,)).astype(np.float32),
  }


def unpaired_batch(config: Any, seed: int = 0) -> dict[str, np.ndarray]:
  """A fixed random CycleGAN batch: crops of domain A and of domain B."""
  rng = np.random.default_rng(seed)
  size = (config.batch_size, config.crop_size, config.crop_size)
  return {
    "A/image": rng.uniform(-1, 1, size + (config.input_nc,)).astype(np.float32),
    "B/image": rng.uniform(-1, 1, size + (config.output_nc,)).astype(np.float32),
  }


def _loadavg() -> float | None:
  """1-minute load average: other processes on the machine skew every figure."""
  try:
    return round(os.getloadavg()[0], 2)
  except OSError:
    return None


def _fmt(v: float | None, spec: str) -> str:
  return "-" if v is None else format(v, spec)


COLUMNS = [
  # (header, row key, format)
  ("preset", "preset", "s"),
  ("method", "method", "s"),
  ("batch", "batch", "d"),
  ("compile s", "compile_s", ".2f"),
  ("step ms", "step_ms", ".1f"),
  ("steps/s", "steps_per_s", ".3f"),
  ("images/s", "images_per_s", ".1f"),
  ("GFLOP/step", "gflop_per_step", ".2f"),
  ("GFLOP/s", "achieved_gflops", ".2f"),
  ("MFU %", "mfu_percent", ".1f"),
  ("args MiB", "argument_mib", ".1f"),
  ("out MiB", "output_mib", ".1f"),
  ("temp MiB", "temp_mib", ".1f"),
  ("device peak MiB", "device_peak_mib", ".1f"),
  ("max RSS MiB", "max_rss_mib", ".1f"),
]


def markdown_table(rows: list[dict]) -> str:
  head = "| " + " | ".join(h for h, _, _ in COLUMNS) + " |"
  sep = "|" + "|".join("---" if f == "s" else "---:" for _, _, f in COLUMNS) + "|"
  body = ["| " + " | ".join(_fmt(r.get(k), f) for _, k, f in COLUMNS) + " |" for r in rows]
  return "\n".join([head, sep, *body])


# -- the benchmark ------------------------------------------------------------------------------


def apply_overrides(config: Any, overrides: str) -> Any:
  """``config`` with ``"ngf=64,ndf=64"``-style overrides, each cast to the field's current type."""
  changes = {}
  for item in filter(None, (s.strip() for s in overrides.split(","))):
    key, sep, text = item.partition("=")
    if not sep or not hasattr(config, key):
      raise ValueError(f"bad override {item!r}: expected FIELD=VALUE with a field of {type(config).__name__}")
    current = getattr(config, key)
    if isinstance(current, bool):
      value = text.lower() in ("1", "true", "yes")
    elif isinstance(current, (int, float, str)):
      value = type(current)(text)
    else:
      raise ValueError(f"override of {key!r} ({type(current).__name__}) is not supported")
    changes[key] = value
  return dataclasses.replace(config, **changes) if changes else config


def bench_preset(name: str, *, steps: int, warmup: int, peak_flops: float, seed: int = 0, overrides: str = "") -> dict:
  preset = PRESETS[name]()
  method = preset.build(apply_overrides(preset.config, overrides))
  config = method.config
  mesh = sharding.make_mesh()
  state, state_shardings = init_or_restore(method.init_state, jax.random.PRNGKey(seed), mesh)
  local_batch = preset.make_batch(config, seed)
  batch = sharding.global_batch(local_batch, mesh)
  consts = sharding.replicate(method.consts, mesh)
  step_fn = compile_train_step(method.train_step, state_shardings, sharding.batch_shardings(local_batch, mesh), mesh)

  t0 = time.perf_counter()
  lowered = step_fn.lower(state, batch, consts)
  t1 = time.perf_counter()
  compiled = lowered.compile()
  t2 = time.perf_counter()

  flops = cost_flops(compiled.cost_analysis())
  mem = compiled_memory(compiled)

  # The state is donated: always thread it through.
  for _ in range(warmup):
    state, metrics = compiled(state, batch, consts)
  jax.block_until_ready((state, metrics) if warmup else state)
  t_start = time.perf_counter()
  for _ in range(steps):
    state, metrics = compiled(state, batch, consts)
  jax.block_until_ready((state, metrics))
  elapsed = time.perf_counter() - t_start
  finite = all(bool(np.isfinite(v)) for v in jax.device_get(metrics).values())

  step_s = elapsed / steps
  first = next(iter(local_batch.values()))
  images = first.shape[0]
  achieved = flops / step_s if flops is not None else None
  mib = lambda b: None if b is None else b / 2**20  # noqa: E731
  return {
    "preset": name + (f" [{overrides}]" if overrides else ""),
    "method": preset.method,
    "batch": images,
    "image_shape": list(first.shape[1:]),
    "trace_lower_s": t1 - t0,
    "xla_compile_s": t2 - t1,
    "compile_s": t2 - t0,
    "steps": steps,
    "warmup": warmup,
    "step_ms": 1e3 * step_s,
    "steps_per_s": 1.0 / step_s,
    "images_per_s": images / step_s,
    "flops_per_step": flops,
    "gflop_per_step": None if flops is None else flops / 1e9,
    "achieved_gflops": None if achieved is None else achieved / 1e9,
    "peak_gflops": peak_flops / 1e9,
    "mfu_percent": None if achieved is None else 100.0 * achieved / peak_flops,
    **mem,
    "argument_mib": mib(mem["argument_size_in_bytes"]),
    "output_mib": mib(mem["output_size_in_bytes"]),
    "temp_mib": mib(mem["temp_size_in_bytes"]),
    "device_peak_mib": mib(device_peak_bytes(jax.devices()[0])),
    "max_rss_mib": mib(max_rss_bytes()),
    "metrics_finite": finite,
  }


def main(argv: list[str] | None = None) -> list[dict]:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--preset", default="all", help=f"Comma-separated presets or 'all': {', '.join(PRESETS)}.")
  parser.add_argument("--steps", type=int, default=10, help="Timed steps per preset.")
  parser.add_argument("--warmup", type=int, default=2, help="Untimed steps after compiling.")
  parser.add_argument("--peak_size", type=int, default=2048, help="Side of the peak-FLOP/s matmul.")
  parser.add_argument("--peak_repeats", type=int, default=10, help="Best of this many peak matmuls.")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--set", default="", help="Config overrides for every preset, e.g. 'ngf=64,ndf=64'.")
  parser.add_argument("--json", default="", help="Also write the rows (and the environment) here.")
  args = parser.parse_args(argv)

  names = list(PRESETS) if args.preset == "all" else [p.strip() for p in args.preset.split(",") if p.strip()]
  unknown = [n for n in names if n not in PRESETS]
  if unknown:
    parser.error(f"unknown preset(s) {unknown}; choose from {sorted(PRESETS)} or 'all'")
  if args.steps < 1 or args.warmup < 0:
    parser.error("--steps must be >= 1 and --warmup >= 0")

  device = jax.devices()[0]
  env = {
    "jax": jax.__version__,
    "backend": jax.default_backend(),
    "device": str(device),
    "device_kind": device.device_kind,
    "num_devices": jax.device_count(),
    "cpu_count": os.cpu_count(),
    "xla_flags": os.environ.get("XLA_FLAGS", ""),
    "loadavg_start": _loadavg(),
  }
  peak = measure_peak_flops(args.peak_size, args.peak_repeats)
  env["peak_gflops"] = peak / 1e9
  print(
    f"# jax {env['jax']} on {env['backend']} ({env['device_kind']} x{env['num_devices']}, "
    f"{env['cpu_count']} CPUs), XLA_FLAGS={env['xla_flags']!r}",
    flush=True,
  )
  print(
    f"# peak: float32 {args.peak_size}^3 matmul, best of {args.peak_repeats}: {env['peak_gflops']:.1f} GFLOP/s",
    flush=True,
  )

  rows = []
  for name in names:
    row = bench_preset(name, steps=args.steps, warmup=args.warmup, peak_flops=peak, seed=args.seed, overrides=args.set)
    rows.append(row)
    print(
      f"# {name}: {row['step_ms']:.1f} ms/step, compile {row['compile_s']:.2f} s"
      + ("" if row["metrics_finite"] else " (WARNING: non-finite metrics)"),
      flush=True,
    )
  # Re-measure the peak after the presets: MFU uses the better of the two (a busy machine
  # lowers both; the better one is the closer to what the hardware can do).
  peak_end = measure_peak_flops(args.peak_size, args.peak_repeats)
  env["peak_gflops_start"], env["peak_gflops_end"] = env["peak_gflops"], peak_end / 1e9
  if peak_end > peak:
    env["peak_gflops"] = peak_end / 1e9
    for row in rows:
      row["peak_gflops"] = env["peak_gflops"]
      if row["achieved_gflops"] is not None:
        row["mfu_percent"] = 100.0 * row["achieved_gflops"] / env["peak_gflops"]
  print(f"# peak at end: {env['peak_gflops_end']:.1f} GFLOP/s; MFU uses {env['peak_gflops']:.1f}")
  env["loadavg_end"] = _loadavg()
  print(f"# load average (1 min) at start {env['loadavg_start']}, at end {env['loadavg_end']}")
  print()
  print(markdown_table(rows))
  if args.json:
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
      json.dump({"environment": env, "rows": rows}, f, indent=2)
    print(f"\n# wrote {args.json}")
  return rows


if __name__ == "__main__":
  main()

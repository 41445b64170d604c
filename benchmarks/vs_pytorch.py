"""jaxgan's compiled train step next to the official PyTorch step, alternated in one run.

    python benchmarks/vs_pytorch.py                                   # every method, defaults
    python benchmarks/vs_pytorch.py --methods=pix2pix,dcgan --steps=5 --json=/tmp/vs.json
    python benchmarks/vs_pytorch.py --methods=singan --scales=-1      # SinGAN's finest scale only
    python benchmarks/vs_pytorch.py --methods=dcgan --set=image_size=32,batch_size=16  # both sides

For each method both steps are built at the same setting (jaxgan's Config defaults, with
``--set`` overrides applied to both), compiled / warmed up, then timed alternately, one jaxgan
step then one PyTorch step, ``--steps`` times; the medians are compared. ``speed`` is PyTorch's
time over jaxgan's: above 1.0 jaxgan is faster. GFLOP/s use XLA's FLOP count of jaxgan's step
for both sides (the same work) against float32 matmul peaks measured in the same run (XLA's and
PyTorch's). Memory: jaxgan's compiled step as XLA plans it (``memory_analysis``: arguments,
i.e. the state and the batch, + temporaries); PyTorch's state (parameters, gradients and the
two Adam moments: 16 bytes per parameter) and the peak of its allocations during one step
above those live at its start (``torch.profiler`` memory events).

The PyTorch steps are :mod:`torch_steps` (the official networks of ``tests/torch_nets.py``,
their losses, optimisers and order of updates); torch is needed only here. See
benchmarks/README.md for what each row runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import statistics
import sys
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import train_step as bench  # noqa: E402

from jaxgan.interop import vgg as vgg_lib  # noqa: E402
from jaxgan.methods import cyclegan, dcgan, pix2pix, singan, sr, style_transfer  # noqa: E402
from jaxgan.train import compiler, sharding  # noqa: E402
from jaxgan.train.loop import compile_train_step, init_or_restore  # noqa: E402

METHODS = ("pix2pix", "cyclegan", "dcgan", "singan", "srresnet", "srgan", "style")


@dataclasses.dataclass
class JaxStep:
  step: Callable[[], Any]  # one step, blocked
  flops: float | None
  memory: dict


def random_vgg(depth: int = 16, seed: int = 0) -> vgg_lib.LossNetwork:
  """A Keras-convention VGG with random weights: the timing does not depend on them."""
  rng = np.random.default_rng(seed)
  return vgg_lib.load_keras_vgg(
    {k: (rng.standard_normal(s) * 0.01).astype(np.float32) for k, s in vgg_lib.expected_shapes(depth).items()},
    depth=depth,
  )


def sr_batch(config, seed: int = 0) -> dict[str, np.ndarray]:
  rng = np.random.default_rng(seed)
  n, c = config.batch_size, config.crop_size
  return {
    "hr": rng.uniform(-1, 1, (n, c, c, 3)).astype(np.float32),
    "lr": rng.uniform(0, 1, (n, c // config.scale, c // config.scale, 3)).astype(np.float32),
  }


def style_batch(config, seed: int = 0) -> dict[str, np.ndarray]:
  rng = np.random.default_rng(seed)
  n, c = config.batch_size, config.image_size
  return {"image": rng.uniform(0, 255, (n, c, c, 3)).astype(np.float32)}


def _sr_method(config):
  method = sr.build(config)
  if config.uses_vgg:
    method.__dict__["loss_network"] = random_vgg()  # the cached property, filled without a file
  return method


def _style_method(config):
  method = style_transfer.build(config)
  method.__dict__["loss_network"] = random_vgg(config.vgg_depth)
  return method


# method -> (jaxgan config, build, batch); the PyTorch side is torch_steps.make(torch name).
SETUPS: dict[str, tuple[Callable[[], Any], Callable, Callable, str]] = {
  "pix2pix": (pix2pix.Config, pix2pix.build, bench.paired_batch, "pix2pix"),
  "cyclegan": (cyclegan.Config, cyclegan.build, bench.unpaired_batch, "cyclegan"),
  "dcgan": (dcgan.Config, dcgan.build, bench.random_batch, "dcgan"),
  "srresnet": (sr.Config, _sr_method, sr_batch, "srresnet"),
  "srgan": (functools.partial(sr.Config, loss="srgan"), _sr_method, sr_batch, "srgan"),
  "style": (functools.partial(style_transfer.Config, style_image="candy"), _style_method, style_batch, "style"),
}


def jax_step(method, batch: dict, *, seed: int = 0) -> JaxStep:
  """``fit``'s compiled step over all devices, with the state threaded through calls."""
  mesh = sharding.make_mesh()
  state, shardings = init_or_restore(method.init_state, jax.random.PRNGKey(seed), mesh)
  batch, consts = sharding.global_batch(batch, mesh), sharding.replicate(method.consts, mesh)
  compiled = (
    compile_train_step(method.train_step, shardings, sharding.batch_shardings(batch, mesh), mesh)
    .lower(state, batch, consts)
    .compile()
  )
  return _threaded(compiled, state, batch, consts)


def _threaded(compiled, state, batch, *consts) -> JaxStep:
  """``compiled(state, batch, *consts)`` with the (donated) state threaded through calls."""
  box = [state]

  def step():
    box[0], metrics = compiled(box[0], batch, *consts)
    jax.block_until_ready((box[0], metrics))

  return JaxStep(step, bench.cost_flops(compiled.cost_analysis()), bench.compiled_memory(compiled))


def singan_steps(config: singan.Config, scales: list[int] | None, seed: int = 0):
  """Per wanted scale a dict: ``scale``, ``shape`` (H, W), ``width`` (nfc, min_nfc), ``step`` (JaxStep),
  and scales 0..n's ``shapes``, ``widths`` and ``noise_amps`` (for the PyTorch step's frozen coarser
  generators); states chained as training does."""
  spec, reals = singan.load_reals(config)
  method = singan.SinGAN(config, spec)
  wanted = set(range(spec.num_scales)) if scales is None else {s % spec.num_scales for s in scales}
  state = None
  for n in range(max(wanted) + 1):
    real = jnp.asarray(reals[n][None])
    state = method.init_state(jax.random.PRNGKey(seed + n), n, real, state)
    if n in wanted:
      step = compiler.jit(method.make_train_step(n), donate_argnums=0)
      timed, batch = jax.tree_util.tree_map(jnp.copy, state), {"real": real}
      yield {
        "scale": n,
        "shape": tuple(spec.shapes[n]),
        "width": method.widths(n),
        "step": _threaded(step.lower(timed, batch).compile(), timed, batch),
        "shapes": list(spec.shapes[: n + 1]),
        "widths": [method.widths(i) for i in range(n + 1)],
        "noise_amps": [float(a) for a in jax.device_get(state.extra["amps"])],
      }


# -- measuring ------------------------------------------------------------------------------


def torch_step_peak_mib(step: Callable[[], Any]) -> float | None:
  """Peak of PyTorch's allocations during one ``step()`` above those live at its start
  (``torch.profiler`` memory events, summed in time order)."""
  import torch  # pylint: disable=import-outside-toplevel

  with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
    step()
  events = sorted(
    (e for e in prof.events() if e.device_memory_usage or e.cpu_memory_usage), key=lambda e: e.time_range.start
  )
  live = peak = 0
  for e in events:
    live += e.self_device_memory_usage if e.device_memory_usage else e.self_cpu_memory_usage
    peak = max(peak, live)
  return peak / 2**20


def alternate(jax_fn: Callable[[], Any], torch_fn: Callable[[], Any], steps: int) -> tuple[list, list]:
  """Wall times of ``steps`` alternated calls: jaxgan, PyTorch, jaxgan, ..."""
  jt, tt = [], []
  for _ in range(steps):
    for fn, times in ((jax_fn, jt), (torch_fn, tt)):
      t0 = time.perf_counter()
      fn()
      times.append(time.perf_counter() - t0)
  return jt, tt


def torch_peak_flops(n: int = 2048, repeats: int = 5) -> float:
  import torch  # pylint: disable=import-outside-toplevel

  a, b = torch.randn(n, n), torch.randn(n, n)
  torch.mm(a, b)
  best = min(_timed(lambda: torch.mm(a, b)) for _ in range(repeats))
  return 2.0 * n**3 / best


def _timed(fn) -> float:
  t0 = time.perf_counter()
  fn()
  return time.perf_counter() - t0


def compare(name: str, jstep: JaxStep, tstep, *, steps: int, warmup: int, peaks: dict, extra=None) -> dict:
  for _ in range(warmup):
    jstep.step()
    tstep.step()
  torch_peak = torch_step_peak_mib(tstep.step)
  jt, tt = alternate(jstep.step, tstep.step, steps)
  j, t = statistics.median(jt), statistics.median(tt)
  gflop = None if jstep.flops is None else jstep.flops / 1e9
  mem = jstep.memory
  mib = lambda b: None if b is None else b / 2**20  # noqa: E731
  row = {
    "method": name,
    **(extra or {}),
    "jax_s": j,
    "torch_s": t,
    "speed": t / j,
    "jax_times": jt,
    "torch_times": tt,
    "gflop_per_step": gflop,
    "jax_gflops": None if gflop is None else gflop / j,
    "torch_gflops": None if gflop is None else gflop / t,
    "jax_args_temp_mib": None
    if mem["argument_size_in_bytes"] is None
    else mib(mem["argument_size_in_bytes"] + (mem["temp_size_in_bytes"] or 0)),
    "torch_step_peak_mib": torch_peak,
    "torch_state_mib": 16 * tstep.params / 2**20,
    "torch_params": tstep.params,
  }
  if gflop is not None:
    row["jax_peak_percent"] = 100 * row["jax_gflops"] / peaks["xla_gflops"]
    row["torch_peak_percent"] = 100 * row["torch_gflops"] / peaks["torch_gflops"]
  print(f"# {row['method']}: jaxgan {j:.3f} s, PyTorch {t:.3f} s, speed {t / j:.2f}x", flush=True)
  return row


COLUMNS = [
  ("method", "method", "s"),
  ("jaxgan s/step", "jax_s", ".3f"),
  ("PyTorch s/step", "torch_s", ".3f"),
  ("speed vs PyTorch", "speed", ".2f"),
  ("GFLOP/step", "gflop_per_step", ".1f"),
  ("jaxgan GFLOP/s (% peak)", "jax_gf", "s"),
  ("PyTorch GFLOP/s (% peak)", "torch_gf", "s"),
  ("jaxgan args+temp MiB", "jax_args_temp_mib", ".0f"),
  ("PyTorch state MiB", "torch_state_mib", ".0f"),
  ("PyTorch step peak MiB", "torch_step_peak_mib", ".0f"),
]


def markdown_table(rows: list[dict]) -> str:
  def cell(r, key, spec):
    if key in ("jax_gf", "torch_gf"):
      side = key.split("_")[0]
      g, p = r.get(f"{side}_gflops"), r.get(f"{side}_peak_percent")
      return "-" if g is None else f"{g:.0f} ({p:.0f}%)"
    v = r.get(key)
    return "-" if v is None else format(v, spec)

  head = "| " + " | ".join(h for h, _, _ in COLUMNS) + " |"
  sep = "|" + "|".join("---" if f == "s" and k == "method" else "---:" for _, k, f in COLUMNS) + "|"
  return "\n".join([head, sep, *("| " + " | ".join(cell(r, k, f) for _, k, f in COLUMNS) + " |" for r in rows)])


def run_method(name: str, args, peaks: dict) -> list[dict]:
  import torch_steps  # pylint: disable=import-outside-toplevel

  if name == "singan":
    config = bench.apply_overrides(singan.Config(image=args.image), args.set)
    scales = None if args.scales == "all" else [int(s) for s in args.scales.split(",")]
    rows = []
    for s in singan_steps(config, scales, args.seed):
      n, (h, w), (nfc, min_nfc), jstep = s["scale"], s["shape"], s["width"], s["step"]
      tstep = torch_steps.make(
        "singan",
        seed=args.seed,
        height=h,
        width=w,
        nfc=nfc,
        min_nfc=min_nfc,
        coarsest=n == 0,
        shapes=tuple(tuple(v) for v in s["shapes"]),
        widths=tuple(tuple(v) for v in s["widths"]),
        noise_amps=tuple(s["noise_amps"]),
        device="cpu" if jax.default_backend() == "cpu" else "cuda",
      )
      rows.append(
        compare(
          f"singan scale {n} ({h}x{w}, {nfc} ch)",
          jstep,
          tstep,
          steps=args.steps,
          warmup=args.warmup,
          peaks=peaks,
          extra={"scale": n},
        )
      )
    return rows
  make_config, build, make_batch, torch_name = SETUPS[name]
  config = bench.apply_overrides(make_config(), args.set)
  method = build(config)
  jstep = jax_step(method, make_batch(method.config, args.seed), seed=args.seed)
  overrides = {k: getattr(method.config, k) for k in _torch_fields(torch_name, args.set)}
  tstep = torch_steps.make(torch_name, seed=args.seed, **overrides)
  return [compare(name, jstep, tstep, steps=args.steps, warmup=args.warmup, peaks=peaks)]


def _torch_fields(torch_name: str, overrides: str) -> list[str]:
  """The ``--set`` fields that the PyTorch step also takes (the same names)."""
  import torch_steps  # pylint: disable=import-outside-toplevel

  known = torch_steps.DEFAULTS[torch_name]
  fields = [item.partition("=")[0].strip() for item in overrides.split(",") if item.strip()]
  return [f for f in fields if f in known]


def main(argv: list[str] | None = None) -> list[dict]:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--methods", default=",".join(METHODS), help=f"Comma-separated: {', '.join(METHODS)}.")
  parser.add_argument("--steps", type=int, default=5, help="Timed steps per side (alternated).")
  parser.add_argument(
    "--warmup",
    type=int,
    default=3,
    help="Untimed steps per side after compiling (on a fresh "
    "machine the first jaxgan steps after compiling ran up to 1.6x slower).",
  )
  parser.add_argument("--set", default="", help="Config overrides for both sides, e.g. 'crop_size=128'.")
  parser.add_argument("--image", default="balloons", help="SinGAN's image (a file or a shipped name).")
  parser.add_argument("--scales", default="all", help="SinGAN scales: 'all' or comma-separated (-1: finest).")
  parser.add_argument("--threads", type=int, default=0, help="PyTorch intra-op threads (0: one per CPU).")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--json", default="", help="Also write the rows and the environment here.")
  args = parser.parse_args(argv)
  names = [m.strip() for m in args.methods.split(",") if m.strip()]
  if bad := [m for m in names if m not in METHODS]:
    parser.error(f"--methods: unknown {bad}; choose from {', '.join(METHODS)}")
  if args.steps < 1 or args.warmup < 0:
    parser.error("--steps must be >= 1 and --warmup >= 0")
  try:
    import torch  # pylint: disable=import-outside-toplevel
  except ImportError:
    sys.exit("benchmarks/vs_pytorch.py needs PyTorch: pip install torch (an optional dependency of jaxgan)")
  torch.set_num_threads(args.threads or os.cpu_count())

  peaks = {"xla_gflops": bench.measure_peak_flops() / 1e9, "torch_gflops": torch_peak_flops() / 1e9}
  env = {
    "jax": jax.__version__,
    "torch": torch.__version__,
    "backend": jax.default_backend(),
    "device_kind": jax.devices()[0].device_kind,
    "cpu_count": os.cpu_count(),
    "torch_threads": torch.get_num_threads(),
    "compile_options": compiler.options(),
    "xla_flags": os.environ.get("XLA_FLAGS", ""),
    "set": args.set,
    "loadavg_start": bench._loadavg(),  # pylint: disable=protected-access
    "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    **peaks,
  }
  print(
    f"# jax {env['jax']} ({env['backend']}), torch {env['torch']} ({env['torch_threads']} threads), "
    f"{env['cpu_count']} CPUs; matmul peaks: XLA {peaks['xla_gflops']:.0f}, PyTorch "
    f"{peaks['torch_gflops']:.0f} GFLOP/s; compile options {env['compile_options']}",
    flush=True,
  )
  rows = [row for name in names for row in run_method(name, args, peaks)]
  env["loadavg_end"] = bench._loadavg()  # pylint: disable=protected-access
  print(f"# load average (1 min) at start {env['loadavg_start']}, at end {env['loadavg_end']}\n")
  print(markdown_table(rows))
  if args.json:
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
      json.dump({"environment": env, "rows": rows}, f, indent=2, default=str)
    print(f"\n# wrote {args.json}")
  return rows


if __name__ == "__main__":
  main()

"""SinGAN's coarsest scale trained with each gradient-penalty norm: does the critic separate?

    python benchmarks/singan_gp_norm.py --image=balloons \
        --max_size=128 --iterations=400 --out=/tmp/gp_norm

For each ``--gp_norm`` (``pixel``, the official code's; ``example``, the per-image norm of
WGAN-GP) the coarsest scale is trained from the same key for ``--iterations`` (learning rate
x0.1 at 80%, as 1600 of 2000), everything else the config's defaults. Reported at the end:
the critic's mean on the real image and on fakes (their gap is the critic's Wasserstein
estimate), the penalty, the reconstruction MSE; ``OUT/<norm>.png`` holds 8 random samples.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

# Runnable as ``python benchmarks/singan_gp_norm.py`` from the repository root.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxgan import visualize  # noqa: E402
from jaxgan.losses.adversarial import GP_NORMS  # noqa: E402
from jaxgan.methods import singan  # noqa: E402


def train_coarsest(config: singan.Config, iterations: int, seed: int = 0) -> tuple[dict, np.ndarray, float]:
  """(last metrics, 8 samples in [-1, 1], seconds) of the coarsest scale after ``iterations``."""
  spec, reals = singan.load_reals(config)
  method = singan.SinGAN(config, spec)
  real = jnp.asarray(reals[0][None])
  state = method.init_state(jax.random.PRNGKey(seed), 0, real, None)
  step = jax.jit(method.make_train_step(0), donate_argnums=0)
  started = time.perf_counter()
  for _ in range(iterations):
    state, metrics = step(state, {"real": real})
  metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
  seconds = time.perf_counter() - started
  samples = np.asarray(method.sample_jit(state, 0, jax.random.PRNGKey(seed + 1), 8))
  return metrics, samples, seconds


def main(argv: list[str] | None = None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--image", required=True, help="The training image (a file or a name: balloons).")
  parser.add_argument("--max_size", type=int, default=singan.Config.max_size)
  parser.add_argument("--iterations", type=int, default=400, help="Iterations of the coarsest scale.")
  parser.add_argument("--norms", default=",".join(GP_NORMS), help="Comma-separated gp_norm values.")
  parser.add_argument("--data_dir", default="", help="tfds data dir for the one-image dataset.")
  parser.add_argument("--out", required=True, help="Folder for the sample grids and results.json.")
  args = parser.parse_args(argv)
  norms = [n.strip() for n in args.norms.split(",") if n.strip()]
  bad = [n for n in norms if n not in GP_NORMS]
  if bad or args.iterations < 1:
    parser.error(f"--norms must be among {list(GP_NORMS)} (got {bad}) and --iterations >= 1")
  os.makedirs(args.out, exist_ok=True)
  results = {}
  for norm in norms:
    config = singan.Config(
      image=args.image,
      max_size=args.max_size,
      gp_norm=norm,
      data_dir=args.data_dir,
      lr_milestone=max(1, round(0.8 * args.iterations)),
    )
    metrics, samples, seconds = train_coarsest(config, args.iterations)
    visualize.save_png(os.path.join(args.out, f"{norm}.png"), visualize.make_grid(samples, ncol=4))
    results[norm] = {**metrics, "critic_gap": metrics["d_real"] - metrics["d_fake"], "seconds": seconds}
    print(
      f"# gp_norm={norm}: critic gap {results[norm]['critic_gap']:.4f}, penalty "
      f"{metrics['gradient_penalty']:.4f}, rec MSE {metrics['rec_mse']:.5f} ({seconds:.0f} s)",
      flush=True,
    )
  with open(os.path.join(args.out, "results.json"), "w") as f:
    json.dump(
      {"image": os.path.abspath(singan.check_image(config)), "iterations": args.iterations, "results": results},
      f,
      indent=2,
    )
  return results


if __name__ == "__main__":
  main()

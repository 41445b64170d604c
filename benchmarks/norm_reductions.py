"""Normalisation statistics on XLA:CPU: reduced over the pixel axes as they are, or over one
flattened axis (what ``jaxgan.nn.norm`` does), forward and backward, best of ``--repeats``.

    python benchmarks/norm_reductions.py
    python benchmarks/norm_reductions.py --shapes=128x32x32x128,1x64x64x256 --repeats=7
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxgan.train import compiler  # noqa: E402

EPS = 1e-5


def instance_norm(x, flat: bool):
  """Per-image statistics; ``flat``: over one flattened pixel axis."""
  axes = (1,) if flat else (1, 2)
  y = x.reshape(x.shape[0], -1, x.shape[-1]) if flat else x
  mean = jnp.mean(y, axis=axes, keepdims=True)
  var = jnp.mean(jnp.square(y - mean), axis=axes, keepdims=True)
  return ((y - mean) * jax.lax.rsqrt(var + EPS)).reshape(x.shape)


def batch_norm(x, flat: bool):
  """Batch statistics; ``flat``: over one flattened (batch x pixels) axis."""
  axes = (0,) if flat else (0, 1, 2)
  y = x.reshape(-1, x.shape[-1]) if flat else x
  mean = jnp.mean(y, axis=axes, keepdims=True)
  var = jnp.mean(jnp.square(y - mean), axis=axes, keepdims=True)
  return ((y - mean) * jax.lax.rsqrt(var + EPS)).reshape(x.shape)


NORMS = {"instance": instance_norm, "batch": batch_norm}


def best_ms(fn, *args, repeats: int) -> float:
  jax.block_until_ready(fn(*args))
  times = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append(time.perf_counter() - t0)
  return 1e3 * min(times)


def measure(norm: str, shape: tuple[int, ...], repeats: int) -> dict:
  x = jax.random.normal(jax.random.PRNGKey(0), shape) * 2 + 1
  g = jax.random.normal(jax.random.PRNGKey(1), shape)
  row = {"norm": norm, "shape": "x".join(map(str, shape))}
  outs = {}
  for flat in (False, True):
    f = lambda x, flat=flat: NORMS[norm](x, flat)  # noqa: E731
    fwd = compiler.jit(f)
    bwd = compiler.jit(lambda x, g, f=f: jax.vjp(f, x)[1](g)[0])
    key = "flat" if flat else "axes"
    outs[key] = fwd(x)
    row[f"{key}_fwd_ms"] = best_ms(fwd, x, repeats=repeats)
    row[f"{key}_bwd_ms"] = best_ms(bwd, x, g, repeats=repeats)
  row["max_abs_diff"] = float(jnp.abs(outs["flat"] - outs["axes"]).max())
  return row


def main(argv: list[str] | None = None) -> list[dict]:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--shapes", default="128x32x32x128,128x16x16x256,1x64x64x256,1x256x256x64,1x128x128x128")
  parser.add_argument("--norms", default="batch,instance")
  parser.add_argument("--repeats", type=int, default=7)
  args = parser.parse_args(argv)
  shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
  rows = [measure(n, s, args.repeats) for n in args.norms.split(",") for s in shapes]
  print("| norm | shape | over the axes fwd / bwd ms | over one flat axis fwd / bwd ms | max abs diff |")
  print("|---|---|---:|---:|---:|")
  for r in rows:
    print(
      f"| {r['norm']} | {r['shape']} | {r['axes_fwd_ms']:.2f} / {r['axes_bwd_ms']:.2f} | "
      f"{r['flat_fwd_ms']:.2f} / {r['flat_bwd_ms']:.2f} | {r['max_abs_diff']:.0e} |"
    )
  return rows


if __name__ == "__main__":
  main()

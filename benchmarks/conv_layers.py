"""Per-layer timing of the DCGAN convolutions, and of equivalent formulations, on this backend.

    python benchmarks/conv_layers.py --image_size=32 --channels=1 --batch=128 --widths=32,64

For every layer of ``jaxgan.models.dcgan`` (generator transposed convs G0..Gn, discriminator
convs D0..Dn) this times, best of ``--repeats`` jitted and blocked calls:

  fwd     y = layer(x)
  dx      the input gradient of <y, g>   (what backprop through the layer costs besides dW)
  dw      the kernel gradient of <y, g>
  fwd+bwd value and both gradients, in one jit

for these formulations of the same linear map (checked equal to the reference to 1e-4):

  ConvT (generator, 4x4 stride 2 pad 1, PyTorch alignment):
    flax      nnx.ConvTranspose (lax.conv_transpose: an lhs-dilated conv), what DCGAN used first
    subpixel  one 3x3 stride-1 conv to 4*cout channels (kernel taps rearranged), then depth-to-space
    phases    four 2x2 stride-1 convs, one per output phase, interleaved: jaxgan.nn.conv_transpose,
              what the models use now (its kernel gradient avoids XLA:CPU's slow reversed-window conv)
  Conv (discriminator, 4x4 stride 2 pad 1):
    flax      nnx.Conv as the model builds it
    s2d       space-to-depth of the padded input (2x2 blocks), then a 2x2 stride-1 conv

The 1x1 -> 4x4 generator projection and the 4x4 -> 1x1 logit conv are timed as built (flax).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Callable

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flax import nnx  # noqa: E402

from jaxgan.models.dcgan import DCGANDiscriminator, DCGANGenerator  # noqa: E402
from jaxgan.nn import conv_transpose  # noqa: E402

DN = ("NHWC", "HWIO", "NHWC")


# -- formulations ----------------------------------------------------------------------------


def convt_flax(x, w):
  """What nnx.ConvTranspose(4, strides 2, padding ((2, 2), (2, 2)), transpose_kernel=False) computes."""
  return jax.lax.conv_transpose(x, w, (2, 2), ((2, 2), (2, 2)), dimension_numbers=DN)


def _subpixel_kernel(w):
  """[4, 4, I, O] ConvT kernel -> [3, 3, I, 4*O] kernel of the equivalent stride-1 conv.

  Output row 2m+p (phase p) reads padded-input rows m..m+2: phase 0 taps (w[0], w[2], 0),
  phase 1 taps (0, w[1], w[3]); the same for columns.
  """
  taps = {0: (0, 2, None), 1: (None, 1, 3)}
  i, o = w.shape[2], w.shape[3]
  zero = jnp.zeros((i, o), w.dtype)
  rows = []
  for a in range(3):
    cols = []
    for b in range(3):
      phases = []
      for p in (0, 1):
        for q in (0, 1):
          ta, tb = taps[p][a], taps[q][b]
          phases.append(zero if ta is None or tb is None else w[ta, tb])
      cols.append(jnp.stack(phases, axis=-1).reshape(i, o * 4))
    rows.append(jnp.stack(cols))
  return jnp.stack(rows)  # [3, 3, I, O*4], channel index = o*4 + (2p + q)


def convt_subpixel(x, w):
  n, h, wd, _ = x.shape
  o = w.shape[3]
  y = jax.lax.conv_general_dilated(x, _subpixel_kernel(w), (1, 1), ((1, 1), (1, 1)), dimension_numbers=DN)
  y = y.reshape(n, h, wd, o, 2, 2).transpose(0, 1, 4, 2, 5, 3)
  return y.reshape(n, 2 * h, 2 * wd, o)


def convt_phases(x, w):
  """jaxgan.nn.conv_transpose (what the models use): one 2x2 stride-1 conv per output phase.

  ``w`` is in flax's (flipped) orientation here, like the other variants.
  """
  return conv_transpose(x, w[::-1, ::-1], stride=2, padding=1)


def conv_flax(x, w):
  return jax.lax.conv_general_dilated(x, w, (2, 2), ((1, 1), (1, 1)), dimension_numbers=DN)


def conv_s2d(x, w):
  """4x4 stride-2 pad-1 conv == 2x2 stride-1 conv over 2x2 blocks of the padded input."""
  n, h, wd, c = x.shape
  o = w.shape[3]
  xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
  hb, wb = (h + 2) // 2, (wd + 2) // 2
  xs = xp.reshape(n, hb, 2, wb, 2, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, hb, wb, 4 * c)
  ws = w.reshape(2, 2, 2, 2, c, o).transpose(0, 2, 1, 3, 4, 5).reshape(2, 2, 4 * c, o)
  return jax.lax.conv_general_dilated(xs, ws, (1, 1), "VALID", dimension_numbers=DN)


CONVT = {"flax": convt_flax, "subpixel": convt_subpixel, "phases": convt_phases}
CONV = {"flax": conv_flax, "s2d": conv_s2d}


# -- timing ---------------------------------------------------------------------------------


def best_ms(fn: Callable, args, repeats: int) -> float:
  jax.block_until_ready(fn(*args))
  best = float("inf")
  for _ in range(repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    best = min(best, time.perf_counter() - t0)
  return 1e3 * best


def time_layer(f: Callable, x, w, repeats: int) -> dict[str, float]:
  g = jax.random.normal(jax.random.PRNGKey(2), jax.eval_shape(f, x, w).shape, x.dtype)
  loss = lambda x, w: jnp.vdot(f(x, w), g)  # noqa: E731
  fns = {
    "fwd": jax.jit(f),
    "dx": jax.jit(jax.grad(loss, argnums=0)),
    "dw": jax.jit(jax.grad(loss, argnums=1)),
    "fwd+bwd": jax.jit(jax.value_and_grad(loss, argnums=(0, 1))),
  }
  out = {k: best_ms(fn, (x, w), repeats) for k, fn in fns.items()}
  cost = fns["fwd+bwd"].lower(x, w).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  out["gflop_fwd+bwd"] = float(cost.get("flops", float("nan"))) / 1e9
  return out


def layer_specs(image_size: int, channels: int, width: int, nz: int = 100) -> list[tuple]:
  """(name, kind, input shape [H, W, C], kernel shape) of every conv in DCGAN G and D."""
  g = DCGANGenerator(resolution=image_size, nz=nz, ngf=width, out_channels=channels, rngs=nnx.Rngs(0))
  d = DCGANDiscriminator(resolution=image_size, ndf=width, in_channels=channels, rngs=nnx.Rngs(0))
  specs = [("G0 project", "convt1", (1, 1, nz), g.project.kernel.shape)]
  side = 4
  for i, up in enumerate([*g.ups, g.to_image], start=1):
    specs.append((f"G{i}", "convt", (side, side, up.kernel.shape[2]), up.kernel.shape))
    side *= 2
  side = image_size
  for i, down in enumerate(d.downs):
    specs.append((f"D{i}", "conv", (side, side, down.kernel.shape[2]), down.kernel.shape))
    side //= 2
  specs.append((f"D{len(d.downs)} logit", "conv1", (side, side, d.to_logit.kernel.shape[2]), d.to_logit.kernel.shape))
  return specs


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--image_size", type=int, default=32)
  parser.add_argument("--channels", type=int, default=1)
  parser.add_argument("--batch", type=int, default=128)
  parser.add_argument("--widths", default="32,64", help="Comma-separated ngf = ndf values.")
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--variants", default="all", help="'all' or 'flax' (only the model's own layers).")
  parser.add_argument("--json", default="")
  args = parser.parse_args(argv)

  print(
    f"# jax {jax.__version__} {jax.default_backend()}, XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}, "
    f"batch {args.batch}, {args.image_size}x{args.image_size}x{args.channels}",
    flush=True,
  )
  print("| width | layer | in (HWC) | kernel | variant | fwd ms | dx ms | dw ms | fwd+bwd ms | GFLOP fwd+bwd |")
  print("|---:|---|---|---|---|---:|---:|---:|---:|---:|")
  rows = []
  key = jax.random.PRNGKey(0)
  for width in [int(v) for v in args.widths.split(",")]:
    for name, kind, in_shape, k_shape in layer_specs(args.image_size, args.channels, width):
      kx, kw = jax.random.split(jax.random.fold_in(key, len(rows)))
      x = jax.random.normal(kx, (args.batch, *in_shape), jnp.float32)
      w = 0.02 * jax.random.normal(kw, k_shape, jnp.float32)
      if kind == "convt1":
        variants = {"flax": lambda x, w: jax.lax.conv_transpose(x, w, (1, 1), ((3, 3), (3, 3)), dimension_numbers=DN)}
      elif kind == "conv1":
        variants = {"flax": lambda x, w: jax.lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=DN)}
      else:
        variants = CONVT if kind == "convt" else CONV
      if args.variants != "all":
        variants = {"flax": variants["flax"]}
      ref = jax.jit(variants["flax"])(x, w)
      for vname, f in variants.items():
        err = float(jnp.max(jnp.abs(jax.jit(f)(x, w) - ref)))
        if err > 1e-4:
          raise AssertionError(f"{name} {vname}: differs from flax by {err}")
        t = time_layer(f, x, w, args.repeats)
        row = {"width": width, "layer": name, "in": in_shape, "kernel": tuple(k_shape), "variant": vname, **t}
        rows.append(row)
        print(
          f"| {width} | {name} | {'x'.join(map(str, in_shape))} | {'x'.join(map(str, k_shape))} | {vname} | "
          f"{t['fwd']:.2f} | {t['dx']:.2f} | {t['dw']:.2f} | {t['fwd+bwd']:.2f} | {t['gflop_fwd+bwd']:.3f} |",
          flush=True,
        )
  if args.json:
    with open(args.json, "w") as f:
      json.dump(rows, f, indent=2)
  return rows


if __name__ == "__main__":
  main()

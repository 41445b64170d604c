"""Per-layer convolution timings on this backend: XLA's paths, jaxgan's, and PyTorch's, side by side.

    python benchmarks/conv_paths.py                        # the default layer list
    python benchmarks/conv_paths.py --layers=unet_d2,dcgan_d2 --repeats=10 --json=/tmp/conv.json

For each layer (a convolution of one of the default models, at its default batch), the best of
``--repeats`` blocked calls of: the forward pass (fwd), the input gradient (dx) and the kernel
gradient (dw), for

  xla        ``lax.conv_general_dilated`` compiled with XLA's default options (YNNPACK fusions on)
  eigen      the same compiled with jaxgan's options (``jaxgan.train.compiler``: YNNPACK off)
  jaxgan     ``jaxgan.nn.conv_general_dilated`` (strided: space-to-depth gradients; 3x3 stride 1: Winograd
             forward and kernel gradient where ``jaxgan.nn.conv.winograd_applies``) with jaxgan's options
  torch      ``torch.nn.functional.conv2d`` (gradients: autograd time minus the forward time)

Transposed convolutions (PyTorch's ``conv_transpose2d``, kernel ``[k, k, in, out]``; the layers
marked so): ``xla``/``eigen`` are XLA's lhs-dilated convolution with the flipped kernel, ``jaxgan``
is ``jaxgan.nn.conv_transpose``, ``torch`` ``F.conv_transpose2d``. ``--no_patch_products`` turns
``jaxgan.nn.conv``'s few-pixels rule off (``PATCH_GEMM_PIXELS_PER_CHANNEL = 0``): the ``jaxgan``
column is then the space-to-depth and phase forms these layers took before.

The three JAX formulations are checked equal (1e-3 relative) before timing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jaxgan.nn import conv as conv_rules  # noqa: E402
from jaxgan.nn.conv import conv_general_dilated  # noqa: E402
from jaxgan.nn.conv_transpose import conv_transpose  # noqa: E402
from jaxgan.train import compiler  # noqa: E402

DN = ("NHWC", "HWIO", "NHWC")
# name: (batch, height = width, cin, cout, kernel, stride, padding[, "transposed"])
LAYERS = {
  "unet_d1": (1, 256, 3, 64, 4, 2, 1),  # pix2pix U-Net, outermost down
  "unet_d2": (1, 128, 64, 128, 4, 2, 1),
  "unet_d5": (1, 16, 512, 512, 4, 2, 1),
  "patch_s1": (1, 32, 256, 512, 4, 1, 1),  # 70x70 PatchGAN, stride-1 layer
  "resnet_c7": (1, 262, 3, 64, 7, 1, 0),  # CycleGAN ResNet: first 7x7 (reflection-padded)
  "resnet_down": (1, 256, 64, 128, 3, 2, 1),
  "resnet_block": (1, 66, 256, 256, 3, 1, 0),  # one of the 18 block convolutions
  "style_res": (4, 66, 128, 128, 3, 1, 0),  # fast style transfer's residual block (256x256, batch 4)
  "sr_res": (16, 24, 64, 64, 3, 1, 1),  # SRResNet's residual block (24x24 LR, batch 16)
  "vgg_conv3": (16, 24, 256, 256, 3, 1, 1),  # VGG16 conv3_x on SR's 96x96 crops
  "singan_body7": (1, 147, 64, 64, 3, 1, 0),  # SinGAN balloons, scale 7: a body convolution
  "singan_body8": (1, 190, 128, 128, 3, 1, 0),  # ... scale 8 (128 channels): Winograd in chunks
  "vgg_conv1_sr": (16, 96, 64, 64, 3, 1, 1),  # VGG16 conv1_2 on SR's 96x96 crops: chunks of images
  "vgg_conv2_style": (4, 128, 128, 128, 3, 1, 1),  # VGG16 conv2_2 in fast style transfer (256x256, batch 4)
  "resnet_out": (1, 262, 64, 3, 7, 1, 0),
  "patch_logit": (1, 31, 512, 1, 4, 1, 1),  # 70x70 PatchGAN, the logits
  "singan_head": (1, 196, 3, 128, 3, 1, 0),  # SinGAN finest scale (balloons, square here): G's head
  "singan_tail": (1, 188, 128, 3, 3, 1, 0),  # ... and G's tail
  "sr_out": (16, 96, 64, 3, 9, 1, 4),  # SRResNet x4: the last 9x9 convolution (96x96 HR, batch 16)
  "dcgan_d2": (128, 32, 64, 128, 4, 2, 1),  # DCGAN 64x64 discriminator
  "dcgan_d3": (128, 16, 128, 256, 4, 2, 1),
  # few pixels, large kernels: pix2pix's innermost U-Net levels (jaxgan.nn.patch_gemm)
  "unet_d6": (1, 8, 512, 512, 4, 2, 1),
  "unet_d8": (1, 2, 512, 512, 4, 2, 1),
  "unet_u7": (1, 2, 1024, 512, 4, 2, 1, "transposed"),
  "unet_u5": (1, 8, 1024, 512, 4, 2, 1, "transposed"),
  "unet_u4": (1, 16, 1024, 256, 4, 2, 1, "transposed"),  # 256 pixels: beyond the rule
  "unet_u1": (1, 128, 128, 3, 4, 2, 1, "transposed"),  # the output layer: few output channels
  "dcgan_g1": (128, 1, 100, 512, 4, 1, 0, "transposed"),  # z -> 4x4
}
PATHS = ("xla", "eigen", "jaxgan", "torch")


def best(fn, repeats: int) -> float:
  fn()
  times = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t0)
  return min(times)


def jax_times(conv, options, x, w, g, repeats: int) -> tuple[dict, list]:
  fwd = jax.jit(conv, compiler_options=options)
  dx = jax.jit(lambda x, w, g: jax.vjp(lambda x: conv(x, w), x)[1](g)[0], compiler_options=options)
  dw = jax.jit(lambda x, w, g: jax.vjp(lambda w: conv(x, w), w)[1](g)[0], compiler_options=options)
  outs = [fwd(x, w), dx(x, w, g), dw(x, w, g)]
  times = {
    "fwd": best(lambda: jax.block_until_ready(fwd(x, w)), repeats),
    "dx": best(lambda: jax.block_until_ready(dx(x, w, g)), repeats),
    "dw": best(lambda: jax.block_until_ready(dw(x, w, g)), repeats),
  }
  return times, outs


def torch_times(x, w, g, stride, padding, repeats: int, transposed: bool = False) -> dict:
  import torch  # pylint: disable=import-outside-toplevel

  f = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
  xt = torch.tensor(np.asarray(x)).permute(0, 3, 1, 2).contiguous().requires_grad_()
  wt = torch.tensor(np.asarray(w)).permute(*((2, 3) if transposed else (3, 2)), 0, 1).contiguous().requires_grad_()
  gt = torch.tensor(np.asarray(g)).permute(0, 3, 1, 2).contiguous()

  def fwd():
    with torch.no_grad():
      f(xt, wt, stride=stride, padding=padding)

  t_fwd = best(fwd, repeats)
  t_dx = best(lambda: torch.autograd.grad(f(xt, wt.detach(), stride=stride, padding=padding), xt, gt), repeats)
  t_dw = best(lambda: torch.autograd.grad(f(xt.detach(), wt, stride=stride, padding=padding), wt, gt), repeats)
  return {"fwd": t_fwd, "dx": t_dx - t_fwd, "dw": t_dw - t_fwd}


def bench_layer(name: str, repeats: int, with_torch: bool) -> dict:
  b, h, cin, cout, k, s, p, *kind = LAYERS[name]
  transposed = kind == ["transposed"]
  rng = np.random.default_rng(0)
  x = jax.numpy.asarray(rng.standard_normal((b, h, h, cin)), np.float32)
  w = jax.numpy.asarray(rng.standard_normal((k, k, cin, cout)) * 0.05, np.float32)
  pads = ((p, p), (p, p))
  dn = jax.lax.conv_dimension_numbers(x.shape, w.shape, DN)
  if transposed:
    dilated = ((k - 1 - p, k - 1 - p),) * 2
    lax_conv = lambda x, w: jax.lax.conv_general_dilated(  # noqa: E731
      x, w[::-1, ::-1], (1, 1), dilated, lhs_dilation=(s, s), dimension_numbers=dn
    )
    ours = lambda x, w: conv_transpose(x, w, stride=s, padding=p)  # noqa: E731
  else:
    lax_conv = lambda x, w: jax.lax.conv_general_dilated(x, w, (s, s), pads, dimension_numbers=dn)  # noqa: E731
    ours = lambda x, w: conv_general_dilated(x, w, (s, s), pads, dimension_numbers=dn)  # noqa: E731
  g = jax.numpy.asarray(rng.standard_normal(lax_conv(x, w).shape), np.float32)
  row = {"layer": name, "shape": [b, h, h, cin, cout, k, s, p], "transposed": transposed}
  reference = None
  for path, conv, options in (
    ("xla", lax_conv, None),
    ("eigen", lax_conv, compiler.options("cpu") or None),
    ("jaxgan", ours, compiler.options("cpu") or None),
  ):
    row[path], outs = jax_times(conv, options, x, w, g, repeats)
    if reference is None:
      reference = outs
    for got, want in zip(outs, reference):
      np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3 * float(np.abs(want).max()))
  if with_torch:
    row["torch"] = torch_times(x, w, g, s, p, repeats, transposed)
  return row


def markdown_table(rows: list[dict]) -> str:
  paths = [p for p in PATHS if p in rows[0]]
  head = "| layer | " + " | ".join(f"{p} fwd / dx / dw ms" for p in paths) + " |"
  sep = "|---|" + "---:|" * len(paths)
  body = [
    "| "
    + r["layer"]
    + " | "
    + " | ".join(" / ".join(f"{1e3 * r[p][k]:.1f}" for k in ("fwd", "dx", "dw")) for p in paths)
    + " |"
    for r in rows
  ]
  return "\n".join([head, sep, *body])


def main(argv: list[str] | None = None) -> list[dict]:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--layers", default=",".join(LAYERS), help=f"Comma-separated: {', '.join(LAYERS)}.")
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--no_torch", action="store_true", help="Skip the PyTorch column.")
  parser.add_argument(
    "--no_patch_products", action="store_true", help="jaxgan column without the few-pixels rule (jaxgan.nn.patch_gemm)."
  )
  parser.add_argument("--json", default="")
  args = parser.parse_args(argv)
  if args.no_patch_products:
    conv_rules.PATCH_GEMM_PIXELS_PER_CHANNEL = 0
  names = [n.strip() for n in args.layers.split(",") if n.strip()]
  if bad := [n for n in names if n not in LAYERS]:
    parser.error(f"--layers: unknown {bad}; choose from {', '.join(LAYERS)}")
  with_torch = not args.no_torch
  if with_torch:
    try:
      import torch  # pylint: disable=import-outside-toplevel

      torch.set_num_threads(os.cpu_count())
    except ImportError:
      with_torch = False
  print(f"# jax {jax.__version__} ({jax.default_backend()}), {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
  rows = []
  for name in names:
    rows.append(bench_layer(name, args.repeats, with_torch))
    print(f"# {name} done", flush=True)
  print(markdown_table(rows))
  if args.json:
    with open(args.json, "w") as f:
      json.dump(rows, f, indent=2)
  return rows


if __name__ == "__main__":
  main()

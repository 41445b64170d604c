# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # pix2pix: the official facades generator in JAX, then fine-tuned
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/jaxgan/blob/main/notebooks/pix2pix.ipynb)
# (`OWNER` is a placeholder until the repository is public.)
#
# What the official pix2pix Colab does, with jaxgan: get the CMP facades set and the official pretrained
# `facades_label2photo` generator (a PyTorch `latest_net_G.pth`) by name, import the generator into a jaxgan
# workdir (`--mode=import_torch`), translate the test split (labels -> photos, `--mode=test`: an HTML page
# and L1 / PSNR / SSIM), fine-tune it for a few hundred steps on the training split (`--mode=train`, the
# official loss and optimiser, the batch split over the devices) and translate the test split again.
#
# **Runtime.** On Colab choose *Runtime > Change runtime type > TPU* (or a GPU). The defaults of the
# parameters cell are the official networks at 256x256 (unet_256 with batch norm and dropout, 70x70
# PatchGAN); the official batch is 1, here it is 8 so that it splits over 8 TPU cores (set `NUM_DEVICES = 1`
# and `BATCH_SIZE = 1` for the official batch).
#
# **What CI runs.** The facades set and the official weights cannot be downloaded on the CI machine, so
# `.ci/run` executes this notebook (`python -m tests.run_notebooks`, a CPU with 8 fake devices) with
# grey -> colour pairs made from BSD68 (fetched by name from the offline mirror) and, as the "pretrained"
# generator, a stand-in in the official PyTorch format: a randomly initialised tiny unet_128 written by
# `jaxgan.interop.to_torch_state_dict`, the function `--mode=export_torch` uses. Its translations are noise;
# CI proves that every cell runs, not what the official generator does.

# %%
# Install jaxgan where it is missing (a fresh Colab runtime) with the JAX build of the accelerator, then list the
# devices. REPO_URL is a PLACEHOLDER until the repository is public: put the repository's URL there.
REPO_URL = "https://github.com/OWNER/jaxgan"

import glob
import importlib.util
import os
import shutil
import subprocess
import sys

if importlib.util.find_spec("jaxgan") is None:
  if os.environ.get("TPU_ACCELERATOR_TYPE") or glob.glob("/dev/accel*") or glob.glob("/dev/vfio/[0-9]*"):
    extra = "[tpu]"
  elif shutil.which("nvidia-smi"):
    extra = "[cuda]"
  else:
    extra = ""
  subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"jaxgan{extra} @ git+{REPO_URL}"], check=True)

import jax

print(f"JAX {jax.__version__} on {jax.default_backend()}: {jax.devices()}")

# %% tags=["parameters"]
# The full run. CI replaces these values with tiny ones (papermill's "parameters" cell).
WORKDIR = "workdirs/pix2pix"  # everything is written under here
DOWNLOADS = ["facades", "pix2pix_facades_label2photo"]  # fetched by name, as `python -m jaxgan.download NAME`
PRETRAINED_G = "pix2pix_facades_label2photo"  # a registered name or an official latest_net_G.pth
DATASET = "facades"  # the official side-by-side AB set (or e.g. "gray2color:bsd68", "paired:DIR")
DIRECTION = "BtoA"  # facades: B (label maps) -> A (photos), as the pretrained generator
NET_G = "unet_256"  # the pretrained generator's architecture and width
NGF = 64
NDF = 64
LOAD_SIZE = 286  # training jitter: resize to LOAD_SIZE, random CROP_SIZE crop, flip
CROP_SIZE = 256
NUM_TEST = 106  # test pairs translated and scored (facades' test split has 106)
ROWS_SHOWN = 8  # rows of each result page shown inline
BATCH_SIZE = 8  # global batch, split over the devices (a multiple of their number)
NUM_DEVICES = 0  # 0: every device
FINETUNE_STEPS = 500
SAMPLE_EVERY = 100

# %%
import json

from IPython.display import HTML, Image, Markdown, display

from jaxgan import download, visualize
from jaxgan.methods import pix2pix
from jaxgan.train import sharding

mesh = sharding.make_mesh(NUM_DEVICES or None)
print(f"mesh {dict(mesh.shape)}: a batch of {BATCH_SIZE} is {BATCH_SIZE // mesh.size} images per device")
for name in DOWNLOADS:
  print(f"{name}: {download.fetch_entry(name)}")

# %% [markdown]
# ## Import the official generator
#
# `--mode=import_torch` maps the official state_dict onto jaxgan's U-Net (keys and shapes checked) and saves
# it as step 0 of a new workdir, which then counts as a finished model. The config names the pretrained
# network's architecture; everything else is the official default.

# %%
config = pix2pix.Config(
  workdir=f"{WORKDIR}/facades",
  data_dir=f"{WORKDIR}/tfds",
  dataset=DATASET,
  direction=DIRECTION,
  netG=NET_G,
  ngf=NGF,
  ndf=NDF,
  load_size=LOAD_SIZE,
  crop_size=CROP_SIZE,
  batch_size=BATCH_SIZE,
  num_devices=NUM_DEVICES,
  num_test=NUM_TEST,
  sample_every=SAMPLE_EVERY,
  checkpoint_every=SAMPLE_EVERY,
  log_every=10,
  torch_G=PRETRAINED_G,
)
if os.path.isdir(f"{config.workdir}/checkpoints"):
  print(f"{config.workdir} already holds checkpoints: not imported again")
else:
  pix2pix.MODES["import_torch"](config)

# %% [markdown]
# ## Translate the test split
#
# `--mode=test` translates each test input with the official test behaviour (batch statistics and dropout on)
# and writes `index.html` (input | output | target), the images and `metrics.json`: mean L1, PSNR and SSIM
# against the targets, and the same scores of the input itself as a baseline.

# %%
page = pix2pix.MODES["test"](config)
with open(os.path.join(os.path.dirname(page), "metrics.json")) as f:
  pretrained = json.load(f)
display(HTML(visualize.inline_html(page, max_rows=ROWS_SHOWN)))

# %% [markdown]
# ## Fine-tune
#
# `--mode=train` on the same workdir continues from the imported step 0: each step is the official
# `optimize_parameters` (D on the detached translation and the real pair, then G against the updated D, GAN
# loss + 100 L1) compiled once and run with the batch split over the mesh. The sample grids hold input |
# output | target rows of held-out pairs.

# %%
pix2pix.MODES["train"](config.replace(num_steps=FINETUNE_STEPS))
display(Image(filename=sorted(glob.glob(f"{config.workdir}/samples/step_*.png"))[-1], width=600))

# %% [markdown]
# The test split again, now translated by the fine-tuned generator, and the scores side by side.

# %%
page = pix2pix.MODES["test"](config)
with open(os.path.join(os.path.dirname(page), "metrics.json")) as f:
  finetuned = json.load(f)
rows = [("pretrained", pretrained), ("fine-tuned", finetuned)]
if "input_as_output" in pretrained:  # the input itself as the translation: the baseline
  rows.insert(0, ("the input itself", pretrained["input_as_output"]))
table = ["| translation | step | L1 | PSNR (dB) | SSIM |", "|---|---:|---:|---:|---:|"]
for label, m in rows:
  table.append(f"| {label} | {m.get('step', '')} | {m['l1']:.4f} | {m['psnr']:.2f} | {m['ssim']:.4f} |")
display(Markdown("\n".join(table)))
display(HTML(visualize.inline_html(page, max_rows=ROWS_SHOWN)))

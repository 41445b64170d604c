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
# # SinGAN: one image, a pyramid of GANs, and what it can do
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/jaxgan/blob/main/notebooks/singan.ipynb)
# (`OWNER` is a placeholder until the repository is public.)
#
# SinGAN (Shaham et al. 2019) learns a coarse-to-fine pyramid of small GANs from a single image. This notebook
# trains it on images shipped with jaxgan (the paper's own inputs) at a reduced size, then runs the paper's
# applications on the trained pyramids: random samples (from the coarsest scale, from a finer one, and twice as
# wide), an animation, harmonization (a pasted object repainted in the image's style) and editing (moved blocks
# blended back into the image). Each cell calls `jaxgan.methods.singan_apps.MODES`, what `python
# experiments/singan.py --mode=...` runs.
#
# **Runtime.** On Colab choose *Runtime > Change runtime type > TPU* (or a GPU). SinGAN learns from one image:
# its batch is that image and it trains on one device, whatever the runtime has. The defaults are the
# official networks and iterations on images reduced to 128 px (the official 250 px runs for hours); the
# README shows what the same settings give at 300 iterations per scale.
#
# **What CI runs.** `.ci/run` executes this notebook (`python -m tests.run_notebooks`, a CPU with 8 fake
# devices) with a 32 px pyramid of two scales, two iterations of one critic and one generator step per scale,
# and one pyramid for both harmonization and editing: its pictures are noise; CI proves that every cell runs.

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
WORKDIR = "workdirs/singan"  # everything is written under here; a pyramid whose folder exists resumes
DOWNLOADS = ["fid_inception"]  # fetched by name: the Inception weights of SIFID (reading them needs PyTorch)
IMAGE = "starry_night"  # shipped: random samples, animation, harmonization
HARMONIZATION_REF = "starry_night_naive"  # the image with a pasted object, and its mask (shipped)
HARMONIZATION_MASK = "starry_night_naive_mask"
HARMONIZATION_SCALES = [2, 3, 4]  # scales the pasted image is injected at (1 or more)
EDIT_IMAGE = "stone"  # shipped: editing
EDIT_REF = "stone_edit"
EDIT_MASK = "stone_edit_mask"
EDIT_SCALES = [1, 2, 3]
MAX_SIZE = 128  # longest side at the finest scale (official: 250)
NUM_STEPS = 2000  # iterations per scale (official: 2000, learning rates x0.1 at 1600)
LR_MILESTONE = 1600
CRITIC_STEPS = 3  # critic and generator steps per iteration (official: 3 and 3)
GENERATOR_STEPS = 3
NUM_SAMPLES = 8
GEN_START_SCALES = [0, 2]  # random samples from noise at every scale, and from scale 2 on (the paper's N-k)
ANIM_START_SCALE = 2
ANIM_FRAMES = 60

# %%
import json

import matplotlib.pyplot as plt
from IPython.display import Image, display
from PIL import Image as PILImage

from jaxgan import download
from jaxgan.methods import singan, singan_apps

for name in DOWNLOADS:
  print(f"{name}: {download.fetch_entry(name)}")

# %% [markdown]
# ## Train the pyramid
#
# The official networks and losses per scale (five 3x3 conv layers, 32 channels doubling every 4 scales; WGAN-GP
# with the official per-pixel norm, reconstruction weight 10), coarsest scale first, each scale in
# `WORKDIR/IMAGE/scales/NN` (an interrupted run resumes at the scale and iteration where it stopped).

# %%
config = singan_apps.Config(
  image=IMAGE,
  workdir=f"{WORKDIR}/{IMAGE}",
  max_size=MAX_SIZE,
  num_steps=NUM_STEPS,
  lr_milestone=LR_MILESTONE,
  d_steps=CRITIC_STEPS,
  g_steps=GENERATOR_STEPS,
  checkpoint_every=500,
  sample_every=NUM_STEPS,
  eval_every=NUM_STEPS,
  num_samples=NUM_SAMPLES,
  anim_start_scale=ANIM_START_SCALE,
  anim_frames=ANIM_FRAMES,
)
singan_apps.MODES["train"](config)
with open(f"{config.workdir}/scales.json") as f:
  scales = json.load(f)
for n, s in scales["scales"].items():
  print(
    f"scale {n}: {s['shape'][0]}x{s['shape'][1]}, {s['nfc']} channels, {s['seconds']:.0f} s, "
    f"noise amplitude {s['noise_amp']:.4f}, reconstruction RMSE {s['rec_rmse']:.4f}"
  )

# %% [markdown]
# ## Random samples
#
# From noise at every scale (`gen_start_scale=0`: new layouts), from a finer scale on (the coarse scales follow
# the reconstruction, so the layout stays and the details are new), and twice as wide (`scale_h=2`).

# %%
runs = [(f"gen_start_scale={s}", config.replace(gen_start_scale=s)) for s in GEN_START_SCALES]
runs.append(("twice as wide", config.replace(scale_h=2.0, num_samples=min(NUM_SAMPLES, 3))))
for title, run in runs:
  paths = singan_apps.MODES["random_samples"](run)
  fig, axes = plt.subplots(1, len(paths), figsize=(2.2 * len(paths) * run.scale_h, 2.2), squeeze=False)
  for ax, path in zip(axes[0], paths):
    ax.imshow(PILImage.open(path))
    ax.axis("off")
  fig.suptitle(title)
  plt.show()

# %% [markdown]
# ## Animation
#
# A random walk in the noise space from `ANIM_START_SCALE` on (the official `generate_gif`), as a GIF.

# %%
path = singan_apps.MODES["animation"](config)
display(Image(filename=path, width=300))

# %% [markdown]
# ## Harmonization
#
# The pasted image is downsampled to the scale before the injection scale, fed to the pyramid there, and the
# output blended back with the dilated, blurred mask. The lower the injection scale, the more of the pasted
# object is repainted in the image's strokes.

# %%
shown = [("training image", download.resolve_flag(IMAGE, flag="IMAGE", search=singan.IMAGE_SEARCH))]
shown.append(("pasted", download.resolve_flag(HARMONIZATION_REF, flag="REF", search=singan_apps.INPUT_SEARCH)))
for n in HARMONIZATION_SCALES:
  run = config.replace(ref_image=HARMONIZATION_REF, mask=HARMONIZATION_MASK, inject_scale=n)
  shown.append((f"injected at scale {n}", singan_apps.MODES["harmonization"](run)))
fig, axes = plt.subplots(1, len(shown), figsize=(3 * len(shown), 3))
for ax, (title, path) in zip(axes, shown):
  ax.imshow(PILImage.open(path).convert("RGB"))
  ax.set_title(title)
  ax.axis("off")
plt.show()

# %% [markdown]
# ## Editing
#
# A second pyramid, trained on `EDIT_IMAGE`; the edited copy (blocks moved) is injected and blended back with
# its mask.

# %%
edit_config = config.replace(image=EDIT_IMAGE, workdir=f"{WORKDIR}/{EDIT_IMAGE}")
singan_apps.MODES["train"](edit_config)
shown = [("edited input", download.resolve_flag(EDIT_REF, flag="REF", search=singan_apps.INPUT_SEARCH))]
for n in EDIT_SCALES:
  run = edit_config.replace(ref_image=EDIT_REF, mask=EDIT_MASK, inject_scale=n)
  shown.append((f"injected at scale {n}", singan_apps.MODES["editing"](run)))
fig, axes = plt.subplots(1, len(shown), figsize=(3 * len(shown), 3))
for ax, (title, path) in zip(axes, shown):
  ax.imshow(PILImage.open(path).convert("RGB"))
  ax.set_title(title)
  ax.axis("off")
plt.show()

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
# # jaxgan quickstart: DCGAN and a conditional GAN
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/jaxgan/blob/main/notebooks/quickstart.ipynb)
# (`OWNER` is a placeholder until the repository is public.)
#
# This notebook trains DCGAN (Radford et al. 2015) on Fashion-MNIST, shows its sample grids, walks its latent
# space (slerp and lerp strips) and does vector arithmetic on its latents; then it trains a conditional GAN
# (Mirza & Osindero 2014, with the matching-aware discriminator of Reed et al. 2016) and draws the classes one
# row each. Every cell calls the library (`jaxgan.methods.dcgan`, `jaxgan.methods.cgan`) exactly as
# `python experiments/dcgan.py --mode=...` does from a shell; every picture below is written by these cells.
#
# **Runtime.** On Colab choose *Runtime > Change runtime type > TPU* (or a GPU, or nothing: it runs on a CPU,
# slowly). The defaults of the parameters cell are the full runs: DCGAN as `experiments/flags/dcgan_fashion_mnist.flags`
# and the cGAN as the README's measured run (90.7% class agreement), with a batch of 128 instead of 100 so
# that it splits evenly over 8 TPU cores.
#
# **What CI runs.** `.ci/run` executes this notebook on a CPU with 8 fake devices and tiny parameters
# (`python -m tests.run_notebooks`): scikit-learn's embedded digits instead of Fashion-MNIST and a few
# steps, so its pictures are noise; it proves that every cell runs, not that the GANs learn.

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
# The full runs. CI replaces these values with tiny ones (papermill's "parameters" cell).
WORKDIR = "workdirs/quickstart"  # everything is written under here; a run whose folder exists resumes
DOWNLOADS = ["fashion_mnist"]  # fetched by name, as `python -m jaxgan.download fashion_mnist`
DATASET = "idx:fashion_mnist"  # or "digits": scikit-learn's 8x8 digits, embedded
BATCH_SIZE = 128  # global batch: split over the devices, so a multiple of their number
IMAGE_SIZE = 32  # DCGAN: a power of two, 16 or more
DCGAN_WIDTH = 64  # ngf and ndf
DCGAN_STEPS = 20_000
CGAN_IMAGE_SIZE = 28
CGAN_STEPS = 12_000
CLASSIFIER_STEPS = 1500  # the classifier that judges the cGAN's classes
EVAL_EVERY = 2000
EVAL_SAMPLES_PER_CLASS = 100
SAMPLE_EVERY = 1000
NUM_STRIPS = 8  # latent interpolation: strips (rows) ...
INTERPOLATION_STEPS = 10  # ... of this many images
ARITHMETIC_GROUPS = "0,1,2;3,4,5;6,7,8"  # sample-grid indices of A;B;C: mean(A) - mean(B) + mean(C)
GENERATE_CLASS = 7  # the cGAN class drawn at the end (Fashion-MNIST 7: sneaker)

# %%
import json

from IPython.display import Image, Markdown, display

from jaxgan import download
from jaxgan.methods import cgan, dcgan
from jaxgan.train import sharding

# The experiment scripts' mesh: one `data` axis over every device; each global batch is split over it.
mesh = sharding.make_mesh()
print(f"mesh {dict(mesh.shape)}: a batch of {BATCH_SIZE} is {BATCH_SIZE // mesh.size} images per device")
for name in DOWNLOADS:
  print(f"{name}: {download.fetch_entry(name)}")

# %% [markdown]
# ## DCGAN
#
# The paper's networks and optimiser (Adam 2e-4, beta1 0.5, N(0, 0.02) init, non-saturating loss) on 32x32
# grey images. `dcgan.MODES["train"]` is `python experiments/dcgan.py --mode=train`: it checks the workdir,
# restores or creates the state, and runs the one compiled `train_step` over the mesh, writing checkpoints,
# TensorBoard events and sample grids (`%load_ext tensorboard` then `%tensorboard --logdir WORKDIR` shows the
# curves).

# %%
dcgan_config = dcgan.Config(
  workdir=f"{WORKDIR}/dcgan",
  data_dir=f"{WORKDIR}/tfds",
  dataset=DATASET,
  image_size=IMAGE_SIZE,
  channels=1,
  ngf=DCGAN_WIDTH,
  ndf=DCGAN_WIDTH,
  batch_size=BATCH_SIZE,
  num_steps=DCGAN_STEPS,
  sample_every=SAMPLE_EVERY,
  checkpoint_every=SAMPLE_EVERY,
  log_every=100,
)
dcgan_state = dcgan.MODES["train"](dcgan_config)

# %% [markdown]
# The last sample grid, from the run's fixed latents (the same 64 latents at every step, row-major: index 0 is
# the top left image, 8 the first of the second row).

# %%
display(Image(filename=sorted(glob.glob(f"{WORKDIR}/dcgan/samples/step_*.png"))[-1], width=400))

# %% [markdown]
# ### Latent space
#
# Interpolation strips between random latents (`--mode=interpolate`): spherical (slerp, the default: latents
# drawn from a Gaussian lie near a sphere) and linear.

# %%
for kind in ("slerp", "lerp"):
  path = dcgan.MODES["interpolate"](
    dcgan_config.replace(interpolation=kind, num_strips=NUM_STRIPS, interpolation_steps=INTERPOLATION_STEPS)
  )
  display(Markdown(f"**{kind}** (`{path}`)"), Image(filename=path, width=500))

# %% [markdown]
# Vector arithmetic (`--mode=arithmetic`): the groups A, B and C are indices into the sample grid above. The
# strip shows the decoded means of A, B and C, then mean(A) - mean(B) + mean(C), then that result with four
# small perturbations, as in the DCGAN paper's "smiling woman - neutral woman + neutral man".

# %%
path = dcgan.MODES["arithmetic"](dcgan_config.replace(arithmetic_groups=ARITHMETIC_GROUPS))
display(Image(filename=path, width=500))

# %% [markdown]
# ## Conditional GAN
#
# The paper's MLP/maxout networks, trained with Adam 2e-4 and the matching-aware discriminator
# (`mismatch_weight=1`: real images with a wrong label count as fake), the setting that reached 90.7% class
# agreement in the README. A classifier trained here on the real training split judges the generated images of
# each class (`class_agreement` in `eval.json`).

# %%
cgan_config = cgan.Config(
  workdir=f"{WORKDIR}/cgan",
  data_dir=f"{WORKDIR}/tfds",
  dataset=DATASET,
  architecture="mlp",
  optimizer="adam",
  learning_rate=2e-4,
  mismatch_weight=1.0,
  image_size=CGAN_IMAGE_SIZE,
  channels=1,
  batch_size=BATCH_SIZE,
  num_steps=CGAN_STEPS,
  eval_every=EVAL_EVERY,
  eval_samples_per_class=EVAL_SAMPLES_PER_CLASS,
  classifier_steps=CLASSIFIER_STEPS,
  sample_every=SAMPLE_EVERY,
  checkpoint_every=SAMPLE_EVERY,
  log_every=100,
)
cgan.MODES["train"](cgan_config)
with open(f"{WORKDIR}/cgan/eval.json") as f:
  result = json.load(f)
print(
  f"step {result['step']}: the judge names the requested class for {100 * result['class_agreement']:.1f}% of the "
  f"samples (worst class {100 * result['class_agreement_worst_class']:.0f}%); the judge itself is right on "
  f"{100 * result['classifier_test_accuracy']:.1f}% of the real test images"
)

# %% [markdown]
# The last sample grid: row r holds class r, every row the same latents.

# %%
display(Image(filename=sorted(glob.glob(f"{WORKDIR}/cgan/samples/step_*.png"))[-1], width=400))

# %% [markdown]
# One class alone (`--mode=generate --class=R`), from the run's fixed latents.

# %%
path = cgan.MODES["generate"](cgan_config.replace(gen_class=GENERATE_CLASS))
display(Image(filename=path, width=300))

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
# # CycleGAN: the official horse2zebra generator in JAX, and a short unpaired run
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/jaxgan/blob/main/notebooks/cyclegan.ipynb)
# (`OWNER` is a placeholder until the repository is public.)
#
# First what the official CycleGAN Colab does, with jaxgan: get the horse2zebra test images and the official
# pretrained `horse2zebra` and `zebra2horse` generators (PyTorch `.pth` files) by name, import them as G_A and
# G_B of a jaxgan workdir (`--mode=import_torch`) and translate the test horses (`--mode=test`: horse |
# zebra | horse again, on an HTML page). Then a short CycleGAN run from scratch on a small unpaired set,
# Fashion-MNIST sneakers <-> ankle boots (the README's measured experiment), judged by a classifier.
#
# **Runtime.** On Colab choose *Runtime > Change runtime type > TPU* (or a GPU). The short run uses the
# README's settings (resnet_9blocks at width 32, 32x32 grey images, one epoch at the initial learning rate
# and one of decay) with a batch of 8 instead of 4, so that it splits over 8 TPU cores.
#
# **What CI runs.** horse2zebra and the official weights cannot be downloaded on the CI machine, so `.ci/run`
# executes this notebook (`python -m tests.run_notebooks`, a CPU with 8 fake devices) with stand-ins in the
# official PyTorch format (randomly initialised tiny ResNet generators written by
# `jaxgan.interop.to_torch_state_dict`, the function `--mode=export_torch` uses) applied to a few BSD68
# photos from the offline mirror, and a two-step run on scikit-learn's digits 3 <-> 8 without the judging
# classifier. Its pictures are noise: CI proves that every cell runs, not what the official generators do.

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
WORKDIR = "workdirs/cyclegan"  # everything is written under here
# fetched by name, as `python -m jaxgan.download NAME`
DOWNLOADS = ["horse2zebra", "cyclegan_horse2zebra_model", "cyclegan_zebra2horse_model", "fashion_mnist"]
# The pretrained generators: registered names or official .pth files (a single test model is a G_A or G_B).
PRETRAINED_G_A = "cyclegan_horse2zebra_model"
PRETRAINED_G_B = "cyclegan_zebra2horse_model"
PRETRAINED_NET_G = "resnet_9blocks"  # their architecture and width
PRETRAINED_NGF = 64
TEST_DATA = "horse2zebra"  # the images they translate: a registered name or a folder ...
TEST_SUBDIR = "testA"  # ... and its sub-folder ("" for none): the test horses
TEST_SIZE = 256  # inputs resized to this, as the official test script
NUM_TEST = 120  # horse2zebra has 120 test horses
ROWS_SHOWN = 8  # rows of each result page shown inline
# The short run.
IDX_DATA = "fashion_mnist"  # IDX files, a registered name or a folder; "" for scikit-learn's digits (embedded)
CLASS_A = 7  # the two domains: Fashion-MNIST's sneakers (7) and ankle boots (9)
CLASS_B = 9
CHANNELS = 1
NET_G = "resnet_9blocks"
NGF = 32
LOAD_SIZE = 36  # resize to 36, random 32x32 crop: the official 286 -> 256 scaled down
CROP_SIZE = 32
BATCH_SIZE = 8  # global batch, split over the devices (a multiple of their number)
NUM_DEVICES = 0  # 0: every device
N_EPOCHS = 1  # epochs at the initial learning rate, then epochs of linear decay
N_EPOCHS_DECAY = 1
NUM_STEPS = 0  # 0: the epochs above
EVAL_EVERY = 250
EVAL_IMAGES = 1000  # held-out images per domain judged at each evaluation
CLASSIFIER_STEPS = 2000  # the classifier that judges the translations
SAMPLE_EVERY = 250

# %%
import json

from IPython.display import HTML, Image, display

from jaxgan import download, visualize
from jaxgan.methods import cyclegan
from jaxgan.train import sharding

mesh = sharding.make_mesh(NUM_DEVICES or None)
print(f"mesh {dict(mesh.shape)}: a batch of {BATCH_SIZE} is {BATCH_SIZE // mesh.size} images per device")
for name in DOWNLOADS:
  print(f"{name}: {download.fetch_entry(name)}")

# %% [markdown]
# ## The official generators
#
# `--mode=import_torch` maps the official state_dicts onto jaxgan's ResNet generators (keys and shapes
# checked) and saves them as step 0 of a new workdir; `--mode=test --test_input=DIR --translate_with=G_A`
# then translates a folder of images with G_A and back with G_B.

# %%
test_input = download.resolve_flag(TEST_DATA, flag="TEST_DATA", kind="dir")
pretrained = cyclegan.Config(
  workdir=f"{WORKDIR}/horse2zebra",
  netG=PRETRAINED_NET_G,
  ngf=PRETRAINED_NGF,
  load_size=TEST_SIZE,
  crop_size=TEST_SIZE,
  num_devices=NUM_DEVICES,
  torch_G_A=PRETRAINED_G_A,
  torch_G_B=PRETRAINED_G_B,
  test_input=os.path.join(test_input, TEST_SUBDIR),
  translate_with="G_A",
  num_test=NUM_TEST,
)
if os.path.isdir(f"{pretrained.workdir}/checkpoints"):
  print(f"{pretrained.workdir} already holds checkpoints: not imported again")
else:
  cyclegan.MODES["import_torch"](pretrained)
page = cyclegan.MODES["test"](pretrained)
display(HTML(visualize.inline_html(page, max_rows=ROWS_SHOWN)))

# %% [markdown]
# ## A short run on a small unpaired set
#
# Domain A is every training sneaker, domain B every training ankle boot, never paired. Each step is the
# official one (G_A and G_B against the current discriminators with the cycle and identity losses, then D_A
# and D_B on images drawn through the two image pools, which live in the train state), compiled once and run
# with the batch split over the mesh. A classifier trained on the real labelled training split judges every
# held-out translation (`success_AtoB`: sneakers turned into what it calls an ankle boot).

# %%
classes = f"A={CLASS_A}:B={CLASS_B}"
config = cyclegan.Config(
  workdir=f"{WORKDIR}/short_run",
  data_dir=f"{WORKDIR}/tfds",
  dataset=f"idx-classes:{IDX_DATA}:{classes}" if IDX_DATA else f"digits-classes:{classes}",
  input_nc=CHANNELS,
  output_nc=CHANNELS,
  netG=NET_G,
  ngf=NGF,
  load_size=LOAD_SIZE,
  crop_size=CROP_SIZE,
  flip=False,
  batch_size=BATCH_SIZE,
  num_devices=NUM_DEVICES,
  n_epochs=N_EPOCHS,
  n_epochs_decay=N_EPOCHS_DECAY,
  num_steps=NUM_STEPS,
  num_test=EVAL_IMAGES,
  eval_every=EVAL_EVERY,
  classifier_steps=CLASSIFIER_STEPS,
  sample_every=SAMPLE_EVERY,
  checkpoint_every=SAMPLE_EVERY,
  log_every=10,
)
cyclegan.MODES["train"](config)
with open(f"{config.workdir}/eval.json") as f:
  result = json.load(f)
print(json.dumps(result, indent=1))

# %% [markdown]
# The last sample grid: rows of real A | G_A(A) | G_B(G_A(A)), then real B | G_B(B) | G_A(G_B(B)).

# %%
display(Image(filename=sorted(glob.glob(f"{config.workdir}/samples/step_*.png"))[-1], width=300))

# %% [markdown]
# `--mode=test` on the held-out images of both domains: translation and reconstruction of each.

# %%
page = cyclegan.MODES["test"](config.replace(num_test=ROWS_SHOWN))
display(HTML(visualize.inline_html(page)))

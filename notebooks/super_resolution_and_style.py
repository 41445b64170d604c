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
# # Super-resolution and style: SRResNet against bicubic, fast style transfer, Gatys
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/jaxgan/blob/main/notebooks/super_resolution_and_style.ipynb)
# (`OWNER` is a placeholder until the repository is public.)
#
# Three methods that share jaxgan's perceptual-loss machinery:
#
# 1. **SRResNet** (Ledig et al. 2017) x4, trained on crops of the BSD68 photos with the README's two-phase
#    recipe (small crops at a high learning rate, then the paper's 96x96 crops with frozen batch norm), then
#    scored on Set5 against bicubic upscaling with the literature's protocol (PSNR/SSIM on Y, 4 pixels shaved);
# 2. **fast style transfer** (Johnson et al. 2016): a transformation network trained on BSD68 photos to paint
#    them in the style of `candy.jpg`, then applied to a photo;
# 3. **Gatys et al.** (2016): the pixels of one image optimised (L-BFGS) against the same VGG16 objective.
#
# The style images, the content photo and Set5 are shipped with jaxgan; BSD68 and the VGG16 weights are
# fetched by name (`python -m jaxgan.download bsd68 vgg16`).
#
# **Runtime.** On Colab choose *Runtime > Change runtime type > TPU* (or a GPU). SRResNet and fast style
# transfer split their batches over the devices; Gatys optimises one image on one device.
#
# **What CI runs.** `.ci/run` executes this notebook (`python -m tests.run_notebooks`, a CPU with 8 fake
# devices) with a tiny SRResNet, one step per SR phase and of style training, two L-BFGS steps, 32 px
# content images, one Set5 image, and the Keras VGG16 weights (`vgg16_keras`) from the offline mirror instead
# of torchvision's: its pictures and scores mean nothing; CI proves that every cell runs.

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
WORKDIR = "workdirs/sr_and_style"  # everything is written under here
DOWNLOADS = ["bsd68", "vgg16"]  # fetched by name, as `python -m jaxgan.download bsd68 vgg16`
VGG_WEIGHTS = "vgg16"  # torchvision's VGG16 (reading it needs PyTorch), or "vgg16_keras" (needs h5py)
NUM_DEVICES = 0  # 0: every device
# SRResNet x4: phase 1 (small crops, high learning rate), phase 2 (the paper's crops, frozen batch norm).
SR_DATASET = "bsd68"  # HR training photos: a registered name or a folder
SR_EVAL = "set5"  # HR images scored during training and by the test (shipped)
SR_NUM_TEST = 0  # score the first N images of SR_EVAL; 0: all
SR_CHANNELS = 64  # G's width and residual blocks (the paper: 64 and 16)
SR_BLOCKS = 16
SR_PHASE1_CROP = 48
SR_PHASE1_BATCH = 16
SR_PHASE1_LR = 5e-4
SR_PHASE1_STEPS = 3000
SR_PHASE2_CROP = 96
SR_PHASE2_BATCH = 8
SR_PHASE2_LR = 1e-4
SR_PHASE2_DECAY = 720  # learning rate x0.1 after this many steps of phase 2
SR_PHASE2_STEPS = 1000
SR_EVAL_EVERY = 500
ROWS_SHOWN = 2  # rows of the Set5 result page shown inline (each row is about 1.7 MB of PNGs)
# Fast style transfer.
STYLE_IMAGE = "candy"  # shipped: candy, mosaic, rain-princess, udnie
STYLE_SIZE = 0  # longer side of the style image; 0: its own size (as the PyTorch example)
STYLE_CONTENT = "bsd68"  # training photos
STYLE_IMAGE_SIZE = 256
STYLE_BATCH = 8
STYLE_STEPS = 2000  # the paper: 40,000 of batch 4
STYLIZE_INPUT = "amber"  # the photo stylised after training (shipped), resized to STYLIZE_SIZE
STYLIZE_SIZE = 512
# Gatys.
GATYS_CONTENT = "amber"
GATYS_SIZE = 512  # longer side of the optimised image
GATYS_STEPS = 300  # L-BFGS iterations

# %%
import json

import matplotlib.pyplot as plt
from IPython.display import HTML, Image, Markdown, display
from PIL import Image as PILImage

from jaxgan import download, visualize
from jaxgan.methods import gatys, sr, style_transfer
from jaxgan.train import sharding

mesh = sharding.make_mesh(NUM_DEVICES or None)
print(f"mesh {dict(mesh.shape)}: a batch of {SR_PHASE1_BATCH} is {SR_PHASE1_BATCH // mesh.size} crops per device")
for name in DOWNLOADS:
  print(f"{name}: {download.fetch_entry(name)}")

# %% [markdown]
# ## SRResNet x4 against bicubic
#
# Phase 1 trains from scratch on 48x48 HR crops (12x12 LR inputs) at a high learning rate; phase 2 starts
# from phase 1's generator (`init_from`) on the paper's 96x96 crops with batch norm frozen at its running
# statistics (`freeze_bn`), which removes the brightness offset that the batch statistics of small crops
# leave at inference (README, "SRResNet in 30 minutes of this CPU"). LR images are made by MATLAB's bicubic.

# %%
common = dict(
  dataset=SR_DATASET,
  eval_dir=SR_EVAL,
  num_test=SR_NUM_TEST,
  generator="srresnet",
  loss="mse",
  scale=4,
  channels=SR_CHANNELS,
  n_blocks=SR_BLOCKS,
  num_devices=NUM_DEVICES,
  eval_every=SR_EVAL_EVERY,
  sample_every=SR_EVAL_EVERY,
  checkpoint_every=SR_EVAL_EVERY,
  log_every=10,
)
phase1 = sr.Config(
  workdir=f"{WORKDIR}/srresnet_phase1",
  crop_size=SR_PHASE1_CROP,
  batch_size=SR_PHASE1_BATCH,
  learning_rate=SR_PHASE1_LR,
  num_steps=SR_PHASE1_STEPS,
  **common,
)
phase1_state = sr.MODES["train"](phase1)
phase2 = sr.Config(
  workdir=f"{WORKDIR}/srresnet_phase2",
  init_from=phase1.workdir,
  crop_size=SR_PHASE2_CROP,
  batch_size=SR_PHASE2_BATCH,
  learning_rate=SR_PHASE2_LR,
  lr_decay_steps=SR_PHASE2_DECAY,
  freeze_bn=True,
  num_steps=SR_PHASE2_STEPS,
  **common,
)
phase2_state = sr.MODES["train"](phase2)

# %% [markdown]
# `--mode=test` super-resolves every Set5 image from its bicubic-downscaled LR and scores SRResNet and bicubic
# upscaling on the same images.

# %%
page = sr.MODES["test"](phase2)
with open(os.path.join(os.path.dirname(page), "metrics.json")) as f:
  metrics = json.load(f)
table = ["| image | PSNR (dB): bicubic | SRResNet | SSIM: bicubic | SRResNet |", "|---|---:|---:|---:|---:|"]
for name, m in [*metrics["per_image"].items(), ("**mean**", metrics)]:
  bicubic = m["bicubic"]
  table.append(f"| {name} | {bicubic['psnr']:.2f} | {m['psnr']:.2f} | {bicubic['ssim']:.4f} | {m['ssim']:.4f} |")
display(Markdown("\n".join(table)))
display(HTML(visualize.inline_html(page, max_rows=ROWS_SHOWN)))

# %% [markdown]
# ## Fast style transfer
#
# The transformation network (1,679,235 parameters) learns to minimise the VGG16 content loss against each
# photo plus the Gram style loss against the style image (the PyTorch example's layers and weights). The sample
# grids hold content | stylised rows.

# %%
style_config = style_transfer.Config(
  workdir=f"{WORKDIR}/style_{STYLE_IMAGE}",
  content_dir=STYLE_CONTENT,
  style_image=STYLE_IMAGE,
  style_size=STYLE_SIZE,
  vgg_weights=VGG_WEIGHTS,
  image_size=STYLE_IMAGE_SIZE,
  crop="random",
  batch_size=STYLE_BATCH,
  num_devices=NUM_DEVICES,
  num_steps=STYLE_STEPS,
  sample_every=500,
  checkpoint_every=500,
  log_every=10,
)
style_transfer.MODES["train"](style_config)
display(Image(filename=sorted(glob.glob(f"{style_config.workdir}/samples/step_*.png"))[-1], width=400))

# %% [markdown]
# The trained network applied to a photo it has not seen (`--mode=stylize`), with the content and style losses
# of the photo itself ("before") and of its stylised version ("after").

# %%
photo = download.resolve_flag(STYLIZE_INPUT, flag="STYLIZE_INPUT", search=style_transfer.CONTENT_SEARCH)
resized = f"{WORKDIR}/{os.path.splitext(os.path.basename(photo))[0]}{STYLIZE_SIZE}.png"
PILImage.open(photo).convert("RGB").resize((STYLIZE_SIZE, STYLIZE_SIZE), PILImage.BICUBIC).save(resized)
losses = style_transfer.MODES["stylize"](style_config.replace(input=resized, overwrite=True))
with open(losses) as f:
  stylized = json.load(f)["images"][0]
print(json.dumps({k: stylized[k] for k in ("before", "after") if k in stylized}, indent=1))
style = download.resolve_flag(STYLE_IMAGE, flag="STYLE_IMAGE", search=style_transfer.STYLE_SEARCH)
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
for ax, (title, path) in zip(axes, (("content", resized), ("style", style), ("stylised", stylized["output"]))):
  ax.imshow(PILImage.open(path).convert("RGB"))
  ax.set_title(title)
  ax.axis("off")
plt.show()

# %% [markdown]
# ## Gatys et al.: optimising the pixels
#
# The same objective, minimised over the pixels of one image by L-BFGS from white noise (the paper's method),
# with the same checkpointing loop as the trained methods.

# %%
gatys_config = gatys.Config(
  workdir=f"{WORKDIR}/gatys_{STYLE_IMAGE}",
  content_image=GATYS_CONTENT,
  style_image=STYLE_IMAGE,
  style_size=STYLE_SIZE,
  vgg_weights=VGG_WEIGHTS,
  image_size=GATYS_SIZE,
  num_steps=GATYS_STEPS,
  sample_every=100,
  checkpoint_every=100,
  log_every=10,
  overwrite=True,
)
result = gatys.MODES["train"](gatys_config)
print(f"weighted terms before {result['before']}\nafter {result['after']}")
content = download.resolve_flag(GATYS_CONTENT, flag="GATYS_CONTENT", search=style_transfer.CONTENT_SEARCH)
fig, axes = plt.subplots(1, 3, figsize=(12, 4))
for ax, (title, path) in zip(axes, (("content", content), ("style", style), ("Gatys", result["output"]))):
  ax.imshow(PILImage.open(path).convert("RGB"))
  ax.set_title(title)
  ax.axis("off")
plt.show()

"""The PyTorch training step of each method, as the official PyTorch code runs it.

    from torch_steps import make
    s = make("pix2pix")                  # jaxgan's pix2pix.Config() defaults
    s = make("dcgan", image_size=16, ngf=8, ndf=8, batch_size=4, device="cpu")
    s.step()                             # one full training iteration on a fixed random batch

For ``benchmarks/vs_pytorch.py``, which times each next to jaxgan's compiled step.
``make(method, seed=0, **overrides)`` builds the official networks (:mod:`tests.torch_nets`),
their official initialisation, losses and optimisers, and a fixed random batch of the
method's shape on ``device`` (default ``cuda`` when available, else ``cpu``), and returns a
:class:`TorchStep` whose ``step()`` runs one iteration: every D and G update of it, in the
official order, synchronised (``torch.cuda.synchronize``) before it returns. ``params``
counts the trainable parameters of the networks the step updates (frozen VGGs not
included); ``info`` records the setting.

Every default is jaxgan's own (the ``Config`` of ``jaxgan/methods/<method>.py``, checked by
``tests/test_torch_nets.py``); the override names are those Config fields (plus ``device``;
``num_downs`` for pix2pix, ``n_blocks`` for CycleGAN, the network widths where a test needs
small ones, and SinGAN's coarser scales: ``shapes``, ``widths``, ``noise_amps``). Methods:

* ``pix2pix``: ``Pix2PixModel.optimize_parameters`` (junyanz/pytorch-CycleGAN-and-pix2pix):
  unet_256 G (batch norm, dropout 0.5), 70x70 PatchGAN D on ``cat(A, B)``, ``init_type
  normal`` 0.02, vanilla GAN loss (``BCEWithLogitsLoss``), lambda_L1 100, Adam 2e-4 (0.5,
  0.999), 256x256, batch 1.
* ``cyclegan``: ``CycleGANModel.optimize_parameters``: two resnet_9blocks G, two PatchGAN D,
  instance norm, lsgan (``MSELoss``), lambda_A = lambda_B = 10, lambda_identity 0.5, image
  pools of 50 (the official ``ImagePool`` behaviour), one Adam over both G and one over
  both D, 256x256, batch 1.
* ``dcgan``: pytorch/examples ``dcgan/main.py``: 64x64x3, nz 100, ngf = ndf = 64, Sigmoid +
  ``BCELoss``, Adam 2e-4 (0.5, 0.999), batch 128.
* ``singan``: tamarott/SinGAN ``train_single_scale``, one iteration at one scale (3 critic
  steps with the per-pixel WGAN-GP, weight 0.1; 3 generator steps with the alpha = 10
  reconstruction MSE), Adam 5e-4 (0.5, 0.999) with the ``MultiStepLR`` schedulers. Default:
  the finest scale of the default pyramid of a 188x250 image (jaxgan's max_size 250; 128
  channels there); ``coarsest=True`` gives the coarsest scale's iteration (one-channel noise,
  zero ``prev``). ``shapes`` (the (H, W) of scales 0..n, the last this scale's), ``widths``
  ((nfc, min_nfc) per scale; default this scale's for all) and ``noise_amps`` (per scale;
  default 0.1 each, this scale's included) add the coarser scales as jaxgan's step runs them:
  frozen generators (official init, eval mode: batch-norm running statistics, as jaxgan's
  ``train=False``; ``requires_grad_(False)``) run by ``draw_concat`` 'rand' (fresh noise at every
  coarser scale, one channel at scale 0) under ``torch.no_grad()`` in every critic step, and
  'rec' (fixed ``z_opt`` at scale 0, zeros above) once at construction, as jaxgan stores
  ``rec_prev`` in the scale's state (the official code also draws it once per scale). Between
  scales the image is clipped to [-1, 1] and resized by ``F.interpolate(mode='bicubic')`` to
  the next shape: cheaper than the official (and jaxgan's) MATLAB-bicubic ``imresize``,
  which the official code runs in numpy on the CPU, so PyTorch is, if anything, favoured.
  Without ``shapes`` the coarser scales' images are fixed tensors: the step times this
  scale's networks only. The generator steps are reordered to run on current PyTorch (see
  ``_singan``).
* ``srresnet`` / ``srgan``: SRResNet x4 (16 blocks, 64 channels) with MSE, or SRGAN (+ its
  discriminator, a VGG16 relu4_3 content loss on features rescaled by 1/12.75 and 1e-3 times
  the adversarial loss), Adam 1e-4 (0.9, 0.999), HR crops 96x96 (LR 24x24), batch 16:
  jaxgan's ``sr.Config`` defaults (there is no official PyTorch code; the step is jaxgan's).
* ``style``: pytorch/examples ``fast_neural_style``: TransformerNet (+ tanh, jaxgan's default
  ``g_output``; ``g_output="none"`` is the example's linear output on 0..255 images), VGG16
  relu1_2 / relu2_2 / relu3_3 / relu4_3, content weight 1e5, style weight 1e10, Adam 1e-3,
  256x256, batch 4.

VGG weights are random (the timing does not depend on them). The DCGAN example sets
``torch.backends.cudnn.benchmark = True``; this module leaves such global switches to the
caller.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import random
import sys
from typing import Any, Callable

import torch
from torch import nn

# Importable as ``benchmarks/torch_steps.py`` from the repository root: tests.torch_nets.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests import torch_nets as tn  # noqa: E402


@dataclasses.dataclass
class TorchStep:
  name: str
  step: Callable[[], None]  # one full training iteration on the fixed batch; synchronous
  params: int  # trainable parameters of all networks updated by the step
  info: dict  # the setting: image size, batch, widths, etc.


# Per method: every override it accepts and its default (jaxgan's Config defaults).
_TRANSLATION = {
  "crop_size": 256,
  "batch_size": 1,
  "input_nc": 3,
  "output_nc": 3,
  "ngf": 64,
  "ndf": 64,
  "n_layers_D": 3,
  "learning_rate": 2e-4,
  "beta1": 0.5,
  "beta2": 0.999,
}
DEFAULTS: dict[str, dict[str, Any]] = {
  "pix2pix": {
    **_TRANSLATION,
    "num_downs": 8,
    "norm": "batch",
    "dropout": True,
    "gan_mode": "vanilla",
    "lambda_L1": 100.0,
  },
  "cyclegan": {
    **_TRANSLATION,
    "n_blocks": 9,
    "norm": "instance",
    "dropout": False,
    "gan_mode": "lsgan",
    "lambda_A": 10.0,
    "lambda_B": 10.0,
    "lambda_identity": 0.5,
    "pool_size": 50,
  },
  "dcgan": {
    "image_size": 64,
    "channels": 3,
    "nz": 100,
    "ngf": 64,
    "ndf": 64,
    "batch_size": 128,
    "learning_rate": 2e-4,
    "beta1": 0.5,
    "beta2": 0.999,
  },
  "singan": {
    "height": 188,
    "width": 250,
    "nfc": 128,
    "min_nfc": 128,
    "coarsest": False,
    "lr_g": 5e-4,
    "lr_d": 5e-4,
    "beta1": 0.5,
    "beta2": 0.999,
    "lr_milestone": 1600,
    "lr_gamma": 0.1,
    "d_steps": 3,
    "g_steps": 3,
    "gp_weight": 0.1,
    "alpha": 10.0,
    "noise_amp": 0.1,
    "shapes": None,
    "widths": None,
    "noise_amps": None,
  },
  "srresnet": {
    "scale": 4,
    "crop_size": 96,
    "batch_size": 16,
    "channels": 64,
    "n_blocks": 16,
    "prelu_per_channel": False,
    "learning_rate": 1e-4,
    "beta1": 0.9,
    "beta2": 0.999,
  },
  "style": {
    "image_size": 256,
    "batch_size": 4,
    "channels": 32,
    "n_blocks": 5,
    "g_output": "tanh",
    "learning_rate": 1e-3,
    "beta1": 0.9,
    "beta2": 0.999,
    "content_weight": 1e5,
    "style_weight": 1e10,
    "tv_weight": 0.0,
    "content_layers": ("relu2_2",),
    "style_layers": ("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
    "vgg_depth": 16,
  },
}
DEFAULTS["srgan"] = {
  **DEFAULTS["srresnet"],
  "d_channels": 64,
  "content_layer": "relu4_3",
  "vgg_depth": 16,
  "vgg_rescale": 1 / 12.75,
  "adversarial_weight": 1e-3,
}
for _defaults in DEFAULTS.values():
  _defaults["device"] = None  # None: cuda when available, else cpu
METHODS = tuple(DEFAULTS)


# -- shared pieces ------------------------------------------------------------------------------


def _device(config: dict) -> torch.device:
  return torch.device(config["device"] or ("cuda" if torch.cuda.is_available() else "cpu"))


def _synchronizer(device: torch.device) -> Callable[[], None]:
  if device.type == "cuda":
    return lambda: torch.cuda.synchronize(device)
  return lambda: None


def _adam(params, lr: float, beta1: float, beta2: float) -> torch.optim.Adam:
  return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2))


def _uniform(shape, generator: torch.Generator, device, low: float = -1.0, high: float = 1.0) -> torch.Tensor:
  return (low + (high - low) * torch.rand(shape, generator=generator)).to(device)


def trainable(*nets: nn.Module) -> int:
  return sum(p.numel() for net in nets for p in net.parameters() if p.requires_grad)


def set_requires_grad(nets, requires_grad: bool) -> None:
  """The official ``BaseModel.set_requires_grad``."""
  for net in nets:
    for p in net.parameters():
      p.requires_grad = requires_grad


class GANLoss(nn.Module):
  """The official ``GANLoss`` for ``vanilla`` (BCEWithLogits) and ``lsgan`` (MSE): the target
  is a constant expanded to the prediction's shape."""

  def __init__(self, gan_mode: str):
    super().__init__()
    self.register_buffer("real_label", torch.tensor(1.0))
    self.register_buffer("fake_label", torch.tensor(0.0))
    losses = {"vanilla": nn.BCEWithLogitsLoss, "lsgan": nn.MSELoss}
    if gan_mode not in losses:
      raise ValueError(f"gan_mode must be one of {sorted(losses)}, got {gan_mode!r}")
    self.loss = losses[gan_mode]()

  def forward(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
    target = self.real_label if target_is_real else self.fake_label
    return self.loss(prediction, target.expand_as(prediction))


class ImagePool:
  """The official ``ImagePool``: the first ``size`` fakes are stored and returned; after that
  each fake is, with probability 1/2, swapped with a random stored one (which is returned)."""

  def __init__(self, size: int, rng: random.Random):
    self.size = size
    self.rng = rng
    self.images: list[torch.Tensor] = []

  def query(self, images: torch.Tensor) -> torch.Tensor:
    if self.size == 0:
      return images
    out = []
    for image in images.detach():
      image = image.unsqueeze(0)
      if len(self.images) < self.size:
        self.images.append(image)
        out.append(image)
      elif self.rng.uniform(0, 1) > 0.5:
        i = self.rng.randint(0, self.size - 1)
        out.append(self.images[i].clone())
        self.images[i] = image
      else:
        out.append(image)
    return torch.cat(out, 0)


# -- pix2pix and CycleGAN --------------------------------------------------------------------------


def _pix2pix(c: dict, seed: int, device: torch.device):
  norm = tn.get_norm_layer(c["norm"])
  G = tn.UnetGenerator(
    c["input_nc"], c["output_nc"], c["num_downs"], ngf=c["ngf"], norm_layer=norm, use_dropout=c["dropout"]
  )
  D = tn.NLayerDiscriminator(c["input_nc"] + c["output_nc"], ndf=c["ndf"], n_layers=c["n_layers_D"], norm_layer=norm)
  for net in (G, D):
    tn.init_weights(net, 0.02).to(device).train()
  opt_G = _adam(G.parameters(), c["learning_rate"], c["beta1"], c["beta2"])
  opt_D = _adam(D.parameters(), c["learning_rate"], c["beta1"], c["beta2"])
  criterion_gan = GANLoss(c["gan_mode"]).to(device)
  criterion_l1 = nn.L1Loss()
  gen = torch.Generator().manual_seed(seed)
  n, s = c["batch_size"], c["crop_size"]
  real_A = _uniform((n, c["input_nc"], s, s), gen, device)
  real_B = _uniform((n, c["output_nc"], s, s), gen, device)
  sync = _synchronizer(device)

  def step():
    # forward(): one dropout mask, shared by D's and G's updates.
    fake_B = G(real_A)
    # D: fake (detached) then real, the loss halved (backward_D).
    set_requires_grad([D], True)
    opt_D.zero_grad()
    loss_D_fake = criterion_gan(D(torch.cat((real_A, fake_B), 1).detach()), False)
    loss_D_real = criterion_gan(D(torch.cat((real_A, real_B), 1)), True)
    ((loss_D_fake + loss_D_real) * 0.5).backward()
    opt_D.step()
    # G against the updated D, whose parameters take no gradient (backward_G).
    set_requires_grad([D], False)
    opt_G.zero_grad()
    loss_G_GAN = criterion_gan(D(torch.cat((real_A, fake_B), 1)), True)
    loss_G_L1 = criterion_l1(fake_B, real_B) * c["lambda_L1"]
    (loss_G_GAN + loss_G_L1).backward()
    opt_G.step()
    sync()

  info = {"G": f"unet (num_downs {c['num_downs']})", "D": f"PatchGAN (n_layers {c['n_layers_D']})"}
  return step, {"G": G, "D": D}, info


def _cyclegan(c: dict, seed: int, device: torch.device):
  norm = tn.get_norm_layer(c["norm"])
  a, b = c["input_nc"], c["output_nc"]

  def generator(cin, cout):
    return tn.TorchResnetGenerator(
      cin, cout, ngf=c["ngf"], norm_layer=norm, use_dropout=c["dropout"], n_blocks=c["n_blocks"]
    )

  def discriminator(cin):
    return tn.NLayerDiscriminator(cin, ndf=c["ndf"], n_layers=c["n_layers_D"], norm_layer=norm)

  nets = {"G_A": generator(a, b), "G_B": generator(b, a), "D_A": discriminator(b), "D_B": discriminator(a)}
  for net in nets.values():
    tn.init_weights(net, 0.02).to(device).train()
  G_A, G_B, D_A, D_B = nets["G_A"], nets["G_B"], nets["D_A"], nets["D_B"]
  opt_G = _adam(itertools.chain(G_A.parameters(), G_B.parameters()), c["learning_rate"], c["beta1"], c["beta2"])
  opt_D = _adam(itertools.chain(D_A.parameters(), D_B.parameters()), c["learning_rate"], c["beta1"], c["beta2"])
  criterion_gan = GANLoss(c["gan_mode"]).to(device)
  criterion_l1 = nn.L1Loss()  # criterionCycle and criterionIdt
  rng = random.Random(seed)
  pool_A, pool_B = ImagePool(c["pool_size"], rng), ImagePool(c["pool_size"], rng)
  gen = torch.Generator().manual_seed(seed)
  n, s = c["batch_size"], c["crop_size"]
  real_A = _uniform((n, a, s, s), gen, device)
  real_B = _uniform((n, b, s, s), gen, device)
  lambda_A, lambda_B, lambda_idt = c["lambda_A"], c["lambda_B"], c["lambda_identity"]
  sync = _synchronizer(device)

  def backward_D_basic(D, real, fake):
    loss_real = criterion_gan(D(real), True)
    loss_fake = criterion_gan(D(fake.detach()), False)
    loss = (loss_real + loss_fake) * 0.5
    loss.backward()
    return loss

  def step():
    # forward()
    fake_B = G_A(real_A)
    rec_A = G_B(fake_B)
    fake_A = G_B(real_B)
    rec_B = G_A(fake_A)
    # G_A and G_B, the Ds' parameters without gradients (backward_G)
    set_requires_grad([D_A, D_B], False)
    opt_G.zero_grad()
    loss_G = 0.0
    if lambda_idt > 0:
      loss_G = (
        criterion_l1(G_A(real_B), real_B) * lambda_B * lambda_idt
        + criterion_l1(G_B(real_A), real_A) * lambda_A * lambda_idt
      )
    loss_G = (
      loss_G
      + criterion_gan(D_A(fake_B), True)
      + criterion_gan(D_B(fake_A), True)
      + criterion_l1(rec_A, real_A) * lambda_A
      + criterion_l1(rec_B, real_B) * lambda_B
    )
    loss_G.backward()
    opt_G.step()
    # D_A on (real B, pooled fake B), D_B on (real A, pooled fake A)
    set_requires_grad([D_A, D_B], True)
    opt_D.zero_grad()
    backward_D_basic(D_A, real_B, pool_B.query(fake_B))
    backward_D_basic(D_B, real_A, pool_A.query(fake_A))
    opt_D.step()
    sync()

  info = {"G": f"resnet ({c['n_blocks']} blocks) x2", "D": f"PatchGAN (n_layers {c['n_layers_D']}) x2"}
  return step, nets, info


# -- DCGAN ---------------------------------------------------------------------------------------


def _dcgan(c: dict, seed: int, device: torch.device):
  G = tn.DCGANGenerator(nz=c["nz"], ngf=c["ngf"], nc=c["channels"], image_size=c["image_size"])
  D = tn.DCGANDiscriminator(nc=c["channels"], ndf=c["ndf"], image_size=c["image_size"])
  for net in (G, D):
    net.apply(tn.dcgan_weights_init)
    net.to(device).train()
  opt_G = _adam(G.parameters(), c["learning_rate"], c["beta1"], c["beta2"])
  opt_D = _adam(D.parameters(), c["learning_rate"], c["beta1"], c["beta2"])
  # The example's D ends with a Sigmoid and is trained with BCELoss. jaxgan's D returns logits
  # and its losses are softplus terms (BCE with logits): the same values and gradients, a few
  # elementwise operations apart.
  criterion = nn.BCELoss()
  gen = torch.Generator().manual_seed(seed)
  n, nz = c["batch_size"], c["nz"]
  real = _uniform((n, c["channels"], c["image_size"], c["image_size"]), gen, device)
  sync = _synchronizer(device)

  # The example's iteration (its .item() calls for logging left out). It generates the fakes
  # once: D is updated on them detached, then G through the same forward pass, with D's
  # parameters still requiring gradients (the example computes them and zeroes them at the next
  # D update). jaxgan's step differs in work, not in what it optimises: its D update draws the
  # fakes with a forward pass of G, its G update draws new noise and runs G again, and it never
  # computes D's parameter gradients in the G update.
  def step():
    D.zero_grad()
    label = torch.full((n,), 1.0, device=device)
    errD_real = criterion(D(real), label)
    errD_real.backward()
    noise = torch.randn(n, nz, 1, 1, device=device)
    fake = G(noise)
    label.fill_(0.0)
    errD_fake = criterion(D(fake.detach()), label)
    errD_fake.backward()
    opt_D.step()
    G.zero_grad()
    label.fill_(1.0)
    errG = criterion(D(fake), label)
    errG.backward()
    opt_G.step()
    sync()

  return step, {"G": G, "D": D}, {"G": "DCGAN generator", "D": "DCGAN discriminator"}


# -- SinGAN ----------------------------------------------------------------------------------------

SINGAN_PAD = 5  # ((ker_size - 1) * num_layer) / 2: the official m_noise / m_image zero padding


def _singan_gradient_penalty(D: nn.Module, real: torch.Tensor, fake: torch.Tensor, weight: float) -> torch.Tensor:
  """The official ``calc_gradient_penalty``: one mixing weight for the image, the norm over the
  channels at every pixel, the penalty averaged over the pixels, times ``weight``.

  The official code wraps the mixture in ``Variable(..., requires_grad=True)``, which makes it
  a new leaf (no gradient reaches G through it): written here as ``detach().requires_grad_()``.
  """
  eps = torch.rand(1, 1, device=real.device).expand(real.size())
  mixed = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
  out = D(mixed)
  grads = torch.autograd.grad(
    outputs=out, inputs=mixed, grad_outputs=torch.ones_like(out), create_graph=True, retain_graph=True, only_inputs=True
  )[0]
  return ((grads.norm(2, dim=1) - 1) ** 2).mean() * weight


def _singan(c: dict, seed: int, device: torch.device):
  kw = {"nfc": c["nfc"], "min_nfc": c["min_nfc"]}
  G = tn.GeneratorConcatSkip2CleanAdd(**kw)
  D = tn.WDiscriminator(**kw)
  for net in (G, D):
    net.apply(tn.singan_weights_init)
    net.to(device).train()
  opt_D = _adam(D.parameters(), c["lr_d"], c["beta1"], c["beta2"])
  opt_G = _adam(G.parameters(), c["lr_g"], c["beta1"], c["beta2"])
  sched_D = torch.optim.lr_scheduler.MultiStepLR(opt_D, milestones=[c["lr_milestone"]], gamma=c["lr_gamma"])
  sched_G = torch.optim.lr_scheduler.MultiStepLR(opt_G, milestones=[c["lr_milestone"]], gamma=c["lr_gamma"])
  pad = nn.ZeroPad2d(SINGAN_PAD)  # m_noise and m_image
  mse = nn.MSELoss()
  gen = torch.Generator().manual_seed(seed)
  h, w = c["height"], c["width"]
  real = _uniform((1, 3, h, w), gen, device)
  coarsest = c["coarsest"]
  alpha, d_steps, g_steps = c["alpha"], c["d_steps"], c["g_steps"]
  # The reconstruction noise z_opt is zero above the coarsest scale; at the coarsest scale the
  # official code redraws it every iteration (below).
  z_opt = pad(torch.zeros(1, 3, h, w, device=device))
  draw = None  # draw_concat 'rand' of the frozen coarser scales, when ``shapes`` is given
  if c["shapes"] is not None:
    draw, rec_prev, amp = _singan_coarser_scales(c, gen, device, pad)
    # z_prev (jaxgan's rec_prev): fixed; prev: redrawn in every critic step (zeros at scale 0).
    prev = z_prev = pad(rec_prev)
  elif coarsest:  # Gs == []: prev and z_prev are zeros, noise_amp is 1
    prev = z_prev = pad(torch.zeros(1, 3, h, w, device=device))
    amp = 1.0
  else:
    # draw_concat(..., 'rand') runs the frozen coarser generators on fresh noise in every
    # critic step, and draw_concat(..., 'rec') once per scale: here both are fixed images
    # (random stand-ins for the coarser scales' outputs), so the step times this scale's
    # networks alone. noise_amp = noise_amp_init * RMSE(real, z_prev), as at the official
    # first iteration of a scale.
    prev = pad(torch.clamp(real + 0.2 * torch.randn(real.shape, generator=gen).to(device), -1, 1))
    z_prev = pad(torch.clamp(real + 0.1 * torch.randn(real.shape, generator=gen).to(device), -1, 1))
    inner = (..., slice(SINGAN_PAD, -SINGAN_PAD), slice(SINGAN_PAD, -SINGAN_PAD))
    amp = c["noise_amp"] * torch.sqrt(mse(real, z_prev[inner])).item()
  g_params = list(G.parameters())
  sync = _synchronizer(device)

  def coarsest_noise():
    return pad(torch.randn(1, 1, h, w, device=device).expand(1, 3, h, w))

  def step():
    nonlocal z_opt, prev
    if coarsest:
      z_opt = coarsest_noise()
      noise_ = coarsest_noise()
    else:
      noise_ = pad(torch.randn(1, 3, h, w, device=device))
    # (1) critic: maximise D(x) - D(G(z)) - penalty, d_steps times
    for _ in range(d_steps):
      D.zero_grad()
      errD_real = -D(real).mean()
      errD_real.backward()
      if draw is not None:
        prev = pad(draw())
      noise = noise_ if coarsest else amp * noise_ + prev
      fake = G(noise.detach(), prev)
      errD_fake = D(fake.detach()).mean()
      errD_fake.backward()
      gradient_penalty = _singan_gradient_penalty(D, real, fake, c["gp_weight"])
      gradient_penalty.backward()
      opt_D.step()
    # (2) generator: -D(fake) + alpha * MSE(G(Z_opt, z_prev), real), g_steps times.
    # The official loop back-propagates -D(fake) through the last critic step's fake in every
    # generator step (retain_graph=True). From the second step on, that graph needs G's
    # weights as they were before the first optimizerG.step(), which updated them in place;
    # current PyTorch (optimisers write parameters under no_grad, which bumps the version
    # counters autograd checks) raises "one of the variables needed for gradient computation
    # has been modified by an inplace operation: [torch.FloatTensor [3, nfc, 3, 3]]" (G's
    # tail convolution). Fix, by reordering: the adversarial gradient w.r.t. G's parameters
    # is computed once, after the critic steps and before the first generator update, and
    # added to each generator step's reconstruction gradient. Where old PyTorch let the official
    # loop run, it computed nearly that gradient in each step (the same D and fake; the stale
    # graph read the updated weights); jaxgan's default --g_adv_grad=official does exactly
    # this. So -D(fake) runs forward and backward once per
    # iteration instead of g_steps times, and D's parameter gradients, which the official code
    # computed there and then discarded, are not computed.
    adv_grads = torch.autograd.grad(-D(fake).mean(), g_params)
    for _ in range(g_steps):
      G.zero_grad()
      if alpha != 0:
        Z_opt = amp * z_opt + z_prev
        rec_loss = alpha * mse(G(Z_opt.detach(), z_prev), real)
        rec_loss.backward()
      for p, g in zip(g_params, adv_grads):
        if p.grad is None:
          p.grad = g.clone()
        else:
          p.grad.add_(g)
      opt_G.step()
    sched_D.step()
    sched_G.step()
    sync()

  if draw is not None:
    prev_info = (
      f"draw_concat 'rand' through {len(c['shapes']) - 1} frozen generator(s) in every critic "
      "step (F.interpolate bicubic between scales); 'rec' once at construction"
    )
  else:
    prev_info = "zeros (coarsest scale)" if coarsest else "fixed image (draw_concat replaced)"
  info = {"G": "GeneratorConcatSkip2CleanAdd", "D": "WDiscriminator", "amp": amp, "prev": prev_info}
  return step, {"G": G, "D": D}, info


def _singan_coarser_scales(c: dict, gen: torch.Generator, device: torch.device, pad: nn.Module):
  """The frozen coarser scales of ``c["shapes"]``: ``(draw, rec_prev, amp)``.

  ``draw()`` is the official ``draw_concat(..., 'rand')`` (jaxgan's ``random_prev``): from zeros
  at scale 0, at every coarser scale k ``G_k(pad(amp_k z_k + x), pad(x))`` with fresh noise
  ``z_k`` (one channel expanded to RGB at k = 0), then upsampled to scale k + 1's shape; under
  ``torch.no_grad()`` (jaxgan stops the gradient there). ``rec_prev`` is the 'rec' path (fixed
  ``z_opt`` at scale 0, zeros above; jaxgan's ``reconstruction_prev``), computed here once, as
  jaxgan computes it once per scale in ``init_state``. ``amp`` is this scale's noise amplitude.
  """
  shapes = [tuple(int(v) for v in s) for s in c["shapes"]]
  n = len(shapes) - 1
  widths = [tuple(wd) for wd in c["widths"]] if c["widths"] is not None else [(c["nfc"], c["min_nfc"])] * (n + 1)
  amps = [float(a) for a in c["noise_amps"]] if c["noise_amps"] is not None else [0.1] * (n + 1)
  if not (len(widths) == len(amps) == n + 1):
    raise ValueError(
      f"singan: shapes, widths and noise_amps need one entry per scale ({n + 1}); got "
      f"{len(widths)} widths, {len(amps)} noise_amps"
    )
  if shapes[-1] != (c["height"], c["width"]) or widths[-1] != (c["nfc"], c["min_nfc"]):
    raise ValueError(
      f"singan: the last of shapes / widths ({shapes[-1]}, {widths[-1]}) must be this scale's "
      f"(height, width) = {(c['height'], c['width'])} and (nfc, min_nfc) = "
      f"{(c['nfc'], c['min_nfc'])}"
    )
  if c["coarsest"] != (n == 0):
    raise ValueError(f"singan: coarsest={c['coarsest']} but shapes has {n + 1} scale(s)")
  frozen = []
  for nfc, min_nfc in widths[:n]:
    net = tn.GeneratorConcatSkip2CleanAdd(nfc=nfc, min_nfc=min_nfc)
    net.apply(tn.singan_weights_init)
    # The official finished scales are eval() (running statistics, as jaxgan's train=False) and
    # frozen (reset_grads(G, False)).
    frozen.append(net.to(device).eval().requires_grad_(False))

  def upsample(x, shape):
    # The official imresize (MATLAB bicubic in numpy, via uint8: clipped to [-1, 1]), jaxgan's
    # jaxgan.imresize.imresize + crop: here clip + one bicubic interpolate to the exact shape, which is
    # cheaper (on the device, no CPU round trip), so PyTorch is, if anything, favoured.
    return torch.nn.functional.interpolate(x.clamp(-1.0, 1.0), size=shape, mode="bicubic", align_corners=False)

  def run(zs):
    with torch.no_grad():
      x = torch.zeros(1, 3, *shapes[0], device=device)  # the official in_s
      for k, (net, z) in enumerate(zip(frozen, zs)):
        x = upsample(net(pad(amps[k] * z + x), pad(x)), shapes[k + 1])
      return x

  def draw():  # the official draw_concat(..., 'rand')
    zs = [torch.randn(1, 1 if k == 0 else 3, *shapes[k], device=device).expand(1, 3, *shapes[k]) for k in range(n)]
    return run(zs)

  z_opt = torch.randn(1, 1, *shapes[0], generator=gen).to(device).expand(1, 3, *shapes[0])
  rec_prev = run([z_opt] + [torch.zeros(1, 3, *shapes[k], device=device) for k in range(1, n)])
  return (draw if n > 0 else None), rec_prev, amps[n]  # at scale 0: zero prev, no draw


# -- super-resolution --------------------------------------------------------------------------------


def _normalize(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
  """Images in [low, high] -> torchvision VGG inputs ((u - ImageNet mean) / std with u in [0, 1])."""
  mean = x.new_tensor(tn.IMAGENET_MEAN).view(-1, 1, 1)
  std = x.new_tensor(tn.IMAGENET_STD).view(-1, 1, 1)
  return ((x - low) / (high - low) - mean) / std


def _sr(c: dict, seed: int, device: torch.device, *, adversarial: bool):
  G = (
    tn.SRResNet(
      scale=c["scale"], channels=c["channels"], n_blocks=c["n_blocks"], prelu_per_channel=c["prelu_per_channel"]
    )
    .to(device)
    .train()
  )
  opt_G = _adam(G.parameters(), c["learning_rate"], c["beta1"], c["beta2"])
  gen = torch.Generator().manual_seed(seed)
  n, s, lr_s = c["batch_size"], c["crop_size"], c["crop_size"] // c["scale"]
  if c["crop_size"] % c["scale"]:
    raise ValueError(f"crop_size={c['crop_size']} is not a multiple of scale={c['scale']}")
  lr = _uniform((n, 3, lr_s, lr_s), gen, device, 0.0, 1.0)  # LR in [0, 1], HR in [-1, 1] (the paper)
  hr = _uniform((n, 3, s, s), gen, device)
  mse = nn.MSELoss()
  sync = _synchronizer(device)
  nets = {"G": G}

  if not adversarial:

    def step():
      opt_G.zero_grad()
      mse(G(lr), hr).backward()
      opt_G.step()
      sync()

    return step, nets, {"G": f"SRResNet x{c['scale']}", "loss": "mse"}

  D = tn.SRGANDiscriminator(image_size=s, channels=c["d_channels"]).to(device).train()
  nets["D"] = D
  opt_D = _adam(D.parameters(), c["learning_rate"], c["beta1"], c["beta2"])
  layer = c["content_layer"]
  vgg = tn.VGGFeatures(c["vgg_depth"], (layer,)).to(device).eval()
  bce = nn.BCEWithLogitsLoss()
  ones, zeros = torch.ones(n, device=device), torch.zeros(n, device=device)
  rescale, weight = c["vgg_rescale"], c["adversarial_weight"]

  def features(x):
    return vgg(_normalize(x, -1.0, 1.0))[layer] * rescale

  # jaxgan's sr.py step (no official code): G forward once; D on (HR, detached SR) with BCE;
  # then G on the content loss plus weight * -log D(SR) against the updated D, through the same
  # forward pass, D's parameters taking no gradient.
  def step():
    sr = G(lr)
    opt_D.zero_grad()
    (bce(D(hr), ones) + bce(D(sr.detach()), zeros)).backward()
    opt_D.step()
    set_requires_grad([D], False)
    opt_G.zero_grad()
    with torch.no_grad():
      target = features(hr)
    loss = mse(features(sr), target) + weight * bce(D(sr), ones)
    loss.backward()
    opt_G.step()
    set_requires_grad([D], True)
    sync()

  return (
    step,
    nets,
    {
      "G": f"SRResNet x{c['scale']}",
      "D": "SRGAN discriminator",
      "loss": f"VGG{c['vgg_depth']} {layer} (random weights) + adversarial",
    },
  )


# -- fast neural style -------------------------------------------------------------------------------


def gram_matrix(y: torch.Tensor) -> torch.Tensor:
  """The example's ``gram_matrix``: ``F F^T / (C H W)`` per image."""
  b, ch, h, w = y.size()
  features = y.view(b, ch, w * h)
  return features.bmm(features.transpose(1, 2)) / (ch * h * w)


def _style(c: dict, seed: int, device: torch.device):
  G = tn.TransformerNet(channels=c["channels"], n_blocks=c["n_blocks"]).to(device).train()
  content_layers, style_layers = tuple(c["content_layers"]), tuple(c["style_layers"])
  vgg = tn.VGGFeatures(c["vgg_depth"], tuple(dict.fromkeys(style_layers + content_layers))).to(device).eval()
  opt = _adam(G.parameters(), c["learning_rate"], c["beta1"], c["beta2"])
  mse = nn.MSELoss()
  if c["g_output"] == "tanh":  # jaxgan's default: G ends with tanh, images in [-1, 1]
    low, high, output = -1.0, 1.0, torch.tanh
  elif c["g_output"] == "none":  # the example: a linear output, images in 0..255
    low, high, output = 0.0, 255.0, (lambda y: y)
  else:
    raise ValueError(f"g_output must be 'tanh' or 'none', got {c['g_output']!r}")
  gen = torch.Generator().manual_seed(seed)
  n, s = c["batch_size"], c["image_size"]
  x = _uniform((n, 3, s, s), gen, device, low, high)
  style = _uniform((1, 3, s, s), gen, device, low, high)
  with torch.no_grad():  # the style Grams, computed once before training (as the example)
    features_style = vgg(_normalize(style.repeat(n, 1, 1, 1), low, high))
    gram_style = {name: gram_matrix(features_style[name]) for name in style_layers}
  sync = _synchronizer(device)

  # The example's iteration: VGG runs on the stylised and on the content batch (the latter
  # without a graph, to the deepest style layer as the example's Vgg16 does; jaxgan stops it at
  # the content layer).
  def step():
    opt.zero_grad()
    y = output(G(x))
    features_y = vgg(_normalize(y, low, high))
    features_x = vgg(_normalize(x, low, high))
    content_loss = c["content_weight"] * sum(mse(features_y[k], features_x[k]) for k in content_layers)
    style_loss = c["style_weight"] * sum(mse(gram_matrix(features_y[k]), gram_style[k][:n]) for k in style_layers)
    total = content_loss + style_loss
    if c["tv_weight"]:  # jaxgan's total_variation (the example has none)
      total = (
        total
        + c["tv_weight"] * ((y[:, :, 1:] - y[:, :, :-1]).pow(2).sum() + (y[..., 1:] - y[..., :-1]).pow(2).sum()) / n
      )
    total.backward()
    opt.step()
    sync()

  return step, {"G": G}, {"G": "TransformerNet", "loss": f"VGG{c['vgg_depth']} (random weights)"}


# -- the entry points ---------------------------------------------------------------------------------

_BUILDERS = {
  "pix2pix": _pix2pix,
  "cyclegan": _cyclegan,
  "dcgan": _dcgan,
  "singan": _singan,
  "srresnet": lambda c, seed, device: _sr(c, seed, device, adversarial=False),
  "srgan": lambda c, seed, device: _sr(c, seed, device, adversarial=True),
  "style": _style,
}


def config(method: str, **overrides) -> dict[str, Any]:
  """The method's setting: its defaults with ``overrides``; ValueError naming a bad key."""
  if method not in DEFAULTS:
    raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
  unknown = sorted(set(overrides) - set(DEFAULTS[method]))
  if unknown:
    raise ValueError(f"{method}: unknown override(s) {unknown}; valid: {', '.join(sorted(DEFAULTS[method]))}")
  return {**DEFAULTS[method], **overrides}


def make_with_networks(method: str, *, seed: int = 0, **overrides) -> tuple[TorchStep, dict[str, nn.Module]]:
  """:func:`make`, and the networks the step updates by name (for tests)."""
  c = config(method, **overrides)
  device = _device(c)
  torch.manual_seed(seed)
  step, nets, info = _BUILDERS[method](c, seed, device)
  setting = {k: (list(v) if isinstance(v, tuple) else v) for k, v in c.items()}
  setting["device"] = str(device)
  info = {"method": method, "seed": seed, **setting, **info, "torch": torch.__version__}
  return TorchStep(name=method, step=step, params=trainable(*nets.values()), info=info), nets


def make(method: str, *, seed: int = 0, **overrides) -> TorchStep:
  """The official PyTorch training iteration of ``method`` on a fixed random batch."""
  return make_with_networks(method, seed=seed, **overrides)[0]

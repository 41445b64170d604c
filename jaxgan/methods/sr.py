"""Single-image super-resolution: SRResNet / SRGAN (Ledig et al. 2017) and Johnson et al.'s SR.

One method, three losses (``--loss``) and two generators (``--generator``):

* ``mse``: SRResNet (Ledig et al. 2017, "SRResNet-MSE"): the pixel-wise MSE between
  ``G(LR)`` and the HR image, both on the [-1, 1] scale (LR inputs in [0, 1], as the paper).
* ``vgg``: Johnson, Alahi & Fei-Fei 2016's perceptual super-resolution: the feature
  reconstruction loss ``||phi_j(G(LR)) - phi_j(HR)||^2 / (C_j H_j W_j)`` at ``relu2_2`` of an
  ImageNet VGG16 (:func:`jaxgan.losses.feature_reconstruction_loss`).
* ``srgan``: SRGAN's perceptual loss, a VGG content loss plus ``1e-3`` times the
  non-saturating adversarial loss ``-log D(G(LR))``, with a discriminator
  (:class:`jaxgan.models.srresnet.SRGANDiscriminator`, built for ``crop_size`` inputs) trained
  by binary cross-entropy. G and D alternate one update each per step (the paper's ``k = 1``):
  D is updated on the detached ``G(LR)`` of this step, then G against the updated D, through
  the same forward pass of G.

Paper facts (Ledig et al. 2017, Sec. 3): 96x96 HR crops, batch 16, LR by bicubic
downsampling (x4), LR scaled to [0, 1] and HR to [-1, 1]; Adam with beta1 = 0.9 and learning
rate 1e-4; SRResNet (MSE) trained for 10^6 updates; SRGAN initialised with the MSE SRResNet
(``--init_from``) and trained for 10^5 updates at 1e-4 then 10^5 at 1e-5
(``--lr_decay_steps=100000 --num_steps=200000``). Its content loss "VGG54" uses the 4th
convolution (after its ReLU) before the 5th max-pooling of VGG19, ``relu5_4``; the feature maps
are rescaled by 1/12.75 "to obtain VGG losses of a scale comparable to the MSE loss"
(``--vgg_rescale``, applied to both feature maps before the loss, so the loss is divided by
12.75^2). Deviations, by necessity or choice:

* there are no VGG19 weights here, and the shared VGG16's block 5 may have been fine-tuned
  by its distributors: ``--loss=srgan`` defaults to ``relu4_3`` of VGG16 (the deepest
  trusted layer; ``--content_layer`` picks another);
* the paper writes the adversarial loss as a sum over the batch and the VGG loss as a sum
  over channels; both are means here (the widely used ports' choice), which only rescales
  the learning rate under Adam and is what the 1/12.75 was calibrated for;
* the paper trains on 350k ImageNet images; the flagfiles here use BSD68;
* the paper does not state its VGG's input convention. The 1/12.75 is applied as is to the
  features of the given weights: with the shared Keras/Caffe-convention VGG16 (inputs BGR
  0..255 minus the mean) as the Caffe-converted VGGs of the time; torchvision-convention
  weights (inputs divided by the ImageNet std) give features about 58 times smaller, a content
  loss about 3,300 times smaller next to the adversarial term (raise ``--vgg_rescale`` to
  compensate).

``--freeze_bn`` is not in the paper: G's batch norms run in inference mode during training
(running statistics, left as they are), so the loss is that of the output ``--mode=test``
scores. Used as a short last phase (``--init_from`` a batch-mode run), it removes what the
gap between batch and running statistics costs a briefly trained SRResNet (a brighter
inference output; see the README's 30-minute CPU recipe).

Johnson et al. 2016 (Sec. 4.2 and supplementary) train their x4 / x8 networks
(:func:`jaxgan.models.transformer_net.johnson_sr`) with Adam, learning rate 1e-3, batch 4,
288x288 patches, 200k iterations, feature reconstruction at ``relu2_2`` (set in
``experiments/flags/perceptual_sr_bsd68.flags``); their LR images are blurred with a Gaussian
(sigma 1) before bicubic downsampling and their outputs histogram-matched to the LR input.
Neither is done here: both methods share the MATLAB-bicubic degradation of the SR benchmarks.

Evaluation (:meth:`SuperResolution.evaluate`, ``--mode=test``) follows the SR literature:
each HR image is ``modcrop``-ped to a multiple of ``scale``, its LR is MATLAB's bicubic
``imresize(hr, 1/scale)`` of the uint8 image rounded to uint8, G's output is clipped and
rounded to uint8, and PSNR and SSIM (Wang et al.'s 11x11 Gaussian window) are computed on the
BT.601 luma Y in [16, 235] as MATLAB's ``rgb2ycbcr`` gives it for uint8 images (rounded to
integers) with ``scale`` pixels shaved from every border, with a data range of 255. The
bicubic baseline upscales the same uint8 LR with MATLAB's bicubic ``imresize`` and rounds
(its scores on Set5 and Set14 against the literature's: README, ``benchmarks/sr_eval.py``).

``--mode=test --tile=N`` super-resolves each LR image in tiles (:mod:`jaxgan.inference.tiled`;
G in inference mode has no per-image statistics, so one pass), ``--mode=video --input=VIDEO``
upscales a video's frames (:mod:`jaxgan.methods.inference_modes`).

The state holds ``nets = {'G'}`` (``mse``, ``vgg``) or ``{'G', 'D'}`` (``srgan``); with a VGG
loss, the frozen VGG16 convolutions up to the content layer are the step's ``consts``
(:attr:`SuperResolution.consts`): an argument of the compiled step rather than constants baked
into it, read from ``--vgg_weights`` by every training run and never checkpointed.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgan import download, inference, results
from jaxgan import imresize as resize_lib
from jaxgan.config import NON_NEGATIVE, POSITIVE, TrainConfig, field
from jaxgan.data import images as images_lib
from jaxgan.data.hr_crops import hr_source, modcrop, scan_hr_folder, sr_crop_transform
from jaxgan.interop import vgg as vgg_lib
from jaxgan.losses import (
  feature_reconstruction_loss,
  minimax_discriminator_loss,
  mse_loss,
  non_saturating_generator_loss,
)
from jaxgan.methods import inference_modes, runner
from jaxgan.metrics import image_quality
from jaxgan.models.srresnet import SRGANDiscriminator, SRResNet
from jaxgan.models.transformer_net import johnson_sr
from jaxgan.models.vgg import CONV_NAMES, LAYER_NAMES
from jaxgan.train import compiler, optim
from jaxgan.train.state import ModelState, TrainState, abstract_network, init_network

VGG_DEPTH = 16
SRRESNET_BLOCKS = 16  # Ledig et al.'s B
JOHNSON_BLOCKS = 4  # Johnson et al.'s supplementary, SR networks


def _srresnet(config: Config, rngs):
  return SRResNet(
    scale=config.scale,
    channels=config.channels,
    n_blocks=config.generator_blocks,
    prelu_per_channel=config.prelu_per_channel,
    remat=config.remat,
    rngs=rngs,
  )


def _johnson(config: Config, rngs):
  return johnson_sr(
    config.scale, channels=config.channels, n_blocks=config.generator_blocks, remat=config.remat, rngs=rngs
  )


GENERATORS = {"srresnet": _srresnet, "johnson": _johnson}
DEFAULT_BLOCKS = {"srresnet": SRRESNET_BLOCKS, "johnson": JOHNSON_BLOCKS}
LOSSES = {
  "mse": "pixel MSE on [-1, 1] images (SRResNet, Ledig et al. 2017)",
  "vgg": "VGG16 feature reconstruction (Johnson et al. 2016)",
  "srgan": "VGG content loss + adversarial_weight * non-saturating GAN loss (SRGAN)",
}
DEFAULT_CONTENT_LAYERS = {"vgg": "relu2_2", "srgan": "relu4_3"}
POWER_OF_TWO = (lambda v: v >= 2 and not v & (v - 1), "must be a power of 2 (2, 4, 8, ...)")
CONTENT_LAYERS = (
  lambda v: v == "" or v in LAYER_NAMES[VGG_DEPTH],
  f"must be '' (the loss's default) or a VGG16 layer: {', '.join(LAYER_NAMES[VGG_DEPTH])}",
)
# Fields that decide G's parameter shapes: --init_from needs the same ones.
GENERATOR_FIELDS = ("generator", "scale", "channels", "generator_blocks", "prelu_per_channel")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(
  TrainConfig,
  inference_modes.InferenceConfig,
  optim.adam_fields(
    learning_rate=1e-4, beta1=0.9, learning_rate_help=("Adam learning rate of G (and D) (paper: 1e-4; beta1 0.9).")
  ),
):
  dataset: str = field(
    "",
    "Folder of HR training images or a registered name such as bsd68 (required "
    "for --mode=train; random --crop_size crops, LR by MATLAB bicubic downscaling).",
  )
  generator: str = field(
    "srresnet", "srresnet (Ledig et al.) or johnson (Johnson et al.'s johnson_sr_x<scale>).", choices=GENERATORS
  )
  loss: str = field(
    "mse",
    "mse (SRResNet), vgg (Johnson et al.'s feature reconstruction) or srgan (VGG content + adversarial).",
    choices=LOSSES,
  )
  scale: int = field(4, "Upscaling factor.", check=POWER_OF_TWO)
  crop_size: int = field(96, "Side of the HR training crops (a multiple of --scale).", check=POSITIVE)
  flip: bool = field(False, "Random horizontal flips of the crops (the paper does not mention any).")
  rot90: bool = field(False, "Random rotations of the crops by multiples of 90 degrees.")
  channels: int = field(64, "Width of G's trunk (both papers: 64).", check=POSITIVE)
  n_blocks: int = field(
    -1,
    "Residual blocks of G; -1: the generator's own (SRResNet 16, Johnson 4).",
    check=(lambda v: v >= -1, "must be >= 0, or -1 for the generator's default"),
  )
  prelu_per_channel: bool = field(False, "SRResNet: one PReLU slope per channel (default: one per layer).")
  freeze_bn: bool = field(
    False,
    "Train G with its batch norms in inference mode (running statistics, "
    "not updated): a fine-tuning phase that closes the gap between batch and "
    "running statistics (use with --init_from; the papers train in batch mode).",
  )
  d_channels: int = field(64, "Width of the SRGAN discriminator's first layer (paper: 64).", check=POSITIVE)
  batch_size: int = field(16, "Global batch size (paper: 16).", check=POSITIVE)
  lr_decay_steps: int = field(
    0, "Multiply the learning rate by 0.1 after this many steps (0: never; SRGAN: 100000).", check=NON_NEGATIVE
  )
  num_steps: int = field(1_000_000, "Total training steps (SRResNet: 10^6 updates).", check=NON_NEGATIVE, run_only=True)
  vgg_weights: str = field(
    "",
    "ImageNet VGG16 weights (.npz/.h5 Keras, .pth torchvision; a file or the "
    "name vgg16) for --loss=vgg and srgan; default $JAXGAN_VGG16.",
    run_only=True,
  )
  content_layer: str = field(
    "", "VGG16 layer of the content loss; '' is the loss's own (vgg: relu2_2, srgan: relu4_3).", check=CONTENT_LAYERS
  )
  vgg_rescale: float = field(
    1 / 12.75,
    "Multiply the VGG feature maps by this before the loss (SRGAN's 1/12.75; Johnson et al.: 1).",
    check=POSITIVE,
  )
  adversarial_weight: float = field(1e-3, "Weight of the adversarial loss with --loss=srgan.", check=NON_NEGATIVE)
  init_from: str = field(
    "",
    "Start G from the latest checkpoint of this workdir (SRGAN: an "
    "MSE-trained SRResNet); used when --workdir has no checkpoint yet.",
  )
  # Evaluation, samples and --mode=test.
  eval_dir: str = field(
    "",
    "Folder of HR images (or a registered name, e.g. set5) scored (PSNR/SSIM on "
    "Y) every --eval_every steps and at the end, and by --mode=test.",
    run_only=True,
  )
  num_test: int = field(0, "Score only the first N images of the folder (0: all).", check=NON_NEGATIVE, run_only=True)
  num_samples: int = field(
    4, "Images in the sample grid (bicubic | G | HR centre crops).", check=POSITIVE, run_only=True
  )
  test_input: str = field(
    "", "--mode=test: a folder of HR images or a registered name, e.g. set14 (default --eval_dir).", run_only=True
  )
  results_dir: str = field(
    "", "--mode=test: output folder (default <workdir>/test_step<N>; never overwritten).", run_only=True
  )

  def __post_init__(self):
    super().__post_init__()
    self.check_inference_flags()
    if self.crop_size % self.scale:
      raise ValueError(f"crop_size={self.crop_size} is not a multiple of scale={self.scale}")

  @property
  def generator_blocks(self) -> int:
    return DEFAULT_BLOCKS[self.generator] if self.n_blocks < 0 else self.n_blocks

  @property
  def uses_vgg(self) -> bool:
    return self.loss in DEFAULT_CONTENT_LAYERS

  @property
  def vgg_layer(self) -> str:
    """The content layer of a VGG loss."""
    return self.content_layer or DEFAULT_CONTENT_LAYERS[self.loss]


def config_from_json(path: str) -> Config:
  """The :class:`Config` recorded in a workdir's ``config.json`` (fields it lacks: defaults)."""
  with open(path) as f:
    values = json.load(f)
  names = {f.name for f in dataclasses.fields(Config)}
  return Config(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names})


def vgg_weights(config: Config) -> str:
  """The file of ``--vgg_weights`` (or ``$JAXGAN_VGG16``): :func:`jaxgan.interop.vgg.weights_flag`."""
  return vgg_lib.weights_flag(config.vgg_weights, VGG_DEPTH, needed_by=f"--loss={config.loss}")


def folder_flag(value: str, flag: str) -> str:
  """The folder of ``--flag=value``: a path, or a registered name (``bsd68``, ``set5``); '' stays ''.

  Raises FileNotFoundError naming the flag; :class:`jaxgan.download.NotAvailableError` with the
  download command for a name not downloaded.
  """
  return download.resolve_flag(value, flag=flag, kind="dir") if value else ""


def check_train_flags(config: Config) -> None:
  """The flags training needs beyond the config's own checks; ValueError / FileNotFoundError."""
  if not config.dataset:
    raise ValueError(
      "--dataset is required for training: a folder of HR images or a registered name (e.g. --dataset=bsd68)"
    )
  folder_flag(config.dataset, "--dataset")
  if config.uses_vgg:
    vgg_weights(config)
  folder_flag(config.eval_dir, "--eval_dir")


# -- the method --------------------------------------------------------------------------------


class SuperResolution:
  """The static half of SR training: networks, optimiser, losses, closed over by the step.

  ``initial_generator`` (a :class:`ModelState` without optimiser state) replaces G's fresh
  parameters and statistics in :meth:`init_state` (``--init_from``).
  """

  def __init__(self, config: Config, initial_generator: ModelState | None = None):
    self.config = config
    self.initial_generator = initial_generator
    self.schedule = (
      optax.piecewise_constant_schedule(config.learning_rate, {config.lr_decay_steps: 0.1})
      if config.lr_decay_steps
      else optax.constant_schedule(config.learning_rate)
    )
    self.tx = optim.adam(config, self.schedule)
    self.make_g = functools.partial(GENERATORS[config.generator], config)
    self.make_d = lambda rngs: SRGANDiscriminator(
      image_size=config.crop_size, channels=config.d_channels, remat=config.remat, rngs=rngs
    )

  @property
  def adversarial(self) -> bool:
    return self.config.loss == "srgan"

  @functools.cached_property
  def generator(self):
    return abstract_network(self.make_g, self.tx, compute_dtype=self.config.compute_dtype())

  @functools.cached_property
  def discriminator(self):
    return abstract_network(self.make_d, self.tx, compute_dtype=self.config.compute_dtype())

  # -- the frozen loss network -------------------------------------------------------------------
  @property
  def vgg_convs(self) -> tuple[str, ...]:
    """The VGG16 convolutions up to the content layer: the ones the state carries."""
    return CONV_NAMES[VGG_DEPTH][: LAYER_NAMES[VGG_DEPTH].index(self.config.vgg_layer) + 1]

  @functools.cached_property
  def loss_network(self) -> vgg_lib.LossNetwork:
    """The VGG16 of ``--vgg_weights`` (read once, when a VGG loss first needs it)."""
    return vgg_lib.load_vgg(vgg_weights(self.config), depth=VGG_DEPTH)

  @functools.cached_property
  def consts(self) -> dict | None:
    """What the step reads but never trains (``fit``'s ``consts``, never checkpointed): for a VGG
    loss ``{'vgg': the convolutions the content layer needs}``; else None."""
    if not self.config.uses_vgg:
      return None
    return {"vgg": {n: self.loss_network.params[n] for n in self.vgg_convs}}

  def _features(self, vgg_params: dict, images: jax.Array) -> jax.Array:
    """Content-layer features of [-1, 1] images, times ``vgg_rescale``. The deeper convolutions
    are zeros that the compiled step never reads (XLA drops them)."""
    shapes = vgg_lib.expected_shapes(VGG_DEPTH)
    params = {
      n: vgg_params[n]
      if n in vgg_params
      else {k: jnp.zeros(shapes[f"{n}/{k}"], jnp.float32) for k in ("kernel", "bias")}
      for n in CONV_NAMES[VGG_DEPTH]
    }
    net = vgg_lib.LossNetwork(
      params=params,
      depth=VGG_DEPTH,
      convention=self.loss_network.convention,
      compute_dtype=self.config.compute_dtype(),
      remat=self.config.remat,
    )
    layer = self.config.vgg_layer
    return net.features(images, (layer,))[layer] * self.config.vgg_rescale

  # -- state -----------------------------------------------------------------------------------
  def init_state(self, key: jax.Array) -> TrainState:
    k_g, k_d, k_run = jax.random.split(key, 3)
    g = init_network(self.make_g, self.tx, k_g)
    if self.initial_generator is not None:
      init = self.initial_generator
      g = ModelState(params=init.params, stats=init.stats, opt_state=self.tx.init(init.params))
    nets = {"G": g}
    if self.adversarial:
      nets["D"] = init_network(self.make_d, self.tx, k_d)
    return TrainState(step=jnp.zeros((), jnp.int32), rng=k_run, nets=nets)

  def restore(self, *, require_finished: bool = True) -> TrainState:
    """The latest checkpoint of ``--workdir``, of a finished run (or ``--allow_partial``) unless
    not ``require_finished``."""
    return runner.restore(self.config, self.init_state, require_finished=require_finished)

  # -- losses ----------------------------------------------------------------------------------
  def content_loss(self, sr: jax.Array, hr: jax.Array, vgg_params: dict) -> tuple[jax.Array, dict]:
    """The batch mean of the MSE or the VGG feature reconstruction loss, and metrics."""
    mse = mse_loss(sr, hr).mean()
    if not self.config.uses_vgg:
      return mse, {"mse": mse}
    target = jax.lax.stop_gradient(self._features(vgg_params, hr))
    content = feature_reconstruction_loss(self._features(vgg_params, sr), target).mean()
    return content, {"mse": mse, "content": content}

  def d_loss(self, d_params, d_stats, hr, fake):
    """BCE of D on the real HR batch (label 1) and the detached SR batch (label 0)."""
    real_logits, d_stats = self.discriminator.apply(d_params, d_stats, hr, train=True)
    fake_logits, d_stats = self.discriminator.apply(d_params, d_stats, fake, train=True)
    loss = minimax_discriminator_loss(real_logits, fake_logits).mean()
    return loss, (d_stats, {"d_loss": loss, "d_real": real_logits.mean(), "d_fake": fake_logits.mean()})

  def g_loss(self, sr, hr, d: ModelState | None, vgg_params):
    """Content loss (+ ``adversarial_weight * -log D(sr)`` for SRGAN); aux: D's stats, metrics."""
    content, metrics = self.content_loss(sr, hr, vgg_params)
    if d is None:
      return content, (None, {**metrics, "g_loss": content})
    logits, d_stats = self.discriminator.apply(d.params, d.stats, sr, train=True)
    adversarial = non_saturating_generator_loss(logits).mean()
    loss = content + self.config.adversarial_weight * adversarial
    return loss, (d_stats, {**metrics, "g_adversarial": adversarial, "g_loss": loss})

  # -- the step --------------------------------------------------------------------------------
  def update_discriminator(self, state: TrainState, hr: jax.Array, fake: jax.Array) -> tuple[TrainState, dict]:
    """One Adam step of D on ``hr`` and ``fake`` (constants); G is untouched."""
    d = state.nets["D"]
    grads, (d_stats, metrics) = jax.grad(self.d_loss, has_aux=True)(d.params, d.stats, hr, jax.lax.stop_gradient(fake))
    return state.replace(nets={**state.nets, "D": self.discriminator.update(d, grads, d_stats)}), metrics

  def train_step(self, state: TrainState, batch: dict[str, jax.Array], consts=None) -> tuple[TrainState, dict]:
    """SRGAN: D on the detached ``G(lr)``, then G against the new D; otherwise G alone. Pure.
    ``consts``: :attr:`consts`."""
    lr, hr = batch["lr"], batch["hr"]
    g = state.nets["G"]
    vgg_params = consts["vgg"] if self.config.uses_vgg else {}
    forward = lambda params: self.generator.apply(params, g.stats, lr, train=not self.config.freeze_bn)
    sr, pullback, g_stats = jax.vjp(forward, g.params, has_aux=True)
    metrics = {}
    d = None
    if self.adversarial:
      state, metrics = self.update_discriminator(state, hr, sr)
      d = state.nets["D"]
    sr_grad, (d_stats, g_metrics) = jax.grad(self.g_loss, has_aux=True)(sr, hr, d, vgg_params)
    (g_grads,) = pullback(sr_grad)
    nets = {**state.nets, "G": self.generator.update(g, g_grads, g_stats)}
    if d is not None:
      nets["D"] = d.replace(stats=d_stats)
    metrics = {**metrics, **g_metrics, "learning_rate": self.schedule(state.step)}
    return state.replace(step=state.step + 1, nets=nets), metrics

  # -- inference -------------------------------------------------------------------------------
  @functools.cached_property
  def _upscale(self):
    return compiler.jit(lambda g, lr: self.generator.apply(g.params, g.stats, lr, train=False)[0])

  def translator(self, state: TrainState) -> inference.Translator:
    """G in inference mode on [-1, 1] inputs (rescaled to its [0, 1]), for tiled images and videos."""
    return inference.Translator.of(self.generator, state.nets["G"], train=False, unit_input=True)

  def super_resolve(self, state: TrainState, lr: np.ndarray, *, tiled=None) -> np.ndarray:
    """uint8 LR images ``[B, h, w, 3]`` (or one ``[h, w, 3]``) -> G's uint8 HR images.

    G runs in inference mode (batch-norm running statistics); its [-1, 1] output is clipped
    and rounded to uint8 (:func:`jaxgan.data.images.to_uint8`). ``tiled``: a
    :class:`jaxgan.inference.Tiler` of :meth:`translator` that translates each image (``--tile``).
    """
    lr = np.asarray(lr)
    if tiled is not None:
      images = lr[None] if lr.ndim == 3 else lr
      out = np.stack([images_lib.to_uint8(tiled(images_lib.to_float(x))) for x in images])
      return out[0] if lr.ndim == 3 else out
    single = lr.ndim == 3
    x = (lr[None] if single else lr).astype(np.float32) / np.float32(255.0)
    out = images_lib.to_uint8(np.asarray(self._upscale(state.nets["G"], x)))
    return out[0] if single else out

  def evaluate(self, state: TrainState, folder_or_images) -> dict[str, float]:
    """Mean PSNR / SSIM (Y, ``scale`` pixels shaved) of G on a folder of HR images.

    ``folder_or_images`` is a folder or the ``[(name, uint8 HR image)]`` of :func:`load_images`.
    """
    images = (
      load_images(folder_or_images, self.config.num_test) if isinstance(folder_or_images, str) else folder_or_images
    )
    scale = self.config.scale
    per_image = []
    for _, image in images:
      hr, lr = eval_pair(image, scale)
      per_image.append(scores(self.super_resolve(state, lr), hr, scale))
    return {**image_quality.mean_scores(per_image), "num_images": len(per_image)}


def build(config: Config, *, initial_generator: ModelState | None = None) -> SuperResolution:
  """The method; ``initial_generator`` replaces G's fresh initialisation (``--init_from``)."""
  return SuperResolution(config, initial_generator)


# -- evaluation helpers (shared with benchmarks/sr_eval.py) ---------------------------------------


def load_images(folder: str, limit: int = 0) -> list[tuple[str, np.ndarray]]:
  """``(file name, uint8 RGB image)`` of the first ``limit`` (0: all) images of ``folder``, by name."""
  paths = scan_hr_folder(folder)
  paths = paths[:limit] if limit else paths
  return [(os.path.basename(p), images_lib.load_image(p, channels=3)) for p in paths]


def eval_pair(image: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
  """``(HR, LR)`` uint8: the image ``modcrop``-ped to a multiple of ``scale`` and its MATLAB
  bicubic downscaling, rounded to uint8 (as the benchmark LR files)."""
  hr = modcrop(np.asarray(image, np.uint8), scale)
  return hr, resize_lib.bicubic_downscale(hr, scale)


def bicubic_upscale(lr: np.ndarray, scale: int) -> np.ndarray:
  """MATLAB's bicubic ``imresize(lr, scale)`` of a uint8 image, rounded to uint8: the baseline."""
  h, w = np.shape(lr)[:2]
  return resize_lib.matlab_imresize(np.asarray(lr, np.uint8), size=(h * scale, w * scale))


def luma(images) -> jax.Array:
  """MATLAB's ``rgb2ycbcr`` luma of uint8 RGB ``[..., 3]``: BT.601 Y in [16, 235], rounded to
  integers (MATLAB returns uint8 for uint8 input), ``[..., 1]`` float32."""
  return jnp.round(image_quality.rgb_to_y(jnp.asarray(images, jnp.float32), data_range=255.0, data_min=0.0))


def scores(sr: np.ndarray, hr: np.ndarray, scale: int) -> dict[str, float]:
  """PSNR (dB) and SSIM of uint8 ``sr`` against uint8 ``hr`` ``[H, W, 3]`` as the SR literature:
  on the :func:`luma` (data range 255) with ``scale`` pixels shaved from each border."""
  x, y = luma(np.asarray(sr)[None]), luma(np.asarray(hr)[None])
  return {
    "psnr": float(image_quality.psnr(x, y, data_range=255.0, shave=scale)[0]),
    "ssim": float(image_quality.ssim(x, y, data_range=255.0, shave=scale)[0]),
  }


def bicubic_scores(folder_or_images, scale: int) -> dict[str, float]:
  """Mean PSNR / SSIM of the bicubic baseline on a folder (or :func:`load_images` list)."""
  images = load_images(folder_or_images) if isinstance(folder_or_images, str) else folder_or_images
  per_image = []
  for _, image in images:
    hr, lr = eval_pair(image, scale)
    per_image.append(scores(bicubic_upscale(lr, scale), hr, scale))
  return {**image_quality.mean_scores(per_image), "num_images": len(per_image)}


# -- --init_from ---------------------------------------------------------------------------------


def source_workdir(path: str) -> str:
  """The workdir of ``--init_from``: the folder itself or, for ``.../checkpoints``, its parent."""
  path = os.path.abspath(path)
  if os.path.isdir(os.path.join(path, "checkpoints")):
    return path
  if os.path.basename(path) == "checkpoints" and os.path.isdir(path):
    return os.path.dirname(path)
  raise FileNotFoundError(f"--init_from={path}: no checkpoints there (give the --workdir of a trained run)")


def load_generator(config: Config) -> ModelState:
  """G's parameters and statistics from the latest checkpoint of ``config.init_from``.

  The source run's ``config.json`` must describe the same generator (kind, scale, width,
  blocks); its loss does not matter (an MSE SRResNet for SRGAN, as the paper).
  """
  workdir = source_workdir(config.init_from)
  recorded = os.path.join(workdir, "config.json")
  if not os.path.isfile(recorded):
    raise FileNotFoundError(f"--init_from={config.init_from}: no config.json in {workdir}")
  source = config_from_json(recorded).replace(workdir=workdir)
  differ = [
    f"{name}: {getattr(source, name)!r} there, {getattr(config, name)!r} here"
    for name in GENERATOR_FIELDS
    if getattr(source, name) != getattr(config, name)
  ]
  if differ:
    raise ValueError(f"--init_from={config.init_from} holds another generator ({'; '.join(differ)})")
  g = SuperResolution(source).restore(require_finished=False).nets["G"]  # any step: a starting point
  return ModelState(params=g.params, stats=g.stats, opt_state=None)


# -- training ------------------------------------------------------------------------------------


def _sample_crops(config: Config, images: list[tuple[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
  """``(HR, LR)`` uint8 centre crops of side ``crop_size`` of up to ``num_samples`` images."""
  size, hrs = config.crop_size, []
  for _, image in images[: config.num_samples]:
    h, w = image.shape[:2]
    if min(h, w) >= size:
      top, left = (h - size) // 2, (w - size) // 2
      hrs.append(image[top : top + size, left : left + size])
  hr = np.stack(hrs) if hrs else np.zeros((0, size, size, 3), np.uint8)
  return hr, np.stack([resize_lib.bicubic_downscale(x, config.scale) for x in hr]) if hrs else hr


def train(config: Config) -> TrainState:
  """Train on random crops of ``--dataset``; sample and score on ``--eval_dir``."""
  started = time.monotonic()
  check_train_flags(config)
  checkpoints = os.path.join(os.path.abspath(config.workdir), "checkpoints")
  starts = config.init_from and runner.latest_step(checkpoints) is None  # a resumed run has its own G
  method = build(config, initial_generator=load_generator(config) if starts else None)
  if config.uses_vgg:
    method.loss_network  # noqa: B018 - read and check the weights before anything else
  data_dir = config.resolved_data_dir()
  dataset = folder_flag(config.dataset, "--dataset")
  source = runner.built_by_process0_first(lambda: hr_source(dataset, data_dir))
  batches = runner.loader(
    config,
    source,
    global_batch_size=config.batch_size,
    transform=sr_crop_transform(scale=config.scale, crop_size=config.crop_size, flip=config.flip, rot90=config.rot90),
  )
  eval_dir = folder_flag(config.eval_dir, "--eval_dir")
  eval_images = load_images(eval_dir, config.num_test) if eval_dir else []
  shown = eval_images or [(str(i), source[i]["image"]) for i in range(min(config.num_samples, len(source)))]
  sample_hr, sample_lr = _sample_crops(config, shown)

  def sample_fn(state):
    """Rows of bicubic | G | HR centre crops, in [-1, 1]."""
    sr = method.super_resolve(state, sample_lr)
    bic = np.stack([bicubic_upscale(x, config.scale) for x in sample_lr])
    return images_lib.to_float(np.stack([bic, sr, sample_hr], axis=1))

  score = runner.once_per_step(lambda s: method.evaluate(s, eval_images))
  state = runner.train(
    config,
    method,
    batches=batches,
    sample_fn=sample_fn if len(sample_hr) else None,
    eval_fn=score if eval_images else None,
    started=started,
  )
  if eval_images:
    result = {"step": int(state.step), "scale": config.scale, "eval_dir": config.eval_dir, **score(state)}
    path = runner.write_json(config, "eval.json", result)
    if jax.process_index() == 0:
      print(
        f"jaxgan: {config.eval_dir} x{config.scale}: PSNR {result['psnr']:.2f} dB, SSIM "
        f"{result['ssim']:.4f} (Y, {result['num_images']} images) -> {path}",
        flush=True,
      )
  return state


# -- --mode=test ---------------------------------------------------------------------------------


def test(config: Config) -> str:
  """Super-resolve the HR images of ``--test_input`` (default ``--eval_dir``) from their LR.

  Writes ``NAME_lr.png``, ``NAME_bicubic.png``, ``NAME_sr.png`` and ``NAME_hr.png`` (the
  modcropped HR) into ``<results_dir>/images``, an ``index.html`` with one row per image and
  ``metrics.json``: mean and per-image PSNR / SSIM (Y, ``scale`` shaved) of G and of the
  bicubic baseline on the same images.
  """
  if not (config.test_input or config.eval_dir):
    raise ValueError(
      "--mode=test needs --test_input=DIR or --eval_dir=DIR (a folder of HR images or a registered name, e.g. set5)"
    )
  folder = (
    folder_flag(config.test_input, "--test_input") if config.test_input else folder_flag(config.eval_dir, "--eval_dir")
  )
  method = build(config)
  state = method.restore()
  step = int(state.step)
  tiled = inference_modes.image_translator(config, method.translator(state)) if config.tile else None
  writer = results.ResultsWriter(results.run_folder(config, step), ["LR", "bicubic", "SR", "HR"])
  per_image, baseline = {}, {}
  for name, image in load_images(folder, config.num_test):
    hr, lr = eval_pair(image, config.scale)
    sr, bic = method.super_resolve(state, lr, tiled=tiled), bicubic_upscale(lr, config.scale)
    per_image[name], baseline[name] = scores(sr, hr, config.scale), scores(bic, hr, config.scale)
    writer.add(name, {k: images_lib.to_float(v) for k, v in {"lr": lr, "bicubic": bic, "sr": sr, "hr": hr}.items()})
  summary = {
    **image_quality.mean_scores(list(per_image.values())),
    "bicubic": image_quality.mean_scores(list(baseline.values())),
    "per_image": {n: {**per_image[n], "bicubic": baseline[n]} for n in per_image},
    "step": step,
    "scale": config.scale,
    "num_images": len(per_image),
    "folder": folder,
  }
  print(
    f"jaxgan: x{config.scale} on {len(per_image)} images of {folder}: PSNR {summary['psnr']:.2f} dB, "
    f"SSIM {summary['ssim']:.4f} (bicubic {summary['bicubic']['psnr']:.2f} dB, "
    f"{summary['bicubic']['ssim']:.4f})",
    flush=True,
  )
  return writer.finish(f"{config.generator} / {config.loss} x{config.scale}, step {step}", summary)


def video(config: Config) -> inference.VideoSummary:
  """``--input`` video (the LR frames) upscaled by G into ``--output``, frame by frame."""
  method = build(config)
  return inference_modes.video(config, lambda: method.translator(method.restore()))


MODES = {"train": train, "test": test, "video": video}

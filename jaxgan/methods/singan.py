"""SinGAN (Shaham, Dekel, Michaeli, ICCV 2019): a pyramid of GANs learned from one image.

Defaults are the official code's (``config.py``, ``training.py``): the pyramid of
:mod:`jaxgan.data.single_image` (longer side <= 250, coarsest shorter side about 25, factor
about 0.75); per scale a 5-layer generator and critic (:mod:`jaxgan.models.singan`), trained
coarse to fine for 2000 iterations of 3 critic steps then 3 generator steps; Adam lr 5e-4,
betas (0.5, 0.999), learning rate x0.1 from iteration 1600; WGAN-GP weight 0.1;
reconstruction loss weight ``alpha`` 10. A scale whose width (nfc) equals the previous
one's starts from the previous scale's G and D.

One iteration (one call of the jitted ``train_step`` of a scale ``n``):

* noise ``z`` for the iteration (at the coarsest scale one channel repeated over RGB);
* 3 critic steps, each on a fresh random image from the frozen coarser scales ``prev``
  (upsampled by ``1 / scale_factor``), ``fake = G(amp_n z + prev, prev)``, loss
  ``-D(real) + D(fake) + 0.1 GP`` (means over the critic map);
* 3 generator steps with loss ``-D(fake) + alpha * MSE(G(amp_n z* + rec_prev, rec_prev), real)``.
  ``rec_prev`` is the reconstruction path of the coarser scales (fixed noise ``z*`` at the
  coarsest scale, zero noise above), ``amp_0 = 1`` and ``amp_n = 0.1 * RMSE(real_n, rec_prev)``.

Faithfulness notes (each documented where it lives):

* ``--g_adv_grad=official`` (default): as in the official code, the adversarial gradient of
  all 3 generator steps is that of the last critic step's ``fake`` (computed once, before
  the first generator update; PyTorch's ``retain_graph``); ``recompute`` re-runs G each step.
* ``--gp_norm=pixel`` (default) is the official ``calc_gradient_penalty``: the norm over
  the channels at each pixel, the penalty averaged over the pixels; ``example`` is the
  WGAN-GP of the paper's wording (the norm of each image's whole gradient). Both
  differentiate the critic map summed (the official ``grad_outputs`` of ones). The official
  weights (penalty 0.1, alpha 10) are tuned for the per-pixel norm: with ``example`` the
  critic barely separates real from fake and the random samples stay noise
  (``benchmarks/singan_gp_norm.py``; figures in the README), hence the default.
* ``z*`` is drawn once. The official code redraws it every iteration at the coarsest scale
  and keeps the last one, which the paper's fixed ``z*`` does not describe.
* The official ``imresize`` round-trips through uint8 (clipping its input to [-1, 1] and
  quantising) and clamps its output to [-1, 1]; here every resize of SinGAN (pyramid, images
  passed between scales, the applications' inputs) clips its input and clamps its output
  (:func:`jaxgan.data.single_image.imresize_clamped`), without quantising.
* Finished scales run with batch-norm running statistics (the official ``eval()``); the
  scale being trained uses batch statistics, and its running statistics follow every
  generator forward pass in train mode (3 in the critic steps, 3 reconstructions).

Each scale trains with :func:`jaxgan.train.fit` in ``<workdir>/scales/<n>`` (checkpoints,
TensorBoard, sample grids), so an interrupted run resumes at the scale and iteration where
it stopped; the coarser generators are part of the scale's state (``extra['frozen']``).
SinGAN trains on one device: its batch is the single image.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import time
from typing import Any, Callable, Iterator

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgan import download, visualize
from jaxgan.config import NON_NEGATIVE, POSITIVE, PROBABILITY, TrainConfig, field
from jaxgan.data import images as images_lib
from jaxgan.data import single_image as single_image_lib
from jaxgan.losses.adversarial import GP_NORMS, gradient_penalty
from jaxgan.methods import runner
from jaxgan.models import singan as models
from jaxgan.train import compiler, optim, sharding
from jaxgan.train.state import ModelState, Network, TrainState, abstract_network, init_network

IMAGE_SEARCH = ("singan_images",)  # --image=balloons
PYRAMIDS = {
  "default": "the official training pyramid (adjust_scales2image)",
  "sr": "the official super-resolution pyramid (adjust_scales2image_SR): min_size 18, "
  "factor sr_factor^(-1/k) close to (1/2)^(1/3)",
}
# --g_adv_grad: ``(recompute(g), g, cached) -> (G's adversarial loss, its gradient)`` of each G step:
# official: the last critic step's fake, differentiated once for all G steps (``cached``);
# recompute: G re-run at its current parameters in every G step.
G_ADV_GRADS = {
  "official": lambda recompute, g, cached: cached,
  "recompute": lambda recompute, g, cached: recompute(g),
}
SR_BASE_STEP = 2 ** (1 / 3)  # the official SR upscaling step before refitting to sr_factor


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(TrainConfig, optim.adam_fields(learning_rate=None)):
  image: str = field(
    "",
    "The training image (PNG/JPEG; alpha is dropped, grey replicated): a file, or a "
    "name of SinGAN's shipped images (balloons, birds, ...).",
  )
  dataset: str = field("", "Not used by SinGAN: give the image with --image.")
  num_steps: int = field(2000, "Iterations per scale (the official niter).", check=POSITIVE)
  batch_size: int = field(1, "SinGAN learns from one image: must be 1.", check=(lambda v: v == 1, "must be 1"))
  checkpoint_every: int = field(
    500, "Checkpoint every N iterations within a scale (and at its end).", check=NON_NEGATIVE, run_only=True
  )
  sample_every: int = field(
    500, "Sample grid every N iterations within a scale (and at its end).", check=NON_NEGATIVE, run_only=True
  )
  eval_every: int = field(
    500, "Reconstruction RMSE every N iterations (and at the end).", check=NON_NEGATIVE, run_only=True
  )
  num_devices: int = field(1, "SinGAN trains on one device.", check=(lambda v: v == 1, "must be 1"), run_only=True)
  # Pyramid.
  pyramid: str = field("default", "Pyramid rule.", choices=PYRAMIDS)
  max_size: int = field(single_image_lib.MAX_SIZE, "Longest image side at the finest scale.", check=POSITIVE)
  min_size: int = field(
    0,
    "Shortest side at the coarsest scale; 0: the pyramid's official value (25, or 18 with --pyramid=sr).",
    check=NON_NEGATIVE,
  )
  scale_factor: float = field(
    single_image_lib.SCALE_FACTOR,
    "Initial scale factor; refitted per image.",
    check=(lambda v: 0 < v < 1, "must be in (0, 1)"),
  )
  sr_factor: float = field(
    4.0, "Super-resolution factor (--pyramid=sr trains for it; --mode=sr).", check=(lambda v: v > 1, "must be > 1")
  )
  # Networks and optimisation.
  nfc: int = field(models.NFC, "Channels at the coarsest scales (x2 every 4 scales, <= 128).", check=POSITIVE)
  min_nfc: int = field(models.MIN_NFC, "Minimum channels of the body layers.", check=POSITIVE)
  lr_g: float = field(5e-4, "Generator learning rate.", check=POSITIVE)
  lr_d: float = field(5e-4, "Critic learning rate.", check=POSITIVE)
  lr_milestone: int = field(
    1600, "Iteration at which the learning rates are multiplied by lr_gamma.", check=NON_NEGATIVE
  )
  lr_gamma: float = field(0.1, "Learning-rate factor at lr_milestone.", check=POSITIVE)
  d_steps: int = field(3, "Critic steps per iteration.", check=POSITIVE)
  g_steps: int = field(3, "Generator steps per iteration.", check=POSITIVE)
  gp_weight: float = field(0.1, "WGAN-GP weight (the official lambda_grad).", check=NON_NEGATIVE)
  gp_norm: str = field(
    "pixel", "Gradient-penalty norm: 'pixel' (official code) or 'example' (WGAN-GP).", choices={k: k for k in GP_NORMS}
  )
  g_adv_grad: str = field(
    "official",
    "Adversarial gradient of the G steps: official (the last critic step's fake, differentiated "
    "once) or recompute (G re-run in every G step).",
    choices=G_ADV_GRADS,
  )
  alpha: float = field(10.0, "Reconstruction loss weight (100 for super-resolution).", check=NON_NEGATIVE)
  noise_amp: float = field(0.1, "Noise amplitude per scale, times the RMSE of the reconstruction.", check=NON_NEGATIVE)
  # Applications (--mode=random_samples, sr, paint2image, editing, harmonization, animation).
  num_samples: int = field(8, "Random samples to write.", check=POSITIVE, run_only=True)
  gen_start_scale: int = field(
    0,
    "Random samples: scales below this follow the reconstruction (the official gen_start_scale).",
    check=NON_NEGATIVE,
    run_only=True,
  )
  scale_h: float = field(1.0, "Random samples: width factor of the output.", check=POSITIVE, run_only=True)
  scale_v: float = field(1.0, "Random samples: height factor of the output.", check=POSITIVE, run_only=True)
  sifid: bool = field(
    True,
    "Random samples: SIFID of each sample against the training image at the samples' scale, in "
    "seed=S_sifid.json beside them (skipped, with a note, when --sifid_weights is a registered name "
    "not downloaded).",
    run_only=True,
  )
  sifid_weights: str = field(
    "fid_inception",
    "Random samples: the Inception weights of SIFID: a registered name (python -m jaxgan.download "
    "fid_inception) or a file (.pth, or .npz of jaxgan.interop.inception.save_inception_npz).",
    run_only=True,
  )
  sifid_layer: str = field(
    "64",
    "Random samples: the SIFID layer: 64 (Conv2d_2b before the first max pool, the official "
    "sifid_score.py) or 192 (Conv2d_4a before the second max pool, the paper's text).",
    choices={"64": "Conv2d_2b_3x3", "192": "Conv2d_4a_3x3"},
    run_only=True,
  )
  ref_image: str = field(
    "",
    "paint2image / editing / harmonization: the painting, edited or "
    "pasted image (a file, or a name of SinGAN's shipped inputs: "
    "starry_night_naive).",
    run_only=True,
  )
  mask: str = field(
    "",
    "editing / harmonization: the mask of the edited region (white = edited; "
    "RGB, RGBA, grey or JPEG; a file or a name: starry_night_naive_mask).",
    run_only=True,
  )
  inject_scale: int = field(
    1,
    "paint2image / editing / harmonization: scale at which the image is injected (>= 1).",
    check=POSITIVE,
    run_only=True,
  )
  quantize: bool = field(False, "paint2image: quantise the painting to the image's palette (k-means).", run_only=True)
  quantize_colors: int = field(5, "paint2image: colours of the k-means palette.", check=POSITIVE, run_only=True)
  anim_start_scale: int = field(
    2, "animation: scales below this follow the reconstruction.", check=NON_NEGATIVE, run_only=True
  )
  anim_alpha: float = field(0.1, "animation: pull towards z* in the random walk.", check=PROBABILITY, run_only=True)
  anim_beta: float = field(0.9, "animation: momentum of the random walk.", check=PROBABILITY, run_only=True)
  anim_frames: int = field(100, "animation: frames.", check=POSITIVE, run_only=True)
  anim_fps: int = field(10, "animation: frames per second.", check=POSITIVE, run_only=True)
  anim_format: str = field(
    "gif", "animation: 'gif' or 'mp4' (mp4 needs imageio-ffmpeg).", choices={"gif": "GIF", "mp4": "MP4"}, run_only=True
  )

  def __post_init__(self):
    super().__post_init__()
    if self.dataset:
      raise ValueError(f"--dataset={self.dataset!r}: SinGAN learns from one image, give it with --image")
    if self.time_budget_minutes:
      raise ValueError(
        f"--time_budget_minutes={self.time_budget_minutes:g}: not supported by SinGAN (a pyramid "
        "stopped part-way is not a model); use --num_steps or fewer scales (--min_size/--max_size)"
      )
    if self.min_nfc > self.nfc:
      raise ValueError(f"min_nfc={self.min_nfc} must be <= nfc={self.nfc}")

  def pyramid_for(self, h: int, w: int) -> single_image_lib.PyramidSpec:
    if self.pyramid == "sr":
      return single_image_lib.sr_pyramid_spec(
        h,
        w,
        max_size=self.max_size,
        min_size=self.min_size or single_image_lib.SR_MIN_SIZE,
        scale_factor=sr_step(self.sr_factor)[0],
      )
    return single_image_lib.pyramid_spec(
      h, w, max_size=self.max_size, min_size=self.min_size or single_image_lib.MIN_SIZE, scale_factor=self.scale_factor
    )


def sr_step(sr_factor: float) -> tuple[float, int]:
  """``(scale_factor, iterations)`` of the official SR (``calc_init_scale``).

  ``k = round(log_{2^(1/3)} sr_factor)`` applications of the finest generator, each an
  upscaling by ``sr_factor^(1/k)``; the pyramid is trained with the factor ``sr_factor^(-1/k)``.
  """
  iterations = max(1, round(math.log(sr_factor) / math.log(SR_BASE_STEP)))
  return sr_factor ** (-1 / iterations), iterations


def _adam(config: Config, lr: float, steps_per_iteration: int) -> optax.GradientTransformation:
  """Adam whose learning rate drops by ``lr_gamma`` at iteration ``lr_milestone``.

  The official MultiStepLR counts iterations; Adam's count here counts updates, of which
  each iteration makes ``steps_per_iteration``.
  """

  def schedule(count):
    iteration = count // steps_per_iteration
    return jnp.where(iteration >= config.lr_milestone, lr * config.lr_gamma, lr)

  return optax.chain(optax.scale_by_adam(b1=config.beta1, b2=config.beta2), optax.scale_by_learning_rate(schedule))


def pad(x: jax.Array) -> jax.Array:
  """The official zero padding of generator inputs (``m_noise`` / ``m_image``)."""
  p = models.PAD
  return jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))


def fit_to(x: jax.Array, shape: tuple[int, int]) -> jax.Array:
  """Crop ``x`` to ``shape`` (top-left, as the official code); bilinear resize if it is smaller."""
  h, w = shape
  x = x[:, :h, :w, :]
  if x.shape[1:3] != (h, w):
    x = jax.image.resize(x, (x.shape[0], h, w, x.shape[3]), "bilinear")
  return x


def upsample(x: jax.Array, factor: float, shape: tuple[int, int]) -> jax.Array:
  """The next scale's input: ``clip(x)`` resized by ``factor`` (MATLAB bicubic), clamped to
  [-1, 1] (the official ``imresize``: cubic overshoot is cut), fitted to ``shape``."""
  return fit_to(single_image_lib.imresize_clamped(jnp.clip(x, -1.0, 1.0), factor), shape)


def noise(key: jax.Array, shape: tuple[int, int], *, coarsest: bool, batch: int = 1) -> jax.Array:
  """N(0, 1) noise ``[batch, h, w, 3]``; at the coarsest scale one channel repeated over RGB."""
  channels = 1 if coarsest else 3
  z = jax.random.normal(key, (batch, *shape, channels))
  return jnp.broadcast_to(z, (batch, *shape, 3))


@dataclasses.dataclass(frozen=True)
class ScaleNet:
  """One trained scale as the applications use it: generator, its arrays, its noise amplitude."""

  network: Network
  params: Any
  stats: Any
  amp: jax.Array

  def __call__(self, z: jax.Array, prev: jax.Array) -> jax.Array:
    """``G(amp z + prev, prev)`` with running statistics; ``z`` and ``prev`` unpadded."""
    zp, pp = pad(self.amp * z + prev), pad(prev)
    return self.network.apply(self.params, self.stats, zp, pp, train=False)[0]


@dataclasses.dataclass(frozen=True)
class ScaleMethod:
  """One scale of the pyramid: what ``runner.train`` fits (no constants)."""

  config: Config
  init_state: Callable[[jax.Array], TrainState]
  train_step: Callable
  consts: None = None


class SinGAN:
  """The static half of SinGAN for one image's pyramid: networks, optimisers, steps."""

  consts = None  # what the step reads but never trains (fit's consts): none here

  def __init__(self, config: Config, spec: single_image_lib.PyramidSpec):
    self.config = config
    self.spec = spec
    self.tx_g = _adam(config, config.lr_g, config.g_steps)
    self.tx_d = _adam(config, config.lr_d, config.d_steps)
    self.sample_jit = compiler.jit(self.sample, static_argnums=(1, 3))
    self.reconstruct_jit = compiler.jit(self.reconstruct, static_argnums=1)

  # -- networks ------------------------------------------------------------------------------
  def widths(self, n: int) -> tuple[int, int]:
    return models.channels_at_scale(n, nfc=self.config.nfc, min_nfc=self.config.min_nfc)

  def make_g(self, n: int):
    return models.generator_at_scale(n, nfc=self.config.nfc, min_nfc=self.config.min_nfc, remat=self.config.remat)

  def make_d(self, n: int):
    return models.discriminator_at_scale(n, nfc=self.config.nfc, min_nfc=self.config.min_nfc, remat=self.config.remat)

  @functools.cache  # noqa: B019 -- one SinGAN per run, a few scales: nothing to leak
  def generator(self, n: int) -> Network:
    return abstract_network(
      lambda rngs: self.make_g(n)(rngs=rngs), self.tx_g, compute_dtype=self.config.compute_dtype()
    )

  @functools.cache  # noqa: B019 -- as generator
  def discriminator(self, n: int) -> Network:
    return abstract_network(
      lambda rngs: self.make_d(n)(rngs=rngs), self.tx_d, compute_dtype=self.config.compute_dtype()
    )

  def shape(self, n: int) -> tuple[int, int]:
    return self.spec.shapes[n]

  @property
  def up_factor(self) -> float:
    return 1.0 / self.spec.scale_factor

  # -- the coarser scales -------------------------------------------------------------------
  def frozen_nets(self, extra: dict) -> list[ScaleNet]:
    """The finished scales of a state (``extra['frozen']`` and amplitudes)."""
    return [
      ScaleNet(self.generator(k), f["params"], f["stats"], extra["amps"][k]) for k, f in enumerate(extra["frozen"])
    ]

  def draw(
    self, nets: list[ScaleNet], noises: list[jax.Array], shapes: list[tuple[int, int]], start: jax.Array
  ) -> jax.Array:
    """Run ``nets`` coarse to fine from ``start``; each output is upsampled to the next shape.

    ``shapes[k]`` is scale k's size; returns the input of scale ``len(nets)`` (size
    ``shapes[len(nets)]``), or ``start`` when ``nets`` is empty.
    """
    x = start
    for k, (net, z) in enumerate(zip(nets, noises)):
      x = upsample(net(z, x), self.up_factor, shapes[k + 1])
    return x

  def random_prev(self, extra: dict, n: int, key: jax.Array) -> jax.Array:
    """A random image from the scales below ``n`` at scale n's size (the official 'rand')."""
    shapes = list(self.spec.shapes[: n + 1])
    keys = jax.random.split(key, max(n, 1))
    zs = [noise(keys[k], shapes[k], coarsest=k == 0) for k in range(n)]
    start = jnp.zeros((1, *shapes[0], 3))
    return self.draw(self.frozen_nets(extra), zs, shapes, start)

  def reconstruction_prev(self, extra: dict, n: int) -> jax.Array:
    """Scale n's input on the reconstruction path (z* at the coarsest scale, zeros above)."""
    shapes = list(self.spec.shapes[: n + 1])
    zs = [extra["z_opt"]] + [jnp.zeros((1, *shapes[k], 3)) for k in range(1, n)]
    return self.draw(self.frozen_nets(extra), zs[:n], shapes, jnp.zeros((1, *shapes[0], 3)))

  # -- state ---------------------------------------------------------------------------------
  def init_state(self, key: jax.Array, n: int, real: jax.Array, previous: TrainState | None) -> TrainState:
    """Scale ``n``'s state; ``previous`` is scale ``n - 1``'s final state (None at n = 0)."""
    if (n == 0) != (previous is None):
      raise ValueError(f"scale {n} needs the previous scale's state exactly when n > 0")
    k_g, k_d, k_run, k_z = jax.random.split(key, 4)
    g = init_network(lambda rngs: self.make_g(n)(rngs=rngs), self.tx_g, k_g)
    d = init_network(lambda rngs: self.make_d(n)(rngs=rngs), self.tx_d, k_d)
    if n == 0:
      z_opt = noise(k_z, self.shape(0), coarsest=True)
      extra = {"frozen": [], "amps": jnp.ones((1,)), "z_opt": z_opt, "rec_prev": jnp.zeros((1, *self.shape(0), 3))}
      return TrainState(step=jnp.zeros((), jnp.int32), rng=k_run, nets={"G": g, "D": d}, extra=extra)
    pg, pd = previous.nets["G"], previous.nets["D"]
    if self.widths(n) == self.widths(n - 1):  # the official warm start from the previous scale
      g = ModelState(params=pg.params, stats=pg.stats, opt_state=self.tx_g.init(pg.params))
      d = ModelState(params=pd.params, stats=pd.stats, opt_state=self.tx_d.init(pd.params))
    prev_extra = previous.extra
    frozen = list(prev_extra["frozen"]) + [{"params": pg.params, "stats": pg.stats}]
    partial = {"frozen": frozen, "amps": prev_extra["amps"], "z_opt": prev_extra["z_opt"]}
    rec_prev = self.reconstruction_prev(partial, n)
    rmse = jnp.sqrt(jnp.mean(jnp.square(real - rec_prev)))
    amps = jnp.concatenate([prev_extra["amps"], (self.config.noise_amp * rmse)[None]])
    extra = {"frozen": frozen, "amps": amps, "z_opt": prev_extra["z_opt"], "rec_prev": rec_prev}
    return TrainState(step=jnp.zeros((), jnp.int32), rng=k_run, nets={"G": g, "D": d}, extra=extra)

  # -- losses --------------------------------------------------------------------------------
  def d_loss(self, d_params, d_stats, n: int, real, fake, key):
    net = self.discriminator(n)
    real_out, d_stats = net.apply(d_params, d_stats, real, train=True)
    fake_out, d_stats = net.apply(d_params, d_stats, fake, train=True)
    loss = -real_out.mean() + fake_out.mean()
    metrics = {"d_real": real_out.mean(), "d_fake": fake_out.mean()}
    if self.config.gp_weight:
      critic = lambda x: net.apply(d_params, d_stats, x, train=True)[0]
      gp = gradient_penalty(critic, real, fake, key, norm=self.config.gp_norm).mean()
      loss = loss + self.config.gp_weight * gp
      metrics["gradient_penalty"] = gp
    metrics["d_loss"] = loss
    return loss, (d_stats, metrics)

  def rec_loss(self, g_params, g_stats, n: int, extra: dict, real):
    z_in = (extra["z_opt"] if n == 0 else jnp.zeros_like(real)) * extra["amps"][n] + extra["rec_prev"]
    out, g_stats = self.generator(n).apply(g_params, g_stats, pad(z_in), pad(extra["rec_prev"]), train=True)
    loss = jnp.mean(jnp.square(out - real))
    return self.config.alpha * loss, (g_stats, loss)

  # -- the step ------------------------------------------------------------------------------
  def scale(self, n: int, real: jax.Array, previous: TrainState | None) -> ScaleMethod:
    """Scale ``n`` as a method (:class:`jaxgan.methods.protocol.Method`), fitted on ``real``
    ``[1, H, W, 3]`` after the coarser scales of ``previous``."""
    init_fn = functools.partial(self.init_state, n=n, real=real, previous=previous)
    return ScaleMethod(self.config, init_fn, self.make_train_step(n))

  def make_train_step(self, n: int):
    config = self.config
    gen, disc = self.generator(n), self.discriminator(n)

    def train_step(state: TrainState, batch: dict, consts=None) -> tuple[TrainState, dict]:
      del consts  # SinGAN has none
      real = batch["real"]
      extra = state.extra
      keys = jax.random.split(state.step_key(), 2 * config.d_steps + 1)
      z = noise(keys[0], self.shape(n), coarsest=n == 0)
      g, d = state.nets["G"], state.nets["D"]
      amp = extra["amps"][n]
      for j in range(config.d_steps):
        if n == 0:
          prev = jnp.zeros_like(real)
        else:
          prev = jax.lax.stop_gradient(self.random_prev(extra, n, keys[1 + 2 * j]))
        z_in = pad(z if n == 0 else amp * z + prev)

        def forward(params, z_in=z_in, prev=prev, stats=g.stats):
          return gen.apply(params, stats, z_in, pad(prev), train=True)

        fake, pullback, g_stats = jax.vjp(forward, g.params, has_aux=True)
        g = g.replace(stats=g_stats)
        d_grads, (d_stats, d_metrics) = jax.grad(self.d_loss, has_aux=True)(
          d.params, d.stats, n, real, jax.lax.stop_gradient(fake), keys[2 + 2 * j]
        )
        d = disc.update(d, d_grads, d_stats)

      def adversarial(fake_image):
        out, _ = disc.apply(d.params, d.stats, fake_image, train=True)
        return -out.mean()

      g_adv, fake_grad = jax.value_and_grad(adversarial)(fake)
      (adv_grads,) = pullback(fake_grad)
      cached = (g_adv, adv_grads)

      def recompute(g, z_in=z_in, prev=prev):
        adv_loss = lambda params: adversarial(gen.apply(params, g.stats, z_in, pad(prev), train=True)[0])
        return jax.value_and_grad(adv_loss)(g.params)

      for _ in range(config.g_steps):
        g_adv, adv_grads = G_ADV_GRADS[config.g_adv_grad](recompute, g, cached)
        rec_grads, (g_stats, rec) = jax.grad(self.rec_loss, has_aux=True)(g.params, g.stats, n, extra, real)
        g = gen.update(g, jax.tree.map(jnp.add, adv_grads, rec_grads), g_stats)
      metrics = {
        **d_metrics,
        "g_adv": g_adv,
        "rec_mse": rec,
        "noise_amp": amp,
        "lr_g": jnp.where(state.step >= config.lr_milestone, config.lr_g * config.lr_gamma, config.lr_g),
      }
      return state.replace(step=state.step + 1, nets={"G": g, "D": d}), metrics

    return train_step

  # -- inference at the scale being trained ---------------------------------------------------
  def scale_nets(self, state: TrainState, n: int) -> list[ScaleNet]:
    """All scales up to ``n`` of a scale-``n`` state (G of scale n with its running statistics)."""
    g = state.nets["G"]
    return self.frozen_nets(state.extra) + [ScaleNet(self.generator(n), g.params, g.stats, state.extra["amps"][n])]

  def reconstruct(self, state: TrainState, n: int) -> jax.Array:
    """Scale n's reconstruction of the image (running statistics)."""
    net = self.scale_nets(state, n)[-1]
    z = state.extra["z_opt"] if n == 0 else jnp.zeros((1, *self.shape(n), 3))
    return net(z, state.extra["rec_prev"])

  def sample(self, state: TrainState, n: int, key: jax.Array, num: int) -> jax.Array:
    """``num`` random images at scale n (noise at every scale)."""
    nets = self.scale_nets(state, n)
    shapes = list(self.spec.shapes[: n + 1])

    def one(k):
      ks = jax.random.split(k, n + 1)
      zs = [noise(ks[i], shapes[i], coarsest=i == 0) for i in range(n + 1)]
      x = self.draw(nets[:-1], zs[:-1], shapes, jnp.zeros((1, *shapes[0], 3)))
      return nets[-1](zs[-1], x)[0]

    return jax.lax.map(one, jax.random.split(key, num))


# ------------------------------------------------------------------ training driver


def build(config: Config, data: single_image_lib.PyramidSpec) -> SinGAN:
  """The method for an image's pyramid (``config.pyramid_for(height, width)``)."""
  return SinGAN(config, data)


class _SameImage:
  """The 'data pipeline' of one scale: the same real image every step."""

  def __init__(self, real: np.ndarray):
    self.batch = {"real": real[None]}

  def iterate(self, start_step: int = 0) -> Iterator[dict]:
    del start_step
    while True:
      yield self.batch


def scale_dir(workdir: str, n: int) -> str:
  return os.path.join(workdir, "scales", f"{n:02d}")


def check_image(config: Config) -> str:
  """The file of --image (a path, or a name: ``balloons``); a clear error, before anything is
  written, when it is missing or not found."""
  if not config.image:
    raise ValueError("--image is required: the image SinGAN learns from")
  return download.resolve_flag(config.image, flag="--image", kind="file", search=IMAGE_SEARCH)


def load_reals(config: Config) -> tuple[single_image_lib.PyramidSpec, list[np.ndarray]]:
  """The image (through the tfds layer) and its pyramid, coarsest first, in [-1, 1]."""
  path = check_image(config)
  image = runner.built_by_process0_first(lambda: single_image_lib.single_image_source(path, config.resolved_data_dir()))
  spec = config.pyramid_for(*image.shape[:2])
  return spec, single_image_lib.build_pyramid(single_image_lib.to_model_range(image), spec)


def scale_part(config: Config, n: int, *, progress: bool = True) -> runner.Part:
  """Scale ``n``'s fit: folder ``scales/NN``, its own key, one device (the batch is one image)."""
  key = jax.random.fold_in(runner.run_key(config), n)
  return runner.Part(os.path.join("scales", f"{n:02d}"), key, sharding.make_mesh(1), progress)


def train_scales(config: Config, *, progress: bool = True) -> tuple[SinGAN, TrainState, list[np.ndarray]]:
  """Train (or resume) every scale; returns the finest scale's state.

  Scales whose last checkpoint is at ``num_steps`` are restored, not retrained.
  """
  image_path = check_image(config)
  workdir = runner.prepare_workdir(config)
  spec, reals = load_reals(config)
  method = build(config, spec)
  report_path = os.path.join(workdir, "scales.json")
  report = {}
  if os.path.exists(report_path):
    with open(report_path) as f:
      report = json.load(f)
  report.update(
    image=os.path.abspath(image_path),
    shapes=[list(s) for s in spec.shapes],
    scale_factor=spec.scale_factor,
    scale1=spec.scale1,
  )
  per_scale = {int(k): v for k, v in report.get("scales", {}).items()}
  state = None
  for n in range(spec.num_scales):
    real = jnp.asarray(reals[n][None])
    previous = state
    directory = scale_dir(workdir, n)
    eval_fn = runner.once_per_step(
      lambda s, n=n, real=real: {"rec_rmse": float(jnp.sqrt(jnp.mean(jnp.square(method.reconstruct_jit(s, n) - real))))}
    )
    sample_fn = lambda s, n=n: method.sample_jit(s, n, jax.random.PRNGKey(config.seed), 4)
    started = time.perf_counter()
    done_before = runner.latest_step(os.path.join(directory, "checkpoints")) == config.num_steps
    state = runner.train(
      config,
      method.scale(n, real, previous),
      batches=_SameImage(reals[n]),
      sample_fn=sample_fn,
      eval_fn=eval_fn,
      part=scale_part(config, n, progress=progress),
    )
    if not done_before or n not in per_scale:
      entry = per_scale.get(n, {"seconds": 0.0})
      if not done_before:
        entry["seconds"] = entry.get("seconds", 0.0) + time.perf_counter() - started
      entry.update(
        shape=list(spec.shapes[n]), nfc=method.widths(n)[0], noise_amp=float(state.extra["amps"][n]), **eval_fn(state)
      )
      per_scale[n] = entry
      report["scales"] = {str(k): v for k, v in sorted(per_scale.items())}
      report["total_seconds"] = sum(v["seconds"] for v in per_scale.values())
      runner.write_json(config, "scales.json", report)
  return method, state, reals


def restore_scales(config: Config) -> tuple[SinGAN, TrainState, list[np.ndarray]]:
  """The trained pyramid of ``--workdir`` for the applications; trains and writes nothing.

  Every scale must have reached its ``num_steps`` (:func:`runner.require_trained`: "train
  first" otherwise). With ``--allow_partial`` an unfinished pyramid is used as far as it is
  trained: the scales that have a checkpoint, the last one at its latest iteration; the
  pyramid then ends at that scale (outputs at its size). Returns ``(method, state, reals)``.
  """
  image_path = check_image(config)
  # The pyramid from the image file itself: nothing (no tfds build) is written before the check.
  spec = config.pyramid_for(*images_lib.load_image(image_path, channels=3).shape[:2])
  workdir = os.path.abspath(config.workdir)
  per_scale = runner.run_length(config)
  steps = []
  for n in range(spec.num_scales):
    step = runner.latest_step(os.path.join(scale_dir(workdir, n), "checkpoints"))
    if step is None:
      break
    steps.append(step)
  top = len(steps) - 1
  done = sum(min(step, per_scale) for step in steps) if steps else None
  detail = ""
  if steps:  # step N of M counts the iterations of all scales
    detail = f" (scale {top} of 0..{spec.stop_scale} at {steps[-1]}"
    detail += f"; outputs at scale {top}'s size)" if top < spec.stop_scale else ")"
  runner.require_trained(config, done, per_scale * spec.num_scales, detail=detail)
  _, reals = load_reals(config)
  if top < spec.stop_scale:
    spec = dataclasses.replace(spec, stop_scale=top, shapes=spec.shapes[: top + 1])
    reals = reals[: top + 1]
  method = build(config, spec)
  state = None
  for n in range(len(steps)):
    init_fn = method.scale(n, jnp.asarray(reals[n][None]), state).init_state
    state = runner.restore(config, init_fn, require_finished=False, part=scale_part(config, n))
  return method, state, reals


def train(config: Config) -> TrainState:
  method, state, reals = train_scales(config)
  finest = method.spec.num_scales - 1
  grid = visualize.make_grid(np.asarray(method.sample_jit(state, finest, jax.random.PRNGKey(config.seed), 4)))
  visualize.save_png(os.path.join(os.path.abspath(config.workdir), "samples_finest.png"), grid)
  print(
    f"jaxgan: SinGAN trained {method.spec.num_scales} scales in {os.path.abspath(config.workdir)} "
    "(scales.json: time, noise amplitude and reconstruction RMSE per scale)",
    flush=True,
  )
  return state

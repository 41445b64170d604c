"""Unconditional GAN training shared by GAN (MLP) and DCGAN: state, step, sampling, data.

A method module (``gan``, ``dcgan``) supplies a :class:`Config` subclass and a
``parts(config) -> Parts`` function; everything else is here, written once.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgan import latent, visualize
from jaxgan.config import NON_NEGATIVE, POSITIVE, TrainConfig, field
from jaxgan.data import labelled_transform
from jaxgan.losses import ADVERSARIAL_LOSSES, gradient_penalty
from jaxgan.methods import runner
from jaxgan.metrics import features
from jaxgan.train import compiler
from jaxgan.train.state import ModelState, Network, TrainState, abstract_network, init_network

_SQRT3 = math.sqrt(3.0)

NOISE: dict[str, Callable[[jax.Array, tuple[int, ...]], jax.Array]] = {
  # Unit-variance uniform noise, as in Goodfellow et al.'s released code.
  "uniform": lambda key, shape: jax.random.uniform(key, shape, minval=-_SQRT3, maxval=_SQRT3),
  "normal": lambda key, shape: jax.random.normal(key, shape),
}


G_FAKES = {
  "new": "G's update draws new noise and runs G again (Goodfellow et al.'s Algorithm 1).",
  "shared": "G's update backpropagates through the fakes of the (last) D update, re-scored by the "
  "updated D: one G forward per step, as the DCGAN reference code (dcgan.torch, "
  "pytorch/examples) does.",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class AdversarialConfig(TrainConfig):
  """Fields of every unconditional GAN."""

  image_size: int = field(32, "Side of the square training images.", check=POSITIVE)
  channels: int = field(1, "Image channels (1 or 3).", check=(lambda c: c in (1, 3), "must be 1 or 3"))
  nz: int = field(100, "Dimension of the noise z.", check=POSITIVE)
  noise: str = field("normal", "Distribution of z.", choices=NOISE)
  loss: str = field("non_saturating", "Adversarial loss.", choices=ADVERSARIAL_LOSSES)
  gp_weight: float = field(0.0, "Weight of the gradient penalty on D (WGAN-GP uses 10).", check=NON_NEGATIVE)
  d_steps: int = field(1, "Discriminator updates per generator update (k in Goodfellow's Algorithm 1).", check=POSITIVE)
  g_fakes: str = field("new", "Fakes of G's update.", choices=G_FAKES)
  num_samples: int = field(64, "Images in the sample grid.", check=POSITIVE)
  # Latent-space tools (--mode=interpolate / arithmetic), applied to the latest checkpoint.
  interpolation: str = field(
    "slerp", "Interpolation of --mode=interpolate.", choices=latent.INTERPOLATIONS, run_only=True
  )
  interpolation_steps: int = field(10, "Images per interpolation strip.", check=POSITIVE, run_only=True)
  num_strips: int = field(8, "Interpolation strips (rows).", check=POSITIVE, run_only=True)
  arithmetic_groups: str = field(
    "0,1,2;3,4,5;6,7,8", "Sample-grid indices of groups A;B;C for --mode=arithmetic (A - B + C).", run_only=True
  )
  # Evaluation of samples: it does not change what is trained (a finished run may be judged again).
  fid_features: str = field(
    "none",
    "FID/KID/IS of --fid_samples samples against the real test split, at --eval_every steps and in "
    "eval.json: none, inception (the FID Inception-v3, --fid_weights) or judge (the features of a "
    "classifier trained here on the real training split; not comparable with published figures).",
    choices=("none", "inception", "judge"),
    run_only=True,
  )
  fid_weights: str = field(
    "fid_inception",
    "Weights of --fid_features=inception: a registered name (python -m jaxgan.download fid_inception) or a file.",
    run_only=True,
  )
  fid_samples: int = field(1000, "Generated (and real test) images of FID/KID/IS.", check=POSITIVE, run_only=True)
  classifier_steps: int = field(1500, "Training steps of the judging classifier.", check=POSITIVE, run_only=True)
  classifier_features: tuple[int, ...] = field(
    (16, 32, 64), "Conv widths of the judging classifier.", check=POSITIVE, run_only=True
  )


@dataclasses.dataclass(frozen=True)
class Parts:
  """What a method supplies: module builders and optimisers."""

  make_generator: Callable  # rngs -> nnx.Module, called as g(z, [y], train=...)
  make_discriminator: Callable  # rngs -> nnx.Module, called as d(x, [y], train=..., [key=...])
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation
  d_needs_key: bool = False  # the discriminator takes a dropout key
  num_classes: int = 0  # > 0: G and D are conditioned on integer class labels y (cGAN)
  d_project: Callable | None = None  # applied to D's params after each update (max-norm constraints)


@dataclasses.dataclass(frozen=True)
class Method:
  """The static half of a GAN: networks and losses, closed over by the step.

  With ``parts.num_classes > 0`` it is a conditional GAN (Mirza & Osindero 2014): G gets
  (z, y) with y drawn uniformly over the classes, D gets (x, y) with the real images' own
  labels and the fakes' sampled ones.
  """

  consts = None  # what the step reads but never trains (fit's consts): none here

  config: AdversarialConfig
  parts: Parts

  @functools.cached_property
  def generator(self) -> Network:
    return abstract_network(self.parts.make_generator, self.parts.g_tx, compute_dtype=self.config.compute_dtype())

  @functools.cached_property
  def discriminator(self) -> Network:
    return abstract_network(
      self.parts.make_discriminator, self.parts.d_tx, self.parts.d_project, compute_dtype=self.config.compute_dtype()
    )

  # -- state -----------------------------------------------------------------------------
  def init_state(self, key: jax.Array) -> TrainState:
    k_g, k_d, k_run = jax.random.split(key, 3)
    g = init_network(self.parts.make_generator, self.parts.g_tx, k_g)
    d = init_network(self.parts.make_discriminator, self.parts.d_tx, k_d)
    return TrainState(step=jnp.zeros((), jnp.int32), rng=k_run, nets={"G": g, "D": d}, extra={})

  # -- pieces of the step ----------------------------------------------------------------
  def noise(self, key: jax.Array, n: int) -> jax.Array:
    return NOISE[self.config.noise](key, (n, self.config.nz))

  @property
  def conditional(self) -> bool:
    return self.parts.num_classes > 0

  def sample_labels(self, key: jax.Array, n: int) -> jax.Array | None:
    """Uniform class labels for n fakes (None for an unconditional GAN)."""
    return jax.random.randint(key, (n,), 0, self.parts.num_classes) if self.conditional else None

  def generate(self, g: ModelState, z: jax.Array, y: jax.Array | None = None, *, train: bool = True):
    """``(images, new_stats)``; train=True uses batch statistics (the official DCGAN sampling)."""
    args = (z,) if y is None else (z, y)
    return self.generator.apply(g.params, g.stats, *args, train=train)

  def discriminate(self, params, stats, x: jax.Array, key: jax.Array, y: jax.Array | None = None):
    kwargs = {"key": key} if self.parts.d_needs_key else {}
    args = (x,) if y is None else (x, y)
    return self.discriminator.apply(params, stats, *args, train=True, **kwargs)

  def d_loss(self, d_params, d_stats, real, fake, key, y_real=None, y_fake=None):
    """Mean D loss; D sees the real and the fake batch in separate calls (separate BN batches)."""
    loss = ADVERSARIAL_LOSSES[self.config.loss]
    k_real, k_fake, k_gp = jax.random.split(key, 3)
    real_logits, d_stats = self.discriminate(d_params, d_stats, real, k_real, y_real)
    fake_logits, d_stats = self.discriminate(d_params, d_stats, fake, k_fake, y_fake)
    total = loss.discriminator(real_logits, fake_logits).mean()
    metrics = {
      "d_loss": total,
      "d_real": jax.nn.sigmoid(real_logits).mean(),
      "d_fake": jax.nn.sigmoid(fake_logits).mean(),
    }
    if self.config.gp_weight:
      if self.conditional:
        raise NotImplementedError("gradient penalty with conditioning is not supported yet")
      critic = lambda x: self.discriminate(d_params, d_stats, x, k_gp)[0]
      gp = gradient_penalty(critic, real, fake, k_gp).mean()
      total = total + self.config.gp_weight * gp
      metrics["gradient_penalty"] = gp
    return total, (d_stats, metrics)

  def g_loss(self, g_params, g_stats, d: ModelState, z, key, y=None):
    fake, g_stats = self.generator.apply(g_params, g_stats, *((z,) if y is None else (z, y)), train=True)
    total, metrics = self.g_loss_of_fakes(fake, d, key, y)
    return total, (g_stats, metrics)

  def g_loss_of_fakes(self, fake, d: ModelState, key, y=None):
    """G's loss as a function of its fakes; D's statistics are not updated."""
    fake_logits, _ = self.discriminate(d.params, d.stats, fake, key, y)
    total = ADVERSARIAL_LOSSES[self.config.loss].generator(fake_logits).mean()
    return total, {"g_loss": total}

  def d_update(self, state_nets: dict[str, ModelState], real, key, y_real=None, *, keep_fakes=False):
    """One D update; with ``keep_fakes`` also ``(fakes, labels, G's vjp, G's new stats)``."""
    g, d = state_nets["G"], state_nets["D"]
    k_z, k_y, k_d = jax.random.split(key, 3)
    y_fake = self.sample_labels(k_y, real.shape[0])
    z = self.noise(k_z, real.shape[0])
    if keep_fakes:
      fake, g_vjp, g_stats = jax.vjp(lambda p: self.generate(g.replace(params=p), z, y_fake), g.params, has_aux=True)
    else:
      fake, _ = self.generate(g, z, y_fake)
    fake = jax.lax.stop_gradient(fake)
    grads, (stats, metrics) = jax.grad(self.d_loss, has_aux=True)(d.params, d.stats, real, fake, k_d, y_real, y_fake)
    d = self.discriminator.update(d, grads, stats)
    return (d, metrics, (fake, y_fake, g_vjp, g_stats)) if keep_fakes else (d, metrics)

  def g_update(self, state_nets: dict[str, ModelState], n: int, key) -> tuple[ModelState, dict]:
    g, d = state_nets["G"], state_nets["D"]
    k_z, k_y, k_d = jax.random.split(key, 3)
    grads, (stats, metrics) = jax.grad(self.g_loss, has_aux=True)(
      g.params, g.stats, d, self.noise(k_z, n), k_d, self.sample_labels(k_y, n)
    )
    return self.generator.update(g, grads, stats), metrics

  def g_update_shared(self, state_nets: dict[str, ModelState], fakes, key) -> tuple[ModelState, dict]:
    """G's update through the kept fakes of the last D update (``--g_fakes=shared``)."""
    fake, y_fake, g_vjp, g_stats = fakes
    _, _, k_d = jax.random.split(key, 3)
    fake_grad, metrics = jax.grad(self.g_loss_of_fakes, has_aux=True)(fake, state_nets["D"], k_d, y_fake)
    (grads,) = g_vjp(fake_grad)
    return self.generator.update(state_nets["G"], grads, g_stats), metrics

  # -- the step --------------------------------------------------------------------------
  def train_step(self, state: TrainState, batch: dict[str, jax.Array], consts=None) -> tuple[TrainState, dict]:
    """k D updates (each on its own real minibatch and noise), then one G update. Pure."""
    del consts  # this method has none
    k = self.config.d_steps
    images = batch["image"]
    n = images.shape[0] // k
    # Row j*k + i of the batch feeds D step i: each device keeps its contiguous rows.
    real = images.reshape((n, k) + images.shape[1:])
    labels = batch["label"].reshape((n, k)) if self.conditional else None
    key = state.step_key()
    nets = dict(state.nets)
    metrics = {}
    shared = self.config.g_fakes == "shared"
    for i in range(k):
      y = None if labels is None else labels[:, i]
      out = self.d_update(nets, real[:, i], jax.random.fold_in(key, i), y, keep_fakes=shared and i == k - 1)
      nets["D"], metrics = out[:2]
    if shared:
      nets["G"], g_metrics = self.g_update_shared(nets, out[2], jax.random.fold_in(key, k))
    else:
      nets["G"], g_metrics = self.g_update(nets, n, jax.random.fold_in(key, k))
    return state.replace(step=state.step + 1, nets=nets), {**metrics, **g_metrics}

  def fixed_noise(self, n: int | None = None) -> jax.Array:
    """The noise of the sample grids: the same for every step of a run with this seed."""
    key = jax.random.fold_in(jax.random.PRNGKey(self.config.seed), 0x5A4D)
    return self.noise(key, n or self.config.num_samples)

  def sample(self, state: TrainState, z: jax.Array | None = None, y: jax.Array | None = None) -> jax.Array:
    """G(z[, y]) for the given latents, or the run's sample grid.

    The grid of a conditional GAN is ``[K, n, H, W, C]``: row r holds class r, every row the
    same n latents (n = num_samples // K, at least 1).
    """
    if z is None and self.conditional:
      k = self.parts.num_classes
      n = max(self.config.num_samples // k, 1)
      z = jnp.tile(self.fixed_noise(n), (k, 1))
      y = jnp.repeat(jnp.arange(k), n)
      images = self.generate(state.nets["G"], z, y)[0]
      return images.reshape((k, n) + images.shape[1:])
    z = self.fixed_noise() if z is None else z
    return self.generate(state.nets["G"], z, y)[0]


# -- modes of the experiment scripts ---------------------------------------------------------


def train(method: Method, eval_fn=None, *, judge=None, report: dict | None = None) -> TrainState:
  """Train ``method`` on ``config.dataset`` into ``config.workdir`` (resuming if it has checkpoints).

  The data informs nothing of these methods' build, so the method comes built (see :func:`modes`).
  ``eval_fn`` (the method's own evaluation) and, with ``--fid_features``, FID/KID/IS of samples
  (:func:`sample_scores`; ``judge``: the classifier's parameters, trained here if not given) run at
  ``--eval_every`` steps; their values at the end go to ``<workdir>/eval.json``, after ``report``.
  """
  config = method.config
  # The Inception weights are read (and a missing file reported) before anything is written.
  extractor = (
    features.inception(config.fid_weights, flag="--fid_weights") if config.fid_features == "inception" else None
  )
  sources = runner.labelled_sources(config, ("train", "test") if config.fid_features != "none" else ("train",))
  train_source, test_source = sources[0], sources[-1]
  if method.conditional and train_source.num_classes != method.parts.num_classes:
    raise ValueError(
      f"--num_classes={method.parts.num_classes} but {config.dataset} has {train_source.num_classes} classes"
    )
  batches = runner.loader(
    config,
    train_source,
    global_batch_size=config.batch_size * config.d_steps,
    transform=labelled_transform(image_size=config.image_size, channels=config.channels),
  )
  evaluators = [eval_fn] if eval_fn else []
  if config.fid_features == "judge":
    judge = judge_classifier(config, train_source) if judge is None else judge
    extractor = features.judge(judge, (config.image_size, config.image_size, config.channels))
  if config.fid_features != "none":
    evaluators.append(sample_scores(method, extractor, test_source, train_source))
  evaluate = runner.once_per_step(lambda s: {k: v for e in evaluators for k, v in e(s).items()}) if evaluators else None
  state = runner.train(config, method, batches=batches, sample_fn=compiler.jit(method.sample), eval_fn=evaluate)
  if evaluate is not None:
    result = {"step": int(state.step), **(report or {}), **evaluate(state)}
    path = runner.write_json(config, "eval.json", result)
    if jax.process_index() == 0:
      shown = ", ".join(f"{k} {v:.4g}" for k, v in result.items() if isinstance(v, float) and "class" not in k)
      print(f"jaxgan: {shown} -> {path}", flush=True)
  return state


def judge_classifier(config: AdversarialConfig, train_source):
  """The judging classifier of ``config.dataset`` (trained once on its training split, cached in
  ``<workdir>/classifier``; :func:`jaxgan.metrics.classifier.cached_classifier`)."""
  return runner.judge_classifier(
    config,
    train_source,
    image_size=config.image_size,
    channels=config.channels,
    steps=config.classifier_steps,
    features=config.classifier_features,
  )


def sample_scores(
  method: Method, extractor: features.Extractor, test_source, train_source
) -> Callable[[TrainState], dict]:
  """``eval_fn(state)``: FID, KID and IS (:func:`jaxgan.metrics.features.scores`) of
  ``--fid_samples`` samples (fixed latents; a conditional GAN's classes in turn) against as many
  real test images (all when the split is smaller), and, under ``real_train_*``, the same scores of
  as many real training images: the floor a generator of the training distribution reaches."""
  config = method.config
  n = config.fid_samples
  size = dict(image_size=config.image_size, channels=config.channels, limit=n)
  real = features.embed(extractor, runner.labelled_arrays(test_source, **size)[0])
  floor = features.scores(extractor, real, features.embed(extractor, runner.labelled_arrays(train_source, **size)[0]))
  floor = {f"real_train_{k}": v for k, v in floor.items()}
  z = method.noise(jax.random.fold_in(jax.random.PRNGKey(config.seed), 0xF1D), n)
  y = jnp.arange(n) % method.parts.num_classes if method.conditional else None
  sample = compiler.jit(method.sample)
  chunk = 500

  def eval_fn(state):
    fake = np.concatenate(
      [np.asarray(sample(state, z[i : i + chunk], None if y is None else y[i : i + chunk])) for i in range(0, n, chunk)]
    )
    return {**features.scores(extractor, real, features.embed(extractor, fake)), **floor}

  return eval_fn


def _generate_grid(method: Method, state: TrainState, z: jax.Array) -> jax.Array:
  flat = z.reshape(-1, z.shape[-1])
  images = compiler.jit(method.sample)(state, flat)
  return images.reshape(z.shape[:-1] + images.shape[1:])


def interpolate(method: Method) -> str:
  """PNG of interpolation strips between random latents (one strip a row)."""
  config = method.config
  state = runner.restore(config, method.init_state)
  k0, k1 = jax.random.split(jax.random.fold_in(jax.random.PRNGKey(config.seed), 0x1E2F))
  ends = method.noise(k0, config.num_strips), method.noise(k1, config.num_strips)
  ts = jnp.linspace(0.0, 1.0, config.interpolation_steps)
  z = jax.vmap(lambda a, b: latent.INTERPOLATIONS[config.interpolation](a, b, ts))(*ends)
  grid = visualize.make_grid(jax.device_get(_generate_grid(method, state, z)))
  path = os.path.join(
    os.path.abspath(config.workdir), "latent", f"{config.interpolation}_step{int(state.step):08d}.png"
  )
  return report(visualize.save_png(path, grid))


def parse_groups(text: str) -> list[list[int]]:
  """``"0,1,2;3,4;5"`` -> [[0,1,2],[3,4],[5]]: three groups of sample-grid indices."""
  try:
    groups = [[int(i) for i in g.split(",") if i.strip()] for g in text.split(";")]
  except ValueError:
    raise ValueError(
      f"--arithmetic_groups={text!r}: expected three ';'-separated lists of "
      "comma-separated sample indices, e.g. 0,1,2;3,4,5;6,7,8"
    ) from None
  if len(groups) != 3 or not all(groups):
    raise ValueError(f"--arithmetic_groups={text!r}: expected three non-empty groups A;B;C")
  return groups


def arithmetic(method: Method) -> str:
  """Vector arithmetic A - B + C on latents picked from the sample grid (``--arithmetic_groups``).

  Writes one strip: the decoded mean latents of A, B and C, the decoded result
  ``mean(A) - mean(B) + mean(C)``, and the result with four small perturbations (as in DCGAN).
  """
  config = method.config
  groups = parse_groups(config.arithmetic_groups)
  z_all = method.fixed_noise()
  bad = [i for g in groups for i in g if not 0 <= i < z_all.shape[0]]
  if bad:
    raise ValueError(f"--arithmetic_groups: indices {bad} outside the sample grid of {z_all.shape[0]}")
  state = runner.restore(config, method.init_state)
  z_a, z_b, z_c = (z_all[jnp.asarray(g)] for g in groups)
  result = latent.vector_arithmetic(z_a, z_b, z_c)
  jitter = 0.25 * method.noise(jax.random.PRNGKey(config.seed + 1), 4)
  z = jnp.concatenate([jnp.stack([z_a.mean(0), z_b.mean(0), z_c.mean(0), result]), result + jitter])
  grid = visualize.make_grid(jax.device_get(_generate_grid(method, state, z[None])))
  path = os.path.join(os.path.abspath(config.workdir), "latent", f"arithmetic_step{int(state.step):08d}.png")
  return report(visualize.save_png(path, grid))


def report(path: str) -> str:
  print(f"jaxgan: wrote {path}", flush=True)
  return path


def modes(build: Callable[[AdversarialConfig], Method]) -> dict[str, Callable[[AdversarialConfig], Any]]:
  """The ``MODES`` of a method whose ``build`` makes a :class:`Method`: train, interpolate and
  arithmetic, each a function of the config that builds the method once."""

  def of_config(mode):
    def run(config):
      return mode(build(config))

    run.__name__, run.__doc__ = mode.__name__, mode.__doc__
    return run

  return {"train": of_config(train), "interpolate": of_config(interpolate), "arithmetic": of_config(arithmetic)}

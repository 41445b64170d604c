"""Conditional GAN (Mirza & Osindero 2014): G(z, y) and D(x, y) with one-hot class labels.

``--architecture=mlp`` is the paper's MNIST model (z -> 200 ReLU and y -> 1000 ReLU joined
into 1200 ReLU in G; maxout branches 240x5 for x and 50x5 for y joined into 240x4 in D,
dropout) trained with the paper's SGD: batch 100, learning rate 0.1 decayed exponentially
(factor 1.00004 per step) to 1e-6, momentum 0.5 rising to 0.7. ``--architecture=dcgan`` is
the DCGAN pair with y concatenated to z in G and given to D as K constant label maps;
use it with ``--optimizer=adam --learning_rate=2e-4``.

``--mismatch_weight=w`` (default 0: the paper's D) adds the matching-aware term of Reed et
al. 2016 ("GAN-CLS"): D also sees real images with a wrong label (the true one shifted by a
uniform 1..K-1) and learns to call the pair fake, ``w * mean(-log(1 - D(x, y_wrong)))``. A D
that only ever sees real images with their own labels can tell real from fake without
reading y; the mismatched pairs make it check that the image shows its label. Reed et al.
average the two fake terms (real/wrong and fake/right), i.e. ``w = 1`` on a D loss halved;
here the term is added to Mirza & Osindero's loss unchanged. Needs the cross-entropy D of
``--loss=minimax`` or ``non_saturating``.

Fakes are conditioned on labels drawn uniformly over the classes. The sample grid holds
class r in row r; ``--mode=generate --class=R`` writes a grid of class R alone.
"""

from __future__ import annotations

import dataclasses
import os

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import visualize
from jaxgan.config import NON_NEGATIVE, POSITIVE, field
from jaxgan.methods import noise_to_image, runner
from jaxgan.methods.noise_to_image import NOISE, AdversarialConfig, Method, Parts
from jaxgan.metrics import accuracy, classify, per_class_accuracy
from jaxgan.models.conditional import (
  ConditionalDCGANDiscriminator,
  ConditionalDCGANGenerator,
  ConditionalMLPDiscriminator,
  ConditionalMLPGenerator,
)
from jaxgan.train import compiler, optim
from jaxgan.train.state import TrainState

MISMATCH_LOSSES = ("minimax", "non_saturating")
ARCHITECTURES = {"mlp": "the paper's MLP/maxout networks", "dcgan": "DCGAN with label maps"}
# --optimizer: the paper's SGD (decayed rate, ramped momentum) or Adam; D keeps its max-norm projection.
OPTIMIZERS = {"sgd": optim.pylearn2_sgd, "adam": optim.adam}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(AdversarialConfig, optim.Pylearn2SGD, optim.adam_fields(learning_rate=None)):
  architecture: str = field("mlp", "Networks.", choices=ARCHITECTURES)
  num_classes: int = field(10, "Classes of the dataset (checked against it).", check=POSITIVE)
  batch_size: int = field(100, "Global batch size.", check=POSITIVE)
  image_size: int = field(28, "Side of the square images (a power of two for dcgan).", check=POSITIVE)
  noise: str = field("uniform", "Distribution of z.", choices=NOISE)
  num_samples: int = field(100, "Sample-grid images (num_samples // num_classes per class row).", check=POSITIVE)
  ngf: int = field(64, "DCGAN generator width.", check=POSITIVE)
  ndf: int = field(64, "DCGAN discriminator width.", check=POSITIVE)
  optimizer: str = field(
    "sgd", "Optimiser of G and D: the paper's SGD or Adam (--learning_rate, --beta1/2).", choices=OPTIMIZERS
  )
  lr_decay_factor: float = field(
    1.00004, "SGD: learning rate divided by this every step.", check=(lambda v: v >= 1, "must be >= 1")
  )
  # The judge does not change what is trained: a finished run may be judged again with another.
  eval_samples_per_class: int = field(
    100, "Generated images per class judged by the classifier.", check=POSITIVE, run_only=True
  )
  mismatch_weight: float = field(
    0.0,
    "Weight of D's matching-aware term (Reed et al. 2016): real images "
    "with a wrong label count as fake (0: the paper's D).",
    check=NON_NEGATIVE,
  )
  eval_every: int = field(2000, "Class-agreement evaluation every N steps.", check=NON_NEGATIVE, run_only=True)
  gen_class: int = field(
    0, "Class of --mode=generate.", check=(lambda v: v >= 0, "must be >= 0"), run_only=True, flag="class"
  )

  def __post_init__(self):
    super().__post_init__()
    if self.gp_weight:
      raise ValueError(
        f"gp_weight={self.gp_weight} is not supported by the conditional GAN (the real and "
        "the fake image it would interpolate carry different labels); use --gp_weight=0"
      )
    if self.mismatch_weight and self.loss not in MISMATCH_LOSSES:
      raise ValueError(
        f"mismatch_weight={self.mismatch_weight} needs --loss in {MISMATCH_LOSSES} "
        f"(a cross-entropy D); got loss={self.loss!r}"
      )
    if self.mismatch_weight and self.num_classes < 2:
      raise ValueError(f"mismatch_weight={self.mismatch_weight} needs num_classes >= 2 (a wrong label)")
    if self.gen_class >= self.num_classes:
      raise ValueError(f"class={self.gen_class} must be < num_classes={self.num_classes}")


def parts(config: Config) -> Parts:
  k, shape = config.num_classes, (config.image_size, config.image_size, config.channels)
  tx, project = OPTIMIZERS[config.optimizer](config), optim.max_norm_projection(config)
  if config.architecture == "mlp":
    make_g = lambda rngs: ConditionalMLPGenerator(
      nz=config.nz, num_classes=k, out_shape=shape, remat=config.remat, rngs=rngs
    )
    make_d = lambda rngs: ConditionalMLPDiscriminator(in_shape=shape, num_classes=k, remat=config.remat, rngs=rngs)
    return Parts(make_g, make_d, tx, tx, d_needs_key=True, num_classes=k, d_project=project)
  make_g = lambda rngs: ConditionalDCGANGenerator(
    resolution=config.image_size,
    nz=config.nz,
    num_classes=k,
    ngf=config.ngf,
    out_channels=config.channels,
    remat=config.remat,
    rngs=rngs,
  )
  make_d = lambda rngs: ConditionalDCGANDiscriminator(
    resolution=config.image_size,
    num_classes=k,
    ndf=config.ndf,
    in_channels=config.channels,
    remat=config.remat,
    rngs=rngs,
  )
  return Parts(make_g, make_d, tx, tx, num_classes=k)


def wrong_labels(key: jax.Array, y: jax.Array, num_classes: int) -> jax.Array:
  """Each label replaced by a different one, uniform over the other ``num_classes - 1``."""
  return (y + jax.random.randint(key, y.shape, 1, num_classes)) % num_classes


@dataclasses.dataclass(frozen=True)
class ConditionalMethod(Method):
  """:class:`noise_to_image.Method` with the optional matching-aware D term (``--mismatch_weight``)."""

  def d_loss(self, d_params, d_stats, real, fake, key, y_real=None, y_fake=None):
    total, (d_stats, metrics) = super().d_loss(d_params, d_stats, real, fake, key, y_real, y_fake)
    weight = self.config.mismatch_weight
    if not weight:
      return total, (d_stats, metrics)
    k_y, k_d = jax.random.split(jax.random.fold_in(key, 0x3157))
    y_wrong = wrong_labels(k_y, y_real, self.parts.num_classes)
    logits, d_stats = self.discriminate(d_params, d_stats, real, k_d, y_wrong)
    mismatch = jax.nn.softplus(logits).mean()  # -log(1 - D(x, y_wrong))
    metrics = {**metrics, "d_mismatch": jax.nn.sigmoid(logits).mean()}
    return total + weight * mismatch, (d_stats, metrics)


def build(config: Config) -> ConditionalMethod:
  return ConditionalMethod(config, parts(config))


def generate(config: Config) -> str:
  """A square grid of samples of ``--class`` from the latest checkpoint."""
  method = build(config)
  state = runner.restore(config, method.init_state)
  z = method.fixed_noise()
  y = jnp.full((z.shape[0],), config.gen_class)
  images = compiler.jit(method.sample)(state, z, y)
  path = os.path.join(
    os.path.abspath(config.workdir), "generated", f"class{config.gen_class}_step{int(state.step):08d}.png"
  )
  return noise_to_image.report(visualize.save_png(path, visualize.make_grid(jax.device_get(images))))


def agreement_evaluator(method: Method, classifier_params, *, per_class: int):
  """``eval_fn(state)``: how often a classifier trained on real data names the class G was asked for."""
  k = method.parts.num_classes
  key = jax.random.fold_in(jax.random.PRNGKey(method.config.seed), 0xC1A5)
  z = method.noise(key, per_class * k)
  y = jnp.repeat(jnp.arange(k), per_class)
  sample = compiler.jit(method.sample)

  def eval_fn(state):
    images = np.asarray(jax.device_get(sample(state, z, y)))
    predicted = classify(classifier_params, images)
    per = per_class_accuracy(predicted, np.asarray(y), k)
    return {
      "class_agreement": accuracy(predicted, np.asarray(y)),
      "class_agreement_worst_class": float(per.min()),
      **{f"class_agreement_class{c}": float(a) for c, a in enumerate(per)},
    }

  return eval_fn


def train(config: Config) -> TrainState:
  """Train, judging samples by a classifier trained once on the real training split.

  The classifier (``jaxgan.metrics.classifier``) is cached in ``<workdir>/classifier``; its
  accuracy on the held-out test split is reported next to the class agreement (and, with
  ``--fid_features=judge``, its features give FID/KID/IS of the samples).
  """
  train_source, test_source = runner.labelled_sources(config, ("train", "test"))
  if train_source.num_classes != config.num_classes:
    raise ValueError(f"--num_classes={config.num_classes} but {config.dataset} has {train_source.num_classes} classes")
  params = noise_to_image.judge_classifier(config, train_source)
  test_images, test_labels = runner.labelled_arrays(test_source, image_size=config.image_size, channels=config.channels)
  test_predicted = classify(params, test_images)
  report = {
    "classifier_test_accuracy": float(accuracy(test_predicted, test_labels)),
    # The judge's own accuracy per class on real test images: the ceiling to read the agreement against.
    **{
      f"classifier_test_accuracy_class{c}": float(a)
      for c, a in enumerate(per_class_accuracy(test_predicted, test_labels, config.num_classes))
    },
  }
  method = build(config)
  eval_fn = agreement_evaluator(method, params, per_class=config.eval_samples_per_class)
  return noise_to_image.train(method, eval_fn, judge=params, report=report)


MODES = {"train": train, "generate": generate}

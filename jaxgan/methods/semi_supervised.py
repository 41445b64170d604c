"""Semi-supervised and categorical GANs whose discriminator is a classifier: SGAN, CatGAN.

One discriminator network (Salimans et al.'s MNIST classifier, ``jaxgan.models.ssl_mlp``)
and one generator serve three objectives, so that their accuracies compare like with like:

- ``sgan``: D is a K+1-way classifier (Odena 2016; Salimans et al. 2016). D loss =
  supervised cross-entropy on the labelled batch + ``unsupervised_weight`` x (real
  unlabelled -> not fake, G(z) -> fake); ``--head=implicit`` (K logits, fake logit fixed
  at 0, the improved-GAN form) or ``explicit`` (K+1 softmax). G loss = ``feature_matching``
  x squared distance of D's last-hidden-layer batch means (real vs fake) +
  ``g_adversarial`` x the non-saturating adversarial loss.
- ``catgan``: D is a K-way classifier without a fake class (Springenberg 2016): it
  maximises H[E_x p(y|x)] - E_x H[p(y|x)] + E_z H[p(y|G(z))]; G minimises
  E_z H[p(y|G(z))] - H[E_z p(y|G(z))]; ``supervised_weight`` x cross-entropy on the
  labelled batch for the semi-supervised form (0 for the unsupervised form).
- ``supervised``: the same D trained on the labelled batch alone (the baseline); G is
  not trained.

Defaults are the improved-GAN MNIST code's: Adam lr 3e-3, beta1 0.5, batch 100 labelled +
100 unlabelled, unsupervised weight 0.5, feature matching on mean squared differences,
z ~ U[0, 1)^100. The unlabelled stream is the whole training split with labels hidden
(the labelled examples appear in it too, as in Salimans et al.); only the chosen
``--num_labeled`` labels (balanced per class, chosen by the seed) are ever read.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgan.config import NON_NEGATIVE, POSITIVE, TrainConfig, field
from jaxgan.data import BatchLoader, labelled_transform, semi_supervised_sources
from jaxgan.data.streams import ZippedBatches
from jaxgan.losses import entropy as entropy_losses
from jaxgan.losses import semi_supervised as ssl_losses
from jaxgan.methods import runner
from jaxgan.metrics import accuracy, clustering_accuracy
from jaxgan.models.ssl_mlp import SSLMLPDiscriminator, SSLMLPGenerator
from jaxgan.train import compiler, optim
from jaxgan.train.state import ModelState, Network, TrainState, abstract_network, init_network


@dataclasses.dataclass(frozen=True)
class Objective:
  """What D learns from the unlabelled and generated images, and what G adds to its loss.

  ``d_unsupervised(method, logits_unlabelled, logits_fake) -> scalar`` (None: no generator at
  all, labelled data only); ``g_term(method, logits_fake) -> {metric: (weight, scalar)}``, the
  weighted terms added to G's loss (None: feature matching alone).
  """

  d_unsupervised: Callable[..., jax.Array] | None
  g_term: Callable[..., dict[str, jax.Array]] | None = None
  has_fake_class: bool = False  # D's head may be the explicit K+1-way one (--head)


def _sgan_d(method, logits_u, logits_f):
  head = method.head
  return (
    ssl_losses.unsupervised_real_loss(logits_u, head=head).mean()
    + ssl_losses.unsupervised_fake_loss(logits_f, head=head).mean()
  )


def _sgan_g(method, logits_f):
  weight = method.config.g_adversarial
  if not weight:
    return {}
  return {"g_adversarial": (weight, ssl_losses.generator_adversarial_loss(logits_f, head=method.head).mean())}


def _catgan_d(method, logits_u, logits_f):
  weight = method.config.catgan_marginal_weight
  return entropy_losses.catgan_discriminator_loss(logits_u, logits_f, marginal_weight=weight)


def _catgan_g(method, logits_f):
  weight = method.config.catgan_marginal_weight
  return {"g_catgan": (1.0, entropy_losses.catgan_generator_loss(logits_f, marginal_weight=weight))}


# --objective: Salimans et al.'s K+1-class D, Springenberg's entropy objectives, or labelled data only.
OBJECTIVES = {
  "sgan": Objective(_sgan_d, _sgan_g, has_fake_class=True),
  "catgan": Objective(_catgan_d, _catgan_g),
  "supervised": Objective(None),
}

NOISE = {
  "uniform01": lambda key, shape: jax.random.uniform(key, shape),  # the improved-GAN code's
  "normal": lambda key, shape: jax.random.normal(key, shape),
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(TrainConfig, optim.adam_fields(learning_rate=3e-3, learning_rate_help="Adam learning rate (G and D).")):
  objective: str = field(
    "sgan",
    "What D learns: sgan (K+1 classes), catgan (entropy objectives) or supervised (labels only).",
    choices=OBJECTIVES,
  )
  head: str = field(
    "implicit",
    "SGAN classifier head: implicit (K logits, fake logit 0) or explicit (K+1 softmax).",
    choices=ssl_losses.HEADS,
  )
  num_classes: int = field(10, "Classes of the dataset.", check=POSITIVE)
  num_labeled: int = field(100, "Labelled training examples (balanced per class, chosen by --seed).", check=POSITIVE)
  batch_size: int = field(100, "Unlabelled (and generated) images per step.", check=POSITIVE)
  labeled_batch_size: int = field(100, "Labelled images per step.", check=POSITIVE)
  image_size: int = field(28, "Side of the square images.", check=POSITIVE)
  channels: int = field(1, "Image channels.", check=(lambda c: c in (1, 3), "must be 1 or 3"))
  nz: int = field(100, "Dimension of z.", check=POSITIVE)
  noise: str = field("uniform01", "Distribution of z.", choices=NOISE)
  input_noise_std: float = field(
    0.6,
    "Std of the Gaussian noise on D's input in training: the improved-GAN "
    "code's 0.3 on [0, 1] pixels is 0.6 on jaxgan's [-1, 1] images.",
    check=NON_NEGATIVE,
  )
  unsupervised_weight: float = field(0.5, "Weight of D's unsupervised terms (SGAN, CatGAN).", check=NON_NEGATIVE)
  supervised_weight: float = field(1.0, "Weight of D's labelled cross-entropy.", check=NON_NEGATIVE)
  feature_matching: float = field(
    1.0, "Weight of G's feature-matching loss (SGAN; CatGAN adds it if > 0).", check=NON_NEGATIVE
  )
  g_adversarial: float = field(0.0, "Weight of G's non-saturating adversarial loss (SGAN).", check=NON_NEGATIVE)
  catgan_marginal_weight: float = field(1.0, "Weight of the marginal-entropy terms (CatGAN).", check=NON_NEGATIVE)
  num_steps: int = field(6000, "Total training steps.", check=NON_NEGATIVE, run_only=True)
  eval_every: int = field(1000, "Test-set evaluation every N steps.", check=NON_NEGATIVE, run_only=True)
  num_samples: int = field(100, "Images in the sample grid.", check=POSITIVE)

  def __post_init__(self):
    super().__post_init__()
    if self.num_labeled % self.num_classes:
      raise ValueError(
        f"num_labeled={self.num_labeled} must be a multiple of num_classes={self.num_classes} (balanced per class)"
      )


@dataclasses.dataclass(frozen=True)
class Method:
  config: Config
  consts = None  # what the step reads but never trains (fit's consts): none here

  @property
  def num_outputs(self) -> int:
    explicit = self.objective.has_fake_class and self.config.head == "explicit"
    return self.config.num_classes + int(explicit)

  def _make_d(self, rngs):
    shape = (self.config.image_size, self.config.image_size, self.config.channels)
    return SSLMLPDiscriminator(
      in_shape=shape,
      num_outputs=self.num_outputs,
      input_noise_std=self.config.input_noise_std,
      remat=self.config.remat,
      rngs=rngs,
    )

  def _make_g(self, rngs):
    shape = (self.config.image_size, self.config.image_size, self.config.channels)
    return SSLMLPGenerator(nz=self.config.nz, out_shape=shape, remat=self.config.remat, rngs=rngs)

  @functools.cached_property
  def tx(self) -> optax.GradientTransformation:
    return optim.adam(self.config)

  @functools.cached_property
  def generator(self) -> Network:
    return abstract_network(self._make_g, self.tx, compute_dtype=self.config.compute_dtype())

  @functools.cached_property
  def discriminator(self) -> Network:
    return abstract_network(self._make_d, self.tx, compute_dtype=self.config.compute_dtype())

  def init_state(self, key: jax.Array) -> TrainState:
    k_g, k_d, k_run = jax.random.split(key, 3)
    g = init_network(self._make_g, self.tx, k_g)
    d = init_network(self._make_d, self.tx, k_d)
    return TrainState(step=jnp.zeros((), jnp.int32), rng=k_run, nets={"G": g, "D": d}, extra={})

  def noise(self, key, n):
    return NOISE[self.config.noise](key, (n, self.config.nz))

  def classify(self, d: ModelState, x: jax.Array, key=None, *, train: bool = False):
    """``(logits, features)`` of D; noise layers are active only with ``train=True``."""
    (logits, features), _ = self.discriminator.apply(d.params, d.stats, x, train=train, key=key, return_features=True)
    return logits, features

  # -- losses ------------------------------------------------------------------------------
  def d_loss(self, d_params, d_stats, batch, fake, key):
    c = self.config
    d = ModelState(d_params, d_stats, None)
    k_l, k_u, k_f = jax.random.split(key, 3)
    logits_l, _ = self.classify(d, batch["labeled/image"], k_l, train=True)
    supervised = ssl_losses.supervised_loss(logits_l, batch["labeled/label"], head=self.head).mean()
    metrics = {
      "d_supervised": supervised,
      "train_labeled_accuracy": jnp.mean(ssl_losses.predict(logits_l, head=self.head) == batch["labeled/label"]),
    }
    total = c.supervised_weight * supervised
    if self.objective.d_unsupervised is not None:
      logits_u, _ = self.classify(d, batch["unlabeled/image"], k_u, train=True)
      logits_f, _ = self.classify(d, fake, k_f, train=True)
      unsupervised = self.objective.d_unsupervised(self, logits_u, logits_f)
      metrics["d_unsupervised"] = unsupervised
      total = total + c.unsupervised_weight * unsupervised
    metrics["d_loss"] = total
    return total, metrics

  def g_loss(self, g_params, g_stats, d: ModelState, real_unlabeled, z, key):
    c = self.config
    k_r, k_f = jax.random.split(key)
    fake, g_stats = self.generator.apply(g_params, g_stats, z, train=True)
    logits_f, features_f = self.classify(d, fake, k_f, train=True)
    total, metrics = 0.0, {}
    if c.feature_matching:
      _, features_r = self.classify(d, real_unlabeled, k_r, train=True)
      fm = ssl_losses.feature_matching_loss(jax.lax.stop_gradient(features_r), features_f, average=True)
      metrics["g_feature_matching"] = fm
      total = total + c.feature_matching * fm
    for name, (weight, value) in (self.objective.g_term(self, logits_f) if self.objective.g_term else {}).items():
      metrics[name] = value
      total = total + weight * value
    metrics["g_loss"] = total
    return total, (g_stats, metrics)

  @property
  def objective(self) -> Objective:
    return OBJECTIVES[self.config.objective]

  @property
  def head(self) -> str:
    """D's head: ``--head`` where the objective has a fake class, else the K-way (implicit) one."""
    return self.config.head if self.objective.has_fake_class else "implicit"

  # -- the step ------------------------------------------------------------------------------
  def train_step(self, state: TrainState, batch: dict[str, jax.Array], consts=None) -> tuple[TrainState, dict]:
    """One D update on (labelled, unlabelled, generated) batches, then one G update. Pure."""
    del consts  # this method has none
    key = state.step_key()
    k_zd, k_d, k_zg, k_g = jax.random.split(key, 4)
    nets = dict(state.nets)
    g, d = nets["G"], nets["D"]
    n = batch["unlabeled/image"].shape[0]
    metrics = {}
    fake = None
    trains_g = self.objective.d_unsupervised is not None
    if trains_g:
      fake = jax.lax.stop_gradient(self.generator.apply(g.params, g.stats, self.noise(k_zd, n), train=True)[0])
    grads, d_metrics = jax.grad(self.d_loss, has_aux=True)(d.params, d.stats, batch, fake, k_d)
    nets["D"] = self.discriminator.update(d, grads)
    metrics.update(d_metrics)
    if trains_g:
      grads, (g_stats, g_metrics) = jax.grad(self.g_loss, has_aux=True)(
        g.params, g.stats, nets["D"], batch["unlabeled/image"], self.noise(k_zg, n), k_g
      )
      nets["G"] = self.generator.update(g, grads, g_stats)
      metrics.update(g_metrics)
    return state.replace(step=state.step + 1, nets=nets), metrics

  def predict(self, state: TrainState, images: jax.Array) -> jax.Array:
    logits, _ = self.classify(state.nets["D"], images)
    return ssl_losses.predict(logits, head=self.head)

  def sample(self, state: TrainState) -> jax.Array:
    key = jax.random.fold_in(jax.random.PRNGKey(self.config.seed), 0x5A4D)
    g = state.nets["G"]
    return self.generator.apply(g.params, g.stats, self.noise(key, self.config.num_samples), train=True)[0]


def build(config: Config) -> Method:
  return Method(config)


# -- data and evaluation ---------------------------------------------------------------------------


def streams(config: Config, source) -> ZippedBatches:
  """Labelled and unlabelled per-process streams of the training split."""
  if source.num_classes != config.num_classes:
    raise ValueError(f"--num_classes={config.num_classes} but {config.dataset} has {source.num_classes} classes")
  labeled, unlabeled = semi_supervised_sources(source, num_labeled=config.num_labeled, seed=config.seed)
  transform = labelled_transform(image_size=config.image_size, channels=config.channels)
  common = dict(transform=transform, process_index=jax.process_index(), process_count=jax.process_count())
  return ZippedBatches(
    {
      "labeled": BatchLoader(labeled, global_batch_size=config.labeled_batch_size, seed=config.seed, **common),
      "unlabeled": BatchLoader(unlabeled, global_batch_size=config.batch_size, seed=config.seed + 1, **common),
    }
  )


def evaluator(method: Method, images: np.ndarray, labels: np.ndarray, batch_size: int = 1000):
  """``eval_fn(state) -> {'test_accuracy', 'test_clustering_accuracy'}`` on the held-out split."""
  predict = compiler.jit(method.predict)
  k = method.config.num_classes

  def eval_fn(state):
    preds = np.concatenate(
      [np.asarray(predict(state, images[i : i + batch_size])) for i in range(0, len(images), batch_size)]
    )
    cluster_acc, _ = clustering_accuracy(preds, labels, num_clusters=k, num_classes=k)
    return {"test_accuracy": float(accuracy(preds, labels)), "test_clustering_accuracy": float(cluster_acc)}

  return eval_fn


def train(config: Config) -> TrainState:
  """Train on the training split (its labelled subset and the rest unlabelled); evaluate on the test split."""
  train_source, test_source = runner.labelled_sources(config, ("train", "test"))
  method = build(config)
  images, labels = runner.labelled_arrays(test_source, image_size=config.image_size, channels=config.channels)
  eval_fn = runner.once_per_step(evaluator(method, images, labels))
  state = runner.train(
    config, method, batches=streams(config, train_source), sample_fn=compiler.jit(method.sample), eval_fn=eval_fn
  )
  result = eval_fn(state)
  path = runner.write_json(config, "eval.json", {"step": int(state.step), "test_images": len(labels), **result})
  if jax.process_index() == 0:
    print(
      f"jaxgan: {config.objective} test accuracy {result['test_accuracy']:.4f}, clustering accuracy "
      f"{result['test_clustering_accuracy']:.4f} ({len(labels)} test images) -> {path}",
      flush=True,
    )
  return state


MODES = {"train": train}

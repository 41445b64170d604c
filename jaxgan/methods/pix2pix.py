"""Pix2Pix (Isola et al. 2017): paired image-to-image translation with a conditional GAN.

Defaults are the official PyTorch code's (``pix2pix_model.py``, ``base_options.py``,
``train_options.py``): U-Net 256 generator with batch norm and dropout, 70x70 PatchGAN
on ``concat(A, B)``, vanilla GAN loss + 100 * L1, D loss halved, Adam 2e-4 with betas
(0.5, 0.999), batch 1, 100 epochs at constant learning rate then 100 epochs of linear
decay, resize to 286 + random crop 256 + horizontal flip on A and B alike.

One step is the official ``optimize_parameters``: G translates A once (one dropout mask);
D is updated on that translation (detached) and the real pair, each passed through D
separately (fake first, as in ``backward_D``); then G is updated against the updated D,
backpropagating through the same forward pass. Batch-norm statistics follow the same
passes (D's are updated by all three of its forward passes, as PyTorch's are).

At test time the official script keeps the networks in train mode unless ``--eval`` is
given: batch statistics in batch norm and dropout on. ``--test_batch_stats`` and
``--test_dropout`` select each (both True by default, as the official code).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import inference
from jaxgan.config import NON_NEGATIVE, field
from jaxgan.data import images as images_lib
from jaxgan.data.paired import paired_source, paired_transform
from jaxgan.losses import discriminator_loss, generator_loss, gradient_penalty, l1_loss
from jaxgan.methods import image_to_image as tr
from jaxgan.methods import inference_modes, runner
from jaxgan.methods.protocol import DataInfo
from jaxgan.metrics import features, image_quality
from jaxgan.train import compiler
from jaxgan.train.state import ModelState, TrainState, abstract_network, init_network


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(tr.TranslationConfig):
  dataset: str = field(
    "skimage",
    "Paired data: 'skimage[:gray2color|:edges2photo]' (embedded), a "
    "directory of side-by-side AB files or A/ and B/ folders ('DIR' or 'paired:DIR'), "
    "or pairs derived from photos ('gray2color:DIR', 'edges2photo:DIR').",
  )
  lambda_L1: float = field(100.0, "Weight of the L1 loss.", check=NON_NEGATIVE)
  gp_weight: float = field(10.0, "Gradient-penalty weight with --gan_mode=wgangp.", check=NON_NEGATIVE)
  # Official PyTorch checkpoints (--mode=import_torch / export_torch; needs torch).
  torch_G: str = field(
    "",
    "An official *_net_G.pth, or for --mode=import_torch also a pretrained "
    "generator's name (pix2pix_facades_label2photo, ...): import makes it step 0 of "
    "a new --workdir; --mode=export_torch writes G there.",
    run_only=True,
  )
  torch_D: str = field("", "An official *_net_D.pth (optional), as --torch_G.", run_only=True)


def make_generator(config: Config, rngs):
  return tr.make_generator(config, rngs, in_channels=config.input_nc, out_channels=config.output_nc)


def make_discriminator(config: Config, rngs):
  return tr.make_discriminator(config, rngs, in_channels=config.input_nc + config.output_nc)


class Pix2Pix:
  """The static half of pix2pix: networks, optimisers and losses, closed over by the step.

  ``steps_per_epoch`` sets the learning-rate schedule (epochs are the official unit).
  """

  consts = None  # what the step reads but never trains (fit's consts): none here

  def __init__(self, config: Config, steps_per_epoch: int = 1):
    self.config = config
    self.steps_per_epoch = steps_per_epoch
    self.tx, self.schedule = tr.adam_with_schedule(config, steps_per_epoch)
    self.make_g = functools.partial(make_generator, config)
    self.make_d = functools.partial(make_discriminator, config)

  @functools.cached_property
  def generator(self):
    return abstract_network(self.make_g, self.tx, compute_dtype=self.config.compute_dtype())

  @functools.cached_property
  def discriminator(self):
    return abstract_network(self.make_d, self.tx, compute_dtype=self.config.compute_dtype())

  def init_state(self, key: jax.Array) -> TrainState:
    k_g, k_d, k_run = jax.random.split(key, 3)
    g = init_network(self.make_g, self.tx, k_g)
    d = init_network(self.make_d, self.tx, k_d)
    return TrainState(step=jnp.zeros((), jnp.int32), rng=k_run, nets={"G": g, "D": d}, extra={})

  # -- pieces ------------------------------------------------------------------------------
  def translate(self, g: ModelState, a: jax.Array, *, train: bool, key: jax.Array | None):
    """``(G(a), new G stats)``; dropout on iff ``key`` is given."""
    return self.generator.apply(g.params, g.stats, a, train=train, key=key)

  def discriminate(self, params, stats, a: jax.Array, b: jax.Array):
    """Patch logits of D on the pair ``concat(a, b)`` (train-mode batch norm) and D's new stats."""
    return self.discriminator.apply(params, stats, jnp.concatenate([a, b], axis=-1), train=True)

  def d_loss(self, d_params, d_stats, a, b, fake, key):
    mode = self.config.gan_mode
    fake_logits, d_stats = self.discriminate(d_params, d_stats, a, fake)
    real_logits, d_stats = self.discriminate(d_params, d_stats, a, b)
    loss = discriminator_loss(real_logits, fake_logits, mode=mode).mean()
    metrics = {"d_loss": loss, "d_real": real_logits.mean(), "d_fake": fake_logits.mean()}
    if mode == "wgangp" and self.config.gp_weight:
      critic = lambda ab: self.discriminator.apply(d_params, d_stats, ab, train=True)[0]
      gp = gradient_penalty(critic, jnp.concatenate([a, b], -1), jnp.concatenate([a, fake], -1), key).mean()
      loss = loss + self.config.gp_weight * gp
      metrics["gradient_penalty"] = gp
    return loss, (d_stats, metrics)

  def g_loss(self, fake, d: ModelState, a, b):
    logits, d_stats = self.discriminate(d.params, d.stats, a, fake)
    gan = generator_loss(logits, mode=self.config.gan_mode).mean()
    l1 = l1_loss(fake, b).mean()
    return gan + self.config.lambda_L1 * l1, (d_stats, {"g_gan": gan, "g_l1": l1})

  # -- the step ------------------------------------------------------------------------------
  def train_step(self, state: TrainState, batch: dict[str, jax.Array], consts=None) -> tuple[TrainState, dict]:
    """D update on the detached translation, then G update against the new D. Pure."""
    del consts  # this method has none
    a, b = batch["a"], batch["b"]
    k_dropout, k_gp = jax.random.split(state.step_key())
    g, d = state.nets["G"], state.nets["D"]
    forward = lambda params: self.generator.apply(
      params, g.stats, a, train=True, key=k_dropout if self.config.dropout else None
    )
    fake, pullback, g_stats = jax.vjp(forward, g.params, has_aux=True)
    d_grads, (d_stats, d_metrics) = jax.grad(self.d_loss, has_aux=True)(
      d.params, d.stats, a, b, jax.lax.stop_gradient(fake), k_gp
    )
    d = self.discriminator.update(d, d_grads, d_stats)
    fake_grad, (d_stats, g_metrics) = jax.grad(self.g_loss, has_aux=True)(fake, d, a, b)
    (g_grads,) = pullback(fake_grad)
    g = self.generator.update(g, g_grads, g_stats)
    d = d.replace(stats=d_stats)
    metrics = {**d_metrics, **g_metrics, "learning_rate": self.schedule(state.step)}
    return state.replace(step=state.step + 1, nets={"G": g, "D": d}), metrics

  # -- inference -----------------------------------------------------------------------------
  def test_key(self) -> jax.Array | None:
    """The dropout key of test-time translations (None: dropout off)."""
    on = self.config.test_dropout_on()
    return jax.random.fold_in(jax.random.PRNGKey(self.config.seed), 0x7E57) if on else None

  def predict(self, state: TrainState, a: jax.Array) -> jax.Array:
    """G(a) with the test-time settings (``--test_batch_stats``, ``--test_dropout``)."""
    return self.translate(state.nets["G"], a, train=self.config.test_batch_stats, key=self.test_key())[0]

  @functools.cached_property
  def predict_one(self):
    """Jitted ``image [H, W, C] -> G(image)`` with the test-time settings (a batch of one)."""
    return compiler.jit(lambda state, a: self.predict(state, a[None])[0])

  def translator(self, state: TrainState) -> inference.Translator:
    """G with the test-time settings, for any image size and videos (:mod:`jaxgan.inference`)."""
    return inference.Translator.of(
      self.generator, state.nets["G"], train=self.config.test_batch_stats, key=self.test_key()
    )


def build(config: Config, data: DataInfo | None = None) -> Pix2Pix:
  """The method; ``data`` sets the epoch of the learning-rate schedule (None: tools, no schedule read)."""
  return Pix2Pix(config, steps_per_epoch=data.steps_per_epoch if data else 1)


# -- data --------------------------------------------------------------------------------------


def sources(config: Config, splits=("train", "test")) -> list:
  data_dir = config.resolved_data_dir()
  return runner.built_by_process0_first(
    lambda: [paired_source(config.dataset, split=s, data_dir=data_dir, direction=config.direction) for s in splits]
  )


def train_transform(config: Config):
  return paired_transform(
    preprocess=config.preprocess,
    load_size=config.load_size,
    crop_size=config.crop_size,
    flip=config.flip,
    in_channels=config.input_nc,
    out_channels=config.output_nc,
  )


def test_transform(config: Config):
  """The official test-time pipeline: load_size = crop_size, no flip, no random crop."""
  return paired_transform(
    preprocess=config.preprocess,
    load_size=config.crop_size,
    crop_size=config.crop_size,
    flip=False,
    in_channels=config.input_nc,
    out_channels=config.output_nc,
  )


def held_out_pairs(config: Config, source, n: int) -> list[dict]:
  transform = test_transform(config)
  return [dict(transform(source[i], None), name=source[i].get("name", str(i))) for i in range(min(n, len(source)))]


def evaluate(method: Pix2Pix, state: TrainState, pairs: list[dict], fid=None) -> dict[str, float]:
  """Mean L1, PSNR and SSIM of G's translations of held-out pairs (one image at a time, as
  the official test script: batch statistics depend on the test batch); with ``fid``
  (``(extractor, embedded targets)``, ``--fid_features``), FID/KID/IS of the translations as uint8
  images against the targets."""
  translations = [np.asarray(method.predict_one(state, p["a"])) for p in pairs]
  result = image_quality.mean_scores([tr.scores(t, p["b"]) for t, p in zip(translations, pairs)])
  if fid is not None:
    extractor, targets = fid
    fakes = features.embed_images(extractor, [images_lib.to_uint8(t) for t in translations])
    result.update(features.scores(extractor, targets, fakes))
  return result


def train(config: Config) -> TrainState:
  """Train on the dataset's train split; sample and evaluate on its test split (with
  ``--fid_features``, also FID/KID/IS of the held-out translations at every evaluation)."""
  extractor = tr.fid_extractor(config)  # the weights are read before anything is written
  train_source, test_source = sources(config)
  batches = runner.loader(config, train_source, global_batch_size=config.batch_size, transform=train_transform(config))
  config = tr.resolved_num_steps(config, batches.steps_per_epoch)
  method = build(config, DataInfo.of(batches))
  pairs = held_out_pairs(config, test_source, max(config.num_test, config.num_samples))
  shown, pairs = pairs[: config.num_samples], pairs[: config.num_test]

  def sample_fn(state):
    """Rows of input | output | target for the first held-out pairs."""
    return np.stack(
      [[tr.three_channels(x) for x in (p["a"], method.predict_one(state, p["a"]), p["b"])] for p in shown]
    )

  fid = None
  if extractor is not None:
    fid = extractor, features.embed_images(extractor, [images_lib.to_uint8(p["b"]) for p in pairs])
  eval_fn = runner.once_per_step(lambda s: evaluate(method, s, pairs, fid))
  state = runner.train(config, method, batches=batches, sample_fn=sample_fn, eval_fn=eval_fn)
  result = {"step": int(state.step), "num_test": len(pairs), **eval_fn(state)}
  path = runner.write_json(config, "eval.json", result)
  if jax.process_index() == 0:
    print(
      f"jaxgan: held-out L1 {result['l1']:.4f}, PSNR {result['psnr']:.2f} dB, SSIM {result['ssim']:.4f} "
      f"({len(pairs)} pairs) -> {path}",
      flush=True,
    )
  return state


# -- --mode=test ---------------------------------------------------------------------------------


def _test_items(config: Config):
  """``(name, a, b or None)`` of the test inputs at their own sizes, floats in [-1, 1]."""
  if config.test_input:
    for name, a in tr.folder_inputs(config, config.input_nc):
      yield name, a, None
    return
  (source,) = sources(config, ("test",))
  for i in range(min(config.num_test, len(source))):
    example = source[i]
    yield (
      str(example.get("name", i)),
      tr.as_float(example["a"], config.input_nc),
      tr.as_float(example["b"], config.output_nc),
    )


def test(config: Config) -> str:
  """Translate the test inputs with the latest checkpoint; write images and an HTML page.

  Writes ``NAME_real_A.png``, ``NAME_fake_B.png`` (and ``NAME_real_B.png`` when there are
  targets) into ``<results_dir>/images``, and ``index.html`` with one row per input
  (input | output | target); ``metrics.json`` with mean L1, PSNR and SSIM when targets exist
  (and, when A and B have the same channels, the same scores of the input itself: the
  baseline a translation must beat). With ``--fid_features``, FID, KID and IS of the written
  translations against the written targets join them (``fid_inception``, ...), and the same
  of the inputs in ``input_as_output``.
  """
  extractor = tr.fid_extractor(config)  # the weights are read before anything is written
  method = build(config)
  state, writer, fit = tr.start_test_run(config, method.init_state, ["input", "output", "target"])
  step = int(state.step)
  translate = (
    inference_modes.image_translator(config, method.translator(state))
    if config.tile
    else functools.partial(method.predict_one, state)
  )
  per_image, baseline = [], []
  written = None if extractor is None else tr.WrittenImages(extractor)
  for name, a, b in _test_items(config):
    fitted, undo = fit(a, name=name)
    images = {"real_A": undo(fitted), "fake_B": undo(np.asarray(translate(fitted)))}
    if b is not None:
      images["real_B"] = undo(fit(b, name=name)[0])
      per_image.append(tr.scores(images["fake_B"], images["real_B"]))
      if a.shape[-1] == b.shape[-1]:  # the input itself as the translation: the baseline to beat
        baseline.append(tr.scores(images["real_A"], images["real_B"]))
      if written is not None:
        written.add(images)
    writer.add(name, images)
  summary = None
  if per_image:
    summary = {**image_quality.mean_scores(per_image), "step": step, "num_test": len(per_image)}
    if baseline:
      summary["input_as_output"] = image_quality.mean_scores(baseline)
    print(
      f"jaxgan: L1 {summary['l1']:.4f}, PSNR {summary['psnr']:.2f} dB, SSIM {summary['ssim']:.4f} "
      f"on {len(per_image)} pairs",
      flush=True,
    )
    if written is not None:
      summary.update(written.scores("real_B", "fake_B"))
      shown = f"jaxgan: {tr.describe_scores(summary, extractor.name)} of {len(per_image)} translations"
      if baseline:
        summary["input_as_output"].update(written.scores("real_B", "real_A"))
        shown += f"; the inputs themselves: {tr.describe_scores(summary['input_as_output'], extractor.name)}"
      print(shown, flush=True)
  elif extractor is not None:
    print("jaxgan: --fid_features: the test inputs have no target images; no FID/KID", flush=True)
  return writer.finish(f"pix2pix {config.direction}, step {step}", summary)


# -- official PyTorch checkpoints ------------------------------------------------------------------


def _torch_paths(config: Config) -> dict[str, str]:
  return {"G": config.torch_G, "D": config.torch_D}


def import_torch(config: Config) -> str:
  """Official ``*_net_G.pth`` (and ``*_net_D.pth``) -> the step-0 checkpoint of a new workdir."""
  if not config.torch_G:
    raise ValueError("--mode=import_torch needs --torch_G=PATH (an official *_net_G.pth)")
  method = build(config)
  networks = {"G": method.generator, "D": method.discriminator}
  return tr.import_torch(config, method.init_state, networks, _torch_paths(config))


def export_torch(config: Config) -> list[str]:
  """The latest checkpoint's G (and D) -> official state_dicts at ``--torch_G`` (``--torch_D``)."""
  method = build(config)
  networks = {"G": method.generator, "D": method.discriminator}
  return tr.export_torch(config, method.init_state, networks, _torch_paths(config))


def video(config: Config) -> inference.VideoSummary:
  """``--input`` video translated by G (test-time settings) into ``--output``, frame by frame."""
  method = build(config)
  return inference_modes.video(config, lambda: method.translator(runner.restore(config, method.init_state)))


MODES = {"train": train, "test": test, "video": video, "import_torch": import_torch, "export_torch": export_torch}

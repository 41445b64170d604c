"""CycleGAN (Zhu et al. 2017): unpaired translation with cycle consistency.

Defaults are the official PyTorch code's (``cycle_gan_model.py``): ``resnet_9blocks``
generators G_A: A -> B and G_B: B -> A, 70x70 PatchGAN discriminators D_A (judges
domain B: real B vs G_A(A)) and D_B (judges domain A), instance norm without affine
parameters, no dropout, least-squares GAN loss, cycle L1 weighted ``lambda_A =
lambda_B = 10``, identity L1 weighted ``lambda_identity * lambda`` (0.5 * 10), image
pools of 50 fakes per direction, Adam 2e-4 (0.5, 0.999), batch 1, 100 + 100 epochs
with the linear policy, resize 286 / crop 256 / flip.

One step is the official ``optimize_parameters``: the forward pass (fake_B = G_A(A),
rec_A = G_B(fake_B), fake_A = G_B(B), rec_B = G_A(fake_A)), then G_A and G_B updated
together against the current D_A and D_B, then D_A on (real B, pooled fake_B) and D_B
on (real A, pooled fake_A), each loss halved. The pools live in ``TrainState.extra``
(:mod:`jaxgan.train.image_pool`). The official code keeps one Adam over G_A and G_B's
parameters and one over D_A and D_B's; Adam works element by element with one shared
step count, so one Adam per network (what the state holds) takes the same steps.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import inference
from jaxgan.config import NON_NEGATIVE, field
from jaxgan.data import labelled_source
from jaxgan.data.images import to_uint8
from jaxgan.data.unpaired import (
  parse_unpaired_spec,
  unpaired_batches,
  unpaired_sources,
  unpaired_transform,
)
from jaxgan.losses import discriminator_loss, generator_loss, l1_loss
from jaxgan.methods import image_to_image as tr
from jaxgan.methods import inference_modes, runner
from jaxgan.methods.protocol import DataInfo
from jaxgan.metrics import classify, features
from jaxgan.train import compiler, image_pool
from jaxgan.train.state import TrainState, abstract_network, init_network

GENERATORS = ("G_A", "G_B")
DISCRIMINATORS = ("D_A", "D_B")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(tr.TranslationConfig):
  dataset: str = field(
    "digits",
    "Unpaired data: 'digits' (embedded: sklearn digits 3 <-> 8), "
    "'DIR' / 'unpaired:DIR' (trainA/, trainB/, testA/, testB/), 'cycle_gan/NAME' "
    "(tfds, prepared in --data_dir), 'idx-classes:DIR:A=a:B=b' (two classes of IDX files).",
  )
  netG: str = field("resnet_9blocks", "Generators G_A and G_B.", choices=tr.GENERATORS)
  norm: str = field("instance", "Normalisation of G and D.", choices=tr.NORMS)
  dropout: bool = field(False, "Dropout 0.5 in the generators (official CycleGAN: off).")
  gan_mode: str = field("lsgan", "GAN loss.", choices=tr.GAN_MODES)
  lambda_A: float = field(10.0, "Weight of the cycle loss A -> B -> A.", check=NON_NEGATIVE)
  lambda_B: float = field(10.0, "Weight of the cycle loss B -> A -> B.", check=NON_NEGATIVE)
  lambda_identity: float = field(0.5, "Identity loss weight, relative to lambda_A / lambda_B.", check=NON_NEGATIVE)
  pool_size: int = field(
    image_pool.POOL_SIZE, "Generated images kept per direction for D (0: none).", check=NON_NEGATIVE
  )
  translate_with: str = field(
    "G_A",
    "--mode=test with --test_input and --mode=video: the generator applied (G_A: A -> B, G_B: B -> A).",
    choices={"G_A": "A -> B", "G_B": "B -> A"},
    run_only=True,
  )
  # Official PyTorch checkpoints (--mode=import_torch / export_torch; needs torch). A single-
  # generator test model such as horse2zebra.pth is a G_A (or G_B) state_dict.
  torch_G_A: str = field(
    "",
    "An official *_net_G_A.pth (or e.g. horse2zebra.pth, or its name "
    "cyclegan_horse2zebra_model), as pix2pix's --torch_G.",
    run_only=True,
  )
  torch_G_B: str = field("", "An official *_net_G_B.pth.", run_only=True)
  torch_D_A: str = field("", "An official *_net_D_A.pth.", run_only=True)
  torch_D_B: str = field("", "An official *_net_D_B.pth.", run_only=True)
  classifier_steps: int = field(
    2000,
    "Class domains (idx-classes, digits): training steps of the classifier that judges the translations.",
    check=NON_NEGATIVE,
    run_only=True,
  )
  fid_features: str = field(
    "none",
    "--mode=test: FID, KID and IS of each direction's translations against the real test images of its target "
    "domain, as written, and of the inputs themselves (input_as_output) in metrics.json: none, inception (the "
    "FID Inception-v3, --fid_weights) or judge (class domains: the features of the classifier that judges "
    "the translations, --classifier_steps; not comparable with published figures). FID of few images is "
    "biased upward: raise --num_test.",
    choices={**tr.FID_FEATURES, "judge": "class domains: the judging classifier's features"},
    run_only=True,
  )

  def __post_init__(self):
    super().__post_init__()
    if self.lambda_identity > 0 and self.input_nc != self.output_nc:
      raise ValueError(
        f"lambda_identity={self.lambda_identity} needs input_nc == output_nc "
        f"(got {self.input_nc} and {self.output_nc}): set --lambda_identity=0"
      )
    if self.fid_features == "judge" and (self.size_policy != "resize" or self.input_nc != self.output_nc):
      raise ValueError(
        f"--fid_features=judge needs --size_policy=resize and input_nc == output_nc (the judge takes "
        f"{self.crop_size}x{self.crop_size}x{self.input_nc} images), got --size_policy={self.size_policy}, "
        f"input_nc={self.input_nc}, output_nc={self.output_nc}"
      )


class CycleGAN:
  """The static half of CycleGAN: four networks, their optimisers, the losses and the step."""

  consts = None  # what the step reads but never trains (fit's consts): none here

  def __init__(self, config: Config, steps_per_epoch: int = 1):
    self.config = config
    self.steps_per_epoch = steps_per_epoch
    self.tx, self.schedule = tr.adam_with_schedule(config, steps_per_epoch)
    a, b = config.input_nc, config.output_nc
    self.makers = {
      "G_A": functools.partial(tr.make_generator, config, in_channels=a, out_channels=b),
      "G_B": functools.partial(tr.make_generator, config, in_channels=b, out_channels=a),
      "D_A": functools.partial(tr.make_discriminator, config, in_channels=b),  # judges domain B
      "D_B": functools.partial(tr.make_discriminator, config, in_channels=a),
    }

  @functools.cached_property
  def networks(self):
    dtype = self.config.compute_dtype()
    return {name: abstract_network(make, self.tx, compute_dtype=dtype) for name, make in self.makers.items()}

  def init_state(self, key: jax.Array) -> TrainState:
    keys = jax.random.split(key, len(self.makers) + 1)
    nets = {name: init_network(make, self.tx, k) for (name, make), k in zip(self.makers.items(), keys)}
    size = self.config.crop_size
    pools = {
      "fake_A": image_pool.init_pool(self.config.pool_size, (size, size, self.config.input_nc)),
      "fake_B": image_pool.init_pool(self.config.pool_size, (size, size, self.config.output_nc)),
    }
    return TrainState(step=jnp.zeros((), jnp.int32), rng=keys[-1], nets=nets, extra=pools)

  def apply(self, name: str, params, stats, x, *, train: bool = True):
    """``(net(x), new stats)`` for one of the four networks (no dropout key: see ``translate``)."""
    return self.networks[name].apply(params, stats, x, train=train)

  # -- losses -------------------------------------------------------------------------------------
  def g_loss(self, g_params, nets, real_a, real_b, key):
    """The official ``backward_G`` objective of G_A and G_B together, and the fakes for D."""
    c = self.config
    stats = {n: nets[n].stats for n in GENERATORS}
    keys = list(jax.random.split(key, 6)) if c.dropout else [None] * 6  # one dropout mask per call

    def g(name, x, k):
      out, stats[name] = self.networks[name].apply(g_params[name], stats[name], x, train=True, key=k)
      return out

    fake_b = g("G_A", real_a, keys[0])
    rec_a = g("G_B", fake_b, keys[1])
    fake_a = g("G_B", real_b, keys[2])
    rec_b = g("G_A", fake_a, keys[3])
    metrics = {}
    total = 0.0
    if c.lambda_identity > 0:
      idt_a = g("G_A", real_b, keys[4])  # G_A should leave domain-B images alone
      idt_b = g("G_B", real_a, keys[5])
      metrics["idt_A"] = l1_loss(idt_a, real_b).mean() * c.lambda_B * c.lambda_identity
      metrics["idt_B"] = l1_loss(idt_b, real_a).mean() * c.lambda_A * c.lambda_identity
      total = total + metrics["idt_A"] + metrics["idt_B"]
    d_a, d_b = nets["D_A"], nets["D_B"]
    logits_b, _ = self.apply("D_A", d_a.params, d_a.stats, fake_b)
    logits_a, _ = self.apply("D_B", d_b.params, d_b.stats, fake_a)
    metrics["G_A"] = generator_loss(logits_b, mode=c.gan_mode).mean()
    metrics["G_B"] = generator_loss(logits_a, mode=c.gan_mode).mean()
    metrics["cycle_A"] = l1_loss(rec_a, real_a).mean() * c.lambda_A
    metrics["cycle_B"] = l1_loss(rec_b, real_b).mean() * c.lambda_B
    total = total + metrics["G_A"] + metrics["G_B"] + metrics["cycle_A"] + metrics["cycle_B"]
    return total, (stats, fake_a, fake_b, metrics)

  def d_loss(self, name: str, params, stats, real, fake):
    """The official ``backward_D_basic``: 0.5 * (GAN(D(real), real) + GAN(D(fake), fake))."""
    real_logits, stats = self.apply(name, params, stats, real)
    fake_logits, stats = self.apply(name, params, stats, fake)
    loss = discriminator_loss(real_logits, fake_logits, mode=self.config.gan_mode).mean()
    return loss, stats

  # -- the step -------------------------------------------------------------------------------------
  def train_step(self, state: TrainState, batch: dict[str, jax.Array], consts=None) -> tuple[TrainState, dict]:
    """G_A and G_B against the current Ds, then D_A and D_B on pooled fakes. Pure."""
    del consts  # this method has none
    real_a, real_b = batch["A/image"], batch["B/image"]
    k_g, k_pool_a, k_pool_b = jax.random.split(state.step_key(), 3)
    nets = dict(state.nets)
    g_params = {n: nets[n].params for n in GENERATORS}
    grads, (g_stats, fake_a, fake_b, metrics) = jax.grad(self.g_loss, has_aux=True)(g_params, nets, real_a, real_b, k_g)
    for n in GENERATORS:
      nets[n] = self.networks[n].update(nets[n], grads[n], g_stats[n])
    pool_b, fake_b = image_pool.query_pool(state.extra["fake_B"], fake_b, k_pool_b)
    pool_a, fake_a = image_pool.query_pool(state.extra["fake_A"], fake_a, k_pool_a)
    for name, real, fake in (("D_A", real_b, fake_b), ("D_B", real_a, fake_a)):
      d = nets[name]
      (loss, d_stats), d_grads = jax.value_and_grad(functools.partial(self.d_loss, name), has_aux=True)(
        d.params, d.stats, real, jax.lax.stop_gradient(fake)
      )
      nets[name] = self.networks[name].update(d, d_grads, d_stats)
      metrics[name] = loss
    metrics["learning_rate"] = self.schedule(state.step)
    extra = {"fake_A": pool_a, "fake_B": pool_b}
    return state.replace(step=state.step + 1, nets=nets, extra=extra), metrics

  # -- inference ------------------------------------------------------------------------------------
  def test_key(self) -> jax.Array | None:
    on = self.config.test_dropout_on()
    return jax.random.fold_in(jax.random.PRNGKey(self.config.seed), 0x7E57) if on else None

  def translate(self, state: TrainState, x: jax.Array, name: str) -> jax.Array:
    """``name`` (G_A or G_B) applied to a batch with the test-time settings."""
    ms = state.nets[name]
    return self.networks[name].apply(ms.params, ms.stats, x, train=self.config.test_batch_stats, key=self.test_key())[0]

  @functools.cached_property
  def translate_batch(self):
    """Jitted ``(state, images [N, H, W, C], name) -> G(images)``; ``name`` is static."""
    return compiler.jit(self.translate, static_argnames="name")

  @functools.cached_property
  def translate_one(self):
    """Jitted ``(state, image [H, W, C], name) -> G(image)``; ``name`` is static."""
    return compiler.jit(lambda state, x, name: self.translate(state, x[None], name)[0], static_argnames="name")

  def translator(self, state: TrainState, name: str) -> inference.Translator:
    """``name`` (G_A or G_B) with the test-time settings, for any image size and videos."""
    return inference.Translator.of(
      self.networks[name], state.nets[name], train=self.config.test_batch_stats, key=self.test_key()
    )


def build(config: Config, data: DataInfo | None = None) -> CycleGAN:
  """The method; ``data`` sets the epoch of the learning-rate schedule (None: tools, no schedule read)."""
  return CycleGAN(config, steps_per_epoch=data.steps_per_epoch if data else 1)


# -- data -------------------------------------------------------------------------------------------


def sources(config: Config, split: str):
  data_dir = config.resolved_data_dir()
  return runner.built_by_process0_first(
    lambda: unpaired_sources(config.dataset, split, data_dir, direction=config.direction)
  )


def transforms(config: Config, *, train: bool):
  """Per-domain transforms: the official jitter in training, load_size = crop_size at test."""
  load, flip = (config.load_size, config.flip) if train else (config.crop_size, False)
  make = lambda channels: unpaired_transform(
    preprocess=config.preprocess, load_size=load, crop_size=config.crop_size, flip=flip, channels=channels
  )
  return make(config.input_nc), make(config.output_nc)


def held_out(config: Config, n: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
  """The first ``n`` test images of A and of B, transformed as at test time."""
  source_a, source_b = sources(config, "test")
  t_a, t_b = transforms(config, train=False)
  take = lambda source, t: [t(source[i], None)["image"] for i in range(min(n, len(source)))]
  return take(source_a, t_a), take(source_b, t_b)


def _in_chunks(fn, images: np.ndarray, size: int = 100) -> np.ndarray:
  return np.concatenate([np.asarray(fn(images[i : i + size])) for i in range(0, len(images), size)])


CLASS_DOMAINS = ("idx-classes", "digits-classes")


def class_judge(config: Config):
  """``(params, class of A, class of B)`` of the classifier that judges class domains
  (``idx-classes``, ``digits``): trained once on the real labelled training split at
  ``--crop_size`` and cached in ``<workdir>/classifier``; None for other data or
  ``--classifier_steps=0``."""
  spec = parse_unpaired_spec(config.dataset)
  if spec.kind not in CLASS_DOMAINS or not config.classifier_steps:
    return None
  labelled = f"idx:{spec.path}" if spec.kind == "idx-classes" else "digits"
  (source,) = runner.built_by_process0_first(
    lambda: [labelled_source(labelled, split="train", data_dir=config.resolved_data_dir())]
  )
  judge = runner.judge_classifier(
    config, source, image_size=config.crop_size, channels=config.input_nc, steps=config.classifier_steps
  )
  class_a, class_b = spec.classes if config.direction == "AtoB" else spec.classes[::-1]
  return judge, class_a, class_b


def evaluator(method: CycleGAN, test_a: list[np.ndarray], test_b: list[np.ndarray], extractor=None):
  """``eval_fn(state)``: cycle L1 on held-out images of both domains and, for class domains
  (``idx-classes``, ``digits``), how often a classifier trained on the real labelled
  training split assigns a translation to the target class (``success_AtoB``,
  ``success_BtoA``), next to its accuracy on the real held-out images of each class. With
  ``--fid_features`` (``extractor``: the Inception's; None: the judge's for ``judge``), FID/KID/IS
  of each direction's translations (uint8) against the real held-out images of the target domain
  (``AtoB_fid_<features>``, ...)."""
  a, b = np.stack(test_a), np.stack(test_b)
  judged = class_judge(method.config)
  if judged is not None:
    judge, class_a, class_b = judged
    if method.config.fid_features == "judge":
      extractor = features.judge(judge, (method.config.crop_size, method.config.crop_size, method.config.input_nc))
  if extractor is not None:
    real = {"AtoB": features.embed(extractor, to_uint8(b)), "BtoA": features.embed(extractor, to_uint8(a))}

  def eval_fn(state):
    run = lambda name: functools.partial(method.translate_batch, state, name=name)
    fake_b, fake_a = _in_chunks(run("G_A"), a), _in_chunks(run("G_B"), b)
    rec_a, rec_b = _in_chunks(run("G_B"), fake_b), _in_chunks(run("G_A"), fake_a)
    result = {"cycle_l1_A": float(np.abs(rec_a - a).mean()), "cycle_l1_B": float(np.abs(rec_b - b).mean())}
    if judged is not None:
      result.update(
        success_AtoB=float((classify(judge, fake_b) == class_b).mean()),
        success_BtoA=float((classify(judge, fake_a) == class_a).mean()),
        judge_accuracy_A=float((classify(judge, a) == class_a).mean()),
        judge_accuracy_B=float((classify(judge, b) == class_b).mean()),
      )
    if extractor is not None:
      for direction, fake in (("AtoB", fake_b), ("BtoA", fake_a)):
        scores = features.scores(extractor, real[direction], features.embed(extractor, to_uint8(fake)))
        result.update({f"{direction}_{k}": v for k, v in scores.items()})
    return result

  return eval_fn


def train(config: Config) -> TrainState:
  """Train on the unpaired train splits; sample and evaluate on the test splits (with
  ``--fid_features``, also FID/KID/IS of each direction: :func:`evaluator`)."""
  extractor = _test_extractor(config)  # flags checked and Inception weights read before anything is written
  source_a, source_b = sources(config, "train")
  t_a, t_b = transforms(config, train=True)
  batches = unpaired_batches(
    source_a,
    source_b,
    global_batch_size=config.batch_size,
    seed=config.seed,
    transform_a=t_a,
    transform_b=t_b,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
  )
  config = tr.resolved_num_steps(config, batches.steps_per_epoch)
  method = build(config, DataInfo.of(batches))
  shown_a, shown_b = held_out(config, config.num_samples)

  def sample_fn(state):
    """Rows of real A | G_A(A) | G_B(G_A(A)), then real B | G_B(B) | G_A(G_B(B))."""
    rows = []
    for images, there, back in ((shown_a, "G_A", "G_B"), (shown_b, "G_B", "G_A")):
      for x in images:
        y = method.translate_one(state, x, there)
        rows.append([tr.three_channels(v) for v in (x, y, method.translate_one(state, y, back))])
    return np.stack(rows)

  test_a, test_b = held_out(config, config.num_test)
  eval_fn = runner.once_per_step(evaluator(method, test_a, test_b, extractor))
  state = runner.train(config, method, batches=batches, sample_fn=sample_fn, eval_fn=eval_fn)
  result = {"step": int(state.step), "num_test_A": len(test_a), "num_test_B": len(test_b), **eval_fn(state)}
  path = runner.write_json(config, "eval.json", result)
  if jax.process_index() == 0:
    print(
      "jaxgan: " + ", ".join(f"{k} {v:.4f}" for k, v in result.items() if isinstance(v, float)) + f" -> {path}",
      flush=True,
    )
  return state


# -- --mode=test and official checkpoints ------------------------------------------------------------


def _test_extractor(config: Config) -> features.Extractor | None:
  """The features of ``--fid_features=inception`` (None otherwise: the judge is built by
  :func:`test` once the checkpoint is found, as it may train the classifier); the flags are
  checked, and the Inception weights read, before anything is written."""
  if config.fid_features == "judge":
    spec = parse_unpaired_spec(config.dataset)
    if spec.kind not in CLASS_DOMAINS or not config.classifier_steps:
      raise ValueError(
        "--fid_features=judge needs class domains (idx-classes, digits) and --classifier_steps > 0, got "
        f"--dataset={config.dataset} --classifier_steps={config.classifier_steps}"
      )
    return None  # built after the checkpoint is found (it may train the classifier)
  return tr.fid_extractor(config)


# Each direction's suffixes: (input, translation, the real images of the target domain).
_DIRECTIONS = {"AtoB": ("real_A", "fake_B", "real_B"), "BtoA": ("real_B", "fake_A", "real_A")}


def test(config: Config) -> str:
  """Translate the held-out images (or ``--test_input`` with ``--translate_with``); write the
  official ``real_A | fake_B | rec_A`` and ``real_B | fake_A | rec_B`` rows and an HTML page.

  With ``--fid_features`` (and the test splits, which hold the real images of both domains),
  ``metrics.json`` holds per direction (``AtoB``: fake_B against the real B images; ``BtoA``:
  fake_A against the real A images) FID, KID and IS of the written translations, and the same
  of the inputs themselves in ``input_as_output`` (when A and B have the same channels).
  """
  extractor = _test_extractor(config)
  method = build(config)
  state, writer, fit = tr.start_test_run(config, method.init_state, ["input", "translation", "reconstruction"])
  step = int(state.step)
  if config.fid_features == "judge" and not config.test_input:
    extractor = features.judge(class_judge(config)[0], (config.crop_size, config.crop_size, config.input_nc))
  back = {"G_A": "G_B", "G_B": "G_A"}
  suffixes = {"G_A": ("real_A", "fake_B", "rec_A"), "G_B": ("real_B", "fake_A", "rec_B")}
  if config.test_input:
    channels = config.input_nc if config.translate_with == "G_A" else config.output_nc
    items = [(name, x, config.translate_with) for name, x in tr.folder_inputs(config, channels)]
  else:
    source_a, source_b = sources(config, "test")
    items = [
      (str(src[i].get("name", i)), tr.as_float(src[i]["image"], channels), gen)
      for src, channels, gen in ((source_a, config.input_nc, "G_A"), (source_b, config.output_nc, "G_B"))
      for i in range(min(config.num_test, len(src)))
    ]
  written = None if extractor is None or config.test_input else tr.WrittenImages(extractor)
  if config.tile:
    tiled = {gen: inference_modes.image_translator(config, method.translator(state, gen)) for gen in GENERATORS}
    translate = lambda x, gen: tiled[gen](x)
  else:
    translate = functools.partial(method.translate_one, state)
  for name, x, gen in items:
    fitted, undo = fit(x, name=name)
    y = translate(fitted, gen)
    rec = translate(y, back[gen])
    images = dict(zip(suffixes[gen], (undo(fitted), undo(np.asarray(y)), undo(np.asarray(rec)))))
    if written is not None:
      written.add({k: v for k, v in images.items() if not k.startswith("rec_")})
    writer.add(name, images)
  summary = None
  if written is not None:
    summary = {"step": step}
    for direction, (inputs, fake, real) in _DIRECTIONS.items():
      result = {"num_test": len(written.sets[fake]), "num_targets": len(written.sets[real])}
      result.update(written.scores(real, fake))
      shown = f"jaxgan: {direction}: {tr.describe_scores(result, extractor.name)} of {result['num_test']} translations"
      if config.input_nc == config.output_nc:
        result["input_as_output"] = written.scores(real, inputs)
        shown += f"; the inputs themselves: {tr.describe_scores(result['input_as_output'], extractor.name)}"
      summary[direction] = result
      print(shown, flush=True)
  elif config.fid_features != "none":
    print("jaxgan: --fid_features: --test_input has no target images; no FID/KID", flush=True)
  return writer.finish(f"CycleGAN, step {step}", summary)


def _torch_paths(config: Config) -> dict[str, str]:
  return {"G_A": config.torch_G_A, "G_B": config.torch_G_B, "D_A": config.torch_D_A, "D_B": config.torch_D_B}


def import_torch(config: Config) -> str:
  """Official ``*_net_G_A.pth`` ... (any of the four) -> the step-0 checkpoint of a new workdir."""
  if not any(_torch_paths(config).values()):
    raise ValueError("--mode=import_torch needs --torch_G_A, --torch_G_B, --torch_D_A and/or --torch_D_B")
  method = build(config)
  return tr.import_torch(config, method.init_state, method.networks, _torch_paths(config))


def export_torch(config: Config) -> list[str]:
  """The latest checkpoint's networks -> official state_dicts at the ``--torch_*`` paths given."""
  method = build(config)
  return tr.export_torch(config, method.init_state, method.networks, _torch_paths(config))


def video(config: Config) -> inference.VideoSummary:
  """``--input`` video translated by ``--translate_with`` (G_A: A -> B, G_B: B -> A) into ``--output``."""
  method = build(config)
  return inference_modes.video(
    config, lambda: method.translator(runner.restore(config, method.init_state), config.translate_with)
  )


MODES = {"train": train, "test": test, "video": video, "import_torch": import_torch, "export_torch": export_torch}

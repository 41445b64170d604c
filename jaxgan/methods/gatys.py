"""Neural style by optimisation (Gatys, Ecker & Bethge, CVPR 2016): optimise the pixels.

The image ``x`` starts from white noise (the paper; ``--init=noise``: uniform in [-1, 1] from
``PRNGKey(--seed)``) or from the content image (``--init=content``) and is optimised to minimise
the same weighted objective as fast style transfer (:class:`jaxgan.methods.style_transfer.Objective`:
content loss on relu2_2, Gram loss on relu1_2, relu2_2, relu3_3, relu4_3, weights 1e5 / 1e10,
the same ``feature_scale`` for Caffe-convention weights; see that module for the mapping of
the definitions), against the content image and the style image's Grams, which are
computed once. The paper uses VGG19 (content conv4_2, style conv1_1 ... conv5_1, the
ratio alpha / beta 1e-3 or 1e-4 with its sum-based losses); ``--vgg_depth=19`` and the
layer flags select that network when its weights are available; the defaults keep the
fast-style objective so that both methods are comparable on the shared VGG16 blocks 1-4.
``--feature_scale`` and the weights set the balance of the content and style terms.

Optimisers (``--optimizer``): ``lbfgs`` (the paper's L-BFGS; ``optax.lbfgs`` with its
default zoom line search, ``--lbfgs_memory`` past updates; one step is one L-BFGS
iteration, which may evaluate the objective several times in its line search, and the
values and gradients found there are reused through ``optax.value_and_grad_from_state``)
or ``adam`` (``--learning_rate`` in [-1, 1] pixel units). Pixels are not constrained
during the optimisation; the result is clipped to [-1, 1] when written (its "after" losses
are those of the clipped image, "after_unclipped" those of the optimised pixels).

The content image is resized (bicubic) so that its longer side is ``--image_size`` (0 keeps
its size); the style image's longer side is ``--style_size`` (0 keeps its size).

**Training.** ``--mode=train`` (the only mode) runs the shared loop
(:func:`jaxgan.methods.runner.train`, :func:`jaxgan.train.loop.fit`), so Gatys checkpoints,
resumes, logs and guards against NaN/inf like every method: the image is the trained state,
``TrainState.nets["image"]`` (:class:`~jaxgan.train.state.ModelState`: ``params`` the pixels
``[H, W, 3]``, no ``stats``, ``opt_state`` the optax state: L-BFGS's memory and line-search
state, or Adam's moments); the step is
``train_step(state, batch, consts) -> (state, metrics)``, pure and jitted once, the batch
empty (Gatys reads no data) and ``consts`` the kept VGG convolutions and the targets (the
content features and the style Grams): arguments of the step, never checkpointed. The
metrics are the objective at ``x`` before the step: ``total`` (L-BFGS) or every weighted term
(Adam), written every ``--log_every`` steps. ``--checkpoint_every``, ``--keep_checkpoints``,
``--time_budget_minutes``, ``--restore_step`` and ``--on_nonfinite`` are the loop's (with
``skip_step`` a skipped step recurs at every later step: the step reads no data and its state
is unchanged);
``--sample_every`` writes the current image (clipped) to ``<workdir>/samples``,
``--eval_every`` logs its weighted terms. One image on one device: ``--batch_size`` and
``--num_devices`` are 1.

When the loop ends, ``<workdir>/result.png`` (or ``--output``) and ``<workdir>/result.json``
(beside ``--output``) are written: the weighted terms of the initial image ("before") and of
the result ("after"), and those of the content image itself for reference, the steps of the
result ("num_steps": fewer than ``--num_steps`` when ``--time_budget_minutes`` ended the run), and
the seconds per step: the wall time of the loop in this call from its first step to its end,
less what JAX spent tracing and compiling, over the steps this call ran (checkpoints and
samples included; null when it ran none). Nothing is overwritten without ``--overwrite``: a run that is interrupted
(no result yet) continues from its latest checkpoint when run again with the same flags; a
finished run whose result exists is refused, and with ``--overwrite`` writes the result of its
last checkpoint again (or continues to a larger ``--num_steps``). A workdir records its
settings (``config.json``): other settings need another ``--workdir``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgan import atomic, visualize
from jaxgan.config import NON_NEGATIVE, POSITIVE, TrainConfig, field
from jaxgan.data import images as images_lib
from jaxgan.methods import runner
from jaxgan.methods import style_transfer as st
from jaxgan.train import compiler
from jaxgan.train.state import ModelState, TrainState

# --init: the paper's white noise, uniform in [-1, 1], or the content image itself.
INITS = {
  "noise": lambda config, content: jax.random.uniform(
    jax.random.PRNGKey(config.seed), content.shape, jnp.float32, -1.0, 1.0
  ),
  "content": lambda config, content: jnp.asarray(content),
}


@dataclasses.dataclass(frozen=True)
class PixelOptimizer:
  """An optax optimiser of the pixels, made from the config; ``line_search``: its update takes the
  objective (``value``, ``grad``, ``value_fn``), as L-BFGS's zoom line search does."""

  make: Callable[[Any], optax.GradientTransformationExtraArgs]
  line_search: bool = False


# --optimizer: the paper's L-BFGS (with optax's zoom line search) or Adam.
OPTIMIZERS = {
  "lbfgs": PixelOptimizer(lambda config: optax.lbfgs(memory_size=config.lbfgs_memory), line_search=True),
  "adam": PixelOptimizer(lambda config: optax.adam(config.learning_rate)),
}

ONE = (lambda v: v == 1, "must be 1")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(TrainConfig, st.LossConfig):
  workdir: str = field(
    "",
    "Where checkpoints, TensorBoard events, samples and the result are written (required); "
    "a run resumes from its latest checkpoint.",
    run_only=True,
  )
  seed: int = field(0, "Seed of the initial noise (--init=noise).")
  dataset: str = field("", "Not used by Gatys: give the images with --content_image and --style_image.")
  data_dir: str = field("", "Not used by Gatys (it reads no dataset).", run_only=True)
  content_image: str = field(
    "", "The content image (required): a file, or a name of the shipped style_content (amber)."
  )
  image_size: int = field(
    512, "Longer side of the content image (and the result); 0: its own size.", check=NON_NEGATIVE
  )
  init: str = field("noise", "Initial image: noise (uniform in [-1, 1], the paper) or content.", choices=INITS)
  optimizer: str = field("lbfgs", "Pixel optimiser: lbfgs (zoom line search, the paper) or adam.", choices=OPTIMIZERS)
  num_steps: int = field(
    500,
    "Optimiser steps in total (L-BFGS iterations or Adam steps); a resumed run continues to it.",
    check=NON_NEGATIVE,
    run_only=True,
  )
  batch_size: int = field(1, "Gatys optimises one image: must be 1.", check=ONE)
  learning_rate: float = field(0.02, "Adam step size in [-1, 1] pixel units.", check=POSITIVE)
  lbfgs_memory: int = field(10, "L-BFGS: number of past updates kept.", check=POSITIVE)
  checkpoint_every: int = field(
    50, "Save a checkpoint every N steps (and at the end).", check=NON_NEGATIVE, run_only=True
  )
  log_every: int = field(
    50,
    "Log the loss (TensorBoard, the progress bar) every N steps (0: never).",
    check=NON_NEGATIVE,
    run_only=True,
  )
  sample_every: int = field(
    100,
    "Write the current image (clipped to [-1, 1]) to <workdir>/samples every N steps (and at the end; 0: never).",
    check=NON_NEGATIVE,
    run_only=True,
  )
  eval_every: int = field(
    0,
    "Log the weighted terms of the current image (clipped) every N steps (and at the end; 0: never).",
    check=NON_NEGATIVE,
    run_only=True,
  )
  num_devices: int = field(1, "Gatys optimises one image on one device: must be 1.", check=ONE, run_only=True)
  allow_partial: bool = field(False, "Not used by Gatys (it has no mode that reads a trained run).", run_only=True)
  output: str = field("", "The result PNG; default <workdir>/result.png.", run_only=True)
  overwrite: bool = field(False, "Replace an existing result.", run_only=True)

  def __post_init__(self):
    st.LossConfig.__post_init__(self)  # every field's check, and the VGG layers


def load_content_image(config: Config) -> np.ndarray:
  """The content image as float [-1, 1] ``[H, W, 3]``, its longer side ``--image_size``."""
  return st.load_flag_image(
    config.content_image,
    flag="content_image",
    longer_side=config.image_size,
    what="the photo to restyle",
    search=st.CONTENT_SEARCH,
  )


def initial_image(config: Config, content: np.ndarray) -> jax.Array:
  return INITS[config.init](config, content)


@dataclasses.dataclass(frozen=True)
class Inputs:
  """What Gatys optimises against, its data: the content and style images (float [-1, 1]
  ``[H, W, 3]``) and the loss network (:class:`jaxgan.interop.vgg.LossNetwork`)."""

  content: np.ndarray
  style: np.ndarray
  vgg: Any


class Gatys:
  """The static half: objective and optimiser, closed over by the pure step; the loss network
  and the targets are the step's :attr:`consts`."""

  def __init__(self, config: Config, data: Inputs):
    self.config = config
    self.objective = st.Objective.from_config(config, data.vgg.convention)
    self.optimizer = OPTIMIZERS[config.optimizer]
    self.tx = self.optimizer.make(config)
    self.content = data.content
    for name, image in (("content_image", data.content), ("style_image", data.style)):
      if min(image.shape[:2]) < self.objective.min_side:
        raise ValueError(
          f"--{name} is {image.shape[0]}x{image.shape[1]} here: the layers need sides of "
          f"at least {self.objective.min_side}"
        )
    self.consts = jax.device_put(self.make_consts(data.vgg, data.content, data.style))

  def loss_fn(self, x: jax.Array, consts: dict) -> tuple[jax.Array, dict]:
    """``(total, weighted terms)`` of one image ``x`` ``[H, W, 3]``; ``consts``: :meth:`consts`."""
    vgg = self.objective.network(consts["vgg"])
    targets = consts["targets"]
    terms = self.objective(vgg, x[None], targets["content"], targets["style_grams"])
    terms = {k: v[0] for k, v in terms.items()}
    return terms["total"], terms

  def targets(self, vgg, content: jax.Array, style: jax.Array) -> dict:
    return {
      "content": self.objective.content_targets(vgg, content[None]),
      "style_grams": self.objective.style_grams(vgg, style),
    }

  def make_consts(self, vgg, content: np.ndarray, style: np.ndarray) -> dict:
    """``{'vgg': the convolutions the layers need, 'targets': {'content': features,
    'style_grams': {layer: Gram}}}``: what the step reads but never trains (``fit``'s ``consts``)."""
    kept = self.objective.kept_params(vgg)
    targets = compiler.jit(self.targets)(self.objective.network(kept), jnp.asarray(content), jnp.asarray(style))
    return {"vgg": kept, "targets": targets}

  def init_state(self, key: jax.Array) -> TrainState:
    """The initial image (``--init``; the noise from ``PRNGKey(--seed)``, not from ``key``) and
    the optimiser's state; ``rng`` is ``key`` (unused: the step draws nothing)."""
    x = initial_image(self.config, self.content)
    # Copies of a strong dtype: optax.lbfgs's init returns one zero buffer for both memories,
    # which a donating step (fit's) rejects ("donate the same buffer twice") when the state is
    # made eagerly; and weakly typed scalars (its line search's), which its update returns
    # strongly typed: the step would be traced and compiled again at the second step.
    opt_state = jax.tree.map(lambda a: jnp.array(a, dtype=a.dtype, copy=True), self.tx.init(x))
    image = ModelState(params=x, stats={}, opt_state=opt_state)
    return TrainState(step=jnp.zeros((), jnp.int32), rng=key, nets={"image": image})

  def train_step(self, state: TrainState, batch: dict, consts: dict) -> tuple[TrainState, dict]:
    """One optimiser step on the pixels; metrics are the terms at ``x`` before the step. Pure.
    ``batch`` is empty (no data); ``consts``: :meth:`consts`."""
    del batch
    image = state.nets["image"]
    x, opt_state = image.params, image.opt_state
    if self.optimizer.line_search:
      value_fn = lambda y: self.loss_fn(y, consts)[0]
      value, grad = optax.value_and_grad_from_state(value_fn)(x, state=opt_state)
      updates, opt_state = self.tx.update(grad, opt_state, x, value=value, grad=grad, value_fn=value_fn)
      metrics = {"total": value}
    else:
      (_, metrics), grad = jax.value_and_grad(self.loss_fn, has_aux=True)(x, consts)
      updates, opt_state = self.tx.update(grad, opt_state, x)
    image = image.replace(params=optax.apply_updates(x, updates), opt_state=opt_state)
    return state.replace(step=state.step + 1, nets={"image": image}), metrics


def build(config: Config, data: Inputs) -> Gatys:
  return Gatys(config, data)


class _NoData:
  """``fit``'s data pipeline for a method that reads no data: an empty batch every step. Records
  the step ``fit`` starts from and when it asks for its first batch (before its first step)."""

  def __init__(self):
    self.start: int | None = None
    self.first_batch: float | None = None  # time.time()

  def iterate(self, start_step: int = 0) -> Iterator[dict]:
    self.start, self.first_batch = start_step, None
    while True:
      if self.first_batch is None:
        self.first_batch = time.time()
      yield {}


class _CompileTime:
  """While active: the spans JAX spends tracing, lowering and compiling (or reading compiled code
  from its cache), from :mod:`jax.monitoring`; :meth:`seconds` is their union within a window
  (the spans nest: a jit traced inside another's trace)."""

  EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
  )

  def __init__(self):
    self.spans: list[tuple[float, float]] = []

    def listen(event: str, start: float, end: float, **kwargs):
      del kwargs
      if event in self.EVENTS:
        self.spans.append((start, end))

    self._listen = listen

  def __enter__(self):
    jax.monitoring.register_event_time_span_listener(self._listen)
    return self

  def __exit__(self, *exc):
    jax.monitoring.unregister_event_time_span_listener(self._listen)

  def seconds(self, start: float, end: float) -> float:
    """The time within ``[start, end]`` (``time.time()``) that some span covers."""
    total, reached = 0.0, start
    for a, b in sorted(self.spans):
      a, b = max(a, reached), min(b, end)
      if b > a:
        total += b - a
        reached = b
    return total


def _output_paths(config: Config) -> tuple[str, str]:
  out = os.path.abspath(config.output or os.path.join(config.workdir, "result.png"))
  if not out.lower().endswith(".png"):
    raise ValueError(f"--output={config.output}: the result is a PNG file, name it *.png")
  json_path = os.path.splitext(out)[0] + ".json"
  if not config.overwrite:
    for path in (out, json_path):
      if os.path.exists(path):
        raise ValueError(f"{path} exists: pass --overwrite or another --output")
  return out, json_path


def run(config: Config) -> dict:
  """Optimise the image in ``fit`` (resuming from ``--workdir``'s checkpoints), then write the PNG
  and the JSON; returns the JSON's contents."""
  if not config.workdir:
    raise ValueError("--workdir is required")
  out, json_path = _output_paths(config)
  content = load_content_image(config)
  style = st.load_style_image(config)
  method = build(config, Inputs(content, style, st.load_loss_network(config)))
  consts = method.consts
  terms_of = compiler.jit(lambda x, consts: method.loss_fn(x, consts)[1])
  terms = lambda x: {k: float(v) for k, v in terms_of(x, consts).items()}
  clipped = lambda state: jnp.clip(state.nets["image"].params, -1.0, 1.0)
  before = terms(initial_image(config, content))
  data = _NoData()
  with _CompileTime() as compiling:
    state = runner.train(
      config,
      method,
      batches=data,
      sample_fn=lambda state: clipped(state)[None],
      eval_fn=lambda state: terms(clipped(state)),
    )
    ended = time.time()
  step = int(jax.device_get(state.step))
  ran = step - data.start if data.start is not None else 0
  seconds = None
  if ran > 0 and data.first_batch is not None:
    seconds = (ended - data.first_batch - compiling.seconds(data.first_batch, ended)) / ran
  x = state.nets["image"].params
  unclipped = terms(x)
  x = jnp.clip(x, -1.0, 1.0)  # the result as written
  after = terms(x)
  reference = terms(jnp.asarray(content))
  visualize.save_png(out, images_lib.to_uint8(np.asarray(x)))
  result = {
    "output": out,
    "size": list(content.shape[:2]),
    "init": config.init,
    "optimizer": config.optimizer,
    "num_steps": step,
    "seconds_per_step": seconds,
    "before": before,
    "after": after,
    "after_unclipped": unclipped,
    "content_image_itself": reference,
    "weights": {
      "content": config.content_weight,
      "style": config.style_weight,
      "tv": config.tv_weight,
      "feature_scale": method.objective.scale,
    },
  }
  if jax.process_index() == 0:
    atomic.write_json(json_path, result)
  timing = f"{seconds:.3g} s/step" if seconds is not None else "no step in this call"
  resumed = f", {ran} in this call" if ran != step else ""
  print(
    f"jaxgan: loss {before['total']:.6g} -> {after['total']:.6g} in {step} {config.optimizer} steps"
    f"{resumed} ({timing}); {out}, {json_path}",
    flush=True,
  )
  return result


MODES = {"train": run}

"""Neural style by optimisation (Gatys, Ecker & Bethge, CVPR 2016): optimise the pixels.

The image ``x`` starts from white noise (the paper; ``--init=noise``: uniform in [-1, 1]) or
from the content image (``--init=content``) and is optimised to minimise the same weighted
objective as fast style transfer (:class:`jaxgan.methods.style_transfer.Objective`: content
loss on relu2_2, Gram loss on relu1_2, relu2_2, relu3_3, relu4_3, weights 1e5 / 1e10, the
same ``feature_scale`` for Caffe-convention weights; see that module for the mapping of
the definitions), against the content image and the style image's Grams, which are
computed once. The paper uses VGG19 (content conv4_2, style conv1_1 ... conv5_1, the
ratio alpha / beta 1e-3 or 1e-4 with its sum-based losses); ``--vgg_depth=19`` and the
layer flags select that network when its weights are available; the defaults keep the
fast-style objective so that both methods are comparable on the shared VGG16 blocks 1-4.

Optimisers (``--optimizer``): ``lbfgs`` (the paper's L-BFGS; ``optax.lbfgs`` with its
default zoom line search, ``--lbfgs_memory`` past updates; one step is one L-BFGS
iteration, which may evaluate the objective several times in its line search, and the
values and gradients found there are reused through ``optax.value_and_grad_from_state``)
or ``adam`` (``--learning_rate`` in [-1, 1] pixel units). Pixels are not constrained
during the optimisation; the result is clipped to [-1, 1] when written (its "after" losses
are those of the clipped image, "after_unclipped" those of the optimised pixels).

Balance, measured here (amber.jpg at 128 px, candy.jpg at 256 px, 60 L-BFGS steps from
noise, Caffe VGG16): the default weights and feature scale give a style-dominated image in
which the content's arch is faint; ``--feature_scale=300`` (the style term 4.5 times weaker
relative to the content term) shows it clearly; from ``--init=content`` the structure stays.

The content image is resized (bicubic) so that its longer side is ``--image_size`` (0 keeps
its size); the style image's longer side is ``--style_size`` (0 keeps its size).
``--mode=train`` (the default) writes ``<workdir>/result.png`` (or ``--output``) and
``<workdir>/result.json`` (beside ``--output``): the weighted terms of the initial image
("before") and of the result ("after"), and those of the content image itself for
reference, plus the seconds per step. Nothing is overwritten without ``--overwrite``.
One step is ``step(x, opt_state, vgg, targets) -> (x, opt_state, metrics)``, pure and
jitted once, the loss network and the targets passed as arguments.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgan import atomic, visualize
from jaxgan.config import NON_NEGATIVE, POSITIVE, field
from jaxgan.data import images as images_lib
from jaxgan.methods import style_transfer as st
from jaxgan.train import compiler

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


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(st.LossConfig):
  workdir: str = field("", "Where the result and its losses are written (required).", run_only=True)
  seed: int = field(0, "Seed of the initial noise.")
  content_image: str = field(
    "", "The content image (required): a file, or a name of the shipped style_content (amber)."
  )
  image_size: int = field(
    512, "Longer side of the content image (and the result); 0: its own size.", check=NON_NEGATIVE
  )
  init: str = field("noise", "Initial image: noise (uniform in [-1, 1], the paper) or content.", choices=INITS)
  optimizer: str = field("lbfgs", "Pixel optimiser: lbfgs (zoom line search, the paper) or adam.", choices=OPTIMIZERS)
  num_steps: int = field(500, "Optimiser steps (L-BFGS iterations or Adam steps).", check=NON_NEGATIVE)
  learning_rate: float = field(0.02, "Adam step size in [-1, 1] pixel units.", check=POSITIVE)
  lbfgs_memory: int = field(10, "L-BFGS: number of past updates kept.", check=POSITIVE)
  log_every: int = field(50, "Print the loss every N steps (0: never).", check=NON_NEGATIVE, run_only=True)
  output: str = field("", "The result PNG; default <workdir>/result.png.", run_only=True)
  overwrite: bool = field(False, "Replace an existing result.", run_only=True)


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


class Gatys:
  """The static half: objective and optimiser, closed over by the pure step."""

  def __init__(self, config: Config, convention: str):
    self.config = config
    self.objective = st.Objective.from_config(config, convention)
    self.optimizer = OPTIMIZERS[config.optimizer]
    self.tx = self.optimizer.make(config)

  def loss_fn(self, x: jax.Array, vgg, targets: dict) -> tuple[jax.Array, dict]:
    """``(total, weighted terms)`` of one image ``x`` ``[H, W, 3]``."""
    terms = self.objective(vgg, x[None], targets["content"], targets["style_grams"])
    terms = {k: v[0] for k, v in terms.items()}
    return terms["total"], terms

  def targets(self, vgg, content: jax.Array, style: jax.Array) -> dict:
    return {
      "content": self.objective.content_targets(vgg, content[None]),
      "style_grams": self.objective.style_grams(vgg, style),
    }

  def step(self, x: jax.Array, opt_state, vgg, targets: dict):
    """One optimiser step on the pixels; metrics are the terms at ``x`` before the step. Pure."""
    if self.optimizer.line_search:
      value_fn = lambda y: self.loss_fn(y, vgg, targets)[0]
      value, grad = optax.value_and_grad_from_state(value_fn)(x, state=opt_state)
      updates, opt_state = self.tx.update(grad, opt_state, x, value=value, grad=grad, value_fn=value_fn)
      metrics = {"total": value}
    else:
      (_, metrics), grad = jax.value_and_grad(self.loss_fn, has_aux=True)(x, vgg, targets)
      updates, opt_state = self.tx.update(grad, opt_state, x)
    return optax.apply_updates(x, updates), opt_state, metrics

  def optimize(self, x: jax.Array, vgg, targets: dict, *, num_steps: int, log_every: int = 0):
    """``(final x, seconds per step)`` after ``num_steps`` jitted steps from ``x``."""
    step = compiler.jit(self.step)  # no donation: L-BFGS's state holds some buffers twice
    opt_state = self.tx.init(x)
    seconds, t0 = 0.0, None
    for i in range(num_steps):
      x, opt_state, metrics = step(x, opt_state, vgg, targets)
      if i == 0:  # the first step compiles: time the others
        jax.block_until_ready(x)
        t0 = time.perf_counter()
      if log_every and (i + 1) % log_every == 0:
        print(f"jaxgan: step {i + 1}/{num_steps} loss {float(metrics['total']):.6g}", flush=True)
    jax.block_until_ready(x)
    if num_steps > 1:
      seconds = (time.perf_counter() - t0) / (num_steps - 1)
    return x, seconds


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
  """Optimise the image, write the PNG and the JSON; returns the JSON's contents."""
  if not config.workdir:
    raise ValueError("--workdir is required")
  out, json_path = _output_paths(config)
  content = load_content_image(config)
  style = st.load_style_image(config)
  vgg = st.load_loss_network(config)
  method = Gatys(config, vgg.convention)
  for name, image in (("content_image", content), ("style_image", style)):
    if min(image.shape[:2]) < method.objective.min_side:
      raise ValueError(
        f"--{name} is {image.shape[0]}x{image.shape[1]} here: the layers need sides of "
        f"at least {method.objective.min_side}"
      )
  vgg = method.objective.network(method.objective.kept_params(vgg))
  targets = compiler.jit(method.targets)(vgg, jnp.asarray(content), jnp.asarray(style))
  terms = compiler.jit(lambda x, vgg, t: method.loss_fn(x, vgg, t)[1])
  x0 = initial_image(config, content)
  before = {k: float(v) for k, v in terms(x0, vgg, targets).items()}
  x, seconds = method.optimize(x0, vgg, targets, num_steps=config.num_steps, log_every=config.log_every)
  unclipped = {k: float(v) for k, v in terms(x, vgg, targets).items()}
  x = jnp.clip(x, -1.0, 1.0)  # the result as written
  after = {k: float(v) for k, v in terms(x, vgg, targets).items()}
  reference = {k: float(v) for k, v in terms(jnp.asarray(content), vgg, targets).items()}
  visualize.save_png(out, images_lib.to_uint8(np.asarray(x)))
  result = {
    "output": out,
    "size": list(content.shape[:2]),
    "init": config.init,
    "optimizer": config.optimizer,
    "num_steps": config.num_steps,
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
  print(
    f"jaxgan: loss {before['total']:.6g} -> {after['total']:.6g} in {config.num_steps} "
    f"{config.optimizer} steps ({seconds:.3g} s/step); {out}, {json_path}",
    flush=True,
  )
  return result


MODES = {"train": run}

"""Fast style transfer (Johnson, Alahi & Fei-Fei, ECCV 2016): one network per style.

An image transformation network G (:data:`jaxgan.models.transformer_net.style_transformer`:
instance norm, nearest-neighbour upsampling, 1,679,235 parameters) is trained on a folder
of content photos to minimise, for each photo ``x``,

    content_weight * l_feat(G(x), x) + style_weight * l_style(G(x), s) + tv_weight * l_TV(G(x))

with the fixed style image ``s`` and a frozen ImageNet VGG16 as the loss network. Defaults
are the PyTorch ``fast_neural_style`` example's (``neural_style.py``): content layer
relu2_2, style layers relu1_2, relu2_2, relu3_3, relu4_3, content weight 1e5, style
weight 1e10, no total-variation term, Adam lr 1e-3 (betas 0.9, 0.999), batch 4, 256x256
crops of the content images resized so that their shorter side is 256, the style image at
its own size. The paper trains 40,000 iterations of batch 4 (about two epochs of COCO);
so does the default ``num_steps``. The style Gram matrices are computed once and, with the
loss network's weights, are the step's ``consts`` (:attr:`StyleTransfer.consts`): arguments of
the jitted step (never baked-in constants), never checkpointed.

**The losses and the weights 1e5 / 1e10.** The example feeds VGG images in 0..255 after
``normalize_batch`` (divide by 255, subtract the ImageNet mean, divide by the std): the
image range does not reach the losses, and :class:`jaxgan.interop.vgg.LossNetwork` does
the same from [-1, 1]. Its definitions map one to one onto :mod:`jaxgan.losses.perceptual`:

* ``mse_loss(features_y.relu2_2, features_x.relu2_2)`` (mean over B C H W) is the batch
  mean of :func:`~jaxgan.losses.perceptual.feature_reconstruction_loss`;
* its ``gram_matrix`` divides by ``C H W``, as :func:`~jaxgan.losses.perceptual.gram_matrix`;
* ``mse_loss(gram_y, gram_s)`` (mean over B C C) summed over the layers is the batch mean
  of :func:`~jaxgan.losses.perceptual.style_reconstruction_loss` with ``reduction='mean'``
  (the paper's squared Frobenius norm, ``'sum'``, would be ``C^2`` times larger per layer).

What cannot map one to one is the loss network. The example uses torchvision's VGG16
(inputs normalised by the ImageNet std); the weights shipped with this project
(``vgg16_conv_keras_imagenet.npz``) are the Caffe VGG16 of the paper's own code, whose
inputs are BGR 0..255 minus the mean. Its activations are about two orders of magnitude
larger, and the two terms scale differently: features ``s`` times larger make the
content term ``s^2`` and the style term ``s^4`` times larger. With 1e5 / 1e10 on raw
Caffe features the style term outweighs the content term some 10^5 times more than in
the example. ``feature_scale`` divides every activation before the losses; its default
(0) picks 1 for torchvision-convention weights (``.pth``: the example's network, its
weights exactly) and ``100 sqrt(2)`` for Keras/Caffe ones. That value makes the example's
weights equal, up to one common factor (to which Adam is invariant), to the paper's
official Torch code (jcjohnson/fast-neural-style ``train.lua``: ``content_weights 1.0``,
``style_weights 5.0`` per layer), which uses the same definitions (``nn.MSECriterion`` on
features and on ``C H W``-normalised Grams) on this Caffe VGG16:
``1e10 / s^4 : 1e5 / s^2 = 5 : 1`` for ``s^2 = 2 10^4``. (That code's content layer is
relu3_3 and its images are 0..255 through a ``150 tanh``, so the match of the balance is
close, not exact; ``--feature_scale`` or the weights tune it.) Only blocks 1 to 4 of the shared
file are ImageNet VGG16 (see its README), which is all these layers use.

Total variation: the example has none (``tv_weight`` 0 by default). The paper chooses
``lambda_TV`` between 1e-6 and 1e-4 by cross-validation per style and the official code
defaults to ``tv_strength`` 1e-6, both for images in the Caffe range 0..255, i.e. about
``0.5e-6 * 127.5^2 ~ 8e-3`` times the *unscaled* content/style units here (jaxgan's
:func:`~jaxgan.losses.perceptual.total_variation` sums squared differences of [-1, 1]
images); set ``--tv_weight`` relative to the logged ``content`` and ``style`` terms.

Other documented choices: ``--g_output=tanh`` (default) ends G with ``tanh`` (the paper's
scaled tanh; the example's last layer is linear, ``--g_output=none``, and clamps when
saving); ``--norm=instance`` (example, Ulyanov et al.) or ``batch`` (paper); ``--crop``
``center`` (example) or ``random``; ``--style_size`` scales the style image's *longer*
side (the official Torch code's ``image.scale``; the example's ``--style-size`` resizes
to a square), 0 keeps its own size (the example's default).

``--mode=stylize --input=IMAGE_OR_DIR [--output=PATH]`` stylises images of any size with
the latest checkpoint: TransformerNet needs sides that are multiples of 4 (and at least
8), so each image is reflection-padded to the next such size and the output cropped back.
Outputs go to ``<workdir>/stylized/`` unless ``--output`` is given; an existing file is
never overwritten without ``--overwrite``. A JSON (``losses.json`` in the output folder, or
``<output>.json`` beside a single output image) records, per image and on average, the
weighted content, style and TV terms of the content image itself ("before") and of its
stylisation ("after"), both against that content image and the style Grams. With ``--tile``
each image is stylised in tiles (:mod:`jaxgan.inference.tiled`: instance norm with the whole
image's statistics). ``--mode=video --input=VIDEO`` stylises a video frame by frame
(:mod:`jaxgan.methods.inference_modes`); it needs no VGG weights.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import atomic, download, inference, visualize
from jaxgan.config import (
  NON_NEGATIVE,
  POSITIVE,
  ComputeConfig,
  TrainConfig,
  field,
  validate,
)
from jaxgan.data import hr_crops
from jaxgan.data import images as images_lib
from jaxgan.interop import vgg as vgg_lib
from jaxgan.losses.perceptual import PerceptualObjective
from jaxgan.methods import inference_modes, runner
from jaxgan.models import transformer_net
from jaxgan.models.vgg import CONV_NAMES, LAYER_NAMES
from jaxgan.train import compiler, optim
from jaxgan.train.state import TrainState, abstract_network, init_network

CONTENT_LAYERS = ("relu2_2",)
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
KERAS_FEATURE_SCALE = 100.0 * math.sqrt(2.0)
VGG_DEPTHS = {16: "VGG16", 19: "VGG19"}
CROPS = {"center": "the centre crop (the example's CenterCrop)", "random": "a random crop"}
OUTPUTS = {name: name for name in transformer_net.OUTPUTS}
G_NORMS = {name: name for name in transformer_net.NORMS}
SIDE_MULTIPLE = (lambda v: v >= 8 and v % 4 == 0, "must be a multiple of 4 and at least 8 (TransformerNet)")


def _valid_layers(config) -> None:
  names = LAYER_NAMES[config.vgg_depth]
  for flag in ("content_layers", "style_layers"):
    layers = getattr(config, flag)
    unknown = [name for name in layers if name not in names]
    if unknown:
      raise ValueError(
        f"{flag}={','.join(layers)}: unknown VGG{config.vgg_depth} layer(s) {unknown}; "
        f"the layers are {', '.join(names)}"
      )
  if not config.content_layers and not config.style_layers:
    raise ValueError("content_layers and style_layers are both empty: nothing to optimise")


@dataclasses.dataclass(frozen=True, kw_only=True)
class LossConfig(ComputeConfig):
  """The perceptual objective shared by fast style transfer and Gatys et al.'s optimisation."""

  style_image: str = field(
    "",
    "The style image (required): a file, or a name of the shipped style_images (candy, mosaic, rain-princess, udnie).",
  )
  style_size: int = field(0, "Longer side of the style image in pixels; 0: its own size.", check=NON_NEGATIVE)
  vgg_weights: str = field(
    "",
    "ImageNet VGG weights (.npz/.h5 Keras-Caffe or .pth torchvision; a file or a "
    "name: vgg16, vgg19); default $JAXGAN_VGG16 / $JAXGAN_VGG19.",
  )
  vgg_depth: int = field(16, "Loss network: VGG16 or VGG19.", choices=VGG_DEPTHS)
  content_layers: tuple[str, ...] = field(CONTENT_LAYERS, "VGG layers of the feature reconstruction loss.")
  style_layers: tuple[str, ...] = field(STYLE_LAYERS, "VGG layers of the style (Gram) loss.")
  content_weight: float = field(1e5, "Weight of the content loss.", check=NON_NEGATIVE)
  style_weight: float = field(1e10, "Weight of the style loss.", check=NON_NEGATIVE)
  tv_weight: float = field(0.0, "Weight of the total variation of the output ([-1, 1] units).", check=NON_NEGATIVE)
  feature_scale: float = field(
    0.0,
    "VGG activations are divided by this before the losses; 0: 1 for "
    "torchvision weights, 100*sqrt(2) for Keras/Caffe ones (see the docs).",
    check=NON_NEGATIVE,
  )

  def __post_init__(self):
    validate(self)
    _valid_layers(self)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(
  TrainConfig, LossConfig, inference_modes.InferenceConfig, optim.adam_fields(learning_rate=1e-3, beta1=0.9)
):
  dataset: str = field("", "Not used: give the content photos with --content_dir.")
  content_dir: str = field(
    "", "Folder of content photos to train on (required; its top-level images), or a registered name such as bsd68."
  )
  image_size: int = field(256, "Content images: shorter side resized to this, then a square crop.", check=SIDE_MULTIPLE)
  crop: str = field("center", "Which square crop of the resized content image.", choices=CROPS)
  batch_size: int = field(4, "Global batch size.", check=POSITIVE)
  num_steps: int = field(40_000, "Training steps (the paper: 40,000 of batch 4).", check=NON_NEGATIVE, run_only=True)
  norm: str = field("instance", "Normalisation of G: instance (example) or batch (paper).", choices=G_NORMS)
  g_output: str = field("tanh", "Last activation of G: tanh (paper) or none (example).", choices=OUTPUTS)
  num_samples: int = field(
    4, "Content images in the sample grid (rows: content | stylised).", check=POSITIVE, run_only=True
  )
  # --mode=stylize (and --mode=video: inference_modes.InferenceConfig)
  input: str = field(
    "",
    "--mode=stylize: an image or a folder of images (or a name: amber, bsd68); " + inference_modes.VIDEO_HELP,
    run_only=True,
  )
  output: str = field(
    "",
    "--mode=stylize: the output image (a single --input) or folder; default <workdir>/stylized. "
    + inference_modes.OUTPUT_HELP,
    run_only=True,
  )
  overwrite: bool = field(
    False, "--mode=stylize: replace existing output files; " + inference_modes.OVERWRITE_HELP, run_only=True
  )

  def __post_init__(self):
    TrainConfig.__post_init__(self)
    _valid_layers(self)
    self.check_inference_flags()


# -- the loss network and the objective ----------------------------------------------------------


STYLE_SEARCH = ("style_images",)  # --style_image=candy
CONTENT_SEARCH = ("style_content",)  # --content_image=amber, --input=amber


def vgg_weights(config: LossConfig) -> str:
  """The file of ``--vgg_weights`` (or ``$JAXGAN_VGG16/19``): :func:`jaxgan.interop.vgg.weights_flag`."""
  return vgg_lib.weights_flag(config.vgg_weights, config.vgg_depth, needed_by="the perceptual loss")


def load_loss_network(config: LossConfig) -> vgg_lib.LossNetwork:
  return vgg_lib.load_vgg(vgg_weights(config), depth=config.vgg_depth)


def image_flag(value: str, *, flag: str, what: str, search: Sequence[str] = ()) -> str:
  """The file of ``--flag=value``: a path, a registered ``ENTRY/FILE`` or a file stem of the
  ``search`` entries (``candy``). A clear error names the flag when it is empty or not found."""
  if not value:
    raise ValueError(f"--{flag} is required ({what})")
  return download.resolve_flag(value, flag=f"--{flag}", kind="file", search=search)


def load_flag_image(path: str, *, flag: str, what: str, longer_side: int = 0, search: Sequence[str] = ()) -> np.ndarray:
  """The image named by ``--flag`` (see :func:`image_flag`) as float [-1, 1] ``[H, W, 3]``;
  longer side resized if given."""
  image = images_lib.load_image(image_flag(path, flag=flag, what=what, search=search), channels=3)
  if longer_side:
    h, w = image.shape[:2]
    k = longer_side / max(h, w)
    image = images_lib.resize(image, (max(1, round(h * k)), max(1, round(w * k))))
  return images_lib.to_float(image)


def load_style_image(config: LossConfig) -> np.ndarray:
  """The style image, its longer side resized to ``--style_size`` (0: its own size)."""
  return load_flag_image(
    config.style_image,
    flag="style_image",
    longer_side=config.style_size,
    what="the painting whose style is transferred",
    search=STYLE_SEARCH,
  )


def feature_scale(config: LossConfig, convention: str) -> float:
  if config.feature_scale:
    return float(config.feature_scale)
  return 1.0 if convention == "torchvision" else KERAS_FEATURE_SCALE


def convs_up_to(depth: int, layers: Sequence[str]) -> tuple[str, ...]:
  """The convolutions that the deepest of ``layers`` needs (``relu{b}_{c}`` is ``block{b}_conv{c}``)."""
  deepest = max(LAYER_NAMES[depth].index(name) for name in layers)
  return CONV_NAMES[depth][: deepest + 1]


def min_side(depth: int, layers: Sequence[str]) -> int:
  """The smallest image side the deepest of ``layers`` accepts (``2^(b - 1)`` for block ``b``)."""
  block = max(int(name[4:].split("_")[0]) for name in layers)
  return 2 ** (block - 1)


@dataclasses.dataclass(frozen=True)
class Objective(PerceptualObjective):
  """The perceptual objective (:class:`jaxgan.losses.perceptual.PerceptualObjective`) on a frozen
  VGG :class:`LossNetwork`: built from the flags, with the VGG depth, convention, precision and
  rematerialisation of the network it runs on; :meth:`network` rebuilds one from the kept
  convolutions (the deeper ones, never run, are empty placeholders).
  """

  depth: int = 16
  convention: str = "keras"
  compute_dtype: Any = None  # the loss network's (--precision)
  remat: bool = False  # recompute its convolutions in the backward pass (--remat)

  @classmethod
  def from_config(cls, config: LossConfig, convention: str) -> Objective:
    return cls(
      content_layers=tuple(config.content_layers),
      style_layers=tuple(config.style_layers),
      content_weight=config.content_weight,
      style_weight=config.style_weight,
      tv_weight=config.tv_weight,
      scale=feature_scale(config, convention),
      style_reduction="mean",
      depth=config.vgg_depth,
      convention=convention,
      compute_dtype=config.compute_dtype(),
      remat=config.remat,
    )

  @property
  def min_side(self) -> int:
    return min_side(self.depth, self.layers)

  def kept_params(self, vgg: vgg_lib.LossNetwork) -> dict:
    """The convolutions of ``vgg`` that the layers need: what the step's constants hold."""
    return {name: vgg.params[name] for name in convs_up_to(self.depth, self.layers)}

  def network(self, kept: Mapping) -> vgg_lib.LossNetwork:
    empty = {"kernel": jnp.zeros((0,), jnp.float32), "bias": jnp.zeros((0,), jnp.float32)}
    params = {name: kept.get(name, empty) for name in CONV_NAMES[self.depth]}
    return vgg_lib.LossNetwork(
      params=params, depth=self.depth, convention=self.convention, compute_dtype=self.compute_dtype, remat=self.remat
    )


# -- the method ------------------------------------------------------------------------------------


def make_generator(config: Config, rngs):
  return transformer_net.style_transformer(norm=config.norm, output=config.g_output, remat=config.remat, rngs=rngs)


class StyleTransfer:
  """The static half of fast style transfer: G's definition, Adam, the objective.

  The loss network and the style image are read once, when first needed (:attr:`consts`: the
  convolutions the losses use and the style Grams, the step's constants).
  """

  def __init__(self, config: Config):
    self.config = config
    self.tx = optim.adam(config)
    self.make_g = functools.partial(make_generator, config)

  @functools.cached_property
  def generator(self):
    return abstract_network(self.make_g, self.tx, compute_dtype=self.config.compute_dtype())

  @functools.cached_property
  def loss_network(self) -> vgg_lib.LossNetwork:
    return load_loss_network(self.config)

  @functools.cached_property
  def objective(self) -> Objective:
    return Objective.from_config(self.config, self.loss_network.convention)

  @functools.cached_property
  def consts(self) -> dict:
    """``{'vgg': kept convolutions, 'style_grams': {layer: [1, C, C]}}``, computed once: what the
    step reads but never trains (``fit``'s ``consts``)."""
    style = jnp.asarray(load_style_image(self.config))
    if min(style.shape[:2]) < self.objective.min_side:
      raise ValueError(
        f"--style_image={self.config.style_image} is {style.shape[0]}x{style.shape[1]}: "
        f"the layers need sides of at least {self.objective.min_side}"
      )
    grams = compiler.jit(self.objective.style_grams)(self.loss_network, style)
    return {"vgg": self.objective.kept_params(self.loss_network), "style_grams": grams}

  def init_state(self, key: jax.Array) -> TrainState:
    k_g, k_run = jax.random.split(key)
    g = init_network(self.make_g, self.tx, k_g)
    return TrainState(step=jnp.zeros((), jnp.int32), rng=k_run, nets={"G": g})

  # -- the step ------------------------------------------------------------------------------
  def losses(self, consts: dict, images: jax.Array, contents: jax.Array) -> dict[str, jax.Array]:
    """Weighted terms per example of ``images`` against ``contents`` and the style (``consts``)."""
    vgg = self.objective.network(consts["vgg"])
    targets = self.objective.content_targets(vgg, contents)
    return self.objective(vgg, images, targets, consts["style_grams"])

  def train_step(self, state: TrainState, batch: dict[str, jax.Array], consts: dict) -> tuple[TrainState, dict]:
    """One Adam step of G on the batch mean of the weighted objective. Pure. ``consts``: :attr:`consts`."""
    x = batch["image"]
    g = state.nets["G"]
    vgg = self.objective.network(consts["vgg"])
    content_targets = self.objective.content_targets(vgg, x)

    def loss_fn(params):
      y, stats = self.generator.apply(params, g.stats, x, train=True)
      terms = self.objective(vgg, y, content_targets, consts["style_grams"])
      means = {name: value.mean() for name, value in terms.items()}
      return means["total"], (stats, means)

    grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(g.params)
    g = self.generator.update(g, grads, stats)
    return state.replace(step=state.step + 1, nets={"G": g}), metrics

  # -- inference -----------------------------------------------------------------------------
  def stylize_batch(self, state: TrainState, x: jax.Array) -> jax.Array:
    """G(x) in eval mode; sides of ``x`` must suit TransformerNet (see :func:`pad_for_network`)."""
    g = state.nets["G"]
    return self.generator.apply(g.params, g.stats, x, train=False)[0]

  @functools.cached_property
  def stylize_one(self):
    """Jitted ``image [H, W, 3] -> G(image)`` (a batch of one)."""
    return compiler.jit(lambda state, x: self.stylize_batch(state, x[None])[0])

  @functools.cached_property
  def losses_one(self):
    """Jitted ``(consts, image, content) -> {term: scalar}`` for one image and its content image."""
    return compiler.jit(lambda consts, y, x: {k: v[0] for k, v in self.losses(consts, y[None], x[None]).items()})

  def stylize(self, state: TrainState, image: np.ndarray) -> np.ndarray:
    """Stylise one float image ``[H, W, 3]`` of any size >= 1; returns the same size."""
    padded, undo = pad_for_network(np.asarray(image, np.float32))
    return undo(np.asarray(self.stylize_one(state, jnp.asarray(padded))))

  def translator(self, state: TrainState) -> inference.Translator:
    """G in eval mode, for tiled images and videos (:mod:`jaxgan.inference`)."""
    return inference.Translator.of(self.generator, state.nets["G"], train=False)


def build(config: Config) -> StyleTransfer:
  return StyleTransfer(config)


def pad_for_network(image: np.ndarray, *, multiple: int = 4, minimum: int = 8):
  """Reflection-pad ``[H, W, C]`` to sides that are multiples of ``multiple`` and >= ``minimum``
  (:func:`jaxgan.inference.fit_image`, TransformerNet's defaults).

  Returns ``(padded, undo)``, ``undo(output)`` cropping an output of the padded size back
  to ``H x W`` (the padding split evenly between both sides, the odd pixel at the end).
  """
  return inference.fit_image(image, multiple=multiple, minimum=minimum)


# -- data ------------------------------------------------------------------------------------------


def content_transform(*, image_size: int, crop: str):
  """``(example, rng) -> {'image': float32 [S, S, 3] in [-1, 1]}``: shorter side resized to
  ``S = image_size`` (bicubic), then the centre crop (``rng=None`` or ``crop='center'``) or a
  random one."""
  if crop not in CROPS:
    raise ValueError(f"crop={crop!r} is not one of {sorted(CROPS)}")

  def transform(example, rng=None):
    image = images_lib.convert_channels(np.asarray(example["image"]), 3)
    h, w = image.shape[:2]
    k = image_size / min(h, w)
    nh, nw = max(image_size, round(h * k)), max(image_size, round(w * k))
    image = images_lib.resize(image, (nh, nw))
    if rng is None or crop == "center":
      top, left = (nh - image_size) // 2, (nw - image_size) // 2
    else:
      top, left = int(rng.integers(0, nh - image_size + 1)), int(rng.integers(0, nw - image_size + 1))
    return {"image": images_lib.to_float(image[top : top + image_size, left : left + image_size])}

  return transform


def content_folder(config: Config) -> str:
  """The folder of ``--content_dir``: a path or a registered name (``bsd68``)."""
  if not config.content_dir:
    raise ValueError(
      "--content_dir is required (a folder of content photos, e.g. BSD68 or COCO images, or a registered name: bsd68)"
    )
  return download.resolve_flag(config.content_dir, flag="--content_dir", kind="dir")


def check_loss_flags(config: LossConfig) -> None:
  """The style image and the VGG weights are there (ValueError / FileNotFoundError naming the
  flag), before anything is written or compiled."""
  image_flag(
    config.style_image, flag="style_image", what="the painting whose style is transferred", search=STYLE_SEARCH
  )
  vgg_weights(config)


def check_train_flags(config: Config) -> None:
  """Every input training reads: the content photos, the style image and the VGG weights."""
  content_folder(config)
  check_loss_flags(config)


def content_source(config: Config):
  """The content photos of ``--content_dir`` (built once as a tfds dataset in the data dir)."""
  folder = content_folder(config)
  data_dir = config.resolved_data_dir()
  return runner.built_by_process0_first(lambda: hr_crops.hr_source(folder, data_dir))


def train(config: Config) -> TrainState:
  """Train G on ``--content_dir`` for ``--num_steps``; sample grids show content | stylised."""
  check_train_flags(config)
  source = content_source(config)
  method = build(config)
  method.consts  # noqa: B018 -- read the style image and the VGG weights before anything compiles
  batches = runner.loader(
    config,
    source,
    global_batch_size=config.batch_size,
    transform=content_transform(image_size=config.image_size, crop=config.crop),
  )
  centre = content_transform(image_size=config.image_size, crop="center")
  shown = [centre(source[i])["image"] for i in range(min(config.num_samples, len(source)))]

  def sample_fn(state):
    return np.stack([[x, np.asarray(method.stylize_one(state, jnp.asarray(x)))] for x in shown])

  return runner.train(config, method, batches=batches, sample_fn=sample_fn)


# -- --mode=stylize --------------------------------------------------------------------------------


def _stylize_plan(config: Config) -> tuple[list[tuple[str, str]], str]:
  """``([(input path, output path)], json path)``; refuses to overwrite without --overwrite."""
  if not config.input:
    raise ValueError("--mode=stylize needs --input=IMAGE or --input=FOLDER")
  workdir = os.path.abspath(config.workdir)
  source = download.resolve_flag(config.input, flag="--input", search=CONTENT_SEARCH)
  if os.path.isdir(source):
    names = sorted(
      n for n in os.listdir(source) if not n.startswith(".") and n.lower().endswith(images_lib.IMAGE_EXTENSIONS)
    )
    if not names:
      raise ValueError(f"--input={config.input} holds no images ({', '.join(images_lib.IMAGE_EXTENSIONS)})")
    out_dir = os.path.abspath(config.output or os.path.join(workdir, "stylized"))
    plan = [(os.path.join(source, n), os.path.join(out_dir, os.path.splitext(n)[0] + ".png")) for n in names]
    json_path = os.path.join(out_dir, "losses.json")
  else:  # resolve_flag returned an existing path: a file
    stem = os.path.splitext(os.path.basename(source))[0]
    out = os.path.abspath(config.output or os.path.join(workdir, "stylized", stem + ".png"))
    if os.path.isdir(out):
      out = os.path.join(out, stem + ".png")
    if not out.lower().endswith(".png"):
      raise ValueError(f"--output={config.output}: outputs are PNG files, name it *.png (or a folder)")
    plan = [(source, out)]
    json_path = os.path.splitext(out)[0] + ".json"
  if not config.overwrite:
    existing = [p for p in [o for _, o in plan] + [json_path] if os.path.exists(p)]
    if existing:
      raise ValueError(
        f"{len(existing)} output file(s) exist, e.g. {existing[0]}: pass --overwrite or another --output"
      )
  if len({o for _, o in plan}) != len(plan):
    raise ValueError(f"--input={config.input}: several images share a name stem (outputs would collide)")
  return plan, json_path


def _floats(terms: Mapping) -> dict[str, float]:
  return {k: float(v) for k, v in terms.items()}


def stylize(config: Config) -> str:
  """Stylise ``--input`` with the latest checkpoint; returns the path of the losses JSON."""
  plan, json_path = _stylize_plan(config)
  check_loss_flags(config)
  method = build(config)
  state = runner.restore(config, method.init_state)
  if config.tile:
    tiled = inference_modes.image_translator(config, method.translator(state))
    translate = lambda x: np.asarray(tiled(x))
  else:
    translate = functools.partial(method.stylize, state)
  records = []
  for src, dst in plan:
    x = images_lib.to_float(images_lib.load_image(src, channels=3))
    y = translate(x)
    visualize.save_png(dst, images_lib.to_uint8(y))
    record = {"input": os.path.abspath(src), "output": dst, "size": list(x.shape[:2])}
    if min(x.shape[:2]) >= method.objective.min_side:
      xj = jnp.asarray(x)
      record["before"] = _floats(method.losses_one(method.consts, xj, xj))
      record["after"] = _floats(method.losses_one(method.consts, jnp.asarray(y), xj))
    else:
      record["note"] = f"smaller than {method.objective.min_side} px: no VGG losses"
    records.append(record)
    print(f"jaxgan: {src} -> {dst}", flush=True)
  scored = [r for r in records if "after" in r]
  summary = {
    "step": int(state.step),
    "style_image": config.style_image,
    "num_images": len(records),
    "weights": {
      "content": config.content_weight,
      "style": config.style_weight,
      "tv": config.tv_weight,
      "feature_scale": method.objective.scale,
    },
    "images": records,
  }
  if scored:
    summary["mean"] = {
      when: {k: float(np.mean([r[when][k] for r in scored])) for k in scored[0][when]} for when in ("before", "after")
    }
    m = summary["mean"]
    print(
      f"jaxgan: mean content {m['before']['content']:.4g} -> {m['after']['content']:.4g}, style "
      f"{m['before']['style']:.4g} -> {m['after']['style']:.4g} ({len(scored)} images)",
      flush=True,
    )
  if jax.process_index() == 0:
    atomic.write_json(json_path, summary)
  print(f"jaxgan: losses in {json_path}", flush=True)
  return json_path


def video(config: Config) -> inference.VideoSummary:
  """``--input`` video stylised by G (eval mode) into ``--output``, frame by frame (no VGG needed)."""
  method = build(config)
  return inference_modes.video(config, lambda: method.translator(runner.restore(config, method.init_state)))


MODES = {"train": train, "stylize": stylize, "video": video}

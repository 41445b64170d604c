"""What pix2pix and CycleGAN share: options, networks, schedule, test-time I/O and scores.

Both follow the official pytorch-CycleGAN-and-pix2pix code: the same generator and
discriminator choices (``--netG``, ``--netD``, ``--norm``), Adam with the ``linear``
policy by epoch, the same preprocessing options, and the same test script (results
folder with ``*_real_A.png`` / ``*_fake_B.png`` and an ``index.html``).

With ``--fid_features``, ``--mode=test`` also reports FID, KID and IS
(:func:`jaxgan.metrics.features.scores`) of the translations against the real target images,
and of the inputs themselves against the targets (``input_as_output``: the "do nothing"
baseline), computed on the images as written (:class:`WrittenImages`: the uint8 values the
PNGs hold, at their written sizes).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import os
from collections.abc import Callable, Iterator

import jax.numpy as jnp
import numpy as np

from jaxgan import download, results
from jaxgan.config import NON_NEGATIVE, POSITIVE, TrainConfig, field
from jaxgan.data import images as images_lib
from jaxgan.data.paired import DIRECTIONS, PREPROCESS
from jaxgan.interop import load_pix2pix, save_torch_state_dict, to_torch_state_dict
from jaxgan.losses.translation import GAN_MODES
from jaxgan.methods import runner
from jaxgan.methods.inference_modes import InferenceConfig
from jaxgan.metrics import features, image_quality
from jaxgan.models import patchgan, resnet_generator, unet
from jaxgan.nn.norm import NORMS
from jaxgan.train import optim
from jaxgan.train.checkpoint import Checkpointer

CHANNELS = (lambda c: c in (1, 3), "must be 1 or 3")
GENERATORS: dict[str, Callable] = {**resnet_generator.GENERATORS, **unet.GENERATORS}


def _same(out):
  return out


def _resize(image, *, stride, size, name):
  """Resize to ``--crop_size`` x ``--crop_size`` (the official test script)."""
  return images_lib.to_float(images_lib.resize(images_lib.to_uint8(image), (size, size))), _same


def _refuse(image, *, stride, size, name):
  """Refuse images whose sides are not multiples of the generator's stride."""
  h, w = image.shape[:2]
  if h % stride == 0 and w % stride == 0:
    return image, _same
  raise ValueError(
    f"{name} is {h}x{w}, not a multiple of {stride} (the stride of the generator): use "
    "--size_policy=pad, crop or resize"
  )


def _crop(image, *, stride, size, name):
  """Centre-crop to the largest multiple of the generator's stride."""
  h, w = image.shape[:2]
  ch, cw = h // stride * stride, w // stride * stride
  if not ch or not cw:
    raise ValueError(f"{name} is {h}x{w}, smaller than the generator's stride {stride}: use --size_policy=pad")
  top, left = (h - ch) // 2, (w - cw) // 2
  return image[top : top + ch, left : left + cw], _same


def _pad(image, *, stride, size, name):
  """Reflect-pad to a multiple of the generator's stride; the output is cropped back."""
  h, w = image.shape[:2]
  ph, pw = -h % stride, -w % stride
  mode = "reflect" if ph < h and pw < w else "symmetric"
  padded = np.pad(image, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)), mode=mode)
  return padded, lambda out: out[ph // 2 : ph // 2 + h, pw // 2 : pw // 2 + w]


# --size_policy: how a test image whose sides the generator cannot take is made to fit.
SIZE_POLICIES = {"resize": _resize, "pad": _pad, "crop": _crop, "error": _refuse}

# --fid_features of --mode=test.
FID_FEATURES = {
  "none": "no FID/KID",
  "inception": "the FID Inception-v3 with --fid_weights (comparable with published figures)",
}


def generator_stride(net_g: str) -> int:
  """Input sides must be multiples of this: ``2**num_downs`` for a U-Net, 4 for a ResNet."""
  preset = GENERATORS[net_g]
  if net_g in unet.GENERATORS:
    return unet.unet_stride(preset.keywords["num_downs"])
  return resnet_generator.resnet_stride()


@dataclasses.dataclass(frozen=True, kw_only=True)
class TranslationConfig(
  TrainConfig, InferenceConfig, optim.adam_fields(learning_rate=2e-4, learning_rate_help="Initial Adam learning rate.")
):
  """The official options shared by pix2pix and CycleGAN (each sets its own defaults)."""

  direction: str = field("AtoB", "Translate A to B or B to A.", choices=DIRECTIONS)
  input_nc: int = field(3, "Channels of the input images (domain A).", check=CHANNELS)
  output_nc: int = field(3, "Channels of the output images (domain B).", check=CHANNELS)
  netG: str = field("unet_256", "Generator.", choices=GENERATORS)
  netD: str = field(
    "basic",
    "Discriminator: basic (70x70 PatchGAN), n_layers (--n_layers_D), pixel "
    "(1x1), patch16 (16x16), image (286x286 ImageGAN).",
    choices=patchgan.DISCRIMINATORS,
  )
  n_layers_D: int = field(3, "Layers of --netD=n_layers.", check=POSITIVE)
  ngf: int = field(64, "Generator width.", check=POSITIVE)
  ndf: int = field(64, "Discriminator width.", check=POSITIVE)
  norm: str = field("batch", "Normalisation of G and D.", choices=NORMS)
  dropout: bool = field(True, "Dropout 0.5 in the generator (official --no_dropout turns it off).")
  gan_mode: str = field("vanilla", "GAN loss.", choices=GAN_MODES)
  batch_size: int = field(1, "Global batch size.", check=POSITIVE)
  n_epochs: int = field(100, "Epochs at the initial learning rate.", check=NON_NEGATIVE)
  n_epochs_decay: int = field(100, "Epochs of linear decay to zero.", check=NON_NEGATIVE)
  num_steps: int = field(
    0, "Total training steps; 0: (n_epochs + n_epochs_decay) epochs.", check=NON_NEGATIVE, run_only=True
  )
  preprocess: str = field("resize_and_crop", "Training-time scaling and cropping.", choices=PREPROCESS)
  load_size: int = field(286, "Scale images to this size.", check=POSITIVE)
  crop_size: int = field(256, "Then crop to this size.", check=POSITIVE)
  flip: bool = field(True, "Random horizontal flips (official --no_flip turns them off).")
  num_samples: int = field(4, "Held-out images in the sample grid.", check=POSITIVE, run_only=True)
  # Evaluation and --mode=test.
  num_test: int = field(50, "Held-out images evaluated and written by --mode=test.", check=POSITIVE, run_only=True)
  test_batch_stats: bool = field(
    True,
    "Batch norm uses the test image's statistics at test time "
    "(official default; its --eval uses the running averages).",
    run_only=True,
  )
  test_dropout: bool = field(True, "Dropout stays on at test time (official default).", run_only=True)
  test_input: str = field(
    "", "--mode=test: a folder of input images (default: the dataset's test split).", run_only=True
  )
  size_policy: str = field(
    "resize",
    "--mode=test: images whose sides are not multiples of the generator's stride: resize (to --crop_size, as "
    "the official test script), pad (reflect-pad, the output cropped back), crop (centre crop) or error.",
    choices=SIZE_POLICIES,
    run_only=True,
  )
  results_dir: str = field(
    "",
    "--mode=test: output folder (default <workdir>/test_step<N>; never overwritten: a suffix is added).",
    run_only=True,
  )
  fid_features: str = field(
    "none",
    "--mode=test: FID, KID and IS of the translations against the real target images, as written, and of the "
    "inputs themselves (input_as_output) in metrics.json; pix2pix training: the same scores of the held-out "
    "translations at every --eval_every and in eval.json. none or inception (the FID Inception-v3, "
    "--fid_weights). FID of few images is biased upward: raise --num_test.",
    choices=FID_FEATURES,
    run_only=True,
  )
  fid_weights: str = field(
    "fid_inception",
    "Weights of --fid_features=inception: a registered name (python -m jaxgan.download fid_inception) or a file.",
    run_only=True,
  )

  def __post_init__(self):
    super().__post_init__()
    self.check_inference_flags()
    if self.fid_features != "none" and self.num_test < 2:
      raise ValueError(f"--fid_features={self.fid_features} compares sets of images: it needs --num_test >= 2")
    if self.preprocess in ("resize_and_crop", "scale_width_and_crop") and self.crop_size > self.load_size:
      raise ValueError(f"crop_size={self.crop_size} is larger than load_size={self.load_size}")
    if "crop" in self.preprocess and self.crop_size % self.stride:
      raise ValueError(f"crop_size={self.crop_size} is not a multiple of {self.stride}, the stride of netG={self.netG}")

  @property
  def stride(self) -> int:
    return generator_stride(self.netG)

  def test_dropout_on(self) -> bool:
    return self.dropout and self.test_dropout


# -- networks and optimiser ---------------------------------------------------------------------


def make_generator(config: TranslationConfig, rngs, *, in_channels: int, out_channels: int):
  return GENERATORS[config.netG](
    in_channels=in_channels,
    out_channels=out_channels,
    ngf=config.ngf,
    norm=config.norm,
    use_dropout=config.dropout,
    remat=config.remat,
    rngs=rngs,
  )


def make_discriminator(config: TranslationConfig, rngs, *, in_channels: int):
  kwargs = {"in_channels": in_channels, "ndf": config.ndf, "norm": config.norm, "remat": config.remat, "rngs": rngs}
  if config.netD == "n_layers":
    kwargs["n_layers"] = config.n_layers_D
  return patchgan.DISCRIMINATORS[config.netD](**kwargs)


def adam_with_schedule(config: TranslationConfig, steps_per_epoch: int):
  """``(tx, schedule)``: Adam with the official ``linear`` learning-rate policy by epoch."""
  schedule = optim.linear_decay_after(
    config.learning_rate,
    steps_per_epoch=steps_per_epoch,
    n_epochs=config.n_epochs,
    n_epochs_decay=config.n_epochs_decay,
  )
  return optim.adam(config, schedule), schedule


def resolved_num_steps(config: TranslationConfig, steps_per_epoch: int) -> TranslationConfig:
  """``config`` with ``num_steps`` = (n_epochs + n_epochs_decay) epochs when it is 0."""
  if config.num_steps:
    return config
  return config.replace(num_steps=(config.n_epochs + config.n_epochs_decay) * steps_per_epoch)


# -- scores -------------------------------------------------------------------------------------


def scores(fake: np.ndarray, target: np.ndarray) -> dict[str, float]:
  """L1 (in [-1, 1] units, the training loss's), PSNR and SSIM (on [0, 1] images, the usual
  convention: SSIM is not shift-invariant) of one image ``[H, W, C]`` against its target."""
  x, y = jnp.asarray(fake)[None], jnp.asarray(target)[None]
  x01, y01 = (x + 1) / 2, (y + 1) / 2
  return {
    "l1": float(image_quality.l1(x, y)[0]),
    "psnr": float(image_quality.psnr(x01, y01, data_range=1.0)[0]),
    "ssim": float(image_quality.ssim(x01, y01, data_range=1.0)[0]),
  }


def three_channels(x) -> np.ndarray:
  x = np.asarray(x)
  return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x


# -- test-time inputs and outputs -----------------------------------------------------------------


def fit_to_stride(image: np.ndarray, *, stride: int, policy: str, size: int, name: str):
  """Make an image's sides fit the generator; returns ``(image, undo)`` with ``undo(output)``."""
  return SIZE_POLICIES[policy](image, stride=stride, size=size, name=name)


def as_float(image, channels: int) -> np.ndarray:
  """uint8 image -> float [-1, 1] with ``channels`` channels."""
  return images_lib.to_float(images_lib.convert_channels(np.asarray(image), channels))


def folder_inputs(config: TranslationConfig, channels: int) -> Iterator[tuple[str, np.ndarray]]:
  """``(file name, float image)`` of the first ``--num_test`` images of ``--test_input``."""
  root = os.path.abspath(config.test_input)
  if not os.path.isdir(root):
    raise FileNotFoundError(f"--test_input={config.test_input}: no such directory")
  names = sorted(n for n in os.listdir(root) if n.lower().endswith(images_lib.IMAGE_EXTENSIONS))
  if not names:
    raise ValueError(f"--test_input={config.test_input} holds no images ({', '.join(images_lib.IMAGE_EXTENSIONS)})")
  for name in names[: config.num_test]:
    yield name, as_float(images_lib.load_image(os.path.join(root, name), channels=3), channels)


def _own_size(image: np.ndarray, *, name: str):
  return image, _same


def start_test_run(config: TranslationConfig, init_fn, columns: list[str]):
  """``(latest state, ResultsWriter in a fresh results folder, fit(image, name=...))`` of --mode=test.

  With ``--tile`` images keep their own size (the tiles are padded to the stride), so ``fit`` leaves
  them as they are.
  """
  state = runner.restore(config, init_fn)
  writer = results.ResultsWriter(results.run_folder(config, int(state.step)), columns)
  fit = functools.partial(fit_to_stride, stride=config.stride, policy=config.size_policy, size=config.crop_size)
  return state, writer, _own_size if config.tile else fit


# -- FID/KID/IS of --mode=test -------------------------------------------------------------------


def fid_extractor(config: TranslationConfig) -> features.Extractor | None:
  """The network of ``--fid_features=inception`` with ``--fid_weights`` (None for other values).

  Called first by ``--mode=test``: a missing or unreadable weights file stops it before anything
  is written, with a message naming the flag.
  """
  if config.fid_features != "inception":
    return None
  return features.inception(config.fid_weights, flag="--fid_weights")


class WrittenImages:
  """The images of a ``--mode=test`` run as written (uint8, what the PNGs hold), by suffix
  (``real_A``, ``fake_B``, ...), and the FID/KID/IS of one set against another.

  The images may differ in size (``--size_policy=pad`` or ``crop`` keep each image's own): each
  size is embedded in its own batches (one compiled program per size; the Inception resizes
  every image to 299 anyway), so every image is scored as written, never resized again here.
  """

  def __init__(self, extractor: features.Extractor):
    self.extractor = extractor
    self.sets: dict[str, list[np.ndarray]] = collections.defaultdict(list)
    self._embedded: dict[str, dict[str, np.ndarray]] = {}

  def add(self, images: dict[str, np.ndarray]) -> None:
    """``{suffix: float image in [-1, 1]}``, as given to :meth:`jaxgan.results.ResultsWriter.add`."""
    for suffix, image in images.items():
      self.sets[suffix].append(images_lib.to_uint8(image))
      self._embedded.pop(suffix, None)

  def embedded(self, suffix: str) -> dict[str, np.ndarray]:
    """``{"pool", "logits"}`` of set ``suffix``, rows in the order added (computed once)."""
    if suffix not in self._embedded:
      self._embedded[suffix] = features.embed_images(self.extractor, self.sets[suffix])
    return self._embedded[suffix]

  def scores(self, real: str, fake: str) -> dict[str, float]:
    """:func:`jaxgan.metrics.features.scores` of set ``fake`` against set ``real`` (KID subsets of
    ``min(1000, N)``); empty, with a note, when either set has fewer than 2 images."""
    n_real, n_fake = len(self.sets[real]), len(self.sets[fake])
    if min(n_real, n_fake) < 2:
      print(
        f"jaxgan: --fid_features: {fake} ({n_fake} images) vs {real} ({n_real}): FID/KID need 2 or more of each; "
        "not computed",
        flush=True,
      )
      return {}
    return features.scores(self.extractor, self.embedded(real), self.embedded(fake))


def describe_scores(scores: dict, name: str) -> str:
  """``FID (inception) 12.3, KID 0.0123 +- 0.0010`` of :func:`jaxgan.metrics.features.scores`' output."""
  if f"fid_{name}" not in scores:
    return "no FID/KID"
  return (
    f"FID ({name}) {scores[f'fid_{name}']:.4g}, KID {scores[f'kid_{name}_mean']:.4g} +- {scores[f'kid_{name}_std']:.2g}"
  )


# -- official PyTorch checkpoints -------------------------------------------------------------------


def import_torch(config: TranslationConfig, init_fn, networks: dict, paths: dict[str, str]) -> str:
  """Official state_dicts ``{net name: .pth path}`` -> the step-0 checkpoint of a new workdir.

  Networks without a path keep their fresh initialisation. ``--mode=test`` then translates
  with the official weights (step 0 is recorded as finished), ``--mode=train`` fine-tunes
  them. A workdir that already holds checkpoints is refused (nothing is overwritten).
  """
  # A file, or the name of an official pretrained generator (pix2pix_facades_label2photo,
  # cyclegan_horse2zebra_model, ...: python -m jaxgan.download --list).
  paths = {
    name: download.resolve_flag(path, flag=f"--torch_{name}", kind="file") for name, path in paths.items() if path
  }
  directory = os.path.join(os.path.abspath(config.workdir), "checkpoints")
  if os.path.isdir(directory) and os.listdir(directory):
    raise ValueError(f"{directory} already holds checkpoints: import into a new --workdir")
  state = init_fn(runner.run_key(config))
  nets = dict(state.nets)
  for name, path in paths.items():
    params, stats = load_pix2pix(path, (networks[name].graphdef, nets[name].params, nets[name].stats))
    nets[name] = nets[name].replace(params=params, stats=stats)
  runner.prepare_workdir(config)
  ckpt = Checkpointer(directory)
  try:
    ckpt.save(0, state.replace(nets=nets))
  finally:
    ckpt.close()
  runner.record_config(config)
  # The imported networks are a finished model: --mode=test and export_torch take step 0 as it is.
  runner.mark_finished(config, 0, "imported: " + ", ".join(f"{n} from {p}" for n, p in paths.items()))
  print(f"jaxgan: imported {', '.join(f'{n} from {p}' for n, p in paths.items())} as step 0 of {directory}", flush=True)
  return directory


def export_torch(config: TranslationConfig, init_fn, networks: dict, paths: dict[str, str]) -> list[str]:
  """The latest checkpoint's networks -> official state_dicts ``{net name: .pth path}``.

  Existing files are refused, never overwritten.
  """
  paths = {name: path for name, path in paths.items() if path}
  if not paths:
    raise ValueError(f"--mode=export_torch needs at least one of {', '.join('--torch_' + n for n in networks)}")
  for path in paths.values():
    if os.path.exists(path):
      raise ValueError(f"{path} exists: choose another path")
  state = runner.restore(config, init_fn)
  written = []
  for name, path in paths.items():
    ms = state.nets[name]
    save_torch_state_dict(to_torch_state_dict((networks[name].graphdef, ms.params, ms.stats)), path)
    written.append(path)
    print(f"jaxgan: wrote {path} (net {name}, step {int(state.step)})", flush=True)
  return written

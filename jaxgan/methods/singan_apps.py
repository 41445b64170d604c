"""SinGAN's applications (the paper's section 4 and the official scripts), on a trained pyramid;
:data:`MODES` holds them and ``--mode=train`` (:func:`jaxgan.methods.singan.train`).

Every mode loads the finished pyramid of ``--workdir`` (train it first with ``--mode=train``:
a workdir without one stops with "train first: <command>"; ``--allow_partial`` uses the scales
trained so far) and writes files under ``<workdir>/<mode>/`` whose names carry the scale and the
seed:

* ``random_samples``: images from noise at every scale, or from ``--gen_start_scale`` n (the
  scales below n follow the reconstruction path, so the sample keeps the image's coarse
  layout: the paper's "N-k" generation); ``--scale_h`` / ``--scale_v`` give any output size
  and aspect ratio (the noise maps are that much larger at every scale). With ``--sifid``
  (default) also each sample's SIFID (:mod:`jaxgan.metrics.features`) against the training
  image at the samples' scale (the finest one used; its size differs from the samples' when
  ``--scale_h`` / ``--scale_v`` are not 1) and their mean, in ``seed=S_sifid.json`` beside the
  samples, on ``--sifid_weights`` (the FID Inception) at ``--sifid_layer``. When those weights are
  a registered name not downloaded, one line says SIFID was skipped and how to get them.
* ``sr``: the official super-resolution: train with ``--pyramid=sr --alpha=100`` (the flagfile
  ``experiments/flags/singan_sr.flags``), then apply the finest generator ``k`` times, each
  after a bicubic upscaling by ``sr_factor^(1/k)`` (``k = 6`` for x4), with its noise amplitude.
* ``paint2image`` / ``editing`` / ``harmonization``: ``--ref_image`` is resized to the
  training image, downsampled to scale ``inject_scale - 1``, upsampled to scale
  ``inject_scale`` and fed there (noise at every scale from there on). ``paint2image`` may
  first quantise the painting to the image's k-means palette (``--quantize``; the official
  code also fine-tunes the scales above with quantised inputs, which is not done here).
  ``editing`` and ``harmonization`` blend the output into the image with ``--mask``
  dilated by a disk (radius 20 / 7), blurred (Gaussian, sigma 5) and rescaled to [0, 1].
* ``animation``: a random walk in noise space from ``--anim_start_scale`` (the official
  ``generate_gif``: ``z_t = alpha z* + (1 - alpha)(z_{t-1} + beta (z_{t-1} - z_{t-2}) +
  (1 - beta) n_t)``), written as GIF (or MP4 with imageio-ffmpeg).

Masks: a pixel is in the mask when its first channel is at least 128 (the official code takes
any non-zero value, which lets JPEG noise leak into the mask); RGB, RGBA, grey and JPEG masks
therefore give the same blend.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

from jaxgan import atomic, download, visualize
from jaxgan.data import images as images_lib
from jaxgan.data.single_image import imresize_clamped, to_model_range
from jaxgan.imresize import imresize
from jaxgan.methods import singan
from jaxgan.train import compiler

MASK_THRESHOLD = 128
DILATION_RADIUS = {"editing": 20, "harmonization": 7}
MASK_BLUR_SIGMA = 5.0
# Where --ref_image / --mask names are looked up: --ref_image=starry_night_naive --mask=starry_night_naive_mask.
INPUT_SEARCH = ("singan_editing", "singan_harmonization", "singan_paint", "singan_images")


# ------------------------------------------------------------------ loading


def trained(config: singan.Config):
  """``(method, finest state, reals)`` of ``--workdir``'s trained pyramid; never trains."""
  return singan.restore_scales(config)


def _out_path(config: singan.Config, mode: str, name: str) -> str:
  return os.path.join(os.path.abspath(config.workdir), mode, name)


def _save(path: str, image) -> str:
  image = np.asarray(image)
  visualize.save_png(path, images_lib.to_uint8(np.clip(image, -1, 1)))
  return path


def input_flag(value: str, flag: str) -> str:
  """The file of ``--ref_image`` / ``--mask``: a path, ``ENTRY/FILE`` or a file stem of SinGAN's
  shipped inputs (:data:`INPUT_SEARCH`); ValueError / FileNotFoundError naming the flag."""
  if not value:
    raise ValueError(f"{flag} is required for this mode")
  return download.resolve_flag(value, flag=flag, kind="file", search=INPUT_SEARCH)


def load_ref(path: str, shape: tuple[int, int]) -> np.ndarray:
  """A reference image in [-1, 1], resized (MATLAB bicubic, clamped) to ``shape`` if its size differs."""
  if not path:
    raise ValueError("--ref_image is required for this mode")
  ref = to_model_range(images_lib.load_image(path, channels=3))
  if ref.shape[:2] != tuple(shape):
    ref = imresize_clamped(ref, output_shape=shape)
  return ref


def load_mask(path: str, shape: tuple[int, int]) -> np.ndarray:
  """A binary ``[h, w]`` mask (first channel >= 128) at ``shape``; RGB/RGBA/grey/JPEG alike."""
  if not path:
    raise ValueError("--mask is required for this mode")
  mask = images_lib.load_image(path, channels=3)[..., :1].astype(np.float32)
  if mask.shape[:2] != tuple(shape):
    mask = imresize(mask, output_shape=shape)
  return mask[..., 0] >= MASK_THRESHOLD


def blend_mask(mask: np.ndarray, *, radius: int, sigma: float = MASK_BLUR_SIGMA) -> np.ndarray:
  """The official ``dilate_mask``: dilate by a disk, Gaussian blur, rescale to [0, 1]: ``[h, w, 1]``."""
  from scipy import ndimage  # pylint: disable=import-outside-toplevel
  from skimage import filters, morphology  # pylint: disable=import-outside-toplevel

  if not mask.any():
    raise ValueError("the mask is empty: no pixel has a first channel >= 128")
  # skimage's binary_dilation is deprecated (removed in 0.28); with a symmetric disk scipy's is the same.
  dilated = ndimage.binary_dilation(mask, structure=morphology.disk(radius).astype(bool))
  soft = filters.gaussian(dilated.astype(np.float64), sigma=sigma)
  soft = (soft - soft.min()) / max(soft.max() - soft.min(), 1e-12)
  return soft.astype(np.float32)[..., None]


def check_inject_scale(method: singan.SinGAN, n: int) -> int:
  top = method.spec.num_scales - 1
  if not 1 <= n <= top:
    raise ValueError(f"--inject_scale={n} must be in [1, {top}] (this pyramid has scales 0..{top})")
  return n


def injected_input(method: singan.SinGAN, ref: np.ndarray, n: int) -> jax.Array:
  """``ref`` (at the finest size) at scale n's size through scale n - 1 (the official in_s).

  Both resizes end in [-1, 1] as the official ones: ``down`` through :func:`singan.upsample`'s
  input clip, the upsampled image through its clamp.
  """
  spec = method.spec
  down = imresize(ref, spec.scale_factor ** (spec.stop_scale - n + 1))
  down = down[: spec.shapes[n - 1][0], : spec.shapes[n - 1][1]]
  return singan.upsample(jnp.asarray(down[None]), method.up_factor, spec.shapes[n])


def generate_from(
  method: singan.SinGAN,
  state,
  n: int,
  start: jax.Array,
  key: jax.Array,
  shapes: list[tuple[int, int]] | None = None,
  fixed_below: int = 0,
) -> jax.Array:
  """Run scales ``n..`` from ``start`` (scale n's input) with fresh noise; returns the output.

  Scales below ``fixed_below`` use the reconstruction noise (z* at 0, zeros above).
  """
  nets = method.scale_nets(state, method.spec.num_scales - 1)[n:]
  shapes = list(shapes or method.spec.shapes)[n:]
  keys = jax.random.split(key, len(nets))
  zs = []
  for i, k in enumerate(keys):
    scale = n + i
    if scale < fixed_below:
      zs.append(state.extra["z_opt"] if scale == 0 else jnp.zeros((1, *shapes[i], 3)))
    else:
      zs.append(singan.noise(k, shapes[i], coarsest=scale == 0))
  x = method.draw(nets[:-1], zs[:-1], shapes, start)
  return nets[-1](zs[-1], x)


# ------------------------------------------------------------------ modes


def sifid_weights(config: singan.Config) -> tuple[str | None, str]:
  """``(file, note)`` of ``--sifid_weights``: the weights file, or None with ``--nosifid`` or when
  they are a registered name not downloaded (``note`` then says SIFID is skipped and gives the
  download command). A file that does not exist is a FileNotFoundError naming the flag."""
  if not config.sifid:
    return None, ""
  try:
    return download.resolve_flag(config.sifid_weights, flag="--sifid_weights", kind="file"), ""
  except download.NotAvailableError as e:
    return None, f"jaxgan: SIFID skipped: {e} (--nosifid turns SIFID off)"


def check_sifid_sizes(config: singan.Config, real_shape, sample_shape) -> None:
  """ValueError naming ``--sifid_layer`` and the sizes when the real image or the samples are too
  small for the layer (:func:`jaxgan.metrics.features.check_sifid_size`)."""
  from jaxgan.metrics import features  # pylint: disable=import-outside-toplevel

  try:
    features.check_sifid_size(*real_shape, config.sifid_layer, what="the training image at the samples' scale")
    features.check_sifid_size(*sample_shape, config.sifid_layer, what="each sample")
  except ValueError as e:
    raise ValueError(f"--sifid_layer={config.sifid_layer}: {e}; --nosifid turns SIFID off") from None


def random_samples(config: singan.Config) -> list[str]:
  """``--num_samples`` samples (PNG paths returned) and, with SIFID on, their SIFID against the
  training image at the finest scale used, in ``seed=S_sifid.json`` beside them."""
  weights, note = sifid_weights(config)  # a missing file: an error before anything is restored or written
  method, state, reals = trained(config)
  top = method.spec.num_scales - 1
  if config.gen_start_scale > top:
    raise ValueError(f"--gen_start_scale={config.gen_start_scale} must be <= {top}")
  shapes = [(max(1, round(h * config.scale_v)), max(1, round(w * config.scale_h))) for h, w in method.spec.shapes]
  if (config.scale_h, config.scale_v) != (1.0, 1.0) and config.gen_start_scale:
    raise ValueError(
      "--gen_start_scale needs --scale_h=1 --scale_v=1 (the reconstruction path has the training image's size)"
    )
  real = images_lib.to_uint8(np.clip(reals[top], -1, 1))  # as saved: SIFID compares the images' pixels
  maps = None
  if weights:  # the sizes checked and the weights read before anything is written
    from jaxgan.metrics import features  # pylint: disable=import-outside-toplevel

    check_sifid_sizes(config, real.shape[:2], shapes[-1])
    maps = features.inception_maps(weights, layer=config.sifid_layer)
  elif note:
    print(note)
  run = compiler.jit(
    lambda s, k: generate_from(
      method, s, 0, jnp.zeros((1, *shapes[0], 3)), k, shapes, fixed_below=config.gen_start_scale
    )
  )
  folder = f"gen_start_scale={config.gen_start_scale}_scale_h={config.scale_h:g}_scale_v={config.scale_v:g}"
  paths, samples = [], []
  for i in range(config.num_samples):
    key = jax.random.fold_in(jax.random.PRNGKey(config.seed), i)
    sample = np.asarray(run(state, key)[0])
    paths.append(_save(_out_path(config, "random_samples", f"{folder}/seed={config.seed}_{i:03d}.png"), sample))
    samples.append(images_lib.to_uint8(np.clip(sample, -1, 1)))
  print(f"jaxgan: {len(paths)} samples in {os.path.dirname(paths[0])}")
  if maps is not None:
    _write_sifid(config, maps, real, samples, paths, top)
  return paths


def _write_sifid(config: singan.Config, maps, real: np.ndarray, samples: list, paths: list[str], scale: int) -> str:
  """``seed=S_sifid.json`` beside the samples: each sample's SIFID against ``real``, their mean."""
  from jaxgan.metrics import features  # pylint: disable=import-outside-toplevel

  scores = features.sifid_scores(real, samples, maps)
  path = os.path.join(os.path.dirname(paths[0]), f"seed={config.seed}_sifid.json")
  atomic.write_json(
    path,
    {
      **scores,
      "samples": [os.path.basename(p) for p in paths],
      "real": f"the training image at scale {scale}",
      "real_size": list(real.shape[:2]),
      "sample_size": list(samples[0].shape[:2]),
      "layer": maps.layer,
      "layer_description": features.SIFID_LAYERS[maps.layer],
      "weights": config.sifid_weights,
      "weights_file": os.path.abspath(maps.weights),
    },
  )
  h, w = real.shape[:2]
  print(
    f"jaxgan: SIFID (layer {maps.layer}, weights {config.sifid_weights}) of the {len(samples)} samples against "
    f"the training image at scale {scale} ({h}x{w}): mean {scores['sifid_mean']:.6g}, per sample in {path}"
  )
  return path


def super_resolve(method: singan.SinGAN, state, image: jax.Array, sr_factor: float, key: jax.Array) -> jax.Array:
  """The official SR: ``k`` rounds of (bicubic x sr_factor^(1/k), clamped; finest G with its noise)."""
  _, iterations = singan.sr_step(sr_factor)
  step = sr_factor ** (1 / iterations)
  finest = method.scale_nets(state, method.spec.num_scales - 1)[-1]
  x = image
  for k in jax.random.split(key, iterations):
    x = imresize_clamped(jnp.clip(x, -1, 1), step)
    x = finest(singan.noise(k, x.shape[1:3], coarsest=False), x)
  h, w = image.shape[1:3]
  return x[:, : int(sr_factor * h), : int(sr_factor * w)]


def sr(config: singan.Config) -> str:
  if config.pyramid != "sr":
    raise ValueError(
      "--mode=sr needs a pyramid trained with --pyramid=sr --alpha=100 (see experiments/flags/singan_sr.flags)"
    )
  method, state, reals = trained(config)
  key = jax.random.PRNGKey(config.seed)
  out = compiler.jit(lambda s, x, k: super_resolve(method, s, x, config.sr_factor, k))(
    state, jnp.asarray(reals[-1][None]), key
  )
  path = _save(_out_path(config, "sr", f"sr_factor={config.sr_factor:g}_seed={config.seed}.png"), out[0])
  print(f"jaxgan: x{config.sr_factor:g} super-resolution of {config.image} in {path}")
  return path


def quantize_to_palette(ref: np.ndarray, real: np.ndarray, colors: int, seed: int = 0) -> np.ndarray:
  """Each pixel of ``ref`` replaced by the nearest of the k-means colours of ``real`` (official quant)."""
  from sklearn.cluster import KMeans  # pylint: disable=import-outside-toplevel

  km = KMeans(n_clusters=colors, random_state=seed, n_init=10).fit(real.reshape(-1, 3))
  centres = km.cluster_centers_.astype(np.float32)
  d = ((ref.reshape(-1, 1, 3) - centres[None]) ** 2).sum(-1)
  return centres[d.argmin(1)].reshape(ref.shape)


def _inject(config: singan.Config, mode: str, *, blend: bool) -> str:
  ref_path = input_flag(config.ref_image, "--ref_image")  # before anything is trained or written
  mask_path = input_flag(config.mask, "--mask") if blend else ""
  method, state, reals = trained(config)
  n = check_inject_scale(method, config.inject_scale)
  real = reals[-1]
  ref = load_ref(ref_path, real.shape[:2])
  if mode == "paint2image" and config.quantize:
    real_n = reals[n]
    ref = quantize_to_palette(ref, real_n, config.quantize_colors, config.seed)
  if blend:  # an empty mask is refused before the generation
    mask = blend_mask(load_mask(mask_path, real.shape[:2]), radius=DILATION_RADIUS[mode])
  start = injected_input(method, ref, n)
  key = jax.random.PRNGKey(config.seed)
  out = np.asarray(compiler.jit(lambda s, x, k: generate_from(method, s, n, x, k))(state, start, key)[0])
  name = os.path.splitext(os.path.basename(ref_path))[0]
  suffix = f"inject_scale={n}_seed={config.seed}"
  if blend:
    _save(_out_path(config, mode, f"{name}_{suffix}_raw.png"), out)
    out = (1 - mask) * real + mask * out
  path = _save(_out_path(config, mode, f"{name}_{suffix}.png"), out)
  print(f"jaxgan: {mode} of {config.ref_image} in {path}")
  return path


def paint2image(config: singan.Config) -> str:
  return _inject(config, "paint2image", blend=False)


def editing(config: singan.Config) -> str:
  return _inject(config, "editing", blend=True)


def harmonization(config: singan.Config) -> str:
  return _inject(config, "harmonization", blend=True)


def animation_frames(method: singan.SinGAN, state, config: singan.Config, key: jax.Array) -> jax.Array:
  """``[frames, h, w, 3]`` of the official random walk (see the module docstring)."""
  spec = method.spec
  nets = method.scale_nets(state, spec.num_scales - 1)
  a, b, frames = config.anim_alpha, config.anim_beta, config.anim_frames
  walks = []
  for n, k in enumerate(jax.random.split(key, spec.num_scales)):
    shape = spec.shapes[n]
    z_opt = state.extra["z_opt"] if n == 0 else jnp.zeros((1, *shape, 3))
    k0, k_steps = jax.random.split(k)
    if n < config.anim_start_scale:
      walks.append(jnp.broadcast_to(z_opt, (frames, *shape, 3)))
      continue

    def step(carry, kt, z_opt=z_opt, shape=shape, n=n):
      z1, z2 = carry
      diff = b * (z1 - z2) + (1 - b) * singan.noise(kt, shape, coarsest=n == 0)
      z = a * z_opt + (1 - a) * (z1 + diff)
      return (z, z1), z[0]

    z1 = 0.95 * z_opt + 0.05 * singan.noise(k0, shape, coarsest=n == 0)
    _, zs = jax.lax.scan(step, (z1, z_opt), jax.random.split(k_steps, frames))
    walks.append(zs)

  def frame(zs):
    x = method.draw(nets[:-1], [z[None] for z in zs[:-1]], list(spec.shapes), jnp.zeros((1, *spec.shapes[0], 3)))
    return nets[-1](zs[-1][None], x)[0]

  return jax.lax.map(frame, walks)


def animation(config: singan.Config) -> str:
  method, state, _ = trained(config)
  if config.anim_start_scale > method.spec.num_scales - 1:
    raise ValueError(f"--anim_start_scale={config.anim_start_scale} must be <= {method.spec.num_scales - 1}")
  key = jax.random.PRNGKey(config.seed)
  frames = np.asarray(compiler.jit(lambda s, k: animation_frames(method, s, config, k))(state, key))
  frames = images_lib.to_uint8(np.clip(frames, -1, 1))
  name = (
    f"start_scale={config.anim_start_scale}_alpha={config.anim_alpha:g}_beta={config.anim_beta:g}"
    f"_seed={config.seed}.{config.anim_format}"
  )
  path = _out_path(config, "animation", name)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  write_video(path, frames, fps=config.anim_fps)
  print(f"jaxgan: {len(frames)} frames in {path}")
  return path


def write_video(path: str, frames: np.ndarray, *, fps: int) -> None:
  """uint8 ``[T, h, w, 3]`` frames as a looping GIF (Pillow) or an MP4 (imageio-ffmpeg)."""
  if not path.endswith((".gif", ".mp4")):
    raise ValueError(f"unknown video format of {path}: use .gif or .mp4")
  with atomic.replacing(path) as tmp:  # the writers pick the format by the extension, which it keeps
    _write_frames(tmp, frames, fps=fps)


def _write_frames(tmp: str, frames: np.ndarray, *, fps: int) -> None:
  if tmp.endswith(".gif"):
    images = [Image.fromarray(f) for f in frames]
    images[0].save(
      tmp, format="GIF", save_all=True, append_images=images[1:], duration=max(1, round(1000 / fps)), loop=0
    )
  else:
    try:
      import imageio.v2 as imageio  # pylint: disable=import-outside-toplevel
      import imageio_ffmpeg  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError as e:
      raise ValueError(
        "--anim_format=mp4 needs imageio and imageio-ffmpeg "
        "(pip install imageio imageio-ffmpeg); or use --anim_format=gif"
      ) from e
    even = frames[:, : frames.shape[1] // 2 * 2, : frames.shape[2] // 2 * 2]  # H.264 wants even sides
    imageio.mimsave(tmp, list(even), format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1)


Config = singan.Config  # the flags of experiments/singan.py (experiment.main reads Config and MODES)

APPLICATIONS = {
  "random_samples": random_samples,
  "sr": sr,
  "paint2image": paint2image,
  "editing": editing,
  "harmonization": harmonization,
  "animation": animation,
}

# All SinGAN modes: training the pyramid and its applications.
MODES = {"train": singan.train, **APPLICATIONS}

"""ImageNet VGG16 / VGG19 weights for perceptual losses: loaders, conventions, exports.

Two families of published weights exist, trained with different input conventions:

* **torchvision** (``vgg16-397923af.pth``, ``vgg19-dcbb9e9d.pth`` from
  download.pytorch.org/models): a ``state_dict`` whose convolutions are
  ``features.N.weight`` (OIHW) / ``features.N.bias``, ``N`` the index in torchvision's
  ``features`` ``nn.Sequential`` (VGG16: 0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28;
  VGG19: 0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34); ``classifier.*``
  keys are ignored. Input: RGB in [0, 1], minus the ImageNet mean (0.485, 0.456, 0.406),
  divided by the std (0.229, 0.224, 0.225).
* **keras** (Keras' ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`` / ``vgg19_...``,
  converted from the original Caffe models; or an ``.npz`` with the same names):
  ``block{b}_conv{c}/kernel`` (HWIO) and ``block{b}_conv{c}/bias``. Input: BGR in
  [0, 255] minus the Caffe mean [103.939, 116.779, 123.68] (B, G, R), no scaling. This is
  also the convention of the Caffe VGG16 used by Johnson et al.'s official code.

:func:`load_vgg` picks the format by extension (``.pth``/``.pt``: torchvision;
``.npz``/``.h5``: keras) and returns a :class:`LossNetwork`: the weights as plain
arrays plus the convention, whose :meth:`LossNetwork.features` takes images in [-1, 1]
RGB (jaxgan's generators' range), applies the convention's preprocessing and returns the
requested ReLU activations. The weights are behind ``jax.lax.stop_gradient``: gradients
reach the input images, never the loss network. A missing file is a
:class:`VGGWeightsNotFoundError` saying which files work; a file that does not fit
VGG16/19 is a :class:`~jaxgan.interop.torch_checkpoint.StateDictMismatchError` naming the
missing, unexpected and mis-shaped arrays. There is no random fallback.

The two conventions differ by an affine map per input channel, which
:func:`convert_preprocessing` (:func:`keras_to_torchvision`, :func:`torchvision_to_keras`)
folds into the first convolution. The fold is exact wherever the first convolution's
3x3 window lies inside the image; on the one-pixel border it cannot be, because each
network zero-pads its *own* preprocessed input, and a zero there is a different colour in
each convention (RGB (0.485, 0.456, 0.406) for torchvision, the Caffe mean / 255 =
(0.4819, 0.4580, 0.4076) for keras). The border difference spreads inwards by one pixel
per convolution and shrinks with each pooling.

Pass a :class:`LossNetwork` to jitted functions as an argument (it is a pytree) rather
than closing over it, so its 58 MB of weights are not baked into the compiled program.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx, struct

from jaxgan import download
from jaxgan.interop.torch_checkpoint import (
  KeyMap,
  StateDictMismatchError,
  assign_state_dict,
  export_state_dict,
  load_torch_state_dict,
  read_npz,
)
from jaxgan.models.vgg import BLOCK_CONVS, CONV_NAMES, LAYER_NAMES, VGG, check_depth
from jaxgan.nn.precision import cast_floating
from jaxgan.train.state import split_module

Params = dict[str, dict[str, jax.Array]]  # {'block1_conv1': {'kernel': HWIO, 'bias': [C]}, ...}

# ---------------------------------------------------------------------- conventions

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # RGB, images in [0, 1]
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)  # B, G, R, images in [0, 255]


@dataclasses.dataclass(frozen=True)
class Preprocessing:
  """The network input of an RGB image ``u`` in [0, 1]: ``(scale * u[order] - mean) / std``.

  ``order`` is RGB, or BGR when ``bgr``; ``mean`` and ``std`` are in the network's channel
  order.
  """

  name: str
  bgr: bool
  scale: float
  mean: tuple[float, float, float]
  std: tuple[float, float, float] = (1.0, 1.0, 1.0)

  def rgb_index(self, channel: int) -> int:
    """The RGB channel that network input ``channel`` holds."""
    return 2 - channel if self.bgr else channel

  def __call__(self, rgb01: jax.Array) -> jax.Array:
    x = rgb01[..., ::-1] if self.bgr else rgb01
    mean = jnp.asarray(self.mean, x.dtype)
    std = jnp.asarray(self.std, x.dtype)
    return (self.scale * x - mean) / std


TORCHVISION = Preprocessing("torchvision", bgr=False, scale=1.0, mean=IMAGENET_MEAN, std=IMAGENET_STD)
KERAS = Preprocessing("keras", bgr=True, scale=255.0, mean=CAFFE_MEAN_BGR)
CONVENTIONS: dict[str, Preprocessing] = {"torchvision": TORCHVISION, "keras": KERAS}

# File extension -> the convention of the weights published in that format.
FORMATS: dict[str, str] = {".pth": "torchvision", ".pt": "torchvision", ".npz": "keras", ".h5": "keras"}

# Where load_vgg looks when no path is given.
PATH_ENV: dict[int, str] = {16: "JAXGAN_VGG16", 19: "JAXGAN_VGG19"}

FIRST_CONV = "block1_conv1"  # the convolution that sees the preprocessed image


def check_convention(convention: str) -> Preprocessing:
  if convention not in CONVENTIONS:
    raise ValueError(f"VGG convention must be one of {sorted(CONVENTIONS)}, got {convention!r}")
  return CONVENTIONS[convention]


def torchvision_conv_indices(depth: int) -> tuple[int, ...]:
  """Indices of the convolutions in torchvision's ``vgg{depth}().features``.

  ``features`` is ``[Conv2d, ReLU] * n`` then ``MaxPool2d`` for each block, so a block of
  ``n`` convolutions takes ``2 n + 1`` indices.
  """
  indices, i = [], 0
  for n in BLOCK_CONVS[check_depth(depth)]:
    indices.extend(range(i, i + 2 * n, 2))
    i += 2 * n + 1
  return tuple(indices)


# ---------------------------------------------------------------------- the loss network


@functools.cache
def _abstract_vgg(depth: int) -> VGG:
  return nnx.eval_shape(lambda: VGG(depth=depth, rngs=nnx.Rngs(0)))


def expected_shapes(depth: int) -> dict[str, tuple[int, ...]]:
  """``{'block1_conv1/kernel': (3, 3, 3, 64), 'block1_conv1/bias': (64,), ...}`` (HWIO)."""
  net = _abstract_vgg(check_depth(depth))
  out = {}
  for name in CONV_NAMES[depth]:
    conv = net.convs[name]
    out[f"{name}/kernel"] = tuple(conv.kernel.shape)
    out[f"{name}/bias"] = tuple(conv.bias.shape)
  return out


class LossNetwork(struct.PyTreeNode):
  """Frozen VGG weights (plain arrays under Keras' layer names) and their input convention.

  A pytree: ``params`` are its leaves, ``depth`` and ``convention`` static.
  """

  params: Params
  depth: int = struct.field(pytree_node=False, default=16)
  convention: str = struct.field(pytree_node=False, default="keras")
  compute_dtype: Any = struct.field(pytree_node=False, default=None)  # e.g. bfloat16 (jaxgan.nn.precision)
  remat: bool = struct.field(pytree_node=False, default=False)  # recompute convolutions in the backward pass

  @classmethod
  def from_module(cls, net: VGG, convention: str) -> LossNetwork:
    """The weights of a :class:`jaxgan.models.vgg.VGG` that expects ``convention``'s inputs."""
    check_convention(convention)
    pure = nnx.to_pure_dict(nnx.state(net, nnx.Param))
    return cls(params=pure["convs"], depth=net.depth, convention=convention)

  @property
  def preprocessing(self) -> Preprocessing:
    return check_convention(self.convention)

  @property
  def layer_names(self) -> tuple[str, ...]:
    return LAYER_NAMES[self.depth]

  def module(self) -> VGG:
    """The :class:`VGG` module holding these weights (trainable, no stop_gradient)."""
    return nnx.merge(nnx.graphdef(_abstract_vgg(self.depth)), {"convs": self.params}, copy=True)

  def preprocess(self, images: jax.Array, *, value_range: tuple[float, float] = (-1.0, 1.0)) -> jax.Array:
    """RGB ``images`` with values in ``value_range`` -> this network's input."""
    lo, hi = value_range
    if not hi > lo:
      raise ValueError(f"value_range must be (low, high) with high > low, got {value_range!r}")
    images = jnp.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
      raise ValueError(f"images must be RGB with shape [B, H, W, 3], got {images.shape}")
    return self.preprocessing((images - lo) / (hi - lo))

  def features(
    self,
    images: jax.Array,
    layers: Sequence[str] | str | None = None,
    *,
    value_range: tuple[float, float] = (-1.0, 1.0),
  ) -> dict[str, jax.Array]:
    """The ReLU activations ``layers`` (default all) of RGB ``images`` [B, H, W, 3].

    ``images`` have values in ``value_range`` ([-1, 1] by default); the convention's
    preprocessing is applied here. Only layers up to the deepest requested one run. The
    weights are constants to differentiation (``stop_gradient``); the images are not. With a
    ``compute_dtype`` the network runs in it and the features come back as float32.
    """
    x = self.preprocess(images, value_range=value_range)
    frozen = jax.tree.map(jax.lax.stop_gradient, self.params)
    if self.compute_dtype is not None:
      x, frozen = cast_floating((x, frozen), self.compute_dtype)
    net = nnx.merge(nnx.graphdef(_abstract_vgg(self.depth)), {"convs": frozen}, copy=True)
    feats = net(x, layers=layers, remat=self.remat)
    return feats if self.compute_dtype is None else cast_floating(feats, jnp.float32)

  def with_convention(self, convention: str) -> LossNetwork:
    """The same network taking ``convention``'s inputs (first convolution refolded).

    Exact away from the image border; see :func:`convert_preprocessing`.
    """
    params = convert_preprocessing(self.params, self.preprocessing, check_convention(convention))
    return self.replace(params=params, convention=convention)


# ---------------------------------------------------------------------- convention folds


def convert_preprocessing(params: Params, src: Preprocessing, dst: Preprocessing) -> Params:
  """Weights that take ``dst``-preprocessed inputs and compute what ``params`` do on ``src`` ones.

  For an RGB value ``u`` (channel ``r``), network input channel ``i`` of ``src`` is
  ``x_src[i] = (s_src u[r] - m_src[i]) / d_src[i]`` and channel ``j`` of ``dst`` holds
  ``x_dst[j] = (s_dst u[r] - m_dst[j]) / d_dst[j]``, so
  ``x_src[i] = alpha x_dst[j] + beta`` with ``alpha = s_src d_dst[j] / (s_dst d_src[i])`` and
  ``beta = (s_src m_dst[j] / s_dst - m_src[i]) / d_src[i]``. The first convolution's input
  channel ``i`` moves to ``j`` scaled by ``alpha``, and ``beta`` times the sum of its
  kernel taps goes into the bias (exact inside the image; at the zero-padded border the
  two conventions pad different colours, see the module docstring). Computed in float64.
  """
  first = FIRST_CONV
  kernel = np.asarray(params[first]["kernel"], np.float64)
  bias = np.asarray(params[first]["bias"], np.float64)
  if kernel.ndim != 4 or kernel.shape[2] != 3:
    raise ValueError(f"{first} kernel must be [3, 3, 3, C_out] (RGB input), got {kernel.shape}")
  new_kernel = np.empty_like(kernel)
  new_bias = bias.copy()
  for i in range(3):
    r = src.rgb_index(i)
    j = 2 - r if dst.bgr else r
    alpha = src.scale * dst.std[j] / (dst.scale * src.std[i])
    beta = (src.scale * dst.mean[j] / dst.scale - src.mean[i]) / src.std[i]
    new_kernel[:, :, j, :] = alpha * kernel[:, :, i, :]
    new_bias += beta * kernel[:, :, i, :].sum(axis=(0, 1))
  out = dict(params)
  dtype = jnp.asarray(params[first]["kernel"]).dtype
  out[first] = {"kernel": jnp.asarray(new_kernel, dtype), "bias": jnp.asarray(new_bias, dtype)}
  return out


def keras_to_torchvision(params: Params) -> Params:
  """Keras/Caffe-convention weights (BGR 0..255 minus the Caffe mean) -> torchvision inputs."""
  return convert_preprocessing(params, KERAS, TORCHVISION)


def torchvision_to_keras(params: Params) -> Params:
  """torchvision-convention weights (RGB, ImageNet mean/std) -> Keras/Caffe inputs."""
  return convert_preprocessing(params, TORCHVISION, KERAS)


# ---------------------------------------------------------------------- errors


class VGGWeightsNotFoundError(FileNotFoundError):
  """No VGG weights file: the message says which files work and how to pass one."""


def weights_hint(depth: int = 16) -> str:
  env = PATH_ENV.get(depth, "JAXGAN_VGG16")
  return (
    f"Perceptual losses need ImageNet-trained VGG{depth} weights; jaxgan never substitutes "
    "a random network. It reads: the torchvision state dicts vgg16-397923af.pth / "
    "vgg19-dcbb9e9d.pth (https://download.pytorch.org/models/; reading them needs "
    "PyTorch), Keras' vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 / "
    "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 (reading them needs h5py), or an .npz "
    "with HWIO arrays block{b}_conv{c}/kernel and block{b}_conv{c}/bias (Keras names and "
    f"convention). Put the file anywhere and pass its path (load_vgg(path), or the "
    f"experiment's VGG weights flag), or set the environment variable {env}=/path/to/file."
  )


def default_vgg_path(depth: int = 16) -> str | None:
  """The VGG``depth`` weights file named by ``$JAXGAN_VGG16`` / ``$JAXGAN_VGG19``, if set."""
  return os.environ.get(PATH_ENV[check_depth(depth)]) or None


def default_vgg16_path() -> str | None:
  """``$JAXGAN_VGG16``, or ``None`` when it is unset or empty."""
  return default_vgg_path(16)


def weights_flag(value: str, depth: int = 16, *, needed_by: str) -> str:
  """The VGG``depth`` weights file of ``--vgg_weights=value`` (a path or a registered name such as
  ``vgg16``), or of ``$JAXGAN_VGG16/19`` when ``value`` is empty.

  A registered name not downloaded raises :class:`jaxgan.download.NotAvailableError` (with the
  download command); no value, or a missing file, :class:`VGGWeightsNotFoundError` naming the flag
  and saying that ``needed_by`` (e.g. ``--loss=vgg``) needs the weights.
  """
  hint = weights_hint(depth)
  if value:
    try:
      return download.resolve_flag(value, flag="--vgg_weights", kind="file")
    except download.NotAvailableError:
      raise
    except FileNotFoundError as e:
      raise VGGWeightsNotFoundError(f"{e}. {hint}") from None
  path = default_vgg_path(depth)
  if not path:
    raise VGGWeightsNotFoundError(
      f"{needed_by} needs ImageNet VGG{depth} weights: pass --vgg_weights=PATH or set ${PATH_ENV[depth]}. {hint}"
    )
  if not os.path.isfile(path):
    raise VGGWeightsNotFoundError(f"--vgg_weights={path}: no such file. {hint}")
  return path


# ---------------------------------------------------------------------- checked weights

_KERAS_KEY = re.compile(r"^block\d+_conv\d+/(kernel|bias)$")


def _mismatch(source: str, depth: int, problems: list[str], expected: str) -> StateDictMismatchError:
  return StateDictMismatchError(
    f"the VGG weights {source!r} do not fit VGG{depth} (is depth={depth} right?):\n  - "
    + "\n  - ".join(problems)
    + f"\nexpected {expected}"
  )


def keras_params(arrays: Mapping[str, Any], *, depth: int = 16, source: str = "<mapping>") -> Params:
  """Checked ``Params`` from ``{'block1_conv1/kernel': HWIO, 'block1_conv1/bias': ..., ...}``.

  Every convolution of VGG``depth`` must be there with its shape; other ``block*_conv*``
  keys (VGG19's extra ones when ``depth=16``) are an error; anything else (``fc1/...``,
  ``predictions/...``) is ignored.
  """
  shapes = expected_shapes(check_depth(depth))
  problems = []
  missing = [k for k in shapes if k not in arrays]
  if missing:
    problems.append(f"{len(missing)} array(s) missing: {missing}")
  unexpected = [k for k in arrays if _KERAS_KEY.match(k) and k not in shapes]
  if unexpected:
    problems.append(f"{len(unexpected)} unexpected convolution array(s): {unexpected}")
  values = {}
  for key, shape in shapes.items():
    if key not in arrays:
      continue
    value = np.asarray(arrays[key])
    if value.shape != shape:
      hint = ""
      if value.ndim == 4 and value.shape == (shape[3], shape[2], shape[0], shape[1]):
        hint = (
          " (OIHW: a Theano-ordered or PyTorch kernel; use the tf_dim_ordering file, or a .pth for PyTorch weights)"
        )
      problems.append(f"{key} has shape {value.shape}, expected {shape}{hint}")
      continue
    values[key] = value
  if problems:
    raise _mismatch(
      source,
      depth,
      problems,
      f"arrays block{{b}}_conv{{c}}/kernel (HWIO) and block{{b}}_conv{{c}}/bias for {list(CONV_NAMES[depth])}",
    )
  return {
    name: {
      "kernel": jnp.asarray(values[f"{name}/kernel"], jnp.float32),
      "bias": jnp.asarray(values[f"{name}/bias"], jnp.float32),
    }
    for name in CONV_NAMES[depth]
  }


def torchvision_keymap(net: VGG) -> KeyMap:
  """torchvision's ``features.N.weight`` / ``.bias`` keys <-> the convolutions of ``net``."""
  km = KeyMap()
  for name, index in zip(CONV_NAMES[net.depth], torchvision_conv_indices(net.depth)):
    km.conv(f"features.{index}", net.convs[name], ("convs", name))
  return km


def torchvision_params(state_dict: Mapping[str, Any], *, depth: int = 16, source: str = "<state_dict>") -> Params:
  """Checked ``Params`` from a torchvision VGG ``state_dict`` (``classifier.*`` ignored)."""
  net = _abstract_vgg(check_depth(depth))
  features = {k: v for k, v in state_dict.items() if not k.startswith("classifier.")}
  _, params, stats = split_module(net)
  try:
    params, _ = assign_state_dict(features, torchvision_keymap(net), params, stats, source=source)
  except StateDictMismatchError as e:
    raise StateDictMismatchError(
      f"{e}\nexpected torchvision vgg{depth} keys features.N.weight (OIHW) and features.N.bias "
      f"for N in {list(torchvision_conv_indices(depth))} (batch-norm VGGs, vgg{depth}_bn, are "
      "not supported)"
    ) from None
  return nnx.to_pure_dict(params)["convs"]


# ---------------------------------------------------------------------- files


def _check_file(path: str | os.PathLike, depth: int) -> str:
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise VGGWeightsNotFoundError(f"no VGG weights file at {path!r}. {weights_hint(depth)}")
  return path


def _import_h5py():
  try:
    import h5py  # an optional dependency, imported when needed
  except ImportError as e:
    raise ImportError(
      "reading Keras .h5 weights needs h5py: pip install h5py (or convert the "
      "file to an .npz with block{b}_conv{c}/kernel and /bias arrays)"
    ) from e
  return h5py


def _datasets(group, h5py) -> list[tuple[str, Any]]:
  """``(name, dataset)`` of every dataset under an HDF5 ``group``, at any depth."""
  found = []
  group.visititems(lambda name, obj: found.append((name, obj)) if isinstance(obj, h5py.Dataset) else None)
  return found


def _read_keras_h5(path: str) -> dict[str, np.ndarray]:
  """``{'block1_conv1/kernel': ..., ...}`` from the common Keras HDF5 layouts.

  A layer group ``block{b}_conv{c}`` is looked for at the top level (weights files such as
  ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``: ``block1_conv1/block1_conv1_W_1:0``
  or ``block1_conv1/block1_conv1/kernel:0``), under ``model_weights`` (whole models saved
  with ``model.save``) and under ``layers`` (Keras 3 ``.weights.h5``: ``vars/0``, ``vars/1``).
  In each, the one 4-D dataset is the kernel and the one 1-D dataset the bias.
  """
  h5py = _import_h5py()
  out = {}
  try:
    f = h5py.File(path, "r")
  except Exception as e:
    raise ValueError(f"could not read {path!r} as an HDF5 file: {type(e).__name__}: {e}") from e
  with f:
    roots = [f]
    for name in ("model_weights", "layers"):
      if isinstance(f.get(name), h5py.Group):
        roots.append(f[name])
    for root in roots:
      for name, group in root.items():
        if not (isinstance(group, h5py.Group) and re.match(r"^block\d+_conv\d+$", name)):
          continue
        datasets = _datasets(group, h5py)
        kernels = [obj[()] for _, obj in datasets if obj.ndim == 4]
        biases = [obj[()] for _, obj in datasets if obj.ndim == 1]
        if len(kernels) > 1 or len(biases) > 1:
          raise ValueError(
            f"{path!r}: layer {name} holds several kernels or biases "
            f"({[n for n, _ in datasets]}); expected one 4-D kernel and one bias"
          )
        if kernels:
          out[f"{name}/kernel"] = kernels[0]
        if biases:
          out[f"{name}/bias"] = biases[0]
  return out


def load_torchvision_vgg(source: str | os.PathLike | Mapping[str, Any], *, depth: int = 16) -> LossNetwork:
  """A torchvision-convention :class:`LossNetwork` from ``vgg16-397923af.pth`` / a state dict."""
  check_depth(depth)
  if isinstance(source, Mapping):
    return LossNetwork(torchvision_params(source, depth=depth), depth=depth, convention="torchvision")
  path = _check_file(source, depth)
  return LossNetwork(
    torchvision_params(load_torch_state_dict(path), depth=depth, source=path), depth=depth, convention="torchvision"
  )


def load_keras_vgg(source: str | os.PathLike | Mapping[str, Any], *, depth: int = 16) -> LossNetwork:
  """A keras-convention :class:`LossNetwork` from a ``*_notop.h5``, an ``.npz`` or a mapping."""
  check_depth(depth)
  if isinstance(source, Mapping):
    return LossNetwork(keras_params(source, depth=depth), depth=depth, convention="keras")
  path = _check_file(source, depth)
  ext = os.path.splitext(path)[1].lower()
  if ext == ".npz":
    arrays = read_npz(path)
  elif ext == ".h5":
    arrays = _read_keras_h5(path)
  else:
    raise ValueError(f"Keras VGG weights must be an .npz or .h5 file, got {path!r}")
  return LossNetwork(keras_params(arrays, depth=depth, source=path), depth=depth, convention="keras")


def load_vgg(path: str | os.PathLike | None = None, *, depth: int = 16, convention: str | None = None) -> LossNetwork:
  """The VGG``depth`` :class:`LossNetwork` stored at ``path`` (default: ``$JAXGAN_VGG16/19``).

  The format follows the extension: ``.pth``/``.pt`` a torchvision state dict, ``.npz`` /
  ``.h5`` Keras-named arrays. ``convention`` says which preprocessing the weights expect
  (it labels them, it converts nothing; :meth:`LossNetwork.with_convention` converts); by
  default the format's: ``torchvision`` for ``.pth``, ``keras`` for ``.npz``/``.h5``.
  Raises :class:`VGGWeightsNotFoundError` (a ``FileNotFoundError``) when there is no file.
  """
  check_depth(depth)
  if convention is not None:
    check_convention(convention)
  if path is None:
    path = default_vgg_path(depth)
    if path is None:
      raise VGGWeightsNotFoundError(
        f"no VGG{depth} weights file was given and ${PATH_ENV[depth]} is not set. {weights_hint(depth)}"
      )
  path = os.fspath(path)
  ext = os.path.splitext(path)[1].lower()
  if ext not in FORMATS:
    raise ValueError(
      f"unknown VGG weights format {path!r}: the extension must be one of {sorted(FORMATS)}. {weights_hint(depth)}"
    )
  _check_file(path, depth)
  loader = load_torchvision_vgg if FORMATS[ext] == "torchvision" else load_keras_vgg
  net = loader(path, depth=depth)
  return net if convention is None else net.replace(convention=convention)


# ---------------------------------------------------------------------- exports


def to_keras_arrays(net: LossNetwork) -> dict[str, np.ndarray]:
  """``{'block1_conv1/kernel': HWIO, 'block1_conv1/bias': ..., ...}`` as NumPy arrays."""
  return {
    f"{name}/{kind}": np.asarray(net.params[name][kind])
    for name in CONV_NAMES[net.depth]
    for kind in ("kernel", "bias")
  }


def save_vgg_npz(net: LossNetwork, path: str | os.PathLike) -> None:
  """Write the weights as an ``.npz`` of Keras-named arrays (as they are, not converted).

  The file does not record the convention; :func:`load_vgg` assumes ``keras`` for
  ``.npz`` unless told otherwise.
  """
  np.savez(os.fspath(path), **to_keras_arrays(net))


def to_torchvision_state_dict(net: LossNetwork) -> dict[str, np.ndarray]:
  """The ``features.N.weight`` (OIHW) / ``features.N.bias`` arrays of the weights, as they are.

  No ``classifier.*`` keys: load it into a torchvision VGG's ``features`` (keys without the
  ``features.`` prefix) or with ``strict=False``. Write it with
  :func:`jaxgan.interop.save_torch_state_dict`.
  """
  module = net.module()
  _, params, stats = split_module(module)
  return export_state_dict(torchvision_keymap(module), params, stats)

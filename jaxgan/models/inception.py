"""The Inception-v3 of FID (Heusel et al. 2017): the 2015-12-05 TensorFlow graph, NHWC, float32.

FID, KID and the Inception Score are defined on one particular network: the Inception-v3 graph
``inception-2015-12-05`` (``classify_image_graph_def.pb``) that TensorFlow's original FID code
loads. pytorch-fid (``InceptionV3`` / ``fid_inception_v3``) and torch-fidelity
(``FeatureExtractorInceptionV3``) port it to torchvision's ``Inception3`` layout; this is the same
network, with the same module names (so their ``state_dict`` keys map one to one, see
:mod:`jaxgan.interop.inception`)::

    Conv2d_1a_3x3  3x3 stride 2 (-> 32)      Conv2d_2a_3x3  3x3 (-> 32)     Conv2d_2b_3x3  3x3 pad 1 (-> 64)
    max pool 3x3 stride 2                                                    = "64"   [N, 73, 73, 64]
    Conv2d_3b_1x1  1x1 (-> 80)               Conv2d_4a_3x3  3x3 (-> 192)
    max pool 3x3 stride 2                                                    = "192"  [N, 35, 35, 192]
    Mixed_5b, 5c, 5d  InceptionA (pool features 32, 64, 64)   -> 256, 288, 288 channels
    Mixed_6a          InceptionB                              -> 768 channels, 17x17
    Mixed_6b .. 6e    InceptionC (7x7 channels 128, 160, 160, 192)           = "768"  [N, 17, 17, 768]
    Mixed_7a          InceptionD                              -> 1280 channels, 8x8
    Mixed_7b, 7c      InceptionE                              -> 2048 channels
    global average pool                                                      = "2048" [N, 2048] (pool3)
    fc 2048 -> 1008 (with bias)                                              = "logits" [N, 1008]

(shapes for a 299x299 input). Every convolution is a ``BasicConv2d``: a convolution without bias,
batch norm with eps 0.001 on its running statistics (inference only: nothing here updates them),
then ReLU. The FID graph differs from torchvision's ImageNet Inception-v3 in its pooling branches:
the average pools of the InceptionA / C / E blocks (3x3, stride 1, padding 1) average over the
pixels inside the image only (``count_include_pad=False``: TensorFlow's ``SAME`` average pool),
and the last block, Mixed_7c, max-pools (3x3, stride 1, padding 1) where torchvision averages.
Its fc has 1008 outputs (the graph's softmax layer; torchvision's has 1000).

The outputs, named as torch-fidelity names its features:

* ``"64"``, ``"192"``, ``"768"``: the feature *maps* of pytorch-fid's blocks 0, 1 and 2 (``[N, H,
  W, C]``). torch-fidelity's features of these names are their spatial means (``[N, C]``):
  :func:`spatial_means`. (SIFID's layers end before the max pools:
  :func:`jaxgan.metrics.features.inception_maps`.)
* ``"2048"``: pool3, the global average of Mixed_7c (FID, KID, precision/recall): pytorch-fid's
  block 3 and torch-fidelity's ``"2048"``.
* ``"logits_unbiased"``: ``pool3 @ fc.weight.T`` without the fc bias (what torch-fidelity's
  Inception Score uses); ``"logits"``: with it.

``net(x, outputs=...)`` computes only as deep as the deepest requested output.

The network takes images already resized and normalised (NHWC float32, in TensorFlow's [-1, 1]
input range): :func:`preprocess` turns uint8 images or [-1, 1] floats into that input the way
either reference does (``resize="pytorch_fid"`` or ``"tf1"``, see there), and
:meth:`InceptionV3.features` does both steps. The trained weights come from
:func:`jaxgan.interop.inception.load_fid_inception`; the random initialisation here (He-normal
kernels, unit batch-norm statistics) is only useful for tests.

Precision: the convolutions and the fc run at ``jax.lax.Precision.HIGHEST`` by default, so that
they are float32 products also on GPUs and TPUs, where XLA's default precision may multiply float32
in TF32 or bfloat16 passes (10 or 8 mantissa bits instead of 23); on CPU it changes nothing. (Only
the CPU results are checked against the references here.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxgan.nn.conv import Conv

INPUT_SIZE = 299  # both references resize to 299x299
IN_CHANNELS = 3
BATCHNORM_EPSILON = 1e-3  # TensorFlow's, as torchvision's BasicConv2d
NUM_CLASSES = 1008
POOL3_FEATURES = 2048

# The outputs in network order, and the stage each needs (0: stem to the first max pool, 1: to the
# second, 2: Mixed_5b .. Mixed_6e, 3: Mixed_7a .. pool3, 4: the fc).
OUTPUTS: tuple[str, ...] = ("64", "192", "768", "2048", "logits_unbiased", "logits")
STAGE: dict[str, int] = {"64": 0, "192": 1, "768": 2, "2048": 3, "logits_unbiased": 4, "logits": 4}
# The smallest image side each stage accepts (the valid convolutions and pools leave >= 1 pixel).
MIN_SIDE: dict[int, int] = {0: 11, 1: 27, 2: 43, 3: 75, 4: 75}
FEATURE_MAPS = ("64", "192", "768")  # [N, H, W, C]; the others are [N, C]

RESIZES = ("pytorch_fid", "tf1")

Precision = Any  # a jax.lax.PrecisionLike
DEFAULT_PRECISION = jax.lax.Precision.HIGHEST  # full float32 on every backend


def check_outputs(outputs: Sequence[str] | str | None) -> tuple[str, ...]:
  """``outputs`` as a tuple in network order (``None``: all), after checking the names."""
  if outputs is None:
    return OUTPUTS
  if isinstance(outputs, str):
    outputs = (outputs,)
  outputs = tuple(outputs)
  unknown = [o for o in outputs if o not in STAGE]
  if unknown:
    raise ValueError(f"unknown Inception output(s) {unknown}; the outputs are {list(OUTPUTS)}")
  if not outputs:
    raise ValueError(f"outputs must name at least one of {list(OUTPUTS)}, got an empty sequence")
  return tuple(o for o in OUTPUTS if o in outputs)


# ---------------------------------------------------------------------- pooling


def max_pool(x: jax.Array, stride: int) -> jax.Array:
  """3x3 max pooling, ``stride``, no padding (an incomplete last window dropped: floor mode)."""
  return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 3, 3, 1), (1, stride, stride, 1), "VALID")


def max_pool_same(x: jax.Array) -> jax.Array:
  """3x3 max pooling, stride 1, padding 1 (the padding never wins: it is -inf)."""
  pads = ((0, 0), (1, 1), (1, 1), (0, 0))
  return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 3, 3, 1), (1, 1, 1, 1), pads)


def _window_counts(side: int) -> np.ndarray:
  """How many of the 3 taps centred on each of ``side`` pixels lie inside the image."""
  i = np.arange(side)
  return np.minimum(i + 1, side - 1) - np.maximum(i - 1, 0) + 1


def avg_pool_same(x: jax.Array) -> jax.Array:
  """3x3 average pooling, stride 1, padding 1, averaging over the pixels inside the image only
  (PyTorch's ``count_include_pad=False``, TensorFlow's ``SAME`` average pool): 9 pixels inside,
  6 on an edge, 4 in a corner."""
  pads = ((0, 0), (1, 1), (1, 1), (0, 0))
  total = jax.lax.reduce_window(x, jnp.zeros((), x.dtype), jax.lax.add, (1, 3, 3, 1), (1, 1, 1, 1), pads)
  h, w = x.shape[1:3]
  counts = np.outer(_window_counts(h), _window_counts(w)).astype(np.float32)
  return total / jnp.asarray(counts, x.dtype)[None, :, :, None]


# ---------------------------------------------------------------------- layers


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
  return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


class BasicConv2d(nnx.Module):
  """``relu(bn(conv(x)))``: a convolution without bias, then batch norm (eps 0.001) on its running
  statistics. ``kernel``, ``stride``, ``padding``: as ``Conv2d``'s (an int or ``(h, w)``)."""

  def __init__(
    self,
    in_channels: int,
    out_channels: int,
    kernel: int | tuple[int, int],
    *,
    stride: int = 1,
    padding: int | tuple[int, int] = 0,
    precision: Precision = DEFAULT_PRECISION,
    rngs: nnx.Rngs,
  ):
    ph, pw = _pair(padding)
    self.conv = Conv(
      in_channels,
      out_channels,
      _pair(kernel),
      strides=(stride, stride),
      padding=((ph, ph), (pw, pw)),
      use_bias=False,
      precision=precision,
      kernel_init=jax.nn.initializers.variance_scaling(2.0, "fan_in", "normal"),
      rngs=rngs,
    )
    self.bn = nnx.BatchNorm(out_channels, epsilon=BATCHNORM_EPSILON, use_running_average=True, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    return jax.nn.relu(self.bn(self.conv(x)))


def _cat(*branches: jax.Array) -> jax.Array:
  return jnp.concatenate(branches, axis=-1)


class InceptionA(nnx.Module):
  """Mixed_5b/c/d: 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg pool (padding excluded) -> 1x1."""

  LAYERS = (
    "branch1x1",
    "branch5x5_1",
    "branch5x5_2",
    "branch3x3dbl_1",
    "branch3x3dbl_2",
    "branch3x3dbl_3",
    "branch_pool",
  )

  def __init__(self, in_channels: int, pool_features: int, *, precision: Precision, rngs: nnx.Rngs):
    c = dict(precision=precision, rngs=rngs)
    self.branch1x1 = BasicConv2d(in_channels, 64, 1, **c)
    self.branch5x5_1 = BasicConv2d(in_channels, 48, 1, **c)
    self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2, **c)
    self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, 1, **c)
    self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1, **c)
    self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1, **c)
    self.branch_pool = BasicConv2d(in_channels, pool_features, 1, **c)

  def __call__(self, x: jax.Array) -> jax.Array:
    b5 = self.branch5x5_2(self.branch5x5_1(x))
    b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
    return _cat(self.branch1x1(x), b5, b3, self.branch_pool(avg_pool_same(x)))


class InceptionB(nnx.Module):
  """Mixed_6a (35x35 -> 17x17): 3x3 stride 2 | 1x1 -> 3x3 -> 3x3 stride 2 | max pool stride 2."""

  LAYERS = ("branch3x3", "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3")

  def __init__(self, in_channels: int, *, precision: Precision, rngs: nnx.Rngs):
    c = dict(precision=precision, rngs=rngs)
    self.branch3x3 = BasicConv2d(in_channels, 384, 3, stride=2, **c)
    self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, 1, **c)
    self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1, **c)
    self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2, **c)

  def __call__(self, x: jax.Array) -> jax.Array:
    b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
    return _cat(self.branch3x3(x), b3, max_pool(x, 2))


class InceptionC(nnx.Module):
  """Mixed_6b..e: 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 | avg pool -> 1x1."""

  LAYERS = (
    "branch1x1",
    *(f"branch7x7_{i}" for i in range(1, 4)),
    *(f"branch7x7dbl_{i}" for i in range(1, 6)),
    "branch_pool",
  )

  def __init__(self, in_channels: int, channels_7x7: int, *, precision: Precision, rngs: nnx.Rngs):
    c = dict(precision=precision, rngs=rngs)
    c7 = channels_7x7
    self.branch1x1 = BasicConv2d(in_channels, 192, 1, **c)
    self.branch7x7_1 = BasicConv2d(in_channels, c7, 1, **c)
    self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3), **c)
    self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0), **c)
    self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, 1, **c)
    self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0), **c)
    self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3), **c)
    self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0), **c)
    self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3), **c)
    self.branch_pool = BasicConv2d(in_channels, 192, 1, **c)

  def __call__(self, x: jax.Array) -> jax.Array:
    b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
    d = self.branch7x7dbl_1(x)
    for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
      d = layer(d)
    return _cat(self.branch1x1(x), b7, d, self.branch_pool(avg_pool_same(x)))


class InceptionD(nnx.Module):
  """Mixed_7a (17x17 -> 8x8): 1x1 -> 3x3 stride 2 | 1x1 -> 1x7 -> 7x1 -> 3x3 stride 2 | max pool."""

  LAYERS = ("branch3x3_1", "branch3x3_2", *(f"branch7x7x3_{i}" for i in range(1, 5)))

  def __init__(self, in_channels: int, *, precision: Precision, rngs: nnx.Rngs):
    c = dict(precision=precision, rngs=rngs)
    self.branch3x3_1 = BasicConv2d(in_channels, 192, 1, **c)
    self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2, **c)
    self.branch7x7x3_1 = BasicConv2d(in_channels, 192, 1, **c)
    self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3), **c)
    self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0), **c)
    self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2, **c)

  def __call__(self, x: jax.Array) -> jax.Array:
    b3 = self.branch3x3_2(self.branch3x3_1(x))
    b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
    return _cat(b3, b7, max_pool(x, 2))


class InceptionE(nnx.Module):
  """Mixed_7b/c: 1x1 | 1x1 -> (1x3, 3x1) | 1x1 -> 3x3 -> (1x3, 3x1) | pool -> 1x1.

  ``pool``: ``"avg"`` (Mixed_7b: average excluding the padding) or ``"max"`` (Mixed_7c, as in the
  FID graph; torchvision's ImageNet model averages there).
  """

  LAYERS = (
    "branch1x1",
    "branch3x3_1",
    "branch3x3_2a",
    "branch3x3_2b",
    "branch3x3dbl_1",
    "branch3x3dbl_2",
    "branch3x3dbl_3a",
    "branch3x3dbl_3b",
    "branch_pool",
  )

  def __init__(self, in_channels: int, *, pool: str, precision: Precision, rngs: nnx.Rngs):
    if pool not in ("avg", "max"):
      raise ValueError(f"pool must be 'avg' or 'max', got {pool!r}")
    self.pool = pool
    c = dict(precision=precision, rngs=rngs)
    self.branch1x1 = BasicConv2d(in_channels, 320, 1, **c)
    self.branch3x3_1 = BasicConv2d(in_channels, 384, 1, **c)
    self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1), **c)
    self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0), **c)
    self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, 1, **c)
    self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1, **c)
    self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1), **c)
    self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0), **c)
    self.branch_pool = BasicConv2d(in_channels, 192, 1, **c)

  def __call__(self, x: jax.Array) -> jax.Array:
    b3 = self.branch3x3_1(x)
    b3 = _cat(self.branch3x3_2a(b3), self.branch3x3_2b(b3))
    d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
    d = _cat(self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d))
    pooled = avg_pool_same(x) if self.pool == "avg" else max_pool_same(x)
    return _cat(self.branch1x1(x), b3, d, self.branch_pool(pooled))


# ---------------------------------------------------------------------- the network


class InceptionV3(nnx.Module):
  """The FID Inception-v3: preprocessed images ``[N, H, W, 3]`` -> a dict of outputs (see the
  module docstring); ``H, W`` are 299 for the references' features (:func:`preprocess`).

  ``precision``: of the convolutions and the fc (default full float32 everywhere).
  """

  # The layers (BasicConv2d) and blocks (with their own LAYERS) in torchvision's order, then ``fc``.
  LAYERS = (
    "Conv2d_1a_3x3",
    "Conv2d_2a_3x3",
    "Conv2d_2b_3x3",
    "Conv2d_3b_1x1",
    "Conv2d_4a_3x3",
    *(f"Mixed_{b}" for b in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c")),
  )

  def __init__(self, *, precision: Precision = DEFAULT_PRECISION, rngs: nnx.Rngs):
    self.precision = precision
    c = dict(precision=precision, rngs=rngs)
    self.Conv2d_1a_3x3 = BasicConv2d(IN_CHANNELS, 32, 3, stride=2, **c)
    self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3, **c)
    self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1, **c)
    self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1, **c)
    self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3, **c)
    self.Mixed_5b = InceptionA(192, 32, **c)
    self.Mixed_5c = InceptionA(256, 64, **c)
    self.Mixed_5d = InceptionA(288, 64, **c)
    self.Mixed_6a = InceptionB(288, **c)
    self.Mixed_6b = InceptionC(768, 128, **c)
    self.Mixed_6c = InceptionC(768, 160, **c)
    self.Mixed_6d = InceptionC(768, 160, **c)
    self.Mixed_6e = InceptionC(768, 192, **c)
    self.Mixed_7a = InceptionD(768, **c)
    self.Mixed_7b = InceptionE(1280, pool="avg", **c)
    self.Mixed_7c = InceptionE(2048, pool="max", **c)
    self.fc = nnx.Linear(POOL3_FEATURES, NUM_CLASSES, precision=precision, rngs=rngs)

  def _stages(self) -> tuple[Callable[[jax.Array], jax.Array], ...]:
    def stem0(h):
      h = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(h)))
      return max_pool(h, 2)

    def stem1(h):
      return max_pool(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(h)), 2)

    def mixed6(h):
      for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a):
        h = block(h)
      for block in (self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e):
        h = block(h)
      return h

    def pool3(h):
      h = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(h)))
      return jnp.mean(h, axis=(1, 2))

    return stem0, stem1, mixed6, pool3

  def __call__(self, x: jax.Array, *, outputs: Sequence[str] | str | None = None) -> dict[str, jax.Array]:
    """The requested ``outputs`` (default all; see :data:`OUTPUTS`) of preprocessed images ``x``,
    as a dict (in network order; ``jax.jit`` returns dicts with sorted keys); nothing past the
    deepest requested one is computed."""
    names = check_outputs(outputs)
    if x.ndim != 4 or x.shape[-1] != IN_CHANNELS:
      raise ValueError(f"x must have shape [N, H, W, {IN_CHANNELS}], got {x.shape}")
    last = max(STAGE[n] for n in names)
    if min(x.shape[1:3]) < MIN_SIDE[last]:
      raise ValueError(
        f"images of size {x.shape[1]}x{x.shape[2]} are too small for the Inception output(s) {list(names)}: "
        f"they need sides of at least {MIN_SIDE[last]} (the references resize to {INPUT_SIZE}: preprocess)"
      )
    h = jnp.asarray(x, jnp.float32)
    out = {}
    for stage, run in enumerate(self._stages()):
      if stage > last:
        return out
      h = run(h)
      for name in FEATURE_MAPS + ("2048",):
        if STAGE[name] == stage and name in names:
          out[name] = h
    if last == 4:
      unbiased = jnp.matmul(h, self.fc.kernel[...], precision=self.precision)
      if "logits_unbiased" in names:
        out["logits_unbiased"] = unbiased
      if "logits" in names:
        out["logits"] = unbiased + self.fc.bias[...]
    return out

  def features(
    self,
    images: jax.Array,
    *,
    outputs: Sequence[str] | str | None = ("2048",),
    resize: str = "pytorch_fid",
  ) -> dict[str, jax.Array]:
    """``self(preprocess(images, resize=resize), outputs=outputs)``: uint8 images or floats in
    [-1, 1] (see :func:`preprocess`), of any size, to the requested outputs (default pool3)."""
    return self(preprocess(images, resize=resize), outputs=outputs)


def feature_fn(
  graphdef: nnx.GraphDef, *, outputs: Sequence[str] | str | None = ("2048",), resize: str = "pytorch_fid"
) -> Callable[[nnx.State, nnx.State, jax.Array], dict[str, jax.Array]]:
  """A jitted ``f(params, stats, images) -> {output: array}`` of the network ``graphdef``.

  The weights are arguments, not constants of the compiled program (they are 95 MB). With
  :func:`jaxgan.interop.inception.load_fid_inception`::

      graphdef, params, stats = load_fid_inception("fid_inception")
      f = feature_fn(graphdef, outputs=("2048",))
      pool3 = f(params, stats, images)["2048"]
  """
  names = check_outputs(outputs)
  check_resize(resize)

  @jax.jit
  def run(params, stats, images):
    return nnx.merge(graphdef, params, stats).features(images, outputs=names, resize=resize)

  return run


def spatial_means(features: dict[str, jax.Array]) -> dict[str, jax.Array]:
  """``features`` with each feature map (``"64"``, ``"192"``, ``"768"``) averaged over its pixels,
  ``[N, C]``: torch-fidelity's features of these names. The others are passed through."""
  return {k: jnp.mean(v, axis=(1, 2)) if k in FEATURE_MAPS else v for k, v in features.items()}


def count_params(net: InceptionV3) -> int:
  """The number of trainable parameters (kernels, fc bias, batch-norm scales and biases; the
  running statistics are not counted, as in PyTorch): 23,850,960."""
  return sum(int(np.prod(v.shape)) for v in jax.tree.leaves(nnx.state(net, nnx.Param)))


# ---------------------------------------------------------------------- input preprocessing


def check_resize(resize: str) -> str:
  if resize not in RESIZES:
    raise ValueError(f"resize must be one of {list(RESIZES)}, got {resize!r}")
  return resize


def torch_bilinear_taps(in_side: int, out_side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """``(i0, i1, w1)`` of PyTorch's ``F.interpolate(mode='bilinear', align_corners=False)`` along
  one axis (no antialiasing): output pixel ``o`` is ``(1 - w1[o]) x[i0[o]] + w1[o] x[i1[o]]``.

  The source position is ``(o + 0.5) in / out - 0.5``, clamped at 0 below; ``i0`` its floor,
  ``i1 = i0 + 1`` except at the last pixel. Rounded as PyTorch's kernel computes it: the scale
  ``in / out`` in float32, then ``scale (o + 0.5) - 0.5`` as one fused multiply-add (a single
  rounding to float32; the product is exact in float64); two roundings move some positions by one
  float32 step (a relative difference of up to ~1e-5 in the resized image).
  """
  f32 = np.float32
  scale = np.float64(f32(in_side) / f32(out_side))
  src = (scale * (np.arange(out_side, dtype=np.float64) + 0.5) - 0.5).astype(f32)
  src = np.maximum(src, f32(0))
  i0 = np.minimum(np.floor(src).astype(np.int64), in_side - 1)
  w1 = np.clip(src - i0.astype(f32), f32(0), f32(1)).astype(f32)
  i1 = np.where(i0 < in_side - 1, i0 + 1, i0)
  return i0, i1, w1


def tf1_bilinear_taps(in_side: int, out_side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """``(i0, i1, w1)`` of TensorFlow 1.x's ``resize_bilinear`` (``align_corners=False``, no
  half-pixel centres) along one axis, as torch-fidelity's ``interpolate_bilinear_2d_like_tensorflow1x``
  computes it: the source position of output pixel ``o`` is ``o * (in / out)`` (float32, the scale
  rounded to float32 first), ``i0`` its floor, ``i1 = min(i0 + 1, in - 1)``, ``w1`` the fraction."""
  f32 = np.float32
  src = np.arange(out_side, dtype=f32) * f32(in_side / out_side)
  i0 = src.astype(np.int64)  # truncation = floor (src >= 0)
  i1 = np.minimum(i0 + 1, in_side - 1)
  w1 = (src - i0.astype(f32)).astype(f32)
  return i0, i1, w1


def resize_bilinear_torch(x: jax.Array, size: tuple[int, int] | int = INPUT_SIZE) -> jax.Array:
  """NHWC ``x`` resized to ``size`` as ``F.interpolate(x, size, mode='bilinear', align_corners=False)``
  (no antialiasing when shrinking). Per output pixel, as PyTorch's CPU kernel: each of the two
  source rows is interpolated along the width, ``w0 a + w1 b``, then the two rows along the height."""
  oh, ow = _pair(size)
  x = jnp.asarray(x, jnp.float32)
  h, w = x.shape[1:3]
  if (h, w) == (oh, ow):
    return x  # scale 1: the taps are the identity
  r0, r1, rw1 = (jnp.asarray(a) for a in torch_bilinear_taps(h, oh))
  c0, c1, cw1 = (jnp.asarray(a) for a in torch_bilinear_taps(w, ow))
  cw1 = cw1[None, None, :, None]
  cw0 = 1 - cw1

  def along_width(rows):
    return cw0 * rows[:, :, c0] + cw1 * rows[:, :, c1]

  rw1 = rw1[None, :, None, None]
  return (1 - rw1) * along_width(x[:, r0]) + rw1 * along_width(x[:, r1])


def resize_bilinear_tf1(x: jax.Array, size: tuple[int, int] | int = INPUT_SIZE) -> jax.Array:
  """NHWC ``x`` resized to ``size`` as TensorFlow 1.x's ``resize_bilinear(align_corners=False)``
  (torch-fidelity's ``interpolate_bilinear_2d_like_tensorflow1x``, in its order of operations:
  ``a + (b - a) w1`` along the width, then along the height). No antialiasing."""
  oh, ow = _pair(size)
  x = jnp.asarray(x, jnp.float32)
  h, w = x.shape[1:3]
  if (h, w) == (oh, ow):
    return x
  r0, r1, rw1 = (jnp.asarray(a) for a in tf1_bilinear_taps(h, oh))
  c0, c1, cw1 = (jnp.asarray(a) for a in tf1_bilinear_taps(w, ow))
  cw1 = cw1[None, None, :, None]

  def along_width(rows):
    a = rows[:, :, c0]
    return a + (rows[:, :, c1] - a) * cw1

  top, bottom = along_width(x[:, r0]), along_width(x[:, r1])
  return top + (bottom - top) * rw1[None, :, None, None]


def preprocess(images: jax.Array, *, resize: str = "pytorch_fid", size: int = INPUT_SIZE) -> jax.Array:
  """RGB ``images`` ``[N, H, W, 3]`` -> the network input ``[N, size, size, 3]`` (float32, [-1, 1]).

  The value range follows the dtype (never the values):

  * ``uint8``: values 0 .. 255 (as read from image files; pytorch-fid's ``ToTensor`` divides by 255,
    torch-fidelity takes the uint8 values themselves);
  * a floating dtype: values in [-1, 1] (jaxgan's generators' range): the float ``x`` stands for the
    uint8 value ``(x + 1) 127.5``, so ``u / 127.5 - 1`` gives the same input as the uint8 ``u``.

  ``resize``:

  * ``"pytorch_fid"``: pytorch-fid's ``InceptionV3`` (``resize_input=True, normalize_input=True``):
    ``u = value / 255`` in [0, 1], ``F.interpolate(u, (299, 299), mode='bilinear',
    align_corners=False)`` (:func:`resize_bilinear_torch`), then ``2 u - 1``.
  * ``"tf1"``: torch-fidelity's ``FeatureExtractorInceptionV3`` and the original TensorFlow FID
    graph: TensorFlow 1.x ``resize_bilinear`` of the 0 .. 255 values (:func:`resize_bilinear_tf1`),
    then ``(v - 128) / 128``. Note the asymmetry: 255 maps to 0.9921875, 0 to -1.

  An image already ``size`` x ``size`` is not resampled in either mode (both resizes are the
  identity at scale 1), but is still normalised.
  """
  check_resize(resize)
  images = jnp.asarray(images)
  if images.ndim != 4 or images.shape[-1] != IN_CHANNELS:
    raise ValueError(f"images must be RGB with shape [N, H, W, {IN_CHANNELS}], got {images.shape}")
  if images.dtype == jnp.uint8:
    values = images.astype(jnp.float32)  # 0 .. 255
    unit = values / 255.0
  elif jnp.issubdtype(images.dtype, jnp.floating):
    x = images.astype(jnp.float32)
    unit = (x + 1) / 2
    values = (x + 1) * 127.5
  else:
    raise TypeError(f"images must be uint8 (values 0 .. 255) or floating (values in [-1, 1]), got dtype {images.dtype}")
  if resize == "pytorch_fid":
    return 2 * resize_bilinear_torch(unit, size) - 1
  return (resize_bilinear_tf1(values, size) - 128) / 128

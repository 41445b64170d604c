"""2-D convolutions whose backward passes take XLA:CPU's fast paths (:func:`conv2d`).

A stride-``s`` convolution of ``x`` is the stride-1 convolution of its space-to-depth
rearrangement (``s x s`` blocks of the padded input moved into channels) with the kernel
rearranged the same way (taps zero-padded up to a multiple of ``s``). Both are the same
linear map; on XLA:CPU the stride-1 form's input and kernel gradients are ordinary
convolutions that run on Eigen, while the gradients XLA derives for the strided form are an
lhs-dilated and a window-dilated convolution that run several times slower (measured per
layer: benchmarks/README.md, "Strided convolutions"). So :func:`conv_general_dilated` computes
the forward pass as one strided convolution (XLA's fastest form of it) and, on CPU only,
the backward pass through the space-to-depth form. A stride-1 convolution's input gradient is
computed as a forward convolution by :func:`conv2d` itself, so that a second differentiation (the
gradient penalties of SinGAN and WGAN-GP) meets these rules again instead of the reversed-window
kernel gradient XLA would derive, which runs an order of magnitude slower on CPU. On GPU/TPU it
is XLA's own convolution throughout. It has ``lax.conv_general_dilated``'s signature, so ``nnx.Conv`` takes it as its
``conv_general_dilated``: :func:`Conv` is that ``nnx.Conv``, with the same parameters.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxgan.nn.patch_gemm import patch_gemm_conv
from jaxgan.nn.winograd import winograd_conv3x3, winograd_kernel_gradient

_NHWC = ("NHWC", "HWIO", "NHWC")
# From this batch size on, a strided convolution's kernel gradient is XLA's own (window-dilated)
# one: its operand transposes then cost less than the space-to-depth rearrangement (measured:
# benchmarks/conv_paths.py, dcgan_d2 at batch 128: 72 vs 100 ms; unet_d2 at batch 1: 25 vs 7 ms);
# and its input gradient is the transposed convolution of the output gradient by phases
# (:func:`jaxgan.nn.conv_transpose`), which computes no gradient for the padding border that the
# space-to-depth form does (DCGAN's discriminator at batch 128: 75 -> 68, 58 -> 53, 70 -> 49 ms;
# at batch 1, pix2pix's 128 and 64 px levels: 6.1 vs 6.7, 5.8 vs 5.8 ms).
LARGE_BATCH = 32
# A stride-1 convolution with at most this many output channels is computed as one matrix product
# and a sum of shifted slices on CPU (:func:`shifted_gemm_conv`): Eigen's convolution with 1-3
# output channels runs far below its speed elsewhere (measured: benchmarks/conv_paths.py,
# resnet_out, singan_tail, patch_logit). Through the adjoint identity this also covers the input
# gradient of a convolution with few input channels (resnet_c7, singan_head).
SMALL_COUT = 4
# ... and its kernel gradient placed at the taps' offsets and multiplied out (patch_logit 4x4: 14 ->
# 1.7 ms; singan_tail 3x3: 14 -> 4.6 ms), beyond this many taps from materialised operands (see
# _few_outputs_conv_bwd).
FEW_TAPS = 16
# A float32 stride-1 3x3 convolution runs forward as Winograd's F(4x4, 3x3) on CPU
# (:mod:`jaxgan.nn.winograd`: 4x fewer multiplications, in batched matrix products), and so does its
# kernel gradient (the algorithm transposed), when it has at least this many input and output
# channels. Where its transformed data (forward: 36 x tiles x max(cin, cout) floats; kernel gradient:
# 36 x tiles x (cin + cout)) exceed WINOGRAD_MAX_BYTES, the pass runs in chunks (images, or bands
# of tile rows) of at most WINOGRAD_CHUNK_BYTES, one after the other, so that each chunk's products
# find their operands in cache: in one pass beyond ~24 MiB, about the 32 MiB L3 cache of this CPU
# less what the products need beside, Eigen's direct convolution was as fast or faster (measured
# per layer: benchmarks/README.md, "Winograd").
WINOGRAD_TILE = 4
WINOGRAD_MIN_CHANNELS = 32
WINOGRAD_MAX_BYTES = 24 * 2**20
WINOGRAD_CHUNK_BYTES = 6 * 2**20
# ... and at least this much work (tiles x cin x cout): below it the layer takes a few milliseconds
# either way and the transforms and products cost more to compile than they save (tests/ compile
# thousands of small steps: 28 min 44 s for the suite without this floor, 14 min 10 s with it, README).
WINOGRAD_MIN_WORK = 2**21
# A convolution with more than one tap and at most this many output pixels (batch x height x
# width; a transposed convolution: input pixels) per output channel is one matrix product over
# explicit patches on CPU (:mod:`jaxgan.nn.patch_gemm`): its patches are then at most a quarter of
# its kernel, and such layers (pix2pix's innermost U-Net levels, DCGAN's first) cost the reading of
# their kernels, which the other forms also rearrange, a kernel-sized copy each time (measured per
# layer: benchmarks/README.md, "Few pixels"; at 1 and 2 pixels per channel, pix2pix's next levels,
# the usual forms were as fast or faster).
PATCH_GEMM_PIXELS_PER_CHANNEL = 0.25
# Below this much work (multiply-adds: output pixels x taps x input x output channels; a transposed
# convolution: input pixels x ...) a convolution is XLA's own, forward and gradients, on every
# backend: it takes microseconds by any path, and the CPU forms above (custom gradients, platform
# branches, rearrangements) triple the time XLA takes to compile a model of such layers (a CycleGAN
# step at ngf 2 on 32x32 images: 38 -> 14 s; the tests compile hundreds of them). The default
# models' layers are all above it except a few of SinGAN's coarsest convolutions (3 channels in or
# out at 25x34 pixels).
XLA_BELOW_WORK = 2**20


def xla_work_floor(pixels: int, kernel_shape) -> bool:
  """Whether a convolution of ``pixels`` (output pixels, batch included; a transposed convolution:
  input pixels) with an HWIO ``kernel_shape`` is below :data:`XLA_BELOW_WORK`."""
  kh, kw, cin, cout = kernel_shape
  return pixels * kh * kw * cin * cout < XLA_BELOW_WORK


def patch_gemm_applies(pixels: int, kernel_shape) -> bool:
  """Whether :func:`conv2d` (``pixels``: output pixels) or :func:`jaxgan.nn.conv_transpose`
  (input pixels) computes by :mod:`jaxgan.nn.patch_gemm` on CPU (a rule of the shapes alone)."""
  kh, kw, _, cout = kernel_shape
  return kh * kw > 1 and pixels <= PATCH_GEMM_PIXELS_PER_CHANNEL * cout


def space_to_depth_conv(
  x: jax.Array, kernel: jax.Array, stride: int, padding: tuple[tuple[int, int], tuple[int, int]]
) -> jax.Array:
  """The stride-``stride`` convolution of NHWC ``x`` (explicit ``padding``) as a stride-1 one."""
  s = stride
  b, h, w, c = x.shape
  kh, kw, _, o = kernel.shape
  (top, bottom), (left, right) = padding
  out_h = (h + top + bottom - kh) // s + 1
  out_w = (w + left + right - kw) // s + 1
  th, tw = -(-kh // s), -(-kw // s)  # taps per axis of the stride-1 kernel
  rows, cols = s * (out_h - 1 + th), s * (out_w - 1 + tw)  # padded input the blocks cover
  x = _pad(x, ((top, rows - h - top), (left, cols - w - left)))
  x = x.reshape(b, rows // s, s, cols // s, s, c).transpose(0, 1, 3, 2, 4, 5)
  x = x.reshape(b, rows // s, cols // s, s * s * c)
  kernel = jnp.pad(kernel, ((0, th * s - kh), (0, tw * s - kw), (0, 0), (0, 0)))
  kernel = kernel.reshape(th, s, tw, s, -1, o).transpose(0, 2, 1, 3, 4, 5).reshape(th, tw, -1, o)
  return conv2d(x, kernel, 1, ((0, 0), (0, 0)))


def _lax_conv(x, kernel, stride, padding):
  return jax.lax.conv_general_dilated(x, kernel, (stride, stride), padding, dimension_numbers=_NHWC)


def conv2d(x: jax.Array, kernel: jax.Array, stride: int, padding: tuple[tuple[int, int], tuple[int, int]]) -> jax.Array:
  """NHWC/HWIO convolution with square ``stride`` and explicit ``padding``, fast gradients on CPU."""
  kh, kw, _, cout = kernel.shape
  b, h, w, _ = x.shape
  (top, bottom), (left, right) = padding
  pixels = b * ((h + top + bottom - kh) // stride + 1) * ((w + left + right - kw) // stride + 1)
  if xla_work_floor(pixels, kernel.shape):
    return _lax_conv(x, kernel, stride, padding)
  if patch_gemm_applies(pixels, kernel.shape):
    return jax.lax.platform_dependent(
      x,
      kernel,
      cpu=lambda x, k: patch_gemm_conv(x, k, stride, padding),
      default=lambda x, k: _conv2d(x, k, stride, padding),
    )
  if stride == 1 and cout <= SMALL_COUT and kh * kw > 1:
    return jax.lax.platform_dependent(
      x, kernel, cpu=lambda x, k: _few_outputs_conv(x, k, padding), default=lambda x, k: _conv2d(x, k, 1, padding)
    )
  return _conv2d(x, kernel, stride, padding)


def materialized(x: jax.Array) -> jax.Array:
  """``x``, computed into a buffer of its own before any consumer reads it (XLA:CPU).

  XLA duplicates cheap elementwise producers (normalisation, activation, their backward formulas)
  into each consumer. Where the consumer is the operand transpose of a kernel-gradient
  convolution, the producer is then recomputed in transposed (strided) order, several times slower
  than computing it once and transposing the result (DCGAN's generator at batch 128: 114 ms for
  one such fusion against 18 ms for the plain transpose; see benchmarks/README.md, "Operand
  transposes"). A conditional is never fused into, so its output is materialised; both branches
  return ``x`` (the predicate is false only for a NaN first element, and the result is the same).
  Only for CPU branches: a conditional costs a host synchronisation on GPU."""
  first = x.reshape(-1)[0]
  return jax.lax.cond(first == first, lambda t: t, lambda t: t * 1, x)


def _pad(x: jax.Array, padding) -> jax.Array:
  (top, bottom), (left, right) = padding
  return jax.lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), (top, bottom, 0), (left, right, 0), (0, 0, 0)))


def shifted_gemm_conv(x: jax.Array, kernel: jax.Array, padding: tuple[tuple[int, int], tuple[int, int]]) -> jax.Array:
  """A stride-1 convolution as one matrix product to ``kh kw cout`` channels (a tap's
  contribution each) followed by the sum of the taps' shifted slices: fast where ``cout`` is
  small, where Eigen's convolution is slow."""
  x = _pad(x, padding)
  b, h, w, cin = x.shape
  kh, kw, _, cout = kernel.shape
  out_h, out_w = h - kh + 1, w - kw + 1
  taps = kernel.transpose(2, 0, 1, 3).reshape(cin, kh * kw * cout)
  z = jnp.dot(x.reshape(b * h * w, cin), taps).reshape(b, h, w, kh, kw, cout)
  out = None
  for i in range(kh):
    for j in range(kw):
      tap = z[:, i : i + out_h, j : j + out_w, i, j, :]
      out = tap if out is None else out + tap
  return out


def shifted_gemm_kernel_gradient(
  x: jax.Array, g: jax.Array, kernel_shape, padding: tuple[tuple[int, int], tuple[int, int]]
) -> jax.Array:
  """The kernel gradient of :func:`shifted_gemm_conv`: the output gradient placed at every tap's
  offset (``kh kw cout`` channels), then one matrix product with the padded input."""
  x = _pad(x, padding)
  b, h, w, cin = x.shape
  kh, kw, _, cout = kernel_shape
  out_h, out_w = g.shape[1:3]
  placed = [
    jax.lax.pad(g, jnp.zeros((), g.dtype), ((0, 0, 0), (i, h - out_h - i, 0), (j, w - out_w - j, 0), (0, 0, 0)))
    for i in range(kh)
    for j in range(kw)
  ]
  dz = jnp.stack(placed, axis=3).reshape(b * h * w, kh * kw * cout)
  dtaps = jax.lax.dot_general(x.reshape(b * h * w, cin), dz, (((0,), (0,)), ((), ())))  # [cin, kh kw cout]
  return dtaps.reshape(cin, kh, kw, cout).transpose(1, 2, 0, 3)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _few_outputs_conv(x, kernel, padding):
  return shifted_gemm_conv(x, kernel, padding)


def _few_outputs_conv_fwd(x, kernel, padding):
  return shifted_gemm_conv(x, kernel, padding), (x, kernel)


def _few_outputs_conv_bwd(padding, residuals, g):
  """Input gradient: the forward convolution of ``g`` (many output channels: Eigen's fast case).
  Kernel gradient: :func:`shifted_gemm_kernel_gradient`; beyond ``FEW_TAPS`` taps of operands
  materialised first: XLA would otherwise fuse the computation of ``g`` into each of the ``kh kw``
  placements (SRResNet's 9x9 output layer, 81 taps: 2.5 s of a 2.1 s step). Materialised, that
  layer's kernel gradient took 176 ms against 223 ms for XLA's own (the SRResNet step 1.30 ->
  1.14 s, SRGAN 4.11 -> 3.94 s; CycleGAN's 7x7 output layer: the step unchanged, 10.3 vs 10.1 s;
  scratch A/B in one process). All differentiable again."""
  x, kernel = residuals
  kh, kw = kernel.shape[:2]
  if kh * kw > FEW_TAPS:
    x, g = materialized(x), materialized(g)
  dk = shifted_gemm_kernel_gradient(x, g, kernel.shape, padding)
  return _input_gradient(kernel, g, padding), dk


_few_outputs_conv.defvjp(_few_outputs_conv_fwd, _few_outputs_conv_bwd)


def winograd_applies(x_shape, kernel_shape, stride: int, padding, dtype=jnp.float32) -> bool:
  """Whether :func:`conv2d` computes this convolution's forward pass and kernel gradient by Winograd
  on CPU (a rule of the shapes alone: the same choice on every run)."""
  kh, kw, cin, cout = kernel_shape
  if jnp.dtype(dtype) != jnp.float32 or stride != 1 or (kh, kw) != (3, 3) or min(cin, cout) < WINOGRAD_MIN_CHANNELS:
    return False
  return _winograd_tiles(x_shape, padding) * cin * cout >= WINOGRAD_MIN_WORK


def _winograd_tiles(x_shape, padding) -> int:
  (top, bottom), (left, right) = padding
  m = WINOGRAD_TILE
  return x_shape[0] * -(-(x_shape[1] + top + bottom - 2) // m) * -(-(x_shape[2] + left + right - 2) // m)


def winograd_budget(x_shape, padding, channels: int) -> int | None:
  """The chunk size in bytes of a Winograd pass whose transformed data have ``channels`` floats per
  tile position (forward: max(cin, cout); kernel gradient: cin + cout): None (one pass) up to
  ``WINOGRAD_MAX_BYTES``, else ``WINOGRAD_CHUNK_BYTES``."""
  total = (WINOGRAD_TILE + 2) ** 2 * _winograd_tiles(x_shape, padding) * channels * 4
  return None if total <= WINOGRAD_MAX_BYTES else WINOGRAD_CHUNK_BYTES


def _forward(x, kernel, stride, padding):
  if winograd_applies(x.shape, kernel.shape, stride, padding, jnp.result_type(x, kernel)):
    return jax.lax.platform_dependent(
      x,
      kernel,
      # The kernel is materialised: the input gradient's is a transposed view, which XLA would
      # otherwise read in transposed order in each of the kernel transform's fusions (2x the time).
      cpu=lambda x, k: winograd_conv3x3(
        x, materialized(k), padding, WINOGRAD_TILE, winograd_budget(x.shape, padding, max(k.shape[2:]))
      ),
      default=lambda x, k: _lax_conv(x, k, stride, padding),
    )
  return _lax_conv(x, kernel, stride, padding)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _conv2d(
  x: jax.Array, kernel: jax.Array, stride: int, padding: tuple[tuple[int, int], tuple[int, int]]
) -> jax.Array:
  return _forward(x, kernel, stride, padding)


def _conv2d_fwd(x, kernel, stride, padding):
  return _forward(x, kernel, stride, padding), (x, kernel)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _input_gradient(kernel, g, padding):
  """The input gradient of a stride-1 convolution (``padding``) with cotangent ``g``, computed as a
  forward convolution of ``g`` with the flipped kernel ("full" padding)."""
  kh, kw = kernel.shape[:2]
  (top, bottom), (left, right) = padding
  flipped = jnp.swapaxes(kernel[::-1, ::-1], 2, 3)
  return conv2d(g, flipped, 1, ((kh - 1 - top, kh - 1 - bottom), (kw - 1 - left, kw - 1 - right)))


def _input_gradient_fwd(kernel, g, padding):
  return _input_gradient(kernel, g, padding), (kernel, g)


def _input_gradient_bwd(padding, residuals, c):
  """By the adjoint identity <dx(k, g), c> = <conv(c, k), g>: the gradients are the forward
  convolution of ``c`` (for ``g``) and that convolution's ordinary kernel gradient (for ``k``).
  Differentiating the full-padded convolution directly gives XLA's reversed-window kernel
  gradient instead, which has no fast path on CPU (the gradient penalties of SinGAN and WGAN-GP)."""
  kernel, g = residuals
  dg, vjp = jax.vjp(lambda k: conv2d(c, k, 1, padding), kernel)
  return vjp(g)[0], dg


_input_gradient.defvjp(_input_gradient_fwd, _input_gradient_bwd)


def _strided_input_gradient(x_shape, kernel, g, stride, padding):
  """The input gradient of a strided convolution with symmetric ``padding`` as PyTorch's transposed
  convolution of ``g`` with the in/out-swapped kernel (by phases on CPU); None where the padding
  is not symmetric, the input size is not a multiple of the stride (no phases) or the sizes need an
  output padding of ``stride`` or more."""
  from jaxgan.nn.conv_transpose import conv_transpose, output_size  # pylint: disable=import-outside-toplevel

  (top, bottom), (left, right) = padding
  kh, kw = kernel.shape[:2]
  if top != bottom or left != right or top != left or kh != kw:
    return None
  if x_shape[1] % stride or x_shape[2] % stride:  # phases of unequal length: XLA's dilated form, slow here
    return None
  extra = [n - output_size(o, kernel=kh, stride=stride, padding=top) for n, o in zip(x_shape[1:3], g.shape[1:3])]
  if extra[0] != extra[1] or not 0 <= extra[0] < stride:
    return None
  return conv_transpose(g, jnp.swapaxes(kernel, 2, 3), stride=stride, padding=top, output_padding=extra[0])


def _conv2d_bwd(stride, padding, residuals, g):
  x, kernel = residuals

  def vjp_of(conv):
    return lambda x, kernel, g: jax.vjp(lambda x, k: conv(x, k, stride, padding), x, kernel)[1](g)

  if stride > 1:

    def cpu_strided(x, kernel, g):
      x, g = materialized(x), materialized(g)
      if x.shape[0] < LARGE_BATCH:
        return vjp_of(space_to_depth_conv)(x, kernel, g)
      (dk,) = jax.vjp(lambda k: _lax_conv(x, k, stride, padding), kernel)[1](g)  # XLA's, faster there
      dx = _strided_input_gradient(x.shape, kernel, g, stride, padding)
      if dx is None:
        dx = vjp_of(space_to_depth_conv)(x, kernel, g)[0]
      return dx, dk

    return jax.lax.platform_dependent(x, kernel, g, cpu=cpu_strided, default=vjp_of(_lax_conv))

  def cpu(x, kernel, g):
    x, g = materialized(x), materialized(g)
    if winograd_applies(x.shape, kernel.shape, 1, padding, jnp.result_type(x, kernel, g)):
      budget = winograd_budget(x.shape, padding, sum(kernel.shape[2:]))
      dk = winograd_kernel_gradient(x, g, padding, WINOGRAD_TILE, budget).astype(kernel.dtype)
    else:
      (dk,) = jax.vjp(lambda k: _lax_conv(x, k, 1, padding), kernel)[1](g)
    return _input_gradient(kernel, g, padding), dk

  return jax.lax.platform_dependent(x, kernel, g, cpu=cpu, default=vjp_of(_lax_conv))


_conv2d.defvjp(_conv2d_fwd, _conv2d_bwd)


def _explicit(padding: Any, x_shape, k_shape, strides) -> tuple[tuple[int, int], ...] | None:
  if isinstance(padding, str):
    return tuple(jax.lax.padtype_to_pads(x_shape[1:3], k_shape[:2], strides, padding))
  return tuple((int(lo), int(hi)) for lo, hi in padding)


def conv_general_dilated(
  lhs: jax.Array,
  rhs: jax.Array,
  window_strides: Sequence[int],
  padding: Any,
  lhs_dilation=None,
  rhs_dilation=None,
  dimension_numbers=None,
  feature_group_count: int = 1,
  precision=None,
  **kwargs,
) -> jax.Array:
  """``lax.conv_general_dilated``; 2-D NHWC convolutions go through :func:`conv2d`."""
  nhwc = jax.lax.conv_dimension_numbers(lhs.shape, rhs.shape, _NHWC)
  plain = (
    lhs.ndim == 4
    and len(set(window_strides)) == 1
    and all(d in (None, 1) or tuple(d) == (1, 1) for d in (lhs_dilation, rhs_dilation))
    and feature_group_count == 1
    and precision is None
    and not any(kwargs.values())
    and jax.lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers) == nhwc
  )
  if not plain:
    return jax.lax.conv_general_dilated(
      lhs,
      rhs,
      window_strides,
      padding,
      lhs_dilation,
      rhs_dilation,
      dimension_numbers,
      feature_group_count,
      precision=precision,
      **kwargs,
    )
  pads = _explicit(padding, lhs.shape, rhs.shape, tuple(window_strides))
  return conv2d(lhs, rhs, int(window_strides[0]), pads)


def Conv(*args, **kwargs) -> nnx.Conv:  # noqa: N802 (a layer constructor)
  """``nnx.Conv`` (same arguments, same parameters) computing with :func:`conv_general_dilated`."""
  return nnx.Conv(*args, conv_general_dilated=conv_general_dilated, **kwargs)

"""Reading and writing PyTorch ``state_dict`` checkpoints for jaxgan networks.

A PyTorch checkpoint saved with ``torch.save(net.state_dict(), path)`` is a flat mapping
from dotted module paths (``model.1.weight``) to tensors. Moving it into a jaxgan network
takes three things, all generic here and specialised per architecture elsewhere (see
:mod:`jaxgan.interop.pix2pix`):

* :func:`load_torch_state_dict`: the file as a ``dict`` of NumPy arrays (PyTorch is
  imported only here, lazily: ``pip install torch`` or the ``interop`` extra);
* a :class:`KeyMap`: which PyTorch key fills which leaf of the NNX state, in which
  :class:`Layout` (convolution kernels are OIHW in PyTorch and HWIO in Flax;
  :class:`jaxgan.nn.ConvTranspose` keeps PyTorch's orientation with the axes moved);
* :func:`assign_state_dict`: the checked copy. Every key the map expects must be in the
  checkpoint, every checkpoint key must be used (or explicitly ignorable, e.g. batch
  norm's ``num_batches_tracked``), every shape must match, and every leaf of the NNX
  state must be filled; otherwise one :class:`StateDictMismatchError` names all the
  problems. :func:`export_state_dict` is the inverse, producing a ``state_dict`` that
  PyTorch's ``load_state_dict(strict=True)`` accepts (with :func:`save_torch_state_dict`).

Batch-norm running variances are copied as they are: PyTorch tracks the unbiased batch
variance, Flax the biased one, a negligible difference at image sizes (see
:mod:`jaxgan.nn.norm`) that only matters for how the statistic is updated in training.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxgan.nn.norm import BatchNorm, InstanceNorm, NoNorm
from jaxgan.train.state import split_module

Path = tuple[Any, ...]  # a path in an NNX state, e.g. ('downs', 0, 'kernel')
StateDict = dict[str, np.ndarray]

TORCH_HINT = "pip install torch (or pip install 'jaxgan[interop]')"


def _import_torch():
  try:
    import torch  # an optional dependency, imported when needed
  except ImportError as e:
    raise ImportError(f"reading and writing PyTorch checkpoints needs PyTorch: {TORCH_HINT}") from e
  return torch


# ------------------------------------------------------------------------ files


def load_torch_state_dict(path: str | os.PathLike, *, strip_prefix: str | None = "module.") -> StateDict:
  """A ``torch.save``-d ``state_dict`` as ``{key: numpy array}`` (tensors moved to the CPU).

  Loads with ``weights_only=True`` (no arbitrary code runs). If every key starts with
  ``strip_prefix`` (``'module.'`` of ``nn.DataParallel``), the prefix is removed.
  Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming ``path`` for
  a file that is not a readable ``state_dict``.
  """
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"no PyTorch checkpoint at {path!r}")
  torch = _import_torch()
  try:
    obj = torch.load(path, map_location="cpu", weights_only=True)
  except Exception as e:  # torch raises RuntimeError, UnpicklingError, EOFError, ... on bad files
    raise ValueError(f"could not read the PyTorch checkpoint {path!r}: {type(e).__name__}: {e}") from e
  if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
    what = f"a mapping with keys {sorted(obj)[:8]}" if isinstance(obj, Mapping) else type(obj).__name__
    raise ValueError(
      f"{path!r} does not hold a state_dict (a mapping from names to tensors, as saved "
      f"by torch.save(net.state_dict(), path)) but {what}"
    )
  out = {}
  for key, tensor in obj.items():
    tensor = tensor.detach().cpu()
    if tensor.dtype == torch.bfloat16:  # NumPy has no bfloat16
      tensor = tensor.float()
    out[key] = tensor.numpy()
  if strip_prefix and out and all(k.startswith(strip_prefix) for k in out):
    out = {k[len(strip_prefix) :]: v for k, v in out.items()}
  return out


def save_torch_state_dict(state_dict: Mapping[str, Any], path: str | os.PathLike) -> None:
  """``torch.save`` a ``{key: array}`` mapping as a ``state_dict`` of CPU tensors."""
  torch = _import_torch()
  tensors = collections.OrderedDict(
    (k, torch.from_numpy(np.array(v, copy=True, order="C"))) for k, v in state_dict.items()
  )
  torch.save(tensors, os.fspath(path))


# ---------------------------------------------------------------------- layouts


@dataclasses.dataclass(frozen=True)
class Layout:
  """How a PyTorch tensor maps onto a jaxgan array: an axis permutation (``None``: as is)."""

  name: str
  to_jax_axes: tuple[int, ...] | None = None

  @property
  def to_torch_axes(self) -> tuple[int, ...] | None:
    if self.to_jax_axes is None:
      return None
    return tuple(int(a) for a in np.argsort(self.to_jax_axes))

  @property
  def ndim(self) -> int | None:
    return None if self.to_jax_axes is None else len(self.to_jax_axes)

  def to_jax(self, x: np.ndarray) -> np.ndarray:
    return x if self.to_jax_axes is None else np.transpose(x, self.to_jax_axes)

  def to_torch(self, x: np.ndarray) -> np.ndarray:
    return x if self.to_jax_axes is None else np.transpose(x, self.to_torch_axes)

  def torch_shape(self, jax_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The PyTorch shape of a jaxgan array of shape ``jax_shape``."""
    if self.to_jax_axes is None:
      return tuple(jax_shape)
    if len(jax_shape) != self.ndim:
      raise ValueError(f"a {self.name} array has {self.ndim} axes, got shape {tuple(jax_shape)}")
    return tuple(jax_shape[a] for a in self.to_torch_axes)


AS_IS = Layout("as-is")
# Conv2d weight (O, I, kh, kw) <-> nnx.Conv kernel (kh, kw, I, O).
CONV = Layout("conv", (2, 3, 1, 0))
# ConvTranspose2d weight (I, O, kh, kw) <-> jaxgan.nn.ConvTranspose kernel (kh, kw, I, O), unflipped.
CONV_TRANSPOSE = Layout("conv_transpose", (2, 3, 0, 1))
# Linear weight (O, I) <-> nnx.Linear kernel (I, O).
LINEAR = Layout("linear", (1, 0))


def conv_kernel_from_torch(w: np.ndarray) -> np.ndarray:
  """``Conv2d.weight`` (O, I, kh, kw) -> ``nnx.Conv`` kernel (kh, kw, I, O)."""
  return CONV.to_jax(np.asarray(w))


def conv_kernel_to_torch(k: np.ndarray) -> np.ndarray:
  """``nnx.Conv`` kernel (kh, kw, I, O) -> ``Conv2d.weight`` (O, I, kh, kw)."""
  return CONV.to_torch(np.asarray(k))


def conv_transpose_kernel_from_torch(w: np.ndarray) -> np.ndarray:
  """``ConvTranspose2d.weight`` (I, O, kh, kw) -> :class:`jaxgan.nn.ConvTranspose` kernel (kh, kw, I, O)."""
  return CONV_TRANSPOSE.to_jax(np.asarray(w))


def conv_transpose_kernel_to_torch(k: np.ndarray) -> np.ndarray:
  """:class:`jaxgan.nn.ConvTranspose` kernel (kh, kw, I, O) -> ``ConvTranspose2d.weight`` (I, O, kh, kw)."""
  return CONV_TRANSPOSE.to_torch(np.asarray(k))


# ---------------------------------------------------------------------- key maps


@dataclasses.dataclass(frozen=True)
class Target:
  """Where one PyTorch tensor goes: a path in the module's NNX state, and its layout."""

  path: Path
  layout: Layout = AS_IS


def format_path(path: Path) -> str:
  return "/".join(str(p) for p in path)


def _has_bias(module: nnx.Module) -> bool:
  return getattr(module, "bias", None) is not None


class KeyMap:
  """PyTorch ``state_dict`` keys -> :class:`Target` leaves of a jaxgan module's NNX state.

  Built layer by layer with :meth:`conv`, :meth:`conv_transpose`, :meth:`linear` and
  :meth:`norm`, which read from the jaxgan layer whether it has a bias / which norm it is,
  so the map always describes that exact network. Keys in :attr:`ignored` may appear in a
  checkpoint and are dropped (e.g. ``num_batches_tracked``); :attr:`constants` are written
  on export only (PyTorch expects them, jaxgan has no such state).
  """

  def __init__(self):
    self.targets: dict[str, Target] = {}
    self.ignored: set[str] = set()
    self.constants: dict[str, np.ndarray] = {}
    self._order: list[str] = []  # export order: the PyTorch state_dict order

  def add(self, key: str, path: Path, layout: Layout = AS_IS) -> KeyMap:
    if key in self.targets or key in self.constants:
      raise ValueError(f"key {key!r} mapped twice")
    self.targets[key] = Target(tuple(path), layout)
    self._order.append(key)
    return self

  def ignore(self, *keys: str) -> KeyMap:
    self.ignored.update(keys)
    return self

  def constant(self, key: str, value: Any) -> KeyMap:
    """A key ignored on import and written as ``value`` on export."""
    self.constants[key] = np.asarray(value)
    self.ignored.add(key)
    self._order.append(key)
    return self

  def _weight_and_bias(self, prefix: str, module: nnx.Module, path: Path, layout: Layout) -> KeyMap:
    self.add(f"{prefix}.weight", (*path, "kernel"), layout)
    if _has_bias(module):
      self.add(f"{prefix}.bias", (*path, "bias"))
    return self

  def conv(self, prefix: str, module: nnx.Module, path: Path) -> KeyMap:
    """``Conv2d`` at ``prefix`` <-> the ``nnx.Conv`` ``module`` at ``path``."""
    return self._weight_and_bias(prefix, module, path, CONV)

  def conv_transpose(self, prefix: str, module: nnx.Module, path: Path) -> KeyMap:
    """``ConvTranspose2d`` at ``prefix`` <-> the :class:`jaxgan.nn.ConvTranspose` at ``path``."""
    return self._weight_and_bias(prefix, module, path, CONV_TRANSPOSE)

  def linear(self, prefix: str, module: nnx.Module, path: Path) -> KeyMap:
    """``Linear`` at ``prefix`` <-> the ``nnx.Linear`` at ``path``."""
    return self._weight_and_bias(prefix, module, path, LINEAR)

  def batch_norm(self, prefix: str, path: Path) -> KeyMap:
    """``BatchNorm2d(affine=True, track_running_stats=True)`` <-> an ``nnx.BatchNorm`` at ``path``."""
    self.add(f"{prefix}.weight", (*path, "scale"))
    self.add(f"{prefix}.bias", (*path, "bias"))
    self.add(f"{prefix}.running_mean", (*path, "mean"))
    self.add(f"{prefix}.running_var", (*path, "var"))
    return self.constant(f"{prefix}.num_batches_tracked", np.array(0, np.int64))

  def norm(self, prefix: str, module: nnx.Module, path: Path) -> KeyMap:
    """The ``--norm`` layer at ``prefix`` <-> the jaxgan norm ``module`` at ``path``.

    Batch norm: weight, bias and running statistics. Instance norm: ``weight``/``bias``
    only when affine; running statistics that old checkpoints hold for it (PyTorch < 0.4
    saved them; the official code deletes them before loading) are ignored. ``none``:
    nothing.
    """
    if isinstance(module, BatchNorm):
      return self.batch_norm(prefix, (*path, "norm"))
    if isinstance(module, nnx.BatchNorm):
      return self.batch_norm(prefix, path)
    if isinstance(module, InstanceNorm):
      if module.scale is not None:
        self.add(f"{prefix}.weight", (*path, "scale"))
        self.add(f"{prefix}.bias", (*path, "bias"))
      return self.ignore(*(f"{prefix}.{s}" for s in ("running_mean", "running_var", "num_batches_tracked")))
    if isinstance(module, NoNorm):
      return self
    raise TypeError(f"no PyTorch equivalent known for the norm layer {type(module).__name__} at {format_path(path)}")

  def torch_keys(self) -> list[str]:
    """The PyTorch ``state_dict`` keys of the network, in PyTorch's order."""
    return list(self._order)


# ---------------------------------------------------------------------- checked copies


class StateDictMismatchError(ValueError):
  """A checkpoint does not fit a network: lists every missing, unused or mis-shaped key."""


def split_net(net: Any) -> tuple[nnx.Module, Any, nnx.State, nnx.State]:
  """``(module, graphdef, params, stats)`` of a module or of a ``(graphdef, params, stats)``.

  The module may be abstract (``nnx.eval_shape``): only its structure is read.
  """
  if isinstance(net, nnx.Module):
    graphdef, params, stats = split_module(net)
    return net, graphdef, params, stats
  try:
    graphdef, params, stats = net
  except (TypeError, ValueError):
    raise TypeError(f"expected an nnx.Module or a (graphdef, params, stats) tuple, got {type(net).__name__}") from None
  return nnx.merge(graphdef, params, stats, copy=True), graphdef, params, stats


def _leaves(params: nnx.State, stats: nnx.State) -> dict[Path, tuple[str, nnx.Variable]]:
  out = {}
  for collection, state in (("params", params), ("stats", stats)):
    for path, var in nnx.to_flat_state(state):
      out[tuple(path)] = (collection, var)
  return out


def assign_state_dict(
  state_dict: Mapping[str, Any], keymap: KeyMap, params: nnx.State, stats: nnx.State, *, source: str | None = None
) -> tuple[nnx.State, nnx.State]:
  """New ``(params, stats)`` holding the ``state_dict`` arrays that ``keymap`` places.

  ``params``/``stats`` give the structure, shapes and dtypes (their values are unused;
  abstract states from ``nnx.eval_shape`` work). Raises :class:`StateDictMismatchError`
  listing every missing key, unused key and shape mismatch (``source`` names the
  checkpoint in the message).
  """
  leaves = _leaves(params, stats)
  problems = []
  missing = [k for k in keymap.targets if k not in state_dict]
  if missing:
    problems.append(f"{len(missing)} key(s) missing from the checkpoint: {missing}")
  unused = [k for k in state_dict if k not in keymap.targets and k not in keymap.ignored]
  if unused:
    problems.append(f"{len(unused)} unexpected key(s) in the checkpoint: {unused}")
  unknown = [f"{k} -> {format_path(t.path)}" for k, t in keymap.targets.items() if t.path not in leaves]
  if unknown:  # a key map that does not describe this network
    problems.append(f"key(s) mapped to paths the network does not have: {unknown}")
  mapped = {t.path for t in keymap.targets.values()}
  unfilled = [format_path(p) for p in leaves if p not in mapped]
  if unfilled:
    problems.append(f"network arrays no checkpoint key fills: {unfilled}")
  values = {}
  for key, target in keymap.targets.items():
    if key not in state_dict or target.path not in leaves:
      continue
    _, var = leaves[target.path]
    jax_shape = tuple(var.get_value().shape)
    expected = target.layout.torch_shape(jax_shape)
    value = np.asarray(state_dict[key])
    if value.shape != expected:
      problems.append(
        f"shape mismatch for {key!r}: the checkpoint has {value.shape}, the network "
        f"expects {expected} (jaxgan {format_path(target.path)} {jax_shape}, "
        f"{target.layout.name} layout)"
      )
      continue
    values[target.path] = jnp.asarray(target.layout.to_jax(value), dtype=var.get_value().dtype)
  if problems:
    where = f" {source!r}" if source else ""
    raise StateDictMismatchError(
      f"the PyTorch checkpoint{where} does not fit the network; check that the network was "
      "built with the checkpoint's settings (norm, depth, widths, channels):\n  - " + "\n  - ".join(problems)
    )
  new = {"params": [], "stats": []}
  for path, (collection, var) in leaves.items():
    new[collection].append((path, var.replace(value=values[path])))
  return nnx.from_flat_state(new["params"]), nnx.from_flat_state(new["stats"])


def export_state_dict(keymap: KeyMap, params: nnx.State, stats: nnx.State) -> StateDict:
  """The PyTorch ``state_dict`` (``{key: numpy array}``, PyTorch layouts) of ``params``/``stats``."""
  leaves = _leaves(params, stats)
  mapped = {t.path for t in keymap.targets.values()}
  unfilled = [format_path(p) for p in leaves if p not in mapped]
  unknown = [format_path(t.path) for t in keymap.targets.values() if t.path not in leaves]
  if unfilled or unknown:
    raise StateDictMismatchError(
      f"the key map does not describe the network: arrays without a key {unfilled}, keys without an array {unknown}"
    )
  out = {}
  for key in keymap.torch_keys():
    if key in keymap.constants:
      out[key] = keymap.constants[key].copy()
    else:
      target = keymap.targets[key]
      out[key] = np.ascontiguousarray(target.layout.to_torch(np.asarray(leaves[target.path][1].get_value())))
  return out


def read_npz(path: str) -> dict[str, np.ndarray]:
  """The arrays of an ``.npz`` file (weights converted for reading without PyTorch); ValueError
  naming the file when it is not one."""
  try:
    with np.load(path, allow_pickle=False) as data:
      return {k: data[k] for k in data.files}
  except Exception as e:  # BadZipFile, ValueError, OSError, ...
    raise ValueError(f"could not read {path!r} as an .npz archive: {type(e).__name__}: {e}") from e

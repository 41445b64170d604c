"""The FID Inception-v3 weights of pytorch-fid and torch-fidelity -> :class:`jaxgan.models.inception.InceptionV3`.

Two ports of the TensorFlow graph ``inception-2015-12-05`` publish PyTorch ``state_dict`` files,
both registered with :mod:`jaxgan.download`:

* ``fid_inception``: pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` (the state dict of
  ``fid_inception_v3()``, a torchvision ``Inception3`` with the FID blocks and a 1008-way fc);
* ``fid_inception_torch_fidelity``: torch-fidelity's ``weights-inception-2015-12-05-6726825d.pth``
  (the state dict of ``FeatureExtractorInceptionV3``, converted from the graph by its
  ``util_convert_inception_weights.py``).

Both use the same keys, torchvision's module paths, which are also the attribute paths of the jaxgan
network: ``Conv2d_1a_3x3.conv.weight`` (OIHW), ``Conv2d_1a_3x3.bn.{weight, bias, running_mean,
running_var}``, ..., ``Mixed_7c.branch_pool.bn.running_var``, ``fc.weight`` ([1008, 2048]) and
``fc.bias``: 94 convolutions with their batch norms (470 arrays) and the fc, 472 arrays.
``num_batches_tracked`` entries may be there or not (torch-fidelity's converted file has none,
a ``state_dict()`` saved from the module has them) and are ignored. Any other difference (a
missing or extra key, a wrong shape) is a :class:`~jaxgan.interop.torch_checkpoint.StateDictMismatchError`
naming every offending key; torchvision's ImageNet ``inception_v3`` weights (``AuxLogits.*``
keys, a 1000-way fc) are a different network and are refused that way.

:func:`load_fid_inception` takes a registered name or a path (``.pth`` / ``.pt``: needs PyTorch;
``.npz``: a file written by :func:`save_inception_npz`, read without PyTorch) and returns
``(graphdef, params, stats)``::

    graphdef, params, stats = load_fid_inception("fid_inception")
    net = nnx.merge(graphdef, params, stats)
    pool3 = net.features(images, outputs=("2048",), resize="pytorch_fid")["2048"]
    # or, with the weights as arguments of the compiled program:
    f = jaxgan.models.inception.feature_fn(graphdef, outputs=("2048",))
    pool3 = f(params, stats, images)["2048"]
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from flax import nnx

from jaxgan import download
from jaxgan.interop.torch_checkpoint import (
  KeyMap,
  StateDict,
  StateDictMismatchError,
  assign_state_dict,
  export_state_dict,
  load_torch_state_dict,
  read_npz,
  split_net,
)
from jaxgan.models.inception import DEFAULT_PRECISION, BasicConv2d, InceptionV3

# Registered names of the weights files, and whose they are.
WEIGHTS: dict[str, str] = {
  "fid_inception": "pytorch-fid (pt_inception-2015-12-05-6726825d.pth)",
  "fid_inception_torch_fidelity": "torch-fidelity (weights-inception-2015-12-05-6726825d.pth)",
}
DEFAULT_WEIGHTS = "fid_inception"
TORCH_EXTENSIONS = (".pth", ".pt")


def _basic_convs(module: nnx.Module, path: tuple[str, ...] = ()):
  """``(path, BasicConv2d)`` of every convolution under ``module``, in the order of the modules'
  ``LAYERS`` (the order in which torchvision registers them: its ``state_dict`` order)."""
  for name in module.LAYERS:
    value = getattr(module, name)
    if isinstance(value, BasicConv2d):
      yield (*path, name), value
    else:
      yield from _basic_convs(value, (*path, name))


def inception_keymap(net: InceptionV3) -> KeyMap:
  """The torchvision / pytorch-fid / torch-fidelity keys of ``net`` (which may be abstract)."""
  km = KeyMap()
  for path, layer in _basic_convs(net):
    prefix = ".".join(path)
    km.conv(f"{prefix}.conv", layer.conv, (*path, "conv"))
    km.batch_norm(f"{prefix}.bn", (*path, "bn"))
  return km.linear("fc", net.fc, ("fc",))


@functools.cache
def abstract_inception(precision: Any = DEFAULT_PRECISION) -> InceptionV3:
  """The structure of :class:`InceptionV3` (shapes only, from ``nnx.eval_shape``)."""
  return nnx.eval_shape(lambda: InceptionV3(precision=precision, rngs=nnx.Rngs(0)))


def state_dict_keys() -> list[str]:
  """The ``state_dict`` keys of the FID Inception, in PyTorch's order (with ``num_batches_tracked``)."""
  return inception_keymap(abstract_inception()).torch_keys()


def _hint(state_dict: Mapping[str, Any]) -> str:
  if any(k.startswith("AuxLogits.") for k in state_dict):
    return (
      "\nthis looks like torchvision's ImageNet inception_v3 (it has AuxLogits): FID needs the 2015-12-05 "
      "TensorFlow graph's weights, pytorch-fid's pt_inception-2015-12-05-6726825d.pth or torch-fidelity's "
      "weights-inception-2015-12-05-6726825d.pth"
    )
  if any(k.startswith("blocks.") for k in state_dict):
    return (
      "\nthis looks like the state_dict of pytorch-fid's InceptionV3 wrapper (blocks.N.M keys, no fc): "
      "save fid_inception_v3().state_dict() instead, or use the published pt_inception-2015-12-05-6726825d.pth"
    )
  return ""


def inception_state(
  state_dict: Mapping[str, Any], *, net: Any = None, source: str | None = None
) -> tuple[nnx.State, nnx.State]:
  """Checked ``(params, stats)`` of the FID Inception from a ``{key: array}`` ``state_dict``.

  ``net``: the (possibly abstract) :class:`InceptionV3` or its ``(graphdef, params, stats)``
  whose structure to fill (default :func:`abstract_inception`). Raises
  :class:`StateDictMismatchError` naming every missing, unexpected or mis-shaped key.
  """
  module, _, params, stats = split_net(abstract_inception() if net is None else net)
  if not isinstance(module, InceptionV3):
    raise TypeError(f"net must be an InceptionV3 (or its graphdef, params, stats), got {type(module).__name__}")
  try:
    return assign_state_dict(state_dict, inception_keymap(module), params, stats, source=source)
  except StateDictMismatchError as e:
    raise StateDictMismatchError(f"{e}{_hint(state_dict)}") from None


def to_torch_state_dict(params: nnx.State, stats: nnx.State) -> StateDict:
  """The pytorch-fid / torch-fidelity ``state_dict`` (``{key: numpy array}``, PyTorch layouts) of
  the weights; ``fid_inception_v3().load_state_dict`` and ``FeatureExtractorInceptionV3`` accept it
  (save it with :func:`jaxgan.interop.save_torch_state_dict`). ``num_batches_tracked`` is 0."""
  return export_state_dict(inception_keymap(abstract_inception()), params, stats)


def save_inception_npz(params: nnx.State, stats: nnx.State, path: str | os.PathLike) -> None:
  """Write the weights as an ``.npz`` of the PyTorch ``state_dict`` arrays (same keys, PyTorch
  layouts), which :func:`load_fid_inception` reads without PyTorch."""
  np.savez(os.fspath(path), **to_torch_state_dict(params, stats))


def weights_path(path_or_name: str | os.PathLike) -> str:
  """The file that ``path_or_name`` names: an existing path, or a registered name (see
  :data:`WEIGHTS`) resolved by :func:`jaxgan.download.resolve` (never downloads: a name not yet
  downloaded raises :class:`jaxgan.download.NotAvailableError` with the download command)."""
  value = os.fspath(path_or_name)
  if os.path.isfile(value):
    return value
  if value in download.REGISTRY:
    path = str(download.resolve(value))
    if not os.path.isfile(path):
      raise FileNotFoundError(f"{value}: {path} is not a file")
    return path
  names = ", ".join(f"{n} ({who})" for n, who in WEIGHTS.items())
  raise FileNotFoundError(
    f"no FID Inception weights at {value!r}: neither a file nor a registered name. The registered weights are "
    f"{names}; `python -m jaxgan.download fid_inception` fetches pytorch-fid's"
  )


def read_state_dict(path_or_name: str | os.PathLike) -> tuple[StateDict, str]:
  """``(state_dict, path)`` of a ``.pth`` / ``.pt`` (via PyTorch) or ``.npz`` file or registered name."""
  path = weights_path(path_or_name)
  ext = os.path.splitext(path)[1].lower()
  if ext == ".npz":
    return read_npz(path), path
  if ext in TORCH_EXTENSIONS:
    return load_torch_state_dict(path), path
  raise ValueError(
    f"unknown FID Inception weights format {path!r}: expected a PyTorch state_dict ({', '.join(TORCH_EXTENSIONS)}) "
    "or an .npz written by save_inception_npz"
  )


def load_fid_inception(
  path_or_name: str | os.PathLike | Mapping[str, Any] = DEFAULT_WEIGHTS, *, precision: Any = DEFAULT_PRECISION
) -> tuple[nnx.GraphDef, nnx.State, nnx.State]:
  """``(graphdef, params, stats)`` of the FID :class:`InceptionV3` holding the weights at
  ``path_or_name``: a registered name (``fid_inception``, ``fid_inception_torch_fidelity``), a
  ``.pth`` / ``.pt`` state dict, an ``.npz`` from :func:`save_inception_npz`, or a ``{key: array}``
  mapping. ``nnx.merge(graphdef, params, stats)`` is the network; ``precision``: its convolutions'
  and fc's (see :mod:`jaxgan.models.inception`).
  """
  net = abstract_inception(precision)
  if isinstance(path_or_name, Mapping):
    state_dict, source = path_or_name, None
  else:
    state_dict, source = read_state_dict(path_or_name)
  params, stats = inception_state(state_dict, net=net, source=source)
  return nnx.graphdef(net), params, stats

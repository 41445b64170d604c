"""pytorch-fid and torch-fidelity as references for the FID Inception tests, with random weights.

Importing this module skips the importing test (module or fixture) where PyTorch, torchvision,
pytorch-fid or torch-fidelity is missing or does not import: CI installs them best-effort.

torchvision: its C extension ops (``torchvision::nms``, ...) may not load beside the installed
PyTorch (here torchvision 0.28's CUDA build beside the CPU torch 2.13), and then ``import
torchvision`` fails in ``torchvision._meta_registrations``, which registers fake-tensor (meta)
implementations of those C ops: "operator torchvision::nms does not exist". Nothing here uses
them (pytorch-fid imports torchvision only for the Inception3 layers), so an empty module stands in
for ``torchvision._meta_registrations`` before torchvision is imported, in this process.

There are no real Inception weights here: :func:`random_state_dict` makes a state dict of the FID
Inception's shapes with random values (He-normal kernels, random batch-norm scales, biases and
running statistics, so that the inference-mode batch norm is exercised), and
:func:`pytorch_fid_inception` builds pytorch-fid's ``InceptionV3`` around it by patching the
download in ``fid_inception_v3``.
"""

from __future__ import annotations

import collections
import sys
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")

sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
try:
  import pytorch_fid.inception as pfid
  import torch_fidelity.feature_extractor_inceptionv3 as tfid
  from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x
except Exception as e:  # ModuleNotFoundError, or a torchvision that does not load beside this torch
  pytest.skip(f"pytorch-fid / torch-fidelity not usable here: {type(e).__name__}: {e}", allow_module_level=True)

F = torch.nn.functional

# torch-fidelity's feature names, in its order.
TORCH_FIDELITY_FEATURES = ("64", "192", "768", "2048", "logits_unbiased", "logits")


def random_state_dict(seed: int = 0) -> collections.OrderedDict:
  """A state dict of the FID Inception (pytorch-fid's keys and shapes) with random values."""
  shapes = pfid._inception_v3(num_classes=1008, aux_logits=False, weights=None).state_dict()
  g = torch.Generator().manual_seed(seed)
  out = collections.OrderedDict()
  for key, value in shapes.items():
    shape = value.shape
    if key.endswith("num_batches_tracked"):
      v = torch.tensor(7, dtype=torch.int64)
    elif key.endswith("conv.weight"):  # He-normal: keeps the ReLU activations O(1)
      v = torch.randn(shape, generator=g) * np.sqrt(2.0 / np.prod(shape[1:]))
    elif key == "fc.weight":
      v = torch.randn(shape, generator=g) / np.sqrt(shape[1])
    elif key.endswith("bn.weight"):
      v = 1 + 0.2 * torch.randn(shape, generator=g)
    elif key.endswith("running_var"):
      v = 0.5 + torch.rand(shape, generator=g)
    else:  # batch-norm biases and running means, the fc bias
      v = 0.2 * torch.randn(shape, generator=g)
    out[key] = v.to(value.dtype)
  return out


def pytorch_fid_inception(state_dict, monkeypatch, **kwargs):
  """pytorch-fid's ``InceptionV3(output_blocks=[0, 1, 2, 3], **kwargs)`` holding ``state_dict``
  (in eval mode): ``fid_inception_v3``'s download returns it."""
  monkeypatch.setattr(pfid, "load_state_dict_from_url", lambda *args, **kw: state_dict)
  net = pfid.InceptionV3(output_blocks=[0, 1, 2, 3], **kwargs)
  return net.eval()


def torch_fidelity_extractor(weights_path, features=TORCH_FIDELITY_FEATURES):
  """torch-fidelity's ``FeatureExtractorInceptionV3`` reading ``weights_path`` (its key format)."""
  return tfid.FeatureExtractorInceptionV3(
    "inception-v3-compat", list(features), feature_extractor_weights_path=str(weights_path)
  )


def tf1_resize(x, size):
  """torch-fidelity's TensorFlow-1.x bilinear resize of an NCHW float tensor."""
  return interpolate_bilinear_2d_like_tensorflow1x(x, size=size, align_corners=False)


def nchw(images: np.ndarray):
  """NHWC numpy images -> an NCHW tensor (same dtype)."""
  return torch.from_numpy(np.ascontiguousarray(np.transpose(images, (0, 3, 1, 2))))


def nhwc(t) -> np.ndarray:
  """An NCHW (or [N, C]) tensor -> NHWC (or [N, C]) numpy."""
  a = t.detach().cpu().numpy()
  return np.transpose(a, (0, 2, 3, 1)) if a.ndim == 4 else a


def modules() -> types.SimpleNamespace:
  """``fid_score`` of pytorch-fid, ``metric_kid`` and ``metric_isc`` of torch-fidelity: their
  FID / KID / IS functions on features."""
  import pytorch_fid.fid_score as fid_score  # pylint: disable=import-outside-toplevel
  import torch_fidelity.metric_isc as metric_isc  # pylint: disable=import-outside-toplevel
  import torch_fidelity.metric_kid as metric_kid  # pylint: disable=import-outside-toplevel

  return types.SimpleNamespace(fid_score=fid_score, metric_kid=metric_kid, metric_isc=metric_isc)

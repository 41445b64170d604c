"""pytorch-fid and torch-fidelity, the reference implementations of FID / KID / IS, for the tests.

They skip the calling test where torch, torchvision, pytorch-fid or torch-fidelity is not
installed (CI installs them best-effort). On this project's CPU machines torchvision 0.28 (the
release that goes with torch 2.13) cannot register its compiled operators beside the CPU build
of torch: ``import torchvision`` fails in ``torchvision._meta_registrations`` ("operator
torchvision::nms does not exist"). That module only registers fake-tensor kernels of those
operators, which nothing here uses, so it is replaced by an empty module before the import.
"""

from __future__ import annotations

import sys
import types

import pytest


def modules() -> types.SimpleNamespace:
  """``fid_score`` and ``inception`` of pytorch-fid, ``metric_kid`` and ``metric_isc`` of torch-fidelity."""
  pytest.importorskip("torch")
  if "torchvision" not in sys.modules:
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
  pytest.importorskip("torchvision")
  fid_score = pytest.importorskip("pytorch_fid.fid_score")
  inception = pytest.importorskip("pytorch_fid.inception")
  metric_kid = pytest.importorskip("torch_fidelity.metric_kid")
  metric_isc = pytest.importorskip("torch_fidelity.metric_isc")
  return types.SimpleNamespace(fid_score=fid_score, inception=inception, metric_kid=metric_kid, metric_isc=metric_isc)

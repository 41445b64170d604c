"""PyTorch helpers shared by the interop tests: random weights, outputs, comparisons.

The official networks themselves live in :mod:`tests.torch_nets` (a plain module, also
used by ``benchmarks/torch_steps.py``); the norms and the PatchGAN are re-exported here
for the tests that import them from this module. Importing this module skips the
importing test module when PyTorch is not installed.
"""

import jax
import numpy as np
import pytest
from flax import nnx

torch = pytest.importorskip("torch")
nn = torch.nn

from tests.torch_nets import NLayerDiscriminator, get_norm_layer, use_bias_for  # noqa: E402,F401

TOL = 1e-4

# ------------------------------------------------------------ helpers


def randomise(net, seed):
  """Weights at a scale that keeps activations O(1); random batch-norm running statistics."""
  g = torch.Generator().manual_seed(seed)
  with torch.no_grad():
    for name, p in net.named_parameters():
      if p.ndim > 1:
        p.copy_(torch.randn(p.shape, generator=g) / np.sqrt(p[0].numel()))
      elif name.endswith("weight"):  # batch-norm scale
        p.copy_(1 + 0.3 * torch.randn(p.shape, generator=g))
      else:
        p.copy_(0.3 * torch.randn(p.shape, generator=g))
    for name, b in net.named_buffers():
      if name.endswith("running_mean"):
        b.copy_(0.3 * torch.randn(b.shape, generator=g))
      elif name.endswith("running_var"):
        b.copy_(0.5 + torch.rand(b.shape, generator=g))
      elif name.endswith("num_batches_tracked"):
        b.fill_(7)
  return net


def randomise_jax(state, seed):
  """:func:`randomise` for a jaxgan state (kernels N(0, 1/fan-in), random BN statistics)."""
  rng = np.random.default_rng(seed)
  new = []
  for path, var in nnx.to_flat_state(state):
    shape = var.get_value().shape
    name = path[-1]
    if name == "kernel":
      v = rng.standard_normal(shape) / np.sqrt(np.prod(shape[:-1]))
    elif name == "scale":
      v = 1 + 0.3 * rng.standard_normal(shape)
    elif name == "var":
      v = 0.5 + rng.uniform(size=shape)
    else:  # bias, mean
      v = 0.3 * rng.standard_normal(shape)
    new.append((path, var.replace(value=jax.numpy.asarray(v, np.float32))))
  return nnx.from_flat_state(new)


def saved(net, tmp_path, name="latest_net.pth"):
  path = tmp_path / name
  torch.save(net.state_dict(), path)
  return path


def torch_out(net, x, *, train):
  """Official outputs (NHWC / [B, H, W]) for NHWC ``x``; dropout off in both modes."""
  net.train(train)
  for m in net.modules():
    if isinstance(m, nn.Dropout):
      m.eval()
  with torch.no_grad():
    y = net(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))).numpy()
  return y.transpose(0, 2, 3, 1)


def jax_out(graphdef, params, stats, x, *, train):
  return np.asarray(nnx.merge(graphdef, params, stats, copy=True)(x, train=train))


def images(shape, seed=0):
  return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def compare(tnet, graphdef, params, stats, x, *, squash=False):
  for train in (False, True):
    want = torch_out(tnet, x, train=train)
    got = jax_out(graphdef, params, stats, x, train=train)
    if got.ndim == 3:  # discriminator logits [B, H, W]
      want = want[..., 0]
    assert got.shape == want.shape
    diff = np.max(np.abs(got - want))
    assert diff <= TOL, f"train={train}: max |jaxgan - torch| = {diff}"
    assert np.std(want) > 0.05, "degenerate test: outputs nearly constant"
    if squash:  # tanh outputs: not all saturated
      assert np.mean(np.abs(want) < 0.95) > 0.2


def abstract(ctor, **kwargs):
  return nnx.eval_shape(lambda: ctor(**kwargs, rngs=nnx.Rngs(0)))

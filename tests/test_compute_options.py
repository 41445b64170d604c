"""``--remat`` and ``--precision`` in every method's compiled train step: remat gives the same
training (up to float rounding), bfloat16 keeps the state float32 and trains to finite losses."""

import dataclasses
import functools
import os
import sys

import chex
import jax
import numpy as np
import pytest

from jaxgan.config import ComputeConfig
from jaxgan.methods import catgan, cgan, cyclegan, dcgan, gan, gatys, pix2pix, sgan, singan, sr, style_transfer
from jaxgan.train import sharding
from jaxgan.train.loop import compile_train_step, init_or_restore
from tests import tiny

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import train_step as bench  # noqa: E402
import vs_pytorch  # noqa: E402 (PyTorch is imported only by its PyTorch side)

# name -> (config factory, build, batch) at tiny sizes
METHODS = {
  "pix2pix": (
    lambda **kw: pix2pix.Config(netG="unet_128", crop_size=128, load_size=128, ngf=4, ndf=4, **kw),
    pix2pix.build,
    bench.paired_batch,
  ),
  "cyclegan": (
    lambda **kw: cyclegan.Config(crop_size=32, load_size=32, ngf=4, ndf=4, **kw),
    cyclegan.build,
    bench.unpaired_batch,
  ),
  "dcgan": (tiny.dcgan_config, dcgan.build, tiny.image_batch),
  "gan": (tiny.gan_config, gan.build, tiny.image_batch),
  "srgan": (
    lambda **kw: sr.Config(loss="srgan", crop_size=24, batch_size=2, channels=8, n_blocks=2, d_channels=8, **kw),
    vs_pytorch._sr_method,
    vs_pytorch.sr_batch,
  ),  # pylint: disable=protected-access
  "style": (
    lambda **kw: style_transfer.Config(style_image="candy", image_size=32, batch_size=1, **kw),
    vs_pytorch._style_method,
    vs_pytorch.style_batch,
  ),  # pylint: disable=protected-access
}


@functools.lru_cache(maxsize=None)
def _trained(name, remat=False, precision="float32"):
  return _train(name, remat=remat, precision=precision)


def _train(name, steps=1, **options):
  make_config, build, make_batch = METHODS[name]
  method = build(make_config(**options))
  mesh = sharding.make_mesh()
  state, shardings = init_or_restore(method.init_state, jax.random.PRNGKey(0), mesh)
  local = make_batch(method.config, 0)
  step = compile_train_step(method.train_step, shardings, sharding.batch_shardings(local, mesh), mesh)
  batch = sharding.global_batch(local, mesh)
  for _ in range(steps):
    state, metrics = step(state, batch, sharding.replicate(method.consts, mesh))
  return jax.device_get(state), jax.device_get(metrics)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_remat_trains_the_same(name):
  plain, m_plain = _trained(name)
  remat, m_remat = _trained(name, remat=True)
  # Losses and the updated state agree closely. Adam moves a parameter whose gradient is rounding
  # noise by about +-lr either way, hence atol.
  chex.assert_trees_all_close(m_plain, m_remat, rtol=1e-3, atol=1e-5)
  chex.assert_trees_all_close(plain.nets, remat.nets, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_bfloat16_keeps_a_float32_state_and_finite_losses(name):
  f32, _ = _trained(name)
  bf16, metrics = _trained(name, precision="bfloat16")
  assert jax.tree.map(lambda a: a.dtype, f32) == jax.tree.map(lambda a: a.dtype, bf16)
  assert all(np.isfinite(v) for v in metrics.values()), metrics
  assert not all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(f32.nets), jax.tree.leaves(bf16.nets)))


@pytest.mark.parametrize(
  "config_class",
  [
    gan.Config,
    dcgan.Config,
    cgan.Config,
    sgan.Config,
    catgan.Config,
    pix2pix.Config,
    cyclegan.Config,
    sr.Config,
    style_transfer.Config,
    gatys.Config,
    singan.Config,
  ],
)
def test_every_method_has_the_options_and_checks_them(config_class):
  assert issubclass(config_class, ComputeConfig)
  fields = {f.name: f for f in dataclasses.fields(config_class)}
  assert fields["remat"].default is False and fields["precision"].default == "float32"
  assert fields["remat"].metadata["run_only"]  # same training: a resumed run may switch it
  with pytest.raises(ValueError, match="precision='float16'"):
    config_class(precision="float16")

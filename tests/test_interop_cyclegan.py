"""Official CycleGAN PyTorch checkpoints <-> jaxgan ResNet generator / PatchGAN.

``TorchResnetGenerator`` and ``ResnetBlock`` (:mod:`tests.torch_nets`, with the norms and
the PatchGAN) copy the official ones (junyanz/pytorch-CycleGAN-and-pix2pix,
models/networks.py) module for module: the same ``nn.Sequential`` indices (padding, ReLU
and Dropout modules included), in-place ``ReLU(True)``, the same ``use_bias`` rule; the
helpers are shared with the pix2pix tests (:mod:`tests.torch_reference`).
"""

import numpy as np
import pytest
from flax import nnx

from jaxgan import interop
from jaxgan.interop import torch_checkpoint as tc
from jaxgan.models.patchgan import PatchGANDiscriminator
from jaxgan.models.resnet_generator import (
  ResnetGenerator,
  resnet_6blocks,
  resnet_9blocks,
)
from jaxgan.models.unet import UNetGenerator
from tests.torch_reference import (  # first: skips this module without PyTorch
  abstract,
  compare,
  images,
  randomise,
  randomise_jax,
  saved,
)

# isort: split
from tests.torch_nets import NLayerDiscriminator, TorchResnetGenerator, get_norm_layer

torch = pytest.importorskip("torch")
nn = torch.nn


def _torch_resnet(norm, *, in_ch=3, out_ch=3, ngf=4, n_blocks=2, dropout=False, padding="reflect", seed=0):
  return randomise(
    TorchResnetGenerator(
      in_ch,
      out_ch,
      ngf=ngf,
      norm_layer=get_norm_layer(norm),
      use_dropout=dropout,
      n_blocks=n_blocks,
      padding_type=padding,
    ),
    seed,
  )


def _resnet(norm, *, in_ch=3, out_ch=3, ngf=4, n_blocks=2, dropout=False, padding="reflect"):
  return abstract(
    ResnetGenerator,
    in_channels=in_ch,
    out_channels=out_ch,
    ngf=ngf,
    norm=norm,
    use_dropout=dropout,
    n_blocks=n_blocks,
    padding_type=padding,
  )


# ------------------------------------------------------------ outputs match PyTorch


@pytest.mark.parametrize(
  "norm,ngf,size,dropout,padding,in_ch,out_ch",
  [
    ("instance", 4, 32, False, "reflect", 3, 3),  # CycleGAN's defaults
    ("batch", 8, 40, False, "reflect", 3, 3),  # eval: running statistics; train: batch ones
    ("instance", 8, 32, True, "replicate", 1, 3),  # Dropout shifts the second conv to index 6
    ("batch", 4, 40, False, "zero", 3, 2),  # no padding modules: conv_block.0 / .3
    ("none", 4, 32, False, "reflect", 3, 3),
  ],
)
def test_resnet_matches_official(tmp_path, norm, ngf, size, dropout, padding, in_ch, out_ch):
  kwargs = {"in_ch": in_ch, "out_ch": out_ch, "ngf": ngf, "dropout": dropout, "padding": padding}
  tnet = _torch_resnet(norm, seed=ngf, **kwargs)
  G = _resnet(norm, **kwargs)
  assert interop.state_dict_keys(G) == list(tnet.state_dict())  # same keys, same order
  params, stats = interop.load_cyclegan_generator(saved(tnet, tmp_path, "latest_net_G_A.pth"), G)
  compare(tnet, nnx.graphdef(G), params, stats, images((2, size, size, in_ch), seed=ngf), squash=True)


def test_cyclegan_discriminator_matches_official(tmp_path):
  tnet = randomise(NLayerDiscriminator(3, ndf=8, n_layers=3, norm_layer=get_norm_layer("instance")), 5)
  D = abstract(PatchGANDiscriminator, in_channels=3, ndf=8, n_layers=3, norm="instance")
  params, stats = interop.load_cyclegan_discriminator(saved(tnet, tmp_path, "latest_net_D_A.pth"), D)
  compare(tnet, nnx.graphdef(D), params, stats, images((2, 32, 32, 3), seed=5))


def test_full_size_keys_and_shapes():
  """resnet_9blocks / resnet_6blocks (ngf 64, instance norm): official keys and shapes, nothing run."""
  shapes = {}
  for n_blocks, jnet in ((9, abstract(resnet_9blocks)), (6, abstract(resnet_6blocks))):
    with torch.device("meta"):
      tnet = TorchResnetGenerator(3, 3, ngf=64, norm_layer=get_norm_layer("instance"), n_blocks=n_blocks)
    km = interop.resnet_keymap(jnet)
    assert km.torch_keys() == list(tnet.state_dict())
    _, _, params, stats = tc.split_net(jnet)
    leaves = dict(nnx.to_flat_state(params)) | dict(nnx.to_flat_state(stats))
    got = {k: t.layout.torch_shape(leaves[t.path].get_value().shape) for k, t in km.targets.items()}
    assert got == {k: tuple(v.shape) for k, v in tnet.state_dict().items()}
    assert sum(np.prod(s) for s in got.values()) == sum(p.numel() for p in tnet.parameters())
    assert len(got) == 2 + 2 * 2 + n_blocks * 4 + 2 * 2 + 2  # weights and biases, no norm state
    shapes[n_blocks] = got
  g9 = shapes[9]
  assert g9["model.1.weight"] == (64, 3, 7, 7)
  assert g9["model.10.conv_block.1.weight"] == (256, 256, 3, 3)
  assert g9["model.18.conv_block.5.bias"] == (256,)
  assert g9["model.19.weight"] == (256, 128, 3, 3)  # ConvTranspose2d: (in, out, kh, kw)
  assert g9["model.22.weight"] == (128, 64, 3, 3)
  assert g9["model.26.weight"] == (3, 64, 7, 7) and g9["model.26.bias"] == (3,)
  assert shapes[6]["model.16.weight"] == (256, 128, 3, 3) and "model.23.bias" in shapes[6]


# ------------------------------------------------------------ jaxgan -> official


def test_round_trip_and_official_load(tmp_path):
  G = ResnetGenerator(ngf=4, n_blocks=2, norm="batch", rngs=nnx.Rngs(5))
  graphdef, params, stats = tc.split_module(G)
  params, stats = randomise_jax(params, seed=0), randomise_jax(stats, seed=1)
  sd = interop.to_torch_state_dict((graphdef, params, stats))
  path = tmp_path / "jaxgan_net_G_A.pth"
  interop.save_torch_state_dict(sd, path)
  tnet = TorchResnetGenerator(3, 3, ngf=4, norm_layer=get_norm_layer("batch"), n_blocks=2)
  tnet.load_state_dict(torch.load(path, weights_only=True), strict=True)
  compare(tnet, graphdef, params, stats, images((1, 32, 32, 3), seed=4), squash=True)
  params2, stats2 = interop.load_cyclegan_generator(path, (graphdef, params, stats))
  for a, b in ((params, params2), (stats, stats2)):
    fa, fb = dict(nnx.to_flat_state(a)), dict(nnx.to_flat_state(b))
    assert fa.keys() == fb.keys()
    for k, va in fa.items():
      np.testing.assert_array_equal(np.asarray(va[...]), np.asarray(fb[k][...]))


def test_old_test_model_with_instance_norm_running_stats(tmp_path):
  """Pretrained test models (``horse2zebra.pth``) saved by PyTorch < 0.4 carry InstanceNorm stats."""
  tnet = _torch_resnet("instance", seed=3)
  sd = dict(tnet.state_dict())
  norms = {name: m for name, m in tnet.named_modules() if isinstance(m, nn.InstanceNorm2d)}
  assert "model.2" in norms and "model.11.conv_block.6" in norms and len(norms) == 5 + 2 * 2
  for prefix, m in norms.items():
    sd[f"{prefix}.running_mean"] = torch.randn(m.num_features)
    sd[f"{prefix}.running_var"] = torch.rand(m.num_features) + 0.5
  path = tmp_path / "horse2zebra.pth"
  torch.save(sd, path)
  G = _resnet("instance")
  params, stats = interop.load_cyclegan_generator(path, G)
  compare(tnet, nnx.graphdef(G), params, stats, images((1, 32, 32, 3), seed=6), squash=True)


# ------------------------------------------------------------ errors


def test_dropout_mismatch_names_the_shifted_keys():
  sd = {k: v.numpy() for k, v in _torch_resnet("instance", dropout=True).state_dict().items()}
  with pytest.raises(interop.StateDictMismatchError, match=r"model\.10\.conv_block\.6\.weight"):
    interop.load_cyclegan_generator(sd, _resnet("instance", dropout=False))


def test_wrong_network_type():
  with pytest.raises(TypeError, match="ResnetGenerator"):
    interop.load_cyclegan_generator({}, abstract(UNetGenerator, num_downs=5, ngf=4))
  with pytest.raises(TypeError, match="UNetGenerator"):
    interop.load_pix2pix_generator({}, _resnet("instance"))

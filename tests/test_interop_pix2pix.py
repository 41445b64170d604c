"""Official pix2pix PyTorch checkpoints <-> jaxgan U-Net / PatchGAN / PixelGAN.

The PyTorch networks (:mod:`tests.torch_nets`: the U-Net, the PatchGAN, the PixelGAN and
the norms) copy the official ones (junyanz/pytorch-CycleGAN-and-pix2pix,
models/networks.py) module for module: same ``nn.Sequential`` indices, in-place
``LeakyReLU(0.2, True)`` / ``ReLU(True)``, same ``use_bias`` rule, so their state-dict
keys are the official ones and their outputs the official outputs.
"""

import numpy as np
import pytest
from flax import nnx

from jaxgan import interop
from jaxgan.interop import torch_checkpoint as tc
from jaxgan.models.patchgan import PatchGANDiscriminator, PixelDiscriminator
from jaxgan.models.unet import UNetGenerator, unet_256
from tests.torch_reference import (  # first: skips this module without PyTorch
  abstract,
  compare,
  images,
  randomise,
  randomise_jax,
  saved,
)

# isort: split
from tests.torch_nets import (
  NLayerDiscriminator,
  TorchPixelDiscriminator,
  UnetGenerator,
  get_norm_layer,
)

torch = pytest.importorskip("torch")

# ------------------------------------------------------------ outputs match PyTorch


@pytest.mark.parametrize(
  "num_downs,norm,in_ch,out_ch,dropout",
  [
    (6, "batch", 3, 3, True),  # 64x64 -> 1x1 bottleneck, one dropout block (index 7)
    (5, "instance", 1, 3, False),
    (5, "none", 3, 1, True),  # num_downs=5: no dropout blocks
  ],
)
def test_unet_matches_official(tmp_path, num_downs, norm, in_ch, out_ch, dropout):
  tnet = randomise(
    UnetGenerator(in_ch, out_ch, num_downs, ngf=8, norm_layer=get_norm_layer(norm), use_dropout=dropout), seed=num_downs
  )
  path = saved(tnet, tmp_path, "latest_net_G.pth")
  # Load into an abstract network: no random initialisation needed.
  G = abstract(
    UNetGenerator, in_channels=in_ch, out_channels=out_ch, num_downs=num_downs, ngf=8, norm=norm, use_dropout=dropout
  )
  assert interop.state_dict_keys(G) == list(tnet.state_dict())  # same keys, same order
  params, stats = interop.load_pix2pix_generator(path, G)
  graphdef = nnx.graphdef(G)
  compare(tnet, graphdef, params, stats, images((2, 64, 64, in_ch)), squash=True)


@pytest.mark.parametrize(
  "n_layers,norm,in_ch",
  [
    (3, "batch", 6),
    (1, "instance", 3),
    (3, "instance", 1),
    (1, "none", 3),
  ],
)
def test_patchgan_matches_official(tmp_path, n_layers, norm, in_ch):
  tnet = randomise(NLayerDiscriminator(in_ch, ndf=8, n_layers=n_layers, norm_layer=get_norm_layer(norm)), seed=n_layers)
  D = PatchGANDiscriminator(in_channels=in_ch, ndf=8, n_layers=n_layers, norm=norm, rngs=nnx.Rngs(1))
  params, stats = interop.load_pix2pix_discriminator(saved(tnet, tmp_path, "latest_net_D.pth"), D)
  compare(tnet, nnx.graphdef(D), params, stats, images((2, 32, 32, in_ch), seed=1))


@pytest.mark.parametrize("norm,in_ch", [("batch", 6), ("instance", 3), ("none", 1)])
def test_pixel_matches_official(tmp_path, norm, in_ch):
  tnet = randomise(TorchPixelDiscriminator(in_ch, ndf=8, norm_layer=get_norm_layer(norm)), seed=3)
  D = PixelDiscriminator(in_channels=in_ch, ndf=8, norm=norm, rngs=nnx.Rngs(1))
  assert interop.state_dict_keys(D) == list(tnet.state_dict())
  params, stats = interop.load_pix2pix_discriminator(saved(tnet, tmp_path), D)
  compare(tnet, nnx.graphdef(D), params, stats, images((2, 8, 8, in_ch), seed=2))


def test_full_size_keys_and_shapes():
  """unet_256 (ngf 64, dropout) and the 70x70 PatchGAN: official keys and shapes, nothing run."""
  with torch.device("meta"):
    tG = UnetGenerator(3, 3, 8, ngf=64, norm_layer=get_norm_layer("batch"), use_dropout=True)
    tD = NLayerDiscriminator(6, ndf=64, n_layers=3, norm_layer=get_norm_layer("batch"))
  shapes = {}
  for name, tnet, jnet in (
    ("G", tG, abstract(unet_256)),
    ("D", tD, abstract(PatchGANDiscriminator, in_channels=6, n_layers=3)),
  ):
    km = interop.pix2pix_keymap(jnet)
    assert km.torch_keys() == list(tnet.state_dict())
    _, _, params, stats = tc.split_net(jnet)
    leaves = dict(nnx.to_flat_state(params)) | dict(nnx.to_flat_state(stats))
    want = {k: tuple(v.shape) for k, v in tnet.state_dict().items() if k not in km.ignored}
    got = {k: t.layout.torch_shape(leaves[t.path].get_value().shape) for k, t in km.targets.items()}
    assert got == want
    shapes[name] = got
  assert len(shapes["G"]) == 69 and len(shapes["D"]) == 19  # without num_batches_tracked
  assert shapes["G"]["model.model.0.weight"] == (64, 3, 4, 4)
  assert shapes["G"]["model.model.3.weight"] == (128, 3, 4, 4)  # ConvTranspose2d: (in, out, kh, kw)
  innermost = "model.model.1." + "model.3." * 6 + "model."
  assert shapes["G"][innermost + "3.weight"] == (512, 512, 4, 4)
  assert shapes["D"]["model.11.weight"] == (1, 512, 4, 4)


# ------------------------------------------------------------ jaxgan -> official


def test_round_trip_and_official_load(tmp_path):
  G = UNetGenerator(in_channels=3, out_channels=2, num_downs=5, ngf=4, norm="batch", rngs=nnx.Rngs(5))
  graphdef, params, stats = tc.split_module(G)
  params, stats = randomise_jax(params, seed=0), randomise_jax(stats, seed=1)
  sd = interop.to_torch_state_dict((graphdef, params, stats))
  path = tmp_path / "jaxgan_net_G.pth"
  interop.save_torch_state_dict(sd, path)
  # The official network loads it strictly and computes what jaxgan computes.
  tnet = UnetGenerator(3, 2, 5, ngf=4, norm_layer=get_norm_layer("batch"))
  tnet.load_state_dict(torch.load(path, weights_only=True), strict=True)
  compare(tnet, graphdef, params, stats, images((1, 32, 32, 3), seed=4), squash=True)
  # And back: identical arrays.
  params2, stats2 = interop.load_pix2pix_generator(path, (graphdef, params, stats))
  for a, b in ((params, params2), (stats, stats2)):
    fa, fb = dict(nnx.to_flat_state(a)), dict(nnx.to_flat_state(b))
    assert fa.keys() == fb.keys()
    for k, va in fa.items():
      np.testing.assert_array_equal(np.asarray(va[...]), np.asarray(fb[k][...]))
      assert va[...].dtype == fb[k][...].dtype


def test_pixel_round_trip_instance_norm():
  D = PixelDiscriminator(in_channels=3, ndf=4, norm="instance", rngs=nnx.Rngs(0))
  sd = interop.to_torch_state_dict(D)
  assert list(sd) == ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "net.5.weight", "net.5.bias"]
  params, _ = interop.load_pix2pix(sd, D)
  np.testing.assert_array_equal(np.asarray(params["to_logits"]["kernel"][...]), np.asarray(D.to_logits.kernel[...]))


# ------------------------------------------------------------ errors


@pytest.fixture
def patch_sd():
  tnet = randomise(NLayerDiscriminator(3, ndf=4, n_layers=1, norm_layer=get_norm_layer("batch")), seed=0)
  return {k: v.numpy() for k, v in tnet.state_dict().items()}


def _patch_d(norm="batch"):
  return abstract(PatchGANDiscriminator, in_channels=3, ndf=4, n_layers=1, norm=norm)


def test_missing_key_named(patch_sd):
  del patch_sd["model.3.running_var"]
  with pytest.raises(interop.StateDictMismatchError, match=r"missing.*'model\.3\.running_var'"):
    interop.load_pix2pix(patch_sd, _patch_d())


def test_extra_key_named(patch_sd):
  patch_sd["model.9.weight"] = np.zeros((1,), np.float32)
  with pytest.raises(interop.StateDictMismatchError, match=r"unexpected.*'model\.9\.weight'"):
    interop.load_pix2pix(patch_sd, _patch_d())


def test_wrong_shape_named(patch_sd):
  patch_sd["model.2.weight"] = patch_sd["model.2.weight"][:, :2]
  with pytest.raises(
    interop.StateDictMismatchError, match=r"'model\.2\.weight'.*\(8, 2, 4, 4\).*\(8, 4, 4, 4\).*convs/0/kernel"
  ):
    interop.load_pix2pix(patch_sd, _patch_d())


def test_wrong_norm_reports_every_key(patch_sd):
  with pytest.raises(interop.StateDictMismatchError) as e:
    interop.load_pix2pix(patch_sd, _patch_d("instance"))
  msg = str(e.value)
  assert "'model.2.bias'" in msg  # instance norm: conv bias expected, absent
  assert "'model.3.weight'" in msg and "'model.3.bias'" in msg  # batch-norm affine keys unused


def test_ignorable_keys():
  """num_batches_tracked, and the instance-norm running stats of old checkpoints, are dropped."""
  tnet = randomise(NLayerDiscriminator(3, ndf=4, n_layers=1, norm_layer=get_norm_layer("instance")), 0)
  sd = {k: v.numpy() for k, v in tnet.state_dict().items()}
  sd["model.3.running_mean"] = np.zeros(8, np.float32)
  sd["model.3.running_var"] = np.ones(8, np.float32)
  sd["model.3.num_batches_tracked"] = np.array(3)
  D = _patch_d("instance")
  params, stats = interop.load_pix2pix(sd, D)
  assert not list(nnx.to_flat_state(stats))
  np.testing.assert_array_equal(np.asarray(params["first"]["kernel"][...]), sd["model.0.weight"].transpose(2, 3, 1, 0))


def test_wrong_network_type():
  with pytest.raises(TypeError, match="UNetGenerator"):
    interop.load_pix2pix_generator({}, _patch_d())


def test_file_errors(tmp_path):
  D = _patch_d()
  with pytest.raises(FileNotFoundError, match="nope.pth"):
    interop.load_pix2pix_discriminator(tmp_path / "nope.pth", D)
  bad = tmp_path / "corrupt_net_D.pth"
  bad.write_bytes(b"not a checkpoint")
  with pytest.raises(ValueError, match="corrupt_net_D.pth"):
    interop.load_pix2pix_discriminator(bad, D)
  notsd = tmp_path / "list.pth"
  torch.save([torch.zeros(1)], notsd)
  with pytest.raises(ValueError, match="does not hold a state_dict"):
    tc.load_torch_state_dict(notsd)


def test_module_prefix_stripped(tmp_path):
  tnet = NLayerDiscriminator(3, ndf=4, n_layers=1)
  path = tmp_path / "dp.pth"
  torch.save({"module." + k: v for k, v in tnet.state_dict().items()}, path)
  assert set(tc.load_torch_state_dict(path)) == set(tnet.state_dict())


def test_without_torch(monkeypatch, tmp_path):
  path = tmp_path / "x.pth"
  path.write_bytes(b"")
  monkeypatch.setitem(__import__("sys").modules, "torch", None)
  with pytest.raises(ImportError, match="pip install torch"):
    tc.load_torch_state_dict(path)


def test_layouts():
  w = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
  assert tc.conv_kernel_from_torch(w).shape == (4, 5, 3, 2)
  np.testing.assert_array_equal(tc.conv_kernel_to_torch(tc.conv_kernel_from_torch(w)), w)
  assert tc.conv_transpose_kernel_from_torch(w).shape == (4, 5, 2, 3)
  np.testing.assert_array_equal(tc.conv_transpose_kernel_to_torch(tc.conv_transpose_kernel_from_torch(w)), w)
  assert tc.CONV.torch_shape((4, 5, 3, 2)) == (2, 3, 4, 5)
  assert tc.LINEAR.torch_shape((3, 7)) == (7, 3)

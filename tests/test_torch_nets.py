"""The PyTorch copies of tests/torch_nets.py against jaxgan's models, and benchmarks/torch_steps.py.

For each network new in :mod:`tests.torch_nets` (DCGAN, SinGAN, SRResNet / SRGAN, the
fast-neural-style TransformerNet, the torchvision VGG features): the trainable parameter
count equals jaxgan's at the full default sizes, and, with jaxgan's weights copied in
(NHWC / HWIO -> NCHW / OIHW), the outputs agree within 1e-4 at tiny sizes, with running
statistics (eval) and with batch statistics (train). Then every method of
``benchmarks/torch_steps.py`` runs a tiny step that changes every network it trains, and
its defaults are checked against jaxgan's Configs.
"""

import os
import sys

import jax
import numpy as np
import pytest
from flax import nnx

from tests.torch_reference import TOL, images, randomise, randomise_jax  # first: skips without PyTorch

torch = pytest.importorskip("torch")

from jaxgan.models import dcgan as jdcgan  # noqa: E402
from jaxgan.models import singan as jsingan  # noqa: E402
from jaxgan.models import srresnet as jsr  # noqa: E402
from jaxgan.models import transformer_net as jtn  # noqa: E402
from jaxgan.models import vgg as jvgg  # noqa: E402
from tests import torch_nets as tn  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

import torch_steps  # noqa: E402

# ------------------------------------------------------------ jaxgan weights -> the torch copies


def _a(var):
  return np.asarray(var[...])


def _put(param, array):
  param.data.copy_(torch.from_numpy(np.array(array, dtype=np.float32)))


def _conv(t, j):
  """``nnx.Conv`` (kernel HWIO) -> ``Conv2d`` (OIHW)."""
  _put(t.weight, _a(j.kernel).transpose(3, 2, 0, 1))
  assert (t.bias is None) == (j.bias is None)
  if j.bias is not None:
    _put(t.bias, _a(j.bias))


def _conv_transpose(t, j):
  """``jaxgan.nn.ConvTranspose`` (kernel HWIO, PyTorch orientation) -> ``ConvTranspose2d`` (IOHW)."""
  _put(t.weight, _a(j.kernel).transpose(2, 3, 0, 1))
  assert t.bias is None and j.bias is None


def _batch_norm(t, j):
  j = getattr(j, "norm", j)  # jaxgan.nn.norm.BatchNorm wraps an nnx.BatchNorm
  _put(t.weight, _a(j.scale))
  _put(t.bias, _a(j.bias))
  _put(t.running_mean, _a(j.mean))
  _put(t.running_var, _a(j.var))


def _affine_norm(t, j):
  _put(t.weight, _a(j.scale))
  _put(t.bias, _a(j.bias))


def _linear(t, j):
  _put(t.weight, _a(j.kernel).T)
  _put(t.bias, _a(j.bias))


def _randomised(ctor, seed, **kwargs):
  """A jaxgan model with :func:`randomise_jax` weights and statistics (built abstract: no init)."""
  graphdef, state = nnx.split(nnx.eval_shape(lambda: ctor(**kwargs, rngs=nnx.Rngs(0))))
  return nnx.merge(graphdef, randomise_jax(state, seed))


def _nchw(x):
  return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


@nnx.jit(static_argnames="train")
def _apply(model, *inputs, train):
  """``model(*inputs, train=train)``, compiled whole (faster than op by op, even counting the compile)."""
  return model(*inputs, train=train)


def _check(tnet, tfn, jnet, *inputs, modes=(False, True), min_std=0.05):
  """``tfn(*NCHW inputs)`` against ``jnet(*NHWC inputs, train=...)`` in eval then train mode."""
  for train in modes:
    tnet.train(train)
    with torch.no_grad():
      want = tfn(*[_nchw(x) if x.ndim == 4 else torch.from_numpy(x) for x in inputs]).numpy()
    if want.ndim == 4:
      want = want.transpose(0, 2, 3, 1)
    got = np.asarray(_apply(jnet, *inputs, train=train))
    assert got.shape == want.shape
    diff = np.max(np.abs(got - want))
    assert diff <= TOL, f"train={train}: max |jaxgan - torch| = {diff}"
    assert np.std(want) > min_std, "degenerate test: outputs nearly constant"


def _jax_count(ctor, **kwargs):
  model = nnx.eval_shape(lambda: ctor(**kwargs, rngs=nnx.Rngs(0)))
  return sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))


def _torch_count(ctor, *args, **kwargs):
  with torch.device("meta"):
    net = ctor(*args, **kwargs)
  return sum(p.numel() for p in net.parameters())


# ------------------------------------------------------------ parameter counts at full size


@pytest.mark.parametrize(
  "jax_ctor,jax_kwargs,torch_ctor,torch_kwargs,expected",
  [
    (jdcgan.DCGANGenerator, {}, tn.DCGANGenerator, {}, None),
    (jdcgan.DCGANDiscriminator, {}, tn.DCGANDiscriminator, {}, None),
    (
      jdcgan.DCGANGenerator,
      {"resolution": 32, "out_channels": 1},
      tn.DCGANGenerator,
      {"image_size": 32, "nc": 1},
      None,
    ),
    (jdcgan.DCGANDiscriminator, {"resolution": 128}, tn.DCGANDiscriminator, {"image_size": 128}, None),
    (jsingan.SinGANGenerator, {}, tn.GeneratorConcatSkip2CleanAdd, {}, 29_763),
    (jsingan.SinGANDiscriminator, {}, tn.WDiscriminator, {}, 29_185),
    (
      jsingan.SinGANGenerator,
      {"nfc": 128, "min_nfc": 128},
      tn.GeneratorConcatSkip2CleanAdd,
      {"nfc": 128, "min_nfc": 128},
      450_819,
    ),
    (
      jsingan.SinGANDiscriminator,
      {"nfc": 128, "min_nfc": 128},
      tn.WDiscriminator,
      {"nfc": 128, "min_nfc": 128},
      448_513,
    ),
    (
      jsingan.SinGANGenerator,
      {"nfc": 64, "min_nfc": 16},
      tn.GeneratorConcatSkip2CleanAdd,
      {"nfc": 64, "min_nfc": 16},
      None,
    ),
    (jsr.SRResNet, {}, tn.SRResNet, {}, 1_549_462),
    (jsr.SRResNet, {"prelu_per_channel": True}, tn.SRResNet, {"prelu_per_channel": True}, 1_550_659),
    (jsr.SRResNet, {"scale": 8}, tn.SRResNet, {"scale": 8}, 1_697_175),
    (jsr.SRGANDiscriminator, {}, tn.SRGANDiscriminator, {}, 23_565_505),
    (jtn.style_transformer, {}, tn.TransformerNet, {}, 1_679_235),
    (jvgg.VGG, {"depth": 16}, tn.vgg_features, {"depth": 16}, 14_714_688),
    (jvgg.VGG, {"depth": 19}, tn.vgg_features, {"depth": 19}, 20_024_384),
  ],
)
def test_parameter_counts(jax_ctor, jax_kwargs, torch_ctor, torch_kwargs, expected):
  want = _jax_count(jax_ctor, **jax_kwargs)
  assert _torch_count(torch_ctor, **torch_kwargs) == want
  if expected is not None:
    assert want == expected


# ------------------------------------------------------------ outputs match jaxgan


def test_dcgan_matches_jaxgan():
  nz, size = 8, 16
  G = _randomised(jdcgan.DCGANGenerator, 0, resolution=size, nz=nz, ngf=4)
  tG = tn.DCGANGenerator(nz=nz, ngf=4, nc=3, image_size=size)
  _conv_transpose(tG.main[0], G.project)
  _batch_norm(tG.main[1], G.project_bn)
  for i, (up, bn) in enumerate(zip(G.ups, G.up_bns)):
    _conv_transpose(tG.main[3 + 3 * i], up)
    _batch_norm(tG.main[4 + 3 * i], bn)
  _conv_transpose(tG.main[-2], G.to_image)
  z = np.random.default_rng(0).standard_normal((4, nz)).astype(np.float32)
  _check(tG, lambda z: tG(z.view(-1, nz, 1, 1)), G, z)

  D = _randomised(jdcgan.DCGANDiscriminator, 1, resolution=size, ndf=4)
  tD = tn.DCGANDiscriminator(nc=3, ndf=4, image_size=size)
  _conv(tD.main[0], D.downs[0])
  for i, (down, bn) in enumerate(zip(D.downs[1:], D.down_bns)):
    _conv(tD.main[2 + 3 * i], down)
    _batch_norm(tD.main[3 + 3 * i], bn)
  _conv(tD.main[-2], D.to_logit)
  x = images((4, size, size, 3), seed=1)
  _check(tD, lambda x: tD.main[:-1](x).view(-1), D, x)  # logits: jaxgan has no Sigmoid
  tD.eval()
  with torch.no_grad():  # the example's output is the Sigmoid of those logits
    np.testing.assert_allclose(tD(_nchw(x)).numpy(), jax.nn.sigmoid(_apply(D, x, train=False)), atol=TOL)


@pytest.mark.parametrize("nfc,min_nfc", [(8, 4), (8, 8)])
def test_singan_matches_jaxgan(nfc, min_nfc):
  G = _randomised(jsingan.SinGANGenerator, 2, nfc=nfc, min_nfc=min_nfc)
  D = _randomised(jsingan.SinGANDiscriminator, 3, nfc=nfc, min_nfc=min_nfc)
  tG = tn.GeneratorConcatSkip2CleanAdd(nfc=nfc, min_nfc=min_nfc)
  tD = tn.WDiscriminator(nfc=nfc, min_nfc=min_nfc)
  for jnet, tnet, tail in ((G, tG, tG.tail[0]), (D, tD, tD.tail)):
    blocks = [tnet.head] + list(tnet.body)
    assert len(blocks) == len(jnet.blocks)
    for t, j in zip(blocks, jnet.blocks):
      _conv(t.conv, j.conv)
      _batch_norm(t.norm, j.norm)
    _conv(tail, jnet.tail)
  z, prev = images((1, 22, 26, 3), seed=2), images((1, 22, 26, 3), seed=3)  # padded by 5: a 12x16 scale
  _check(tG, tG, G, z, prev)
  _check(tD, tD, D, images((1, 20, 24, 3), seed=4))


@pytest.mark.parametrize("prelu_per_channel", [False, True])
def test_srresnet_matches_jaxgan(prelu_per_channel):
  G = _randomised(jsr.SRResNet, 4, scale=4, channels=8, n_blocks=2, prelu_per_channel=prelu_per_channel)
  tG = tn.SRResNet(scale=4, channels=8, n_blocks=2, prelu_per_channel=prelu_per_channel)
  _conv(tG.conv1, G.first)
  _put(tG.prelu1.weight, _a(G.first_act.weight))
  for t, j in zip(tG.blocks, G.blocks, strict=True):
    _conv(t.conv1, j.conv1)
    _batch_norm(t.bn1, j.bn1)
    _put(t.prelu.weight, _a(j.act.weight))
    _conv(t.conv2, j.conv2)
    _batch_norm(t.bn2, j.bn2)
  _conv(tG.conv2, G.trunk_conv)
  _batch_norm(tG.bn2, G.trunk_bn)
  for i, stage in enumerate(G.upsample):
    _conv(tG.upsample[3 * i], stage.conv)
    _put(tG.upsample[3 * i + 2].weight, _a(stage.act.weight))
  _conv(tG.conv3, G.last)
  lr = np.random.default_rng(5).uniform(0, 1, (2, 6, 7, 3)).astype(np.float32)
  _check(tG, tG, G, lr)


def test_srgan_discriminator_matches_jaxgan():
  h, w, c = 16, 40, 8  # non-square: the dense layer's flattening order matters (1 x 3 x 64 features)
  D = _randomised(jsr.SRGANDiscriminator, 5, image_size=(h, w), channels=c)
  tD = tn.SRGANDiscriminator(image_size=(h, w), channels=c)
  _conv(tD.features[0], D.first)
  for i, (conv, norm) in enumerate(zip(D.convs, D.norms, strict=True)):
    _conv(tD.features[2 + 3 * i], conv)
    _batch_norm(tD.features[3 + 3 * i], norm)
  _linear(tD.classifier[1], D.dense)  # first flattened as jaxgan: (fh, fw, C)
  _linear(tD.classifier[3], D.to_logit)
  x = images((4, h, w, 3), seed=6)
  with torch.no_grad():
    naive = tD.eval()(_nchw(x)).numpy()
  kernel = _a(D.dense.kernel)  # [(fh, fw, C) flattened, 1024]; torch flattens (C, fh, fw)
  fh, fw = jsr.discriminator_feature_size(h), jsr.discriminator_feature_size(w)
  _put(
    tD.classifier[1].weight,
    kernel.reshape(fh, fw, -1, kernel.shape[-1]).transpose(3, 2, 0, 1).reshape(kernel.shape[-1], -1),
  )
  # In eval mode the logits of noise images hardly differ between images (the strided convolutions
  # average the noise out); their values still depend on the flattening order:
  assert np.max(np.abs(naive - np.asarray(_apply(D, x, train=False)))) > 100 * TOL
  _check(tD, tD, D, x, min_std=1e-3)


def test_transformer_net_matches_jaxgan():
  G = _randomised(jtn.style_transformer, 6, channels=4, n_blocks=2, output="none")
  tG = tn.TransformerNet(channels=4, n_blocks=2)
  pairs = [
    (tG.conv1, G.first, tG.in1, G.first_norm),
    (tG.conv2, G.downs[0], tG.in2, G.down_norms[0]),
    (tG.conv3, G.downs[1], tG.in3, G.down_norms[1]),
    (tG.deconv1, G.ups[0].conv, tG.in4, G.up_norms[0]),
    (tG.deconv2, G.ups[1].conv, tG.in5, G.up_norms[1]),
  ]
  for tconv, jconv, tnorm, jnorm in pairs:
    _conv(tconv.conv2d, jconv.conv)
    _affine_norm(tnorm, jnorm)
  for i, block in enumerate(G.blocks, 1):
    res = getattr(tG, f"res{i}")
    _conv(res.conv1.conv2d, block.conv1.conv)
    _affine_norm(res.in1, block.norm1)
    _conv(res.conv2.conv2d, block.conv2.conv)
    _affine_norm(res.in2, block.norm2)
  _conv(tG.deconv3.conv2d, G.last.conv)
  _check(tG, tG, G, images((2, 16, 20, 3), seed=7), modes=(True,))  # instance norm: no modes


def test_vgg_features_match_jaxgan():
  layers = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
  tnet = randomise(tn.VGGFeatures(16, layers), seed=8)
  assert list(tnet.state_dict())[-1] == "features.21.bias"  # torchvision's index of block4_conv3
  abstract = nnx.eval_shape(lambda: jvgg.VGG(depth=16, rngs=nnx.Rngs(0)))
  graphdef, state = nnx.split(abstract)
  indices = tn.vgg_relu_indices(16)
  weights = {}
  for name, relu in zip(jvgg.CONV_NAMES[16], jvgg.LAYER_NAMES[16]):
    if indices[relu] < len(tnet.features):
      conv = tnet.features[indices[relu] - 1]
      weights[name] = {"kernel": conv.weight.detach().numpy().transpose(2, 3, 1, 0), "bias": conv.bias.detach().numpy()}
  flat = []
  for path, var in nnx.to_flat_state(state):  # convs/<name>/<kernel|bias>; deeper convs stay zero
    name, leaf = path[-2], path[-1]
    value = weights[name][leaf] if name in weights else np.zeros(var.get_value().shape, np.float32)
    flat.append((path, var.replace(value=jax.numpy.asarray(value))))
  jnet = nnx.merge(graphdef, nnx.from_flat_state(flat))
  x = images((1, 16, 16, 3), seed=9)
  with torch.no_grad():
    want = tnet(_nchw(x))
  got = nnx.jit(lambda net, x: net(x, layers=layers))(jnet, x)
  assert list(want) == list(got) == list(layers)
  for name in layers:
    w = want[name].numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.asarray(got[name]), w, atol=TOL * max(1.0, float(np.abs(w).max())), err_msg=name)
    assert np.std(w) > 0.05


# ------------------------------------------------------------ benchmarks/torch_steps.py

TINY = {
  "pix2pix": {"crop_size": 32, "num_downs": 5, "ngf": 4, "ndf": 4, "batch_size": 2},
  "cyclegan": {"crop_size": 32, "ngf": 4, "ndf": 4, "n_blocks": 1, "pool_size": 1},
  "dcgan": {"image_size": 16, "nz": 8, "ngf": 4, "ndf": 4, "batch_size": 4},
  "singan": {"height": 20, "width": 24, "nfc": 4, "min_nfc": 4},
  "singan_coarsest": {"height": 20, "width": 24, "nfc": 4, "min_nfc": 4, "coarsest": True},
  "srresnet": {"crop_size": 16, "channels": 8, "n_blocks": 1, "batch_size": 2},
  "srgan": {"crop_size": 16, "channels": 8, "n_blocks": 1, "d_channels": 8, "batch_size": 2},
  "style": {"image_size": 16, "channels": 4, "n_blocks": 1, "batch_size": 2},
  "style_linear": {
    "image_size": 16,
    "channels": 4,
    "n_blocks": 1,
    "batch_size": 1,
    "g_output": "none",
    "tv_weight": 1e-3,
  },
}


def test_every_method_has_a_tiny_setting():
  assert {name.split("_")[0] for name in TINY} == set(torch_steps.METHODS)


@pytest.mark.parametrize("name", list(TINY))
def test_step_runs_and_trains_every_network(name):
  method = name.split("_")[0]
  torch.set_num_threads(1)
  result, nets = torch_steps.make_with_networks(method, seed=1, device="cpu", **TINY[name])
  assert isinstance(result, torch_steps.TorchStep) and result.name == method
  assert result.params == sum(p.numel() for net in nets.values() for p in net.parameters() if p.requires_grad)
  assert result.info["method"] == method and result.info["device"] == "cpu"
  before = {k: [p.detach().clone() for p in net.parameters()] for k, net in nets.items()}
  for _ in range(2):  # the second step: the image pools are full (CycleGAN)
    assert result.step() is None
  for k, net in nets.items():
    after = list(net.parameters())
    assert all(torch.isfinite(p).all() for p in after), k
    changed = sum(not torch.equal(a, b) for a, b in zip(before[k], after))
    # Most, not all: a conv bias right before a norm gets no gradient (the norm removes it).
    assert changed >= len(after) / 2, f"{name}: {len(after) - changed} of {len(after)} parameters of {k} unchanged"


SINGAN_PYRAMID = {
  "shapes": ((12, 16), (15, 20), (19, 25)),
  "widths": ((8, 8),) * 3,
  "height": 19,
  "width": 25,
  "nfc": 8,
  "min_nfc": 8,
}


def _singan_step_trains_g(**overrides):
  torch.set_num_threads(1)
  result, nets = torch_steps.make_with_networks("singan", seed=1, device="cpu", **overrides)
  before = [p.detach().clone() for p in nets["G"].parameters()]
  assert result.step() is None
  after = list(nets["G"].parameters())
  assert all(torch.isfinite(p).all() for p in after)
  assert sum(not torch.equal(a, b) for a, b in zip(before, after)) >= len(after) / 2
  return result


def test_singan_step_runs_the_frozen_coarser_generators(monkeypatch):
  calls = []
  forward = tn.GeneratorConcatSkip2CleanAdd.forward

  def counting(self, x, y):
    calls.append((self.training, torch.is_grad_enabled(), tuple(x.shape[2:])))
    return forward(self, x, y)

  monkeypatch.setattr(tn.GeneratorConcatSkip2CleanAdd, "forward", counting)
  result = _singan_step_trains_g(**SINGAN_PYRAMID, coarsest=False)
  assert "frozen generator" in result.info["prev"] and result.info["amp"] == 0.1
  frozen = [c for c in calls if not c[0]]
  # 'rec' once at construction, then 'rand' in each of the 3 critic steps: 2 coarser scales each.
  assert len(frozen) == 2 * (1 + 3) and not any(c[1] for c in frozen)
  assert {c[2] for c in frozen} == {(12 + 10, 16 + 10), (15 + 10, 20 + 10)}
  assert sum(c[0] for c in calls) == 3 + 3  # this scale's G: 3 critic steps, 3 reconstructions


def test_singan_step_with_one_scale_and_without_shapes():
  _singan_step_trains_g(
    **{**SINGAN_PYRAMID, "shapes": ((19, 25),), "widths": ((8, 8),)}, coarsest=True, noise_amps=(1.0,)
  )
  result = _singan_step_trains_g(height=19, width=25, nfc=8, min_nfc=8, coarsest=False)
  assert result.info["prev"] == "fixed image (draw_concat replaced)" and result.info["shapes"] is None
  with pytest.raises(ValueError, match="one entry per scale"):
    torch_steps.make("singan", **SINGAN_PYRAMID, noise_amps=(0.1,), device="cpu")
  with pytest.raises(ValueError, match="coarsest"):
    torch_steps.make("singan", **SINGAN_PYRAMID, coarsest=True, device="cpu")


def test_make_rejects_unknown_names():
  with pytest.raises(ValueError, match="unknown method"):
    torch_steps.make("wgan")
  with pytest.raises(ValueError, match=r"unknown override\(s\) \['img_size'\]"):
    torch_steps.make("dcgan", img_size=16)


def test_defaults_are_jaxgans():
  from jaxgan.data import single_image
  from jaxgan.methods import cyclegan, dcgan, pix2pix, singan, sr, style_transfer
  from jaxgan.models import patchgan, resnet_generator, unet

  d = torch_steps.DEFAULTS

  def same(method, config, names):
    for name in names:
      assert d[method][name] == getattr(config, name), f"{method}: {name}"

  translation = (
    "crop_size",
    "batch_size",
    "input_nc",
    "output_nc",
    "ngf",
    "ndf",
    "learning_rate",
    "beta1",
    "beta2",
    "norm",
    "dropout",
    "gan_mode",
  )
  c = pix2pix.Config()
  same("pix2pix", c, translation + ("lambda_L1",))
  assert d["pix2pix"]["num_downs"] == unet.GENERATORS[c.netG].keywords["num_downs"]
  assert d["pix2pix"]["n_layers_D"] == patchgan.DISCRIMINATORS[c.netD].keywords["n_layers"]
  c = cyclegan.Config()
  same("cyclegan", c, translation + ("lambda_A", "lambda_B", "lambda_identity", "pool_size"))
  assert d["cyclegan"]["n_blocks"] == resnet_generator.GENERATORS[c.netG].keywords["n_blocks"]
  assert d["cyclegan"]["n_layers_D"] == patchgan.DISCRIMINATORS[c.netD].keywords["n_layers"]
  c = dcgan.Config()
  same("dcgan", c, ("image_size", "channels", "nz", "ngf", "ndf", "batch_size", "learning_rate", "beta1", "beta2"))
  assert (c.loss, c.d_steps, c.noise, c.gp_weight) == ("non_saturating", 1, "normal", 0.0)
  c = singan.Config()
  same(
    "singan",
    c,
    (
      "lr_g",
      "lr_d",
      "beta1",
      "beta2",
      "lr_milestone",
      "lr_gamma",
      "d_steps",
      "g_steps",
      "gp_weight",
      "alpha",
      "noise_amp",
    ),
  )
  assert (c.gp_norm, c.g_adv_grad) == ("pixel", "official")
  shapes = single_image.pyramid_spec(188, 250, max_size=c.max_size).shapes
  assert (d["singan"]["height"], d["singan"]["width"]) == shapes[-1]
  assert (d["singan"]["nfc"], d["singan"]["min_nfc"]) == jsingan.channels_at_scale(
    len(shapes) - 1, nfc=c.nfc, min_nfc=c.min_nfc
  )
  sr_fields = ("scale", "crop_size", "batch_size", "channels", "prelu_per_channel", "learning_rate", "beta1", "beta2")
  c = sr.Config()
  same("srresnet", c, sr_fields)
  assert (c.loss, c.generator, d["srresnet"]["n_blocks"]) == ("mse", "srresnet", c.generator_blocks)
  c = sr.Config(loss="srgan")
  same("srgan", c, sr_fields + ("d_channels", "vgg_rescale", "adversarial_weight"))
  assert (d["srgan"]["content_layer"], d["srgan"]["vgg_depth"]) == (c.vgg_layer, sr.VGG_DEPTH)
  c = style_transfer.Config()
  same(
    "style",
    c,
    (
      "image_size",
      "batch_size",
      "learning_rate",
      "beta1",
      "beta2",
      "content_weight",
      "style_weight",
      "tv_weight",
      "content_layers",
      "style_layers",
      "vgg_depth",
      "g_output",
    ),
  )
  preset = jtn.style_transformer.keywords
  assert (d["style"]["channels"], d["style"]["n_blocks"], c.norm) == (
    preset["channels"],
    preset["n_blocks"],
    preset["norm"],
  )

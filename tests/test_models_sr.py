"""SR and perceptual-loss networks: pixel shuffle, PReLU, SRResNet / SRGAN, Johnson's TransformerNet.

Parameter counts are taken with ``nnx.eval_shape`` (nothing allocated) and output shapes
with ``jax.eval_shape``; tiny networks are compared with PyTorch references built here.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxgan.models import srresnet as sr
from jaxgan.models import transformer_net as tn
from jaxgan.nn import count_params
from jaxgan.nn.pixel_shuffle import PReLU, pixel_shuffle, pixel_unshuffle


def _count(make, **kwargs):
  return count_params(nnx.eval_shape(lambda: make(rngs=nnx.Rngs(0), **kwargs)))


def _out_shape(make, shape, **kwargs):
  """Output shape of a freshly built network, without allocating its parameters."""

  def run(x):
    return make(rngs=nnx.Rngs(0), **kwargs)(x, train=True)

  return jax.eval_shape(run, jax.ShapeDtypeStruct(shape, jnp.float32)).shape


# ------------------------------------------------------------ pixel shuffle and PReLU


def _shuffle_reference(x, r):
  """out[n, h r + i, w r + j, c] = x[n, h, w, c r^2 + i r + j], written out."""
  b, h, w, crr = x.shape
  c = crr // (r * r)
  out = np.zeros((b, h * r, w * r, c), x.dtype)
  for i in range(r):
    for j in range(r):
      for k in range(c):
        out[:, i::r, j::r, k] = x[..., k * r * r + i * r + j]
  return out


@pytest.mark.parametrize("shape, r", [((2, 3, 5, 4), 2), ((1, 2, 2, 18), 3), ((1, 4, 3, 32), 4), ((1, 1, 1, 1), 1)])
def test_pixel_shuffle_matches_the_reference_and_unshuffle_inverts_it(shape, r):
  x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
  y = pixel_shuffle(jnp.asarray(x), r)
  np.testing.assert_array_equal(y, _shuffle_reference(x, r))
  np.testing.assert_array_equal(pixel_unshuffle(y, r), x)


def test_pixel_shuffle_matches_torch():
  torch = pytest.importorskip("torch")
  x = np.random.default_rng(1).standard_normal((2, 3, 4, 12)).astype(np.float32)  # C = 3 * 2^2
  for r in (1, 2):
    expected = torch.nn.functional.pixel_shuffle(torch.from_numpy(x.transpose(0, 3, 1, 2)), r)
    np.testing.assert_array_equal(pixel_shuffle(jnp.asarray(x), r), expected.numpy().transpose(0, 2, 3, 1))


def test_pixel_shuffle_errors_name_the_values():
  with pytest.raises(ValueError, match=r"multiple of 4.*\(1, 2, 2, 6\)"):
    pixel_shuffle(jnp.zeros((1, 2, 2, 6)), 2)
  with pytest.raises(ValueError, match=r"\(2, 2, 8\)"):
    pixel_shuffle(jnp.zeros((2, 2, 8)), 2)
  for r in (0, 2.0, True):
    with pytest.raises(ValueError, match=f"got {r!r}"):
      pixel_shuffle(jnp.zeros((1, 2, 2, 4)), r)
  with pytest.raises(ValueError, match=r"multiples of 2.*\(1, 3, 2, 1\)"):
    pixel_unshuffle(jnp.zeros((1, 3, 2, 1)), 2)


def test_prelu_is_torch_prelu():
  x = jnp.asarray([[-2.0, -0.5, 0.0, 3.0]])
  single = PReLU()
  assert single.weight[...].tolist() == [0.25]
  np.testing.assert_allclose(single(x), [[-0.5, -0.125, 0.0, 3.0]])
  per_channel = PReLU(4)
  per_channel.weight[...] = jnp.asarray([0.0, 1.0, 2.0, 3.0])
  np.testing.assert_allclose(per_channel(x), [[0.0, -0.5, 0.0, 3.0]])  # slope per last-axis channel
  with pytest.raises(ValueError, match=r"4 channels.*\(1, 3\)"):
    per_channel(jnp.zeros((1, 3)))
  with pytest.raises(ValueError, match="num_parameters"):
    PReLU(0)


# ------------------------------------------------------------ parameter counts


@pytest.mark.parametrize(
  "make, kwargs, expected",
  [
    (sr.srresnet_x4, {}, 1_549_462),  # the SRResNet of Ledig et al. (bias everywhere, 1 slope per PReLU)
    (sr.srresnet_x4, {"prelu_per_channel": True}, 1_549_462 + 19 * 63),
    (sr.srresnet_x2, {}, 1_549_462 - 147_713),  # one conv(64 -> 256) + PReLU stage less
    (sr.srresnet_x8, {}, 1_549_462 + 147_713),
    (sr.srgan_discriminator, {}, 23_565_505),  # 96x96 inputs: dense layer on 6x6x512
    (sr.SRGANDiscriminator, {"image_size": 128}, 23_565_505 + (8 * 8 - 6 * 6) * 512 * 1024),
    (tn.style_transformer, {}, 1_679_235),  # the PyTorch fast_neural_style TransformerNet
    (tn.style_transformer, {"upsample": "transpose", "norm": "batch"}, 1_679_235),
    (tn.johnson_sr_x4, {}, 401_859),
    (tn.johnson_sr_x4, {"norm": "instance", "upsample": "nearest"}, 401_859),
    (tn.johnson_sr_x8, {}, 401_859 + 9 * 64 * 64 + 64 + 2 * 64),  # one more stride-1/2 conv + norm
  ],
)
def test_parameter_counts(make, kwargs, expected):
  assert _count(make, **kwargs) == expected


def test_srgan_discriminator_biases_under_batch_norm_make_the_paper_count():
  D = nnx.eval_shape(lambda: sr.srgan_discriminator(rngs=nnx.Rngs(0)))
  biases = sum(conv.bias.shape[0] for conv in D.convs)
  assert biases == 1_856 and D.dense.kernel.shape == (6 * 6 * 512, 1024)
  assert sr.discriminator_feature_size(96) == 6 and sr.discriminator_feature_size(100) == 7


# ------------------------------------------------------------ output shapes


@pytest.mark.parametrize("name, make", sorted(sr.GENERATORS.items()))
def test_srresnet_presets_upscale_by_their_scale(name, make):
  scale = int(name[-1])
  assert _out_shape(make, (2, 6, 10, 3)) == (2, 6 * scale, 10 * scale, 3)
  assert _out_shape(make, (1, 1, 1, 3)) == (1, scale, scale, 3)


def test_srresnet_any_power_of_two_and_channels():
  assert _out_shape(sr.SRResNet, (1, 2, 3, 1), scale=16, in_channels=1, out_channels=2, n_blocks=1) == (1, 32, 48, 2)


def test_discriminator_output_and_size_check():
  assert _out_shape(sr.srgan_discriminator, (3, 96, 96, 3)) == (3,)
  assert _out_shape(sr.SRGANDiscriminator, (2, 40, 24, 3), image_size=(40, 24)) == (2,)
  with pytest.raises(ValueError, match=r"built for \[B, 96, 96, 3\].*\(1, 128, 128, 3\)"):
    _out_shape(sr.srgan_discriminator, (1, 128, 128, 3))
  with pytest.raises(ValueError, match="image_size"):
    sr.SRGANDiscriminator(image_size=0, rngs=nnx.Rngs(0))


@pytest.mark.parametrize(
  "name, make, shape, expected",
  [
    ("style_transformer", tn.style_transformer, (2, 32, 20, 3), (2, 32, 20, 3)),
    ("style_transformer", tn.style_transformer, (1, 8, 8, 3), (1, 8, 8, 3)),
    ("johnson_sr_x4", tn.johnson_sr_x4, (2, 18, 5, 3), (2, 72, 20, 3)),
    ("johnson_sr_x8", tn.johnson_sr_x8, (1, 9, 7, 3), (1, 72, 56, 3)),
  ],
)
def test_transformer_presets_output_shapes(name, make, shape, expected):
  assert set(tn.PRESETS) == {"style_transformer", "johnson_sr_x4", "johnson_sr_x8"}
  assert tn.PRESETS[name] is make
  assert _out_shape(make, shape) == expected


# ------------------------------------------------------------ bad input


@pytest.mark.parametrize("scale", [3, 6, 1, 0, -4, 4.0, True])
def test_srresnet_scale_must_be_a_power_of_two(scale):
  with pytest.raises(ValueError, match=f"power of 2.*got {scale!r}"):
    sr.SRResNet(scale=scale, channels=2, n_blocks=0, rngs=nnx.Rngs(0))
  with pytest.raises(ValueError, match=f"power of 2.*got {scale!r}"):
    tn.johnson_sr(scale, rngs=nnx.Rngs(0))


def test_srresnet_bad_input_channels_and_blocks():
  with pytest.raises(ValueError, match=r"\[B, H, W, 3\].*\(1, 8, 8, 1\)"):
    _out_shape(sr.srresnet_x4, (1, 8, 8, 1))
  with pytest.raises(ValueError, match="n_blocks.*-1"):
    sr.SRResNet(n_blocks=-1, rngs=nnx.Rngs(0))


@pytest.mark.parametrize("size", [(30, 32), (32, 34), (33, 33)])
def test_style_transformer_sides_must_be_multiples_of_4(size):
  h, w = size
  with pytest.raises(ValueError, match=f"image size {h}x{w} is not a multiple of 4"):
    _out_shape(tn.style_transformer, (1, h, w, 3))


def test_transformer_net_bad_options_and_small_inputs():
  with pytest.raises(ValueError, match="4x4 is too small.*at least 8"):
    _out_shape(tn.style_transformer, (1, 4, 4, 3))
  with pytest.raises(ValueError, match="4x6 is too small.*at least 5"):
    _out_shape(tn.johnson_sr_x4, (1, 4, 6, 3))
  with pytest.raises(ValueError, match=r"\[B, H, W, 3\]"):
    _out_shape(tn.style_transformer, (1, 8, 8, 4))
  for option, value in (
    ("norm", "group"),
    ("upsample", "bilinear"),
    ("output", "sigmoid"),
    ("n_blocks", -1),
    ("channels", 0),
  ):
    with pytest.raises(ValueError, match=f"{option}.*{value!r}"):
      tn.TransformerNet(**{option: value}, rngs=nnx.Rngs(0))
  with pytest.raises(ValueError, match=r"n_up \(1\) must be at least n_down \(2\)"):
    tn.TransformerNet(n_up=1, rngs=nnx.Rngs(0))


# ------------------------------------------------------------ behaviour


def test_srresnet_output_is_linear_and_batch_norm_follows_train():
  G = sr.SRResNet(scale=2, channels=8, n_blocks=1, rngs=nnx.Rngs(0))
  x = jax.random.uniform(jax.random.key(0), (2, 6, 6, 3))
  run = nnx.jit(lambda G, x, big: G(x * big, train=False))
  assert float(jnp.max(jnp.abs(run(G, x, 1000.0)))) > 1.0  # no squashing output activation
  before = G.trunk_bn.norm.mean[...]
  nnx.jit(lambda G, x: G(x, train=True))(G, x)
  assert not np.allclose(G.trunk_bn.norm.mean[...], before)  # running statistics moved
  assert G.first_act.weight[...].tolist() == [0.25]


def test_style_transformer_output_in_range_and_instance_norm_ignores_affine_input_changes():
  net = tn.TransformerNet(channels=4, n_blocks=1, rngs=nnx.Rngs(0))
  x = jax.random.uniform(jax.random.key(0), (1, 16, 12, 3), minval=-1, maxval=1)
  run = nnx.jit(lambda net, x: net(x, train=False))
  y = run(net, x)
  assert y.shape == x.shape and float(jnp.max(jnp.abs(y))) <= 1.0 and float(jnp.std(y)) > 0
  # Instance norm right after the first convolution: [-1, 1] and [0, 1] inputs give the same image.
  np.testing.assert_allclose(run(net, (x + 1) / 2), y, atol=1e-3)


# ------------------------------------------------------------ against PyTorch


def _torch_conv(torch, conv, nnx_conv, transpose=False):
  kernel = np.asarray(nnx_conv.kernel[...])
  conv.weight.data = torch.from_numpy(kernel.transpose((2, 3, 0, 1) if transpose else (3, 2, 0, 1)).copy())
  conv.bias.data = torch.from_numpy(np.asarray(nnx_conv.bias[...]).copy())


def _randomise_norm(norm, key):
  """Random affine parameters (and running statistics) so that the comparison is not vacuous."""
  inner = getattr(norm, "norm", norm)
  k = jax.random.split(key, 4)
  n = inner.scale.shape[0]
  inner.scale[...] = 1 + 0.3 * jax.random.normal(k[0], (n,))
  inner.bias[...] = 0.3 * jax.random.normal(k[1], (n,))
  if hasattr(inner, "mean"):
    inner.mean[...] = 0.3 * jax.random.normal(k[2], (n,))
    inner.var[...] = jax.random.uniform(k[3], (n,), minval=0.5, maxval=2.0)


def _torch_norm(torch, kind, norm):
  inner = getattr(norm, "norm", norm)
  n = inner.scale.shape[0]
  layer = torch.nn.BatchNorm2d(n) if kind == "batch" else torch.nn.InstanceNorm2d(n, affine=True)
  layer.weight.data = torch.from_numpy(np.asarray(inner.scale[...]).copy())
  layer.bias.data = torch.from_numpy(np.asarray(inner.bias[...]).copy())
  if kind == "batch":
    layer.running_mean.data = torch.from_numpy(np.asarray(inner.mean[...]).copy())
    layer.running_var.data = torch.from_numpy(np.asarray(inner.var[...]).copy())
  return layer


def test_srresnet_matches_a_pytorch_srresnet():
  torch = pytest.importorskip("torch")
  nn = torch.nn
  G = sr.SRResNet(scale=4, channels=4, n_blocks=2, rngs=nnx.Rngs(0))
  keys = iter(jax.random.split(jax.random.key(1), 16))
  norms = [n for b in G.blocks for n in (b.bn1, b.bn2)] + [G.trunk_bn]
  for norm in norms:
    _randomise_norm(norm, next(keys))
  for act in [G.first_act] + [b.act for b in G.blocks] + [s.act for s in G.upsample]:
    act.weight[...] = jax.random.uniform(next(keys), (1,))

  def conv(nnx_conv):
    k = nnx_conv.kernel.shape[0]
    layer = nn.Conv2d(nnx_conv.kernel.shape[2], nnx_conv.kernel.shape[3], k, padding=k // 2)
    _torch_conv(torch, layer, nnx_conv)
    return layer

  def prelu(act):
    layer = nn.PReLU()
    layer.weight.data = torch.from_numpy(np.asarray(act.weight[...]).copy())
    return layer

  class Block(nn.Module):
    def __init__(self, b):
      super().__init__()
      self.body = nn.Sequential(
        conv(b.conv1),
        _torch_norm(torch, "batch", b.bn1),
        prelu(b.act),
        conv(b.conv2),
        _torch_norm(torch, "batch", b.bn2),
      )

    def forward(self, x):
      return x + self.body(x)

  head = nn.Sequential(conv(G.first), prelu(G.first_act))
  trunk = nn.Sequential(*[Block(b) for b in G.blocks], conv(G.trunk_conv), _torch_norm(torch, "batch", G.trunk_bn))
  tail = nn.Sequential(*[m for s in G.upsample for m in (conv(s.conv), nn.PixelShuffle(2), prelu(s.act))], conv(G.last))
  for module in (head, trunk, tail):
    module.eval()
  x = np.random.default_rng(0).uniform(size=(2, 5, 6, 3)).astype(np.float32)
  with torch.no_grad():
    h = head(torch.from_numpy(x.transpose(0, 3, 1, 2)))
    expected = tail(h + trunk(h)).numpy().transpose(0, 2, 3, 1)
  y = nnx.jit(lambda G, x: G(x, train=False))(G, jnp.asarray(x))
  assert y.shape == (2, 20, 24, 3)
  np.testing.assert_allclose(y, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("norm, upsample", [("instance", "nearest"), ("batch", "transpose")])
def test_transformer_net_matches_the_pytorch_example_architecture(norm, upsample):
  """Tiny widths of fast_neural_style's TransformerNet (ConvLayer, ResidualBlock, UpsampleConvLayer)."""
  torch = pytest.importorskip("torch")
  nn = torch.nn
  net = tn.TransformerNet(channels=2, n_blocks=2, norm=norm, upsample=upsample, output="none", rngs=nnx.Rngs(0))
  all_norms = [net.first_norm, *net.down_norms, *[n for b in net.blocks for n in (b.norm1, b.norm2)], *net.up_norms]
  for norm_layer, key in zip(all_norms, jax.random.split(jax.random.key(2), len(all_norms))):
    _randomise_norm(norm_layer, key)

  def conv_layer(layer, stride=1):
    nnx_conv = layer.conv
    k = nnx_conv.kernel.shape[0]
    c = nn.Conv2d(nnx_conv.kernel.shape[2], nnx_conv.kernel.shape[3], k, stride)
    _torch_conv(torch, c, nnx_conv)
    return nn.Sequential(nn.ReflectionPad2d(k // 2), c)

  def up_layer(layer):
    if upsample == "nearest":
      return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv_layer(layer.conv))
    c = nn.ConvTranspose2d(*layer.conv.kernel.shape[2:], 3, stride=2, padding=1, output_padding=1)
    _torch_conv(torch, c, layer.conv, transpose=True)
    return c

  class Block(nn.Module):
    def __init__(self, b):
      super().__init__()
      self.body = nn.Sequential(
        conv_layer(b.conv1),
        _torch_norm(torch, norm, b.norm1),
        nn.ReLU(),
        conv_layer(b.conv2),
        _torch_norm(torch, norm, b.norm2),
      )

    def forward(self, x):
      return x + self.body(x)

  layers = [conv_layer(net.first), _torch_norm(torch, norm, net.first_norm), nn.ReLU()]
  for down, n in zip(net.downs, net.down_norms):
    layers += [conv_layer(down, stride=2), _torch_norm(torch, norm, n), nn.ReLU()]
  layers += [Block(b) for b in net.blocks]
  for up, n in zip(net.ups, net.up_norms):
    layers += [up_layer(up), _torch_norm(torch, norm, n), nn.ReLU()]
  reference = nn.Sequential(*layers, conv_layer(net.last)).eval()
  x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 12, 3)).astype(np.float32)
  with torch.no_grad():
    expected = reference(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
  y = nnx.jit(lambda net, x: net(x, train=False))(net, jnp.asarray(x))
  np.testing.assert_allclose(y, expected, atol=1e-4, rtol=1e-4)

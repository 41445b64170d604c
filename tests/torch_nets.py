"""PyTorch copies of the official networks that jaxgan reimplements, in one plain module.

Importable without pytest (``benchmarks/torch_steps.py`` uses it); it imports torch at
top level, so test modules import :mod:`tests.torch_reference` (which skips them when
PyTorch is missing) or call ``pytest.importorskip('torch')`` first.

Each network copies its source module for module (the same attribute names,
``nn.Sequential`` indices, in-place activations and ``use_bias`` rules), so its
state-dict keys are the source's and its outputs the source's outputs:

* junyanz/pytorch-CycleGAN-and-pix2pix, ``models/networks.py``: the norms,
  :class:`NLayerDiscriminator` (PatchGAN), :class:`UnetSkipConnectionBlock` /
  :class:`UnetGenerator`, :class:`TorchPixelDiscriminator`, :class:`ResnetBlock` /
  :class:`TorchResnetGenerator` and :func:`init_weights` (``init_type='normal'``);
* pytorch/examples ``dcgan/main.py``: :class:`DCGANGenerator`, :class:`DCGANDiscriminator`
  (the example's 64x64 ``nn.Sequential`` at ``image_size=64``; other powers of two
  >= 16 add or drop stride-2 layers as jaxgan's DCGAN does) and
  :func:`dcgan_weights_init`;
* tamarott/SinGAN, ``SinGAN/models.py``: :class:`ConvBlock`, :class:`WDiscriminator`,
  :class:`GeneratorConcatSkip2CleanAdd` and :func:`singan_weights_init` (the
  constructors take the ``opt`` fields they read as keywords);
* pytorch/examples ``fast_neural_style/neural_style/transformer_net.py``:
  :class:`TransformerNet` (``ConvLayer``, ``ResidualBlock``, ``UpsampleConvLayer``; the
  width and the number of residual blocks are keywords, the example's 32 and 5 by
  default);
* torchvision ``models/vgg.py``: :func:`vgg_features` (``vgg16().features`` /
  ``vgg19().features``, the same indices) and :class:`VGGFeatures`, which returns named
  ReLU activations as the fast-neural-style example's ``Vgg16``.

SRResNet and the SRGAN discriminator (Ledig et al. 2017) have no official PyTorch code:
:class:`SRResNet` and :class:`SRGANDiscriminator` follow the paper's Fig. 4 with the
choices of :mod:`jaxgan.models.srresnet` (a bias in every convolution, one PReLU slope
per layer by default, a dense layer on the flattened ``ceil(H / 16) x ceil(W / 16)``
feature map, no output activation; a logit out of D).
"""

import functools
import math

import torch
from torch import nn

# ------------------------------------------------------------ pix2pix / CycleGAN (networks.py)


def get_norm_layer(norm_type):
  if norm_type == "batch":
    return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
  if norm_type == "instance":
    return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
  return lambda x: nn.Identity()


def use_bias_for(norm_layer):
  if type(norm_layer) is functools.partial:
    return norm_layer.func == nn.InstanceNorm2d
  return norm_layer == nn.InstanceNorm2d


def init_weights(net, init_gain=0.02):
  """The official ``init_weights(net, 'normal', init_gain)``: conv / linear weights N(0, gain),
  their biases 0; batch-norm scales N(1, gain), biases 0."""

  def init(m):
    name = m.__class__.__name__
    if hasattr(m, "weight") and ("Conv" in name or "Linear" in name):
      nn.init.normal_(m.weight.data, 0.0, init_gain)
      if getattr(m, "bias", None) is not None:
        nn.init.constant_(m.bias.data, 0.0)
    elif "BatchNorm2d" in name:
      nn.init.normal_(m.weight.data, 1.0, init_gain)
      nn.init.constant_(m.bias.data, 0.0)

  net.apply(init)
  return net


class NLayerDiscriminator(nn.Module):
  def __init__(self, input_nc, ndf=64, n_layers=3, norm_layer=nn.BatchNorm2d):
    super().__init__()
    use_bias = use_bias_for(norm_layer)
    kw, padw = 4, 1
    sequence = [nn.Conv2d(input_nc, ndf, kernel_size=kw, stride=2, padding=padw), nn.LeakyReLU(0.2, True)]
    nf_mult = 1
    for n in range(1, n_layers):
      nf_mult_prev, nf_mult = nf_mult, min(2**n, 8)
      sequence += [
        nn.Conv2d(ndf * nf_mult_prev, ndf * nf_mult, kernel_size=kw, stride=2, padding=padw, bias=use_bias),
        norm_layer(ndf * nf_mult),
        nn.LeakyReLU(0.2, True),
      ]
    nf_mult_prev, nf_mult = nf_mult, min(2**n_layers, 8)
    sequence += [
      nn.Conv2d(ndf * nf_mult_prev, ndf * nf_mult, kernel_size=kw, stride=1, padding=padw, bias=use_bias),
      norm_layer(ndf * nf_mult),
      nn.LeakyReLU(0.2, True),
    ]
    sequence += [nn.Conv2d(ndf * nf_mult, 1, kernel_size=kw, stride=1, padding=padw)]
    self.model = nn.Sequential(*sequence)

  def forward(self, x):
    return self.model(x)


class UnetSkipConnectionBlock(nn.Module):
  def __init__(
    self,
    outer_nc,
    inner_nc,
    input_nc=None,
    submodule=None,
    outermost=False,
    innermost=False,
    norm_layer=nn.BatchNorm2d,
    use_dropout=False,
  ):
    super().__init__()
    self.outermost = outermost
    use_bias = use_bias_for(norm_layer)
    if input_nc is None:
      input_nc = outer_nc
    downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
    downrelu = nn.LeakyReLU(0.2, True)
    downnorm = norm_layer(inner_nc)
    uprelu = nn.ReLU(True)
    upnorm = norm_layer(outer_nc)
    if outermost:
      upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1)
      model = [downconv] + [submodule] + [uprelu, upconv, nn.Tanh()]
    elif innermost:
      upconv = nn.ConvTranspose2d(inner_nc, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
      model = [downrelu, downconv] + [uprelu, upconv, upnorm]
    else:
      upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
      model = [downrelu, downconv, downnorm] + [submodule] + [uprelu, upconv, upnorm]
      if use_dropout:
        model = model + [nn.Dropout(0.5)]
    self.model = nn.Sequential(*model)

  def forward(self, x):
    if self.outermost:
      return self.model(x)
    return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
  def __init__(self, input_nc, output_nc, num_downs, ngf=64, norm_layer=nn.BatchNorm2d, use_dropout=False):
    super().__init__()
    block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=None, norm_layer=norm_layer, innermost=True)
    for _ in range(num_downs - 5):
      block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm_layer=norm_layer, use_dropout=use_dropout)
    block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, norm_layer=norm_layer)
    block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, norm_layer=norm_layer)
    block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, norm_layer=norm_layer)
    self.model = UnetSkipConnectionBlock(
      output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, norm_layer=norm_layer
    )

  def forward(self, x):
    return self.model(x)


class TorchPixelDiscriminator(nn.Module):
  def __init__(self, input_nc, ndf=64, norm_layer=nn.BatchNorm2d):
    super().__init__()
    use_bias = use_bias_for(norm_layer)
    self.net = nn.Sequential(
      nn.Conv2d(input_nc, ndf, kernel_size=1, stride=1, padding=0),
      nn.LeakyReLU(0.2, True),
      nn.Conv2d(ndf, ndf * 2, kernel_size=1, stride=1, padding=0, bias=use_bias),
      norm_layer(ndf * 2),
      nn.LeakyReLU(0.2, True),
      nn.Conv2d(ndf * 2, 1, kernel_size=1, stride=1, padding=0, bias=use_bias),
    )

  def forward(self, x):
    return self.net(x)


class ResnetBlock(nn.Module):
  def __init__(self, dim, padding_type, norm_layer, use_dropout, use_bias):
    super().__init__()
    self.conv_block = self.build_conv_block(dim, padding_type, norm_layer, use_dropout, use_bias)

  def build_conv_block(self, dim, padding_type, norm_layer, use_dropout, use_bias):
    conv_block = []
    p = 0
    if padding_type == "reflect":
      conv_block += [nn.ReflectionPad2d(1)]
    elif padding_type == "replicate":
      conv_block += [nn.ReplicationPad2d(1)]
    elif padding_type == "zero":
      p = 1
    else:
      raise NotImplementedError(f"padding [{padding_type}] is not implemented")
    conv_block += [nn.Conv2d(dim, dim, kernel_size=3, padding=p, bias=use_bias), norm_layer(dim), nn.ReLU(True)]
    if use_dropout:
      conv_block += [nn.Dropout(0.5)]
    p = 0
    if padding_type == "reflect":
      conv_block += [nn.ReflectionPad2d(1)]
    elif padding_type == "replicate":
      conv_block += [nn.ReplicationPad2d(1)]
    elif padding_type == "zero":
      p = 1
    conv_block += [nn.Conv2d(dim, dim, kernel_size=3, padding=p, bias=use_bias), norm_layer(dim)]
    return nn.Sequential(*conv_block)

  def forward(self, x):
    return x + self.conv_block(x)


class TorchResnetGenerator(nn.Module):
  def __init__(
    self, input_nc, output_nc, ngf=64, norm_layer=nn.BatchNorm2d, use_dropout=False, n_blocks=6, padding_type="reflect"
  ):
    assert n_blocks >= 0
    super().__init__()
    use_bias = use_bias_for(norm_layer)
    model = [
      nn.ReflectionPad2d(3),
      nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=use_bias),
      norm_layer(ngf),
      nn.ReLU(True),
    ]
    n_downsampling = 2
    for i in range(n_downsampling):
      mult = 2**i
      model += [
        nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=use_bias),
        norm_layer(ngf * mult * 2),
        nn.ReLU(True),
      ]
    mult = 2**n_downsampling
    for _ in range(n_blocks):
      model += [
        ResnetBlock(
          ngf * mult, padding_type=padding_type, norm_layer=norm_layer, use_dropout=use_dropout, use_bias=use_bias
        )
      ]
    for i in range(n_downsampling):
      mult = 2 ** (n_downsampling - i)
      model += [
        nn.ConvTranspose2d(
          ngf * mult, int(ngf * mult / 2), kernel_size=3, stride=2, padding=1, output_padding=1, bias=use_bias
        ),
        norm_layer(int(ngf * mult / 2)),
        nn.ReLU(True),
      ]
    model += [nn.ReflectionPad2d(3)]
    model += [nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0)]
    model += [nn.Tanh()]
    self.model = nn.Sequential(*model)

  def forward(self, x):
    return self.model(x)


# ------------------------------------------------------------ DCGAN (pytorch/examples dcgan/main.py)


def _dcgan_upsamplings(image_size):
  """Stride-2 layers between 4x4 and ``image_size`` (4 at the example's 64x64)."""
  if image_size < 16 or image_size & (image_size - 1):
    raise ValueError(f"DCGAN image_size must be a power of two >= 16, got {image_size}")
  return image_size.bit_length() - 3


def dcgan_weights_init(m):
  """The example's ``weights_init``: conv weights N(0, 0.02); batch-norm scales N(1, 0.02), biases 0."""
  name = m.__class__.__name__
  if name.find("Conv") != -1:
    nn.init.normal_(m.weight, 0.0, 0.02)
  elif name.find("BatchNorm") != -1:
    nn.init.normal_(m.weight, 1.0, 0.02)
    nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
  """The example's ``Generator``: ``z [B, nz, 1, 1]`` -> ``[B, nc, image_size, image_size]``."""

  def __init__(self, nz=100, ngf=64, nc=3, image_size=64):
    super().__init__()
    n = _dcgan_upsamplings(image_size)
    layers = [
      nn.ConvTranspose2d(nz, ngf * 2 ** (n - 1), 4, 1, 0, bias=False),
      nn.BatchNorm2d(ngf * 2 ** (n - 1)),
      nn.ReLU(True),
    ]
    for i in range(n - 1, 0, -1):
      layers += [
        nn.ConvTranspose2d(ngf * 2**i, ngf * 2 ** (i - 1), 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf * 2 ** (i - 1)),
        nn.ReLU(True),
      ]
    layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
    self.main = nn.Sequential(*layers)

  def forward(self, x):
    return self.main(x)


class DCGANDiscriminator(nn.Module):
  """The example's ``Discriminator``: images -> probabilities ``[B]`` (it ends with a Sigmoid)."""

  def __init__(self, nc=3, ndf=64, image_size=64):
    super().__init__()
    n = _dcgan_upsamplings(image_size)
    layers = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
    for i in range(1, n):
      layers += [
        nn.Conv2d(ndf * 2 ** (i - 1), ndf * 2**i, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ndf * 2**i),
        nn.LeakyReLU(0.2, inplace=True),
      ]
    layers += [nn.Conv2d(ndf * 2 ** (n - 1), 1, 4, 1, 0, bias=False), nn.Sigmoid()]
    self.main = nn.Sequential(*layers)

  def forward(self, x):
    return self.main(x).view(-1, 1).squeeze(1)


# ------------------------------------------------------------ SinGAN (tamarott/SinGAN models.py)


class ConvBlock(nn.Sequential):
  """Conv -> BatchNorm -> LeakyReLU(0.2), the modules named ``conv``, ``norm``, ``LeakyRelu``."""

  def __init__(self, in_channel, out_channel, ker_size, padd, stride):
    super().__init__()
    self.add_module("conv", nn.Conv2d(in_channel, out_channel, kernel_size=ker_size, stride=stride, padding=padd))
    self.add_module("norm", nn.BatchNorm2d(out_channel))
    self.add_module("LeakyRelu", nn.LeakyReLU(0.2, inplace=True))


def singan_weights_init(m):
  """The official ``weights_init``: conv weights N(0, 0.02) (biases kept); norm scales N(1, 0.02), biases 0."""
  name = m.__class__.__name__
  if name.find("Conv2d") != -1:
    m.weight.data.normal_(0.0, 0.02)
  elif name.find("Norm") != -1:
    m.weight.data.normal_(1.0, 0.02)
    m.bias.data.fill_(0)


def _singan_trunk(module, nc_im, nfc, min_nfc, ker_size, padd_size, num_layer):
  """Head and body of both SinGAN networks; returns the width of the last block."""
  n = int(nfc)
  module.head = ConvBlock(nc_im, n, ker_size, padd_size, 1)
  module.body = nn.Sequential()
  for i in range(num_layer - 2):
    n = int(nfc / pow(2, (i + 1)))
    block = ConvBlock(max(2 * n, min_nfc), max(n, min_nfc), ker_size, padd_size, 1)
    module.body.add_module("block%d" % (i + 1), block)
  return max(n, min_nfc)


class WDiscriminator(nn.Module):
  """The official critic: images -> a map of critic values (``H - 10 x W - 10`` at 5 layers)."""

  def __init__(self, nc_im=3, nfc=32, min_nfc=32, ker_size=3, padd_size=0, num_layer=5):
    super().__init__()
    width = _singan_trunk(self, nc_im, nfc, min_nfc, ker_size, padd_size, num_layer)
    self.tail = nn.Conv2d(width, 1, kernel_size=ker_size, stride=1, padding=padd_size)

  def forward(self, x):
    return self.tail(self.body(self.head(x)))


class GeneratorConcatSkip2CleanAdd(nn.Module):
  """The official generator: ``G(x, y) = tanh(convs(x)) + y`` cropped to the output's size."""

  def __init__(self, nc_im=3, nfc=32, min_nfc=32, ker_size=3, padd_size=0, num_layer=5):
    super().__init__()
    width = _singan_trunk(self, nc_im, nfc, min_nfc, ker_size, padd_size, num_layer)
    self.tail = nn.Sequential(nn.Conv2d(width, nc_im, kernel_size=ker_size, stride=1, padding=padd_size), nn.Tanh())

  def forward(self, x, y):
    x = self.tail(self.body(self.head(x)))
    ind = int((y.shape[2] - x.shape[2]) / 2)
    y = y[:, :, ind : (y.shape[2] - ind), ind : (y.shape[3] - ind)]
    return x + y


# ------------------------------------------------------------ SRResNet / SRGAN (Ledig et al. 2017)

SRGAN_D_BLOCKS = ((64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2))


class SRResidualBlock(nn.Module):
  """``x + BN(Conv(PReLU(BN(Conv(x)))))``, 3x3 convolutions with biases."""

  def __init__(self, channels, prelu_params=1):
    super().__init__()
    self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
    self.bn1 = nn.BatchNorm2d(channels)
    self.prelu = nn.PReLU(prelu_params)
    self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
    self.bn2 = nn.BatchNorm2d(channels)

  def forward(self, x):
    return x + self.bn2(self.conv2(self.prelu(self.bn1(self.conv1(x)))))


class SRResNet(nn.Module):
  """LR ``[B, 3, h, w]`` -> HR ``[B, 3, h scale, w scale]``: 9x9 conv + PReLU, residual blocks,
  conv + BN + long skip, ``log2(scale)`` x [conv to 4x channels, PixelShuffle(2), PReLU], 9x9 conv."""

  def __init__(self, scale=4, in_channels=3, out_channels=3, channels=64, n_blocks=16, prelu_per_channel=False):
    super().__init__()
    if scale < 2 or scale & (scale - 1):
      raise ValueError(f"scale must be a power of 2, got {scale}")
    slopes = channels if prelu_per_channel else 1
    self.conv1 = nn.Conv2d(in_channels, channels, 9, padding=4)
    self.prelu1 = nn.PReLU(slopes)
    self.blocks = nn.Sequential(*[SRResidualBlock(channels, slopes) for _ in range(n_blocks)])
    self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
    self.bn2 = nn.BatchNorm2d(channels)
    stages = []
    for _ in range(int(math.log2(scale))):
      stages += [nn.Conv2d(channels, channels * 4, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(slopes)]
    self.upsample = nn.Sequential(*stages)
    self.conv3 = nn.Conv2d(channels, out_channels, 9, padding=4)

  def forward(self, x):
    x0 = self.prelu1(self.conv1(x))
    h = x0 + self.bn2(self.conv2(self.blocks(x0)))
    return self.conv3(self.upsample(h))


class SRGANDiscriminator(nn.Module):
  """HR images ``[B, 3, H, W]`` -> logits ``[B]``; built for one input size (its dense layer)."""

  def __init__(self, image_size=96, in_channels=3, channels=64):
    super().__init__()
    h, w = (image_size, image_size) if isinstance(image_size, int) else image_size
    layers = [nn.Conv2d(in_channels, channels, 3, padding=1), nn.LeakyReLU(0.2, True)]
    cin = channels
    for width, stride in SRGAN_D_BLOCKS:
      cout = channels * width // 64
      layers += [nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True)]
      cin = cout
      h, w = -(-h // stride), -(-w // stride)
    self.features = nn.Sequential(*layers)
    self.classifier = nn.Sequential(
      nn.Flatten(), nn.Linear(cin * h * w, 1024), nn.LeakyReLU(0.2, True), nn.Linear(1024, 1)
    )

  def forward(self, x):
    return self.classifier(self.features(x)).squeeze(1)


# ------------------------------------------------------------ fast neural style (transformer_net.py)


class ConvLayer(nn.Module):
  def __init__(self, in_channels, out_channels, kernel_size, stride):
    super().__init__()
    self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
    self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

  def forward(self, x):
    return self.conv2d(self.reflection_pad(x))


class ResidualBlock(nn.Module):
  def __init__(self, channels):
    super().__init__()
    self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
    self.in1 = nn.InstanceNorm2d(channels, affine=True)
    self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
    self.in2 = nn.InstanceNorm2d(channels, affine=True)
    self.relu = nn.ReLU()

  def forward(self, x):
    out = self.relu(self.in1(self.conv1(x)))
    return self.in2(self.conv2(out)) + x


class UpsampleConvLayer(nn.Module):
  """Nearest-neighbour upsampling, then ``ConvLayer`` (free of checkerboard artefacts)."""

  def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
    super().__init__()
    self.upsample = upsample
    self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
    self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

  def forward(self, x):
    if self.upsample:
      x = nn.functional.interpolate(x, mode="nearest", scale_factor=self.upsample)
    return self.conv2d(self.reflection_pad(x))


class TransformerNet(nn.Module):
  """The example's image transformation network (linear output; 1,679,235 parameters)."""

  def __init__(self, channels=32, n_blocks=5):
    super().__init__()
    c = channels
    self.conv1 = ConvLayer(3, c, kernel_size=9, stride=1)
    self.in1 = nn.InstanceNorm2d(c, affine=True)
    self.conv2 = ConvLayer(c, 2 * c, kernel_size=3, stride=2)
    self.in2 = nn.InstanceNorm2d(2 * c, affine=True)
    self.conv3 = ConvLayer(2 * c, 4 * c, kernel_size=3, stride=2)
    self.in3 = nn.InstanceNorm2d(4 * c, affine=True)
    self.n_blocks = n_blocks
    for i in range(1, n_blocks + 1):
      setattr(self, f"res{i}", ResidualBlock(4 * c))
    self.deconv1 = UpsampleConvLayer(4 * c, 2 * c, kernel_size=3, stride=1, upsample=2)
    self.in4 = nn.InstanceNorm2d(2 * c, affine=True)
    self.deconv2 = UpsampleConvLayer(2 * c, c, kernel_size=3, stride=1, upsample=2)
    self.in5 = nn.InstanceNorm2d(c, affine=True)
    self.deconv3 = ConvLayer(c, 3, kernel_size=9, stride=1)
    self.relu = nn.ReLU()

  def forward(self, x):
    y = self.relu(self.in1(self.conv1(x)))
    y = self.relu(self.in2(self.conv2(y)))
    y = self.relu(self.in3(self.conv3(y)))
    for i in range(1, self.n_blocks + 1):
      y = getattr(self, f"res{i}")(y)
    y = self.relu(self.in4(self.deconv1(y)))
    y = self.relu(self.in5(self.deconv2(y)))
    return self.deconv3(y)


# ------------------------------------------------------------ VGG16 / VGG19 features (torchvision)

VGG_CFGS = {
  16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
  19: (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vgg_features(depth=16):
  """torchvision's ``vgg{depth}().features``: Conv 3x3 pad 1 + ReLU(inplace), MaxPool2d(2, 2), with
  its weight initialisation (kaiming normal, fan-out, biases 0)."""
  layers, cin = [], 3
  for v in VGG_CFGS[depth]:
    if v == "M":
      layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    else:
      conv = nn.Conv2d(cin, v, kernel_size=3, padding=1)
      nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
      nn.init.zeros_(conv.bias)
      layers += [conv, nn.ReLU(inplace=True)]
      cin = v
  return nn.Sequential(*layers)


def vgg_relu_indices(depth=16):
  """``{'relu1_1': 1, 'relu1_2': 3, ...}``: the index of each ReLU in :func:`vgg_features`."""
  indices, block, conv, i = {}, 1, 0, 0
  for v in VGG_CFGS[depth]:
    if v == "M":
      block, conv, i = block + 1, 0, i + 1
    else:
      conv += 1
      indices[f"relu{block}_{conv}"] = i + 1
      i += 2
  return indices


class VGGFeatures(nn.Module):
  """Frozen ``vgg{depth}().features`` up to the deepest of ``layers``; returns ``{layer: activation}``.

  The fast-neural-style example's ``Vgg16`` (slices ending at relu1_2, relu2_2, relu3_3,
  relu4_3) is ``VGGFeatures(16, ('relu1_2', 'relu2_2', 'relu3_3', 'relu4_3'))``. Inputs are
  preprocessed for the weights already (torchvision's: ImageNet mean and std).
  """

  def __init__(self, depth=16, layers=("relu1_2", "relu2_2", "relu3_3", "relu4_3")):
    super().__init__()
    indices = vgg_relu_indices(depth)
    unknown = [name for name in layers if name not in indices]
    if unknown or not layers:
      raise ValueError(f"unknown VGG{depth} layers {unknown or layers}; the layers are {list(indices)}")
    self.taps = {indices[name]: name for name in layers}
    self.features = nn.Sequential(*list(vgg_features(depth))[: max(self.taps) + 1])
    for p in self.parameters():
      p.requires_grad_(False)

  def forward(self, x):
    out = {}
    for i, layer in enumerate(self.features):
      x = layer(x)
      if i in self.taps:
        out[self.taps[i]] = x
    return out

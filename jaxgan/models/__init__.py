"""Network architectures, one module per paper."""

from jaxgan.models.conditional import (
  ConditionalDCGANDiscriminator,
  ConditionalDCGANGenerator,
  ConditionalMLPDiscriminator,
  ConditionalMLPGenerator,
  one_hot_labels,
)
from jaxgan.models.dcgan import (
  DCGANDiscriminator,
  DCGANGenerator,
  dcgan_discriminator_32,
  dcgan_discriminator_64,
  dcgan_discriminator_128,
  dcgan_generator_32,
  dcgan_generator_64,
  dcgan_generator_128,
)
from jaxgan.models.mlp import MLPDiscriminator, MLPGenerator
from jaxgan.models.srresnet import (
  SRGANDiscriminator,
  SRResNet,
  srgan_discriminator,
  srresnet_x2,
  srresnet_x4,
  srresnet_x8,
)
from jaxgan.models.ssl_mlp import SSLMLPDiscriminator, SSLMLPGenerator
from jaxgan.models.transformer_net import TransformerNet, johnson_sr_x4, johnson_sr_x8, style_transformer
from jaxgan.models.vgg import VGG, vgg16, vgg19

__all__ = [
  "ConditionalDCGANDiscriminator",
  "ConditionalDCGANGenerator",
  "ConditionalMLPDiscriminator",
  "ConditionalMLPGenerator",
  "DCGANDiscriminator",
  "DCGANGenerator",
  "MLPDiscriminator",
  "MLPGenerator",
  "SRGANDiscriminator",
  "SRResNet",
  "SSLMLPDiscriminator",
  "SSLMLPGenerator",
  "TransformerNet",
  "VGG",
  "dcgan_discriminator_32",
  "dcgan_discriminator_64",
  "dcgan_discriminator_128",
  "dcgan_generator_32",
  "dcgan_generator_64",
  "dcgan_generator_128",
  "johnson_sr_x4",
  "johnson_sr_x8",
  "one_hot_labels",
  "srgan_discriminator",
  "srresnet_x2",
  "srresnet_x4",
  "srresnet_x8",
  "style_transformer",
  "vgg16",
  "vgg19",
]

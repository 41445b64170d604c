"""Network architectures, one module per paper."""

from jaxgan.models.conditional import ConditionalDCGANDiscriminator
from jaxgan.models.conditional import ConditionalDCGANGenerator
from jaxgan.models.conditional import ConditionalMLPDiscriminator
from jaxgan.models.conditional import ConditionalMLPGenerator
from jaxgan.models.conditional import one_hot_labels
from jaxgan.models.dcgan import DCGANDiscriminator
from jaxgan.models.dcgan import DCGANGenerator
from jaxgan.models.dcgan import dcgan_discriminator_32
from jaxgan.models.dcgan import dcgan_discriminator_64
from jaxgan.models.dcgan import dcgan_discriminator_128
from jaxgan.models.dcgan import dcgan_generator_32
from jaxgan.models.dcgan import dcgan_generator_64
from jaxgan.models.dcgan import dcgan_generator_128
from jaxgan.models.mlp import MLPDiscriminator
from jaxgan.models.mlp import MLPGenerator
from jaxgan.models.ssl_mlp import SSLMLPDiscriminator
from jaxgan.models.ssl_mlp import SSLMLPGenerator
from jaxgan.models.srresnet import SRGANDiscriminator
from jaxgan.models.srresnet import SRResNet
from jaxgan.models.srresnet import srgan_discriminator
from jaxgan.models.srresnet import srresnet_x2
from jaxgan.models.srresnet import srresnet_x4
from jaxgan.models.srresnet import srresnet_x8
from jaxgan.models.transformer_net import TransformerNet
from jaxgan.models.transformer_net import johnson_sr_x4
from jaxgan.models.transformer_net import johnson_sr_x8
from jaxgan.models.transformer_net import style_transformer
from jaxgan.models.vgg import VGG
from jaxgan.models.vgg import vgg16
from jaxgan.models.vgg import vgg19

__all__ = [
    'ConditionalDCGANDiscriminator',
    'ConditionalDCGANGenerator',
    'ConditionalMLPDiscriminator',
    'ConditionalMLPGenerator',
    'DCGANDiscriminator',
    'DCGANGenerator',
    'MLPDiscriminator',
    'MLPGenerator',
    'SRGANDiscriminator',
    'SRResNet',
    'SSLMLPDiscriminator',
    'SSLMLPGenerator',
    'TransformerNet',
    'VGG',
    'dcgan_discriminator_32',
    'dcgan_discriminator_64',
    'dcgan_discriminator_128',
    'dcgan_generator_32',
    'dcgan_generator_64',
    'dcgan_generator_128',
    'johnson_sr_x4',
    'johnson_sr_x8',
    'one_hot_labels',
    'srgan_discriminator',
    'srresnet_x2',
    'srresnet_x4',
    'srresnet_x8',
    'style_transformer',
    'vgg16',
    'vgg19',
]

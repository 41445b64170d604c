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

__all__ = [
    'ConditionalDCGANDiscriminator',
    'ConditionalDCGANGenerator',
    'ConditionalMLPDiscriminator',
    'ConditionalMLPGenerator',
    'DCGANDiscriminator',
    'DCGANGenerator',
    'MLPDiscriminator',
    'MLPGenerator',
    'SSLMLPDiscriminator',
    'SSLMLPGenerator',
    'dcgan_discriminator_32',
    'dcgan_discriminator_64',
    'dcgan_discriminator_128',
    'dcgan_generator_32',
    'dcgan_generator_64',
    'dcgan_generator_128',
    'one_hot_labels',
]

"""Network architectures, one module per paper."""

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

__all__ = [
    'DCGANDiscriminator',
    'DCGANGenerator',
    'MLPDiscriminator',
    'MLPGenerator',
    'dcgan_discriminator_32',
    'dcgan_discriminator_64',
    'dcgan_discriminator_128',
    'dcgan_generator_32',
    'dcgan_generator_64',
    'dcgan_generator_128',
]

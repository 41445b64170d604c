"""DCGAN (Radford, Metz, Chintala 2015).

Defaults are the paper's and the official code's: Adam lr 2e-4, beta1 0.5, batch 128,
nz 100, ngf = ndf = 64, 64x64 images, N(0, 0.02) init, non-saturating BCE loss, one D step
per G step. z is normal as in the official Torch code (the paper says uniform;
``--noise=uniform`` gives that).
"""

from __future__ import annotations

import dataclasses

from jaxgan.config import POSITIVE, field
from jaxgan.methods import noise_to_image
from jaxgan.methods.noise_to_image import G_FAKES, AdversarialConfig, Method, Parts
from jaxgan.models.dcgan import DCGANDiscriminator, DCGANGenerator, num_upsamplings
from jaxgan.train import optim


def _power_of_two(v: int) -> bool:
  try:
    num_upsamplings(v)
    return True
  except ValueError:
    return False


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(
  AdversarialConfig, optim.adam_fields(learning_rate=2e-4, learning_rate_help="Adam learning rate (G and D).")
):
  image_size: int = field(
    64, "Side of the square images: a power of two >= 16.", check=(_power_of_two, "must be a power of two >= 16")
  )
  channels: int = field(3, "Image channels (1 or 3).", check=(lambda c: c in (1, 3), "must be 1 or 3"))
  ngf: int = field(64, "Generator width (channels of its last hidden layer).", check=POSITIVE)
  ndf: int = field(64, "Discriminator width (channels of its first layer).", check=POSITIVE)
  g_fakes: str = field(
    "shared", "Fakes of G's update (the reference code: those D was just trained on).", choices=G_FAKES
  )


def parts(config: Config) -> Parts:
  tx = optim.adam(config)
  return Parts(
    make_generator=lambda rngs: DCGANGenerator(
      resolution=config.image_size,
      nz=config.nz,
      ngf=config.ngf,
      out_channels=config.channels,
      remat=config.remat,
      rngs=rngs,
    ),
    make_discriminator=lambda rngs: DCGANDiscriminator(
      resolution=config.image_size, in_channels=config.channels, ndf=config.ndf, remat=config.remat, rngs=rngs
    ),
    g_tx=tx,
    d_tx=tx,
  )


def build(config: Config) -> Method:
  return Method(config, parts(config))


MODES = noise_to_image.modes(build)

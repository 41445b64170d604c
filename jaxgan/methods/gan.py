"""GAN (Goodfellow et al. 2014): MLP generator and maxout discriminator.

Defaults are those of the paper's released MNIST configuration: batch 100, z of 100
unit-variance uniform values, G 1200-1200 ReLU units, D two maxout layers of 240 units x 5
pieces with dropout (input 0.2, hidden 0.5), SGD with learning rate 0.1 divided by 1.000004
every step (floor 1e-6) and momentum rising linearly from 0.5 to 0.7 over 250 epochs
(250 x 600 steps on MNIST), one D step per G step. The released code trains G with the
non-saturating loss; ``--loss=minimax`` gives the paper's minimax objective. D's unit weight
vectors are projected to norm <= 1.9365 after each update (the released config's
``max_col_norm``), which keeps SGD at learning rate 0.1 stable.
"""

from __future__ import annotations

import dataclasses

from jaxgan.config import POSITIVE, PROBABILITY, field
from jaxgan.methods import noise_to_image
from jaxgan.methods.noise_to_image import NOISE, AdversarialConfig, Method, Parts
from jaxgan.models.mlp import MLPDiscriminator, MLPGenerator
from jaxgan.train import optim


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(AdversarialConfig, optim.Pylearn2SGD):
  batch_size: int = field(100, "Global batch size.", check=POSITIVE)
  image_size: int = field(28, "Side of the square training images.", check=POSITIVE)
  noise: str = field("uniform", "Distribution of z.", choices=NOISE)
  g_hidden: tuple[int, ...] = field((1200, 1200), "Hidden ReLU layer widths of G.", check=POSITIVE)
  d_units: int = field(240, "Maxout units per hidden layer of D.", check=POSITIVE)
  d_pieces: int = field(5, "Pieces per maxout unit.", check=POSITIVE)
  d_input_dropout: float = field(0.2, "Dropout rate on D's input.", check=PROBABILITY)
  d_hidden_dropout: float = field(0.5, "Dropout rate on D's hidden layers.", check=PROBABILITY)


def parts(config: Config) -> Parts:
  shape = (config.image_size, config.image_size, config.channels)
  tx, project = optim.pylearn2_sgd(config), optim.max_norm_projection(config)
  return Parts(
    make_generator=lambda rngs: MLPGenerator(
      nz=config.nz, hidden=config.g_hidden, out_shape=shape, remat=config.remat, rngs=rngs
    ),
    make_discriminator=lambda rngs: MLPDiscriminator(
      in_shape=shape,
      units=config.d_units,
      pieces=config.d_pieces,
      input_dropout=config.d_input_dropout,
      hidden_dropout=config.d_hidden_dropout,
      remat=config.remat,
      rngs=rngs,
    ),
    g_tx=tx,
    d_tx=tx,
    d_needs_key=True,
    d_project=project,
  )


def build(config: Config) -> Method:
  return Method(config, parts(config))


MODES = noise_to_image.modes(build)

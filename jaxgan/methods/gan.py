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
import functools

from jaxgan.config import NON_NEGATIVE, POSITIVE, PROBABILITY, field
from jaxgan.methods.adversarial import NOISE, AdversarialConfig, Method, Parts
from jaxgan.models.mlp import MLPDiscriminator, MLPGenerator
from jaxgan.train import optim


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pylearn2SGD:
  """The SGD of the pylearn2-era papers (GAN, cGAN): decayed rate, ramped momentum, max-norm D."""

  learning_rate: float = field(0.1, "Initial SGD learning rate.", check=POSITIVE)
  lr_decay_factor: float = field(1.000004, "Learning rate divided by this every step.",
                                 check=(lambda v: v >= 1, "must be >= 1"))
  min_learning_rate: float = field(1e-6, "Floor of the decayed learning rate.", check=POSITIVE)
  momentum: float = field(0.5, "Initial momentum.", check=PROBABILITY)
  final_momentum: float = field(0.7, "Momentum reached after --momentum_steps.", check=PROBABILITY)
  momentum_steps: int = field(150_000, "Steps of the linear momentum ramp.", check=POSITIVE)
  d_max_col_norm: float = field(1.9365, "Max norm of each D unit's weights after every update (pylearn2's "
                                "max_col_norm; 0: off).", check=NON_NEGATIVE)


def pylearn2_sgd(config: Pylearn2SGD):
  """``(tx, d_project)`` for a config with the :class:`Pylearn2SGD` fields."""
  tx = optim.sgd_momentum(
      learning_rate=optim.exponential_decay(config.learning_rate, decay_factor=config.lr_decay_factor,
                                            min_value=config.min_learning_rate),
      momentum=optim.linear_ramp(config.momentum, config.final_momentum, config.momentum_steps))
  project = (functools.partial(optim.max_column_norm, max_norm=config.d_max_col_norm)
             if config.d_max_col_norm else None)
  return tx, project


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(AdversarialConfig, Pylearn2SGD):
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
  tx, project = pylearn2_sgd(config)
  return Parts(
      make_generator=lambda rngs: MLPGenerator(nz=config.nz, hidden=config.g_hidden, out_shape=shape,
                                               remat=config.remat, rngs=rngs),
      make_discriminator=lambda rngs: MLPDiscriminator(
          in_shape=shape, units=config.d_units, pieces=config.d_pieces,
          input_dropout=config.d_input_dropout, hidden_dropout=config.d_hidden_dropout, remat=config.remat,
          rngs=rngs),
      g_tx=tx, d_tx=tx, d_needs_key=True, d_project=project)


def build(config: Config) -> Method:
  return Method(config, parts(config))

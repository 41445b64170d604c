"""CatGAN (Springenberg 2016): a K-way classifier D trained with entropy objectives.

The method is :mod:`jaxgan.methods.semi_supervised` with ``objective='catgan'``: D
maximises H[E_x p(y|x)] - E_x H[p(y|x)] + E_z H[p(y|G(z))], G minimises
E_z H[p(y|G(z))] - H[E_z p(y|G(z))], both terms weighted 1 as in the paper, plus
``supervised_weight`` x cross-entropy on the labelled batch (``--supervised_weight=0`` for
the unsupervised form, evaluated by clustering accuracy). The networks and Adam are the
SGAN ones, so that the accuracies compare like with like, but the learning rate is 2e-4, not
the improved-GAN code's 3e-3, at which the unsupervised CatGAN collapsed to one cluster (D
certain of one class for every input) in our runs (measured in the README, "semi-supervised
Fashion-MNIST").
"""

from __future__ import annotations

import dataclasses

from jaxgan.config import NON_NEGATIVE, POSITIVE, field
from jaxgan.methods import semi_supervised
from jaxgan.methods.semi_supervised import MODES, OBJECTIVES, Method, build  # noqa: F401


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config(semi_supervised.Config):
  objective: str = field(
    "catgan", "What D learns: catgan (entropy objectives), sgan or supervised.", choices=OBJECTIVES
  )
  unsupervised_weight: float = field(1.0, "Weight of D's entropy terms.", check=NON_NEGATIVE)
  feature_matching: float = field(0.0, "Weight of an extra feature-matching loss for G.", check=NON_NEGATIVE)
  learning_rate: float = field(
    2e-4, "Adam learning rate (G and D); SGAN's 3e-3 collapses the unsupervised CatGAN.", check=POSITIVE
  )

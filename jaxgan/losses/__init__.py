"""Pure, per-example loss functions."""

from jaxgan.losses.adversarial import ADVERSARIAL_LOSSES
from jaxgan.losses.adversarial import AdversarialLoss
from jaxgan.losses.adversarial import get_adversarial_loss
from jaxgan.losses.adversarial import gradient_penalty
from jaxgan.losses.adversarial import hinge_discriminator_loss
from jaxgan.losses.adversarial import hinge_generator_loss
from jaxgan.losses.adversarial import lsgan_discriminator_loss
from jaxgan.losses.adversarial import lsgan_generator_loss
from jaxgan.losses.adversarial import minimax_discriminator_loss
from jaxgan.losses.adversarial import minimax_generator_loss
from jaxgan.losses.adversarial import non_saturating_generator_loss
from jaxgan.losses.adversarial import per_example_mean
from jaxgan.losses.adversarial import wasserstein_critic_loss
from jaxgan.losses.adversarial import wasserstein_generator_loss

__all__ = [
    'ADVERSARIAL_LOSSES',
    'AdversarialLoss',
    'get_adversarial_loss',
    'gradient_penalty',
    'hinge_discriminator_loss',
    'hinge_generator_loss',
    'lsgan_discriminator_loss',
    'lsgan_generator_loss',
    'minimax_discriminator_loss',
    'minimax_generator_loss',
    'non_saturating_generator_loss',
    'per_example_mean',
    'wasserstein_critic_loss',
    'wasserstein_generator_loss',
]

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
from jaxgan.losses.entropy import catgan_discriminator_loss
from jaxgan.losses.entropy import catgan_generator_loss
from jaxgan.losses.entropy import conditional_entropy
from jaxgan.losses.entropy import marginal_entropy
from jaxgan.losses.perceptual import feature_reconstruction_loss
from jaxgan.losses.perceptual import gram_matrix
from jaxgan.losses.perceptual import mse_loss
from jaxgan.losses.perceptual import PerceptualObjective
from jaxgan.losses.perceptual import style_reconstruction_loss
from jaxgan.losses.perceptual import total_variation
from jaxgan.losses.semi_supervised import HEADS
from jaxgan.losses.semi_supervised import ClassifierHead
from jaxgan.losses.semi_supervised import class_probabilities
from jaxgan.losses.semi_supervised import feature_matching_loss
from jaxgan.losses.semi_supervised import generator_adversarial_loss
from jaxgan.losses.semi_supervised import get_head
from jaxgan.losses.semi_supervised import supervised_loss
from jaxgan.losses.semi_supervised import unsupervised_fake_loss
from jaxgan.losses.semi_supervised import unsupervised_real_loss
from jaxgan.losses.translation import GAN_MODES
from jaxgan.losses.translation import discriminator_loss
from jaxgan.losses.translation import generator_loss
from jaxgan.losses.translation import l1_loss

__all__ = [
    'GAN_MODES',
    'discriminator_loss',
    'generator_loss',
    'l1_loss',
    'feature_reconstruction_loss',
    'gram_matrix',
    'mse_loss',
    'PerceptualObjective',
    'style_reconstruction_loss',
    'total_variation',
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
    'HEADS',
    'ClassifierHead',
    'catgan_discriminator_loss',
    'catgan_generator_loss',
    'class_probabilities',
    'conditional_entropy',
    'feature_matching_loss',
    'generator_adversarial_loss',
    'get_head',
    'marginal_entropy',
    'supervised_loss',
    'unsupervised_fake_loss',
    'unsupervised_real_loss',
]

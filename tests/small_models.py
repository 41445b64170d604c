"""Small instances of every convolutional model, for properties that hold for all of them."""

import functools

import jax
import jax.numpy as jnp

from jaxgan.models import (
  conditional,
  dcgan,
  mlp,
  patchgan,
  resnet_generator,
  singan,
  srresnet,
  ssl_mlp,
  transformer_net,
  unet,
)

# (model constructor, input shapes, call kwargs) of every model (all have a ``remat`` option).
MODELS = {
  "unet": (
    functools.partial(unet.UNetGenerator, num_downs=5, ngf=4),
    [(2, 32, 32, 3)],
    {"train": True, "key": jax.random.PRNGKey(5)},
  ),
  "resnet": (
    functools.partial(resnet_generator.ResnetGenerator, ngf=4, n_blocks=2, use_dropout=True),
    [(2, 16, 16, 3)],
    {"train": True, "key": jax.random.PRNGKey(5)},
  ),
  "patchgan": (
    functools.partial(patchgan.PatchGANDiscriminator, in_channels=3, ndf=4),
    [(2, 40, 40, 3)],
    {"train": True},
  ),
  "pixelgan": (functools.partial(patchgan.PixelDiscriminator, in_channels=3, ndf=4), [(2, 8, 8, 3)], {"train": True}),
  "dcgan_g": (functools.partial(dcgan.DCGANGenerator, resolution=16, nz=8, ngf=4), [(2, 8)], {"train": True}),
  "dcgan_d": (functools.partial(dcgan.DCGANDiscriminator, resolution=16, ndf=4), [(2, 16, 16, 3)], {"train": True}),
  "singan_g": (functools.partial(singan.SinGANGenerator, nfc=8, min_nfc=8), [(1, 20, 20, 3)] * 2, {"train": True}),
  "singan_d": (functools.partial(singan.SinGANDiscriminator, nfc=8, min_nfc=8), [(1, 20, 20, 3)], {"train": True}),
  "srresnet": (functools.partial(srresnet.SRResNet, scale=2, channels=8, n_blocks=2), [(2, 8, 8, 3)], {"train": True}),
  "srgan_d": (
    functools.partial(srresnet.SRGANDiscriminator, image_size=16, channels=8),
    [(2, 16, 16, 3)],
    {"train": True},
  ),
  "transformer": (
    functools.partial(transformer_net.TransformerNet, channels=4, n_blocks=2),
    [(2, 16, 16, 3)],
    {"train": True},
  ),
  "transformer_bn": (
    functools.partial(transformer_net.TransformerNet, channels=4, n_blocks=1, norm="batch", upsample="transpose"),
    [(2, 16, 16, 3)],
    {"train": True},
  ),
  "mlp_g": (functools.partial(mlp.MLPGenerator, nz=8, hidden=(16, 16), out_shape=(4, 4, 1)), [(2, 8)], {"train": True}),
  "mlp_d": (
    functools.partial(mlp.MLPDiscriminator, in_shape=(4, 4, 1), units=8, pieces=2),
    [(2, 4, 4, 1)],
    {"train": True, "key": jax.random.PRNGKey(5)},
  ),
  "cmlp_g": (
    functools.partial(
      conditional.ConditionalMLPGenerator,
      nz=8,
      num_classes=3,
      z_hidden=8,
      y_hidden=8,
      joint_hidden=16,
      out_shape=(4, 4, 1),
      dropout=0.5,
    ),
    [(2, 8)],
    {"y": jnp.array([0, 2]), "train": True, "key": jax.random.PRNGKey(5)},
  ),
  "cmlp_d": (
    functools.partial(
      conditional.ConditionalMLPDiscriminator,
      in_shape=(4, 4, 1),
      num_classes=3,
      x_units=8,
      x_pieces=2,
      y_units=4,
      y_pieces=2,
      joint_units=8,
      joint_pieces=2,
    ),
    [(2, 4, 4, 1)],
    {"y": jnp.array([0, 2]), "train": True, "key": jax.random.PRNGKey(5)},
  ),
  "cdcgan_g": (
    functools.partial(conditional.ConditionalDCGANGenerator, resolution=16, nz=8, num_classes=3, ngf=4),
    [(2, 8)],
    {"y": jnp.array([0, 2]), "train": True},
  ),
  "ssl_g": (
    functools.partial(ssl_mlp.SSLMLPGenerator, nz=8, hidden=(16, 16), out_shape=(4, 4, 1)),
    [(2, 8)],
    {"train": True},
  ),
  "ssl_d": (
    functools.partial(ssl_mlp.SSLMLPDiscriminator, in_shape=(4, 4, 1), hidden=(16, 8), num_outputs=3),
    [(2, 4, 4, 1)],
    {"train": True, "key": jax.random.PRNGKey(5)},
  ),
}

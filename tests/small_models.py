"""Small instances of every convolutional model, for properties that hold for all of them."""

import functools

import jax

from jaxgan.models import dcgan, patchgan, resnet_generator, singan, srresnet, transformer_net, unet

# (model constructor, input shapes, call kwargs) of every model with a ``remat`` option.
MODELS = {
    'unet': (functools.partial(unet.UNetGenerator, num_downs=5, ngf=4), [(2, 32, 32, 3)],
             {'train': True, 'key': jax.random.PRNGKey(5)}),
    'resnet': (functools.partial(resnet_generator.ResnetGenerator, ngf=4, n_blocks=2, use_dropout=True),
               [(2, 16, 16, 3)], {'train': True, 'key': jax.random.PRNGKey(5)}),
    'patchgan': (functools.partial(patchgan.PatchGANDiscriminator, in_channels=3, ndf=4), [(2, 40, 40, 3)],
                 {'train': True}),
    'pixelgan': (functools.partial(patchgan.PixelDiscriminator, in_channels=3, ndf=4), [(2, 8, 8, 3)],
                 {'train': True}),
    'dcgan_g': (functools.partial(dcgan.DCGANGenerator, resolution=16, nz=8, ngf=4), [(2, 8)], {'train': True}),
    'dcgan_d': (functools.partial(dcgan.DCGANDiscriminator, resolution=16, ndf=4), [(2, 16, 16, 3)],
                {'train': True}),
    'singan_g': (functools.partial(singan.SinGANGenerator, nfc=8, min_nfc=8), [(1, 20, 20, 3)] * 2,
                 {'train': True}),
    'singan_d': (functools.partial(singan.SinGANDiscriminator, nfc=8, min_nfc=8), [(1, 20, 20, 3)],
                 {'train': True}),
    'srresnet': (functools.partial(srresnet.SRResNet, scale=2, channels=8, n_blocks=2), [(2, 8, 8, 3)],
                 {'train': True}),
    'srgan_d': (functools.partial(srresnet.SRGANDiscriminator, image_size=16, channels=8), [(2, 16, 16, 3)],
                {'train': True}),
    'transformer': (functools.partial(transformer_net.TransformerNet, channels=4, n_blocks=2), [(2, 16, 16, 3)],
                    {'train': True}),
    'transformer_bn': (functools.partial(transformer_net.TransformerNet, channels=4, n_blocks=1, norm='batch',
                                         upsample='transpose'), [(2, 16, 16, 3)], {'train': True}),
}

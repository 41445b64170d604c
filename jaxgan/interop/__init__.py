"""Interoperability with other frameworks' checkpoints (PyTorch needs ``pip install torch``).

:mod:`jaxgan.interop.torch_checkpoint` holds the generic pieces (reading/writing ``.pth``
state dicts, kernel layouts, checked key-mapped copies into NNX states);
:mod:`jaxgan.interop.pix2pix` maps the official pix2pix / CycleGAN U-Net and PatchGAN /
PixelGAN checkpoints onto jaxgan's networks and :mod:`jaxgan.interop.cyclegan` the
CycleGAN ResNet generator's (registered with the same dispatcher, so
:func:`load_pix2pix`, :func:`state_dict_keys` and :func:`to_torch_state_dict` take every
one of these networks). PyTorch is imported only when a file is read or written.
"""

from jaxgan.interop.cyclegan import (
    load_cyclegan_discriminator,
    load_cyclegan_generator,
    resnet_keymap,
)
from jaxgan.interop.pix2pix import (
    load_pix2pix,
    load_pix2pix_discriminator,
    load_pix2pix_generator,
    pix2pix_keymap,
    state_dict_keys,
    to_torch_state_dict,
)
from jaxgan.interop.torch_checkpoint import (
    KeyMap,
    StateDictMismatchError,
    assign_state_dict,
    export_state_dict,
    load_torch_state_dict,
    save_torch_state_dict,
)

__all__ = [
    'KeyMap',
    'StateDictMismatchError',
    'assign_state_dict',
    'export_state_dict',
    'load_cyclegan_discriminator',
    'load_cyclegan_generator',
    'load_pix2pix',
    'load_pix2pix_discriminator',
    'load_pix2pix_generator',
    'load_torch_state_dict',
    'pix2pix_keymap',
    'resnet_keymap',
    'save_torch_state_dict',
    'state_dict_keys',
    'to_torch_state_dict',
]

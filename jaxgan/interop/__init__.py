"""Interoperability with other frameworks' checkpoints (PyTorch needs ``pip install torch``).

:mod:`jaxgan.interop.torch_checkpoint` holds the generic pieces (reading/writing ``.pth``
state dicts, kernel layouts, checked key-mapped copies into NNX states);
:mod:`jaxgan.interop.pix2pix` maps the official pix2pix / CycleGAN U-Net and PatchGAN /
PixelGAN checkpoints onto jaxgan's networks and :mod:`jaxgan.interop.cyclegan` the
CycleGAN ResNet generator's (registered with the same dispatcher, so
:func:`load_pix2pix`, :func:`state_dict_keys` and :func:`to_torch_state_dict` take every
one of these networks). :mod:`jaxgan.interop.vgg` loads ImageNet VGG16/19 weights
(torchvision ``.pth``, Keras ``.h5``/``.npz``) as frozen perceptual-loss networks.
PyTorch and h5py are imported only when a file of theirs is read or written.
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
from jaxgan.interop.vgg import (
  LossNetwork,
  VGGWeightsNotFoundError,
  default_vgg16_path,
  keras_to_torchvision,
  load_keras_vgg,
  load_torchvision_vgg,
  load_vgg,
  save_vgg_npz,
  to_torchvision_state_dict,
  torchvision_to_keras,
)

__all__ = [
  "KeyMap",
  "LossNetwork",
  "StateDictMismatchError",
  "VGGWeightsNotFoundError",
  "assign_state_dict",
  "default_vgg16_path",
  "export_state_dict",
  "keras_to_torchvision",
  "load_cyclegan_discriminator",
  "load_cyclegan_generator",
  "load_keras_vgg",
  "load_pix2pix",
  "load_pix2pix_discriminator",
  "load_pix2pix_generator",
  "load_torch_state_dict",
  "load_torchvision_vgg",
  "load_vgg",
  "pix2pix_keymap",
  "resnet_keymap",
  "save_torch_state_dict",
  "save_vgg_npz",
  "state_dict_keys",
  "to_torch_state_dict",
  "to_torchvision_state_dict",
  "torchvision_to_keras",
]

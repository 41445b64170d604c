"""The official CycleGAN PyTorch checkpoints <-> jaxgan's ResNet generator and PatchGAN.

The official code (junyanz/pytorch-CycleGAN-and-pix2pix) saves ``net.state_dict()`` as
``<epoch>_net_G_A.pth``, ``_net_G_B.pth``, ``_net_D_A.pth`` and ``_net_D_B.pth``; its
pretrained test models (``horse2zebra.pth``, ...) are one generator's ``state_dict``.

* ``ResnetGenerator``: one ``nn.Sequential`` ``model``::

      0 ReflectionPad2d(3), 1 Conv2d, 2 norm, 3 ReLU
      4, 5, 6 / 7, 8, 9       the two downsamplings: Conv2d, norm, ReLU
      10 .. 9 + n_blocks      ResnetBlocks
      then per upsampling     ConvTranspose2d, norm, ReLU
      ReflectionPad2d(3), Conv2d, Tanh

  so ``model.1`` is the first convolution and, for ``resnet_9blocks``, ``model.19`` /
  ``model.22`` the transposed convolutions and ``model.26`` the last convolution. Each
  block's ``conv_block`` is ``[pad, Conv2d, norm, ReLU, (Dropout), pad, Conv2d, norm]``,
  where the pads are ``ReflectionPad2d(1)`` / ``ReplicationPad2d(1)`` and are absent
  with ``padding_type='zero'`` (the convolutions pad): ``model.10.conv_block.1`` and
  ``model.10.conv_block.5`` are the first block's convolutions (``.6`` with dropout).
  Modules without parameters still take an index, so the jaxgan network must be built
  with the run's ``use_dropout`` (CycleGAN's default is no dropout) and ``padding_type``.
* ``NLayerDiscriminator``: the pix2pix PatchGAN keys (:func:`jaxgan.interop.pix2pix.patchgan_keymap`);
  CycleGAN's discriminators see one domain's images: ``in_channels=3``, ``norm='instance'``.

Instance norm has no state, but checkpoints saved by PyTorch < 0.4 (the pretrained test
models among them) hold ``running_mean`` / ``running_var`` for it; they are ignored, as
the official code deletes them before loading.

Usage::

    G = nnx.eval_shape(lambda: resnet_9blocks(rngs=nnx.Rngs(0)))
    params, stats = load_cyclegan_generator('horse2zebra.pth', G)
    G = nnx.merge(nnx.graphdef(G), params, stats)
    zebra = G(horse, train=False)

    save_torch_state_dict(to_torch_state_dict(G), 'latest_net_G_A.pth')   # and back

The ResNet generator's key map is registered with the pix2pix dispatcher, so
:func:`jaxgan.interop.load_pix2pix`, :func:`jaxgan.interop.state_dict_keys` and
:func:`jaxgan.interop.to_torch_state_dict` handle it like the pix2pix networks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flax import nnx

from jaxgan.interop import pix2pix
from jaxgan.interop.pix2pix import load_pix2pix, load_pix2pix_discriminator
from jaxgan.interop.torch_checkpoint import KeyMap
from jaxgan.models.resnet_generator import N_DOWNSAMPLING, ResnetBlock, ResnetGenerator

# Indices in ResnetGenerator.model: [ReflectionPad2d(3), Conv2d, norm, ReLU], then
# [Conv2d, norm, ReLU] per downsampling, then the blocks.
_FIRST_CONV = 1
_FIRST_BLOCK = 4 + 3 * N_DOWNSAMPLING


def resnet_block_keymap(km: KeyMap, prefix: str, block: ResnetBlock, path: tuple[Any, ...]) -> KeyMap:
  """Adds the official ``ResnetBlock`` at ``prefix`` (``model.10.``, ...) to ``km``."""
  pad = 0 if block.padding_type == "zero" else 1  # a padding module before each convolution
  dropout = 1 if block.use_dropout else 0
  conv2 = 2 * pad + 3 + dropout  # pad, conv, norm, ReLU, (Dropout), pad, conv
  seq = prefix + "conv_block."
  km.conv(f"{seq}{pad}", block.conv1, (*path, "conv1"))
  km.norm(f"{seq}{pad + 1}", block.norm1, (*path, "norm1"))
  km.conv(f"{seq}{conv2}", block.conv2, (*path, "conv2"))
  return km.norm(f"{seq}{conv2 + 1}", block.norm2, (*path, "norm2"))


def resnet_keymap(net: ResnetGenerator) -> KeyMap:
  """The official ``ResnetGenerator`` keys of a jaxgan :class:`ResnetGenerator`."""
  km = KeyMap()
  km.conv(f"model.{_FIRST_CONV}", net.first, ("first",))
  km.norm(f"model.{_FIRST_CONV + 1}", net.first_norm, ("first_norm",))
  for i, (conv, norm) in enumerate(zip(net.downs, net.down_norms)):
    km.conv(f"model.{_FIRST_CONV + 3 + 3 * i}", conv, ("downs", i))
    km.norm(f"model.{_FIRST_CONV + 4 + 3 * i}", norm, ("down_norms", i))
  for j, block in enumerate(net.blocks):
    resnet_block_keymap(km, f"model.{_FIRST_BLOCK + j}.", block, ("blocks", j))
  first_up = _FIRST_BLOCK + net.n_blocks
  for i, (conv, norm) in enumerate(zip(net.ups, net.up_norms)):
    km.conv_transpose(f"model.{first_up + 3 * i}", conv, ("ups", i))
    km.norm(f"model.{first_up + 3 * i + 1}", norm, ("up_norms", i))
  # After the last [ConvTranspose2d, norm, ReLU]: ReflectionPad2d(3), Conv2d, Tanh.
  return km.conv(f"model.{first_up + 3 * N_DOWNSAMPLING + 1}", net.last, ("last",))


pix2pix.KEYMAPS[ResnetGenerator] = resnet_keymap


def load_cyclegan_generator(state_dict: Mapping[str, Any] | str | os.PathLike, net: Any) -> tuple[nnx.State, nnx.State]:
  """``(params, stats)`` of a :class:`ResnetGenerator` from a ``*_net_G_A.pth`` / test model.

  ``state_dict`` and ``net`` as in :func:`jaxgan.interop.load_pix2pix`; ``net`` must be a
  :class:`ResnetGenerator` built with the checkpoint's settings (``ngf``, ``norm``,
  ``n_blocks``, ``use_dropout``, ``padding_type``, channels).
  """
  pix2pix.expect_module(net, (ResnetGenerator,), "the generator")
  return load_pix2pix(state_dict, net)


def load_cyclegan_discriminator(
  state_dict: Mapping[str, Any] | str | os.PathLike, net: Any
) -> tuple[nnx.State, nnx.State]:
  """``(params, stats)`` of a PatchGAN / PixelGAN from a ``*_net_D_A.pth`` / ``*_net_D_B.pth``.

  CycleGAN's default is ``PatchGANDiscriminator(in_channels=3, norm='instance')``.
  """
  return load_pix2pix_discriminator(state_dict, net)

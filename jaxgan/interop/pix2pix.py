"""The official pix2pix / CycleGAN PyTorch checkpoints <-> jaxgan's U-Net and discriminators.

The official code (junyanz/pytorch-CycleGAN-and-pix2pix) saves ``net.state_dict()`` as
``<epoch>_net_G.pth`` / ``<epoch>_net_D.pth``; its keys are module paths:

* ``UnetGenerator``: ``model`` is the outermost ``UnetSkipConnectionBlock``; each block's
  ``model`` is an ``nn.Sequential``, ``[downconv, submodule, uprelu, upconv, tanh]`` for
  the outermost, ``[downrelu, downconv, downnorm, submodule, uprelu, upconv, upnorm
  (, dropout)]`` for the middle ones and ``[downrelu, downconv, uprelu, upconv, upnorm]``
  for the innermost. Level ``i`` (0 outermost) of the U-Net therefore lives under
  ``model.`` + ``model.1.`` + ``(i - 1) * 'model.3.'``: ``model.model.0.weight`` is the
  first convolution, ``model.model.1.model.2.running_mean`` the first batch norm.
* ``NLayerDiscriminator``: ``model.{0, 2, 5, ...}`` convolutions, ``model.{3, 6, ...}``
  norms (LeakyReLUs in between hold nothing).
* ``PixelDiscriminator``: ``net.0``, ``net.2`` convolutions, ``net.3`` norm, ``net.5``
  convolution.

Which keys exist follows the jaxgan network (a bias where it has one, batch-norm
statistics where it has batch norm), so building the jaxgan network with the run's
``--norm``, ``--ngf``/``--ndf``, ``--netG``/``--netD``, ``--n_layers_D``,
``--input_nc``/``--output_nc`` (pix2pix D: ``input_nc + output_nc``) is what makes a
checkpoint load; anything else is reported key by key.

Usage::

    G = nnx.eval_shape(lambda: unet_256(in_channels=3, out_channels=3, rngs=nnx.Rngs(0)))
    params, stats = load_pix2pix_generator('latest_net_G.pth', G)
    G = nnx.merge(nnx.graphdef(G), params, stats)
    # The official test.py without --eval keeps train mode: batch statistics and dropout.
    fake_B = G(real_A, train=True, key=jax.random.key(0))

    save_torch_state_dict(to_torch_state_dict(G), 'latest_net_G.pth')   # and back
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flax import nnx

from jaxgan.interop.torch_checkpoint import (
  KeyMap,
  StateDict,
  assign_state_dict,
  export_state_dict,
  load_torch_state_dict,
  split_net,
)
from jaxgan.models.patchgan import PatchGANDiscriminator, PixelDiscriminator
from jaxgan.models.unet import UNetGenerator


def unet_block_prefix(level: int) -> str:
  """Key prefix of the official ``UnetSkipConnectionBlock`` at ``level`` (0: outermost)."""
  if level == 0:
    return "model."
  return "model.model.1." + "model.3." * (level - 1)


def unet_keymap(net: UNetGenerator) -> KeyMap:
  """The official ``UnetGenerator`` keys of a jaxgan :class:`UNetGenerator`."""
  n = net.num_downs
  km = KeyMap()
  # Registration order of the nested blocks: each level's down layers, then (after the
  # inner levels) its up layers.
  for i in range(n):
    seq = unet_block_prefix(i) + "model."
    km.conv(seq + ("0" if i == 0 else "1"), net.downs[i], ("downs", i))
    if 0 < i < n - 1:
      km.norm(seq + "2", net.down_norms[i - 1], ("down_norms", i - 1))
  for i in reversed(range(n)):
    seq = unet_block_prefix(i) + "model."
    up, up_norm = ("3", None) if i == 0 else ("3", "4") if i == n - 1 else ("5", "6")
    km.conv_transpose(seq + up, net.ups[i], ("ups", i))
    if up_norm is not None:
      km.norm(seq + up_norm, net.up_norms[i - 1], ("up_norms", i - 1))
  return km


def patchgan_keymap(net: PatchGANDiscriminator) -> KeyMap:
  """The official ``NLayerDiscriminator`` keys of a jaxgan :class:`PatchGANDiscriminator`."""
  km = KeyMap().conv("model.0", net.first, ("first",))
  for j, (conv, norm) in enumerate(zip(net.convs, net.norms)):
    km.conv(f"model.{2 + 3 * j}", conv, ("convs", j))
    km.norm(f"model.{3 + 3 * j}", norm, ("norms", j))
  return km.conv(f"model.{2 + 3 * net.n_layers}", net.to_logits, ("to_logits",))


def pixel_keymap(net: PixelDiscriminator) -> KeyMap:
  """The official ``PixelDiscriminator`` keys of a jaxgan :class:`PixelDiscriminator`."""
  return (
    KeyMap()
    .conv("net.0", net.first, ("first",))
    .conv("net.2", net.hidden, ("hidden",))
    .norm("net.3", net.norm, ("norm",))
    .conv("net.5", net.to_logits, ("to_logits",))
  )


# jaxgan network class -> its official key map; :mod:`jaxgan.interop.cyclegan` adds the
# ResNet generator (imported with :mod:`jaxgan.interop`, so always registered).
KEYMAPS = {
  UNetGenerator: unet_keymap,
  PatchGANDiscriminator: patchgan_keymap,
  PixelDiscriminator: pixel_keymap,
}


def pix2pix_keymap(module: nnx.Module) -> KeyMap:
  """The official key map of a jaxgan pix2pix / CycleGAN network (dispatching on its type)."""
  for cls, make in KEYMAPS.items():
    if isinstance(module, cls):
      return make(module)
  raise TypeError(
    f"no official pix2pix / CycleGAN equivalent for {type(module).__name__}; expected one of "
    f"{[c.__name__ for c in KEYMAPS]}"
  )


def state_dict_keys(net: Any) -> list[str]:
  """The official ``state_dict`` keys of a jaxgan network (module or (graphdef, params, stats))."""
  module = split_net(net)[0]
  return pix2pix_keymap(module).torch_keys()


def _state_dict(state_dict: Mapping[str, Any] | str | os.PathLike) -> tuple[Mapping[str, Any], str | None]:
  if isinstance(state_dict, (str, os.PathLike)):
    return load_torch_state_dict(state_dict), os.fspath(state_dict)
  return state_dict, None


def load_pix2pix(state_dict: Mapping[str, Any] | str | os.PathLike, net: Any) -> tuple[nnx.State, nnx.State]:
  """``(params, stats)`` of ``net`` filled from an official checkpoint.

  ``state_dict``: a ``.pth`` path or a ``{key: array}`` mapping (see
  :func:`jaxgan.interop.load_torch_state_dict`). ``net``: a jaxgan :class:`UNetGenerator`,
  :class:`PatchGANDiscriminator`, :class:`PixelDiscriminator` or
  :class:`jaxgan.models.resnet_generator.ResnetGenerator` (possibly abstract, from
  ``nnx.eval_shape``), or its ``(graphdef, params, stats)``; it is not modified. Use
  ``nnx.merge(graphdef, params, stats)`` or ``nnx.update(module, params, stats)``.
  Raises :class:`jaxgan.interop.StateDictMismatchError` naming every missing, unexpected
  or mis-shaped key.
  """
  module, _, params, stats = split_net(net)
  sd, source = _state_dict(state_dict)
  return assign_state_dict(sd, pix2pix_keymap(module), params, stats, source=source)


def expect_module(net: Any, classes: tuple[type, ...], what: str) -> nnx.Module:
  """The module of ``net`` (see :func:`split_net`); a ``TypeError`` unless one of ``classes``."""
  module = split_net(net)[0]
  if not isinstance(module, classes):
    raise TypeError(f"{what} must be a {' or '.join(c.__name__ for c in classes)}, got {type(module).__name__}")
  return module


def load_pix2pix_generator(state_dict: Mapping[str, Any] | str | os.PathLike, net: Any) -> tuple[nnx.State, nnx.State]:
  """:func:`load_pix2pix` for a ``*_net_G.pth`` into a :class:`UNetGenerator`."""
  expect_module(net, (UNetGenerator,), "the generator")
  return load_pix2pix(state_dict, net)


def load_pix2pix_discriminator(
  state_dict: Mapping[str, Any] | str | os.PathLike, net: Any
) -> tuple[nnx.State, nnx.State]:
  """:func:`load_pix2pix` for a ``*_net_D.pth`` into a PatchGAN or PixelGAN discriminator."""
  expect_module(net, (PatchGANDiscriminator, PixelDiscriminator), "the discriminator")
  return load_pix2pix(state_dict, net)


def to_torch_state_dict(net: Any) -> StateDict:
  """The official ``state_dict`` of a jaxgan network, as ``{key: numpy array}``.

  Batch norms get ``num_batches_tracked = 0``. Save it with
  :func:`jaxgan.interop.save_torch_state_dict`; the official networks load it with
  ``load_state_dict`` (strict).
  """
  module, _, params, stats = split_net(net)
  return export_state_dict(pix2pix_keymap(module), params, stats)

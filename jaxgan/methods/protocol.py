"""The one shape of a method, what :mod:`jaxgan.methods.runner` and the experiment scripts rely on.

A method module ``jaxgan/methods/NAME.py`` holds

- ``Config``: a frozen dataclass; ``experiment.main`` derives the script's flags from it;
- ``build(config, data=None) -> Method``: the static half (networks, optimisers, losses), made
  once per run, after the training data is known: ``data`` is what the data tells the method
  (:class:`DataInfo`; SinGAN: the image's pyramid) and None in modes that read no training data;
- ``MODES``: ``{name: mode(config)}``. ``"train"`` trains (or resumes) into ``--workdir`` through
  :func:`jaxgan.methods.runner.train`; the other modes use the trained model
  (:func:`jaxgan.methods.runner.restore`). Each mode calls ``build`` once.

``experiment.main(module)`` turns such a module into a script: ``experiments/NAME.py`` is one call.
The :class:`Method` it builds is pure where it matters: ``train_step`` is a function of its
arguments, jitted once by the loop. SinGAN is the one method trained in parts: its pyramid is a
sequence of per-scale fits (``runner.Part``), each with the per-scale ``init_state``/``train_step``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import jax

from jaxgan.train.state import TrainState


@dataclasses.dataclass(frozen=True)
class DataInfo:
  """What a method learns from its training data before it is built.

  ``steps_per_epoch``: global batches per pass over the training split (the unit of
  pix2pix's and CycleGAN's epoch-based schedules).
  """

  steps_per_epoch: int = 1

  @classmethod
  def of(cls, batches) -> DataInfo:
    """The info of a batch stream (a :class:`jaxgan.data.BatchLoader` or alike)."""
    return cls(steps_per_epoch=batches.steps_per_epoch)


class Method(Protocol):
  """What ``build`` returns: the config, the state's initialisation and the pure step.

  ``consts``: the pytree the step reads but never trains (frozen VGG weights, style Grams), or
  None; passed to every step by ``fit`` and never checkpointed.
  """

  config: Any
  consts: Any

  def init_state(self, key: jax.Array) -> TrainState: ...

  def train_step(self, state: TrainState, batch: Any, consts: Any) -> tuple[TrainState, dict]: ...

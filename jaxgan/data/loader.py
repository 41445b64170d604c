"""Deterministic, resumable, per-process batches from a random-access source.

Epoch ``e`` visits the examples in the order ``np.random.default_rng([seed, e])
.permutation(n)``; global batch ``s`` is positions ``[s*B, (s+1)*B)`` of the
concatenated epoch orders, where each epoch is cut to ``steps_per_epoch * B``
examples so that every batch is full. Process ``p`` of ``P`` gets the ``p``-th
contiguous slice of ``B / P`` examples of each global batch. ``batch(step)`` is a
pure function of (seed, step, process), so a run resumed at step ``s`` sees the
batches an uninterrupted run saw.

A transform is called as ``transform(example, rng)``, where ``rng`` is a
``np.random.Generator`` seeded by (seed, step, position of the example in the global
batch): random augmentation (crops, flips) is as reproducible as the order, and does
not depend on how many processes share the batch. Deterministic transforms ignore
``rng``; called with ``rng=None`` a random transform does its test-time version.
"""

from __future__ import annotations

import collections
import concurrent.futures
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from jaxgan.data import images as images_lib

Example = dict[str, Any]
Batch = dict[str, np.ndarray]


@functools.lru_cache(maxsize=4)
def epoch_order(seed: int, epoch: int, num_examples: int) -> np.ndarray:
  """The (read-only) order in which epoch ``epoch`` visits the examples."""
  order = np.random.default_rng([seed, epoch]).permutation(num_examples)
  order.flags.writeable = False
  return order


def _positive_int(name: str, value) -> int:
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
    raise ValueError(f"{name} must be a positive integer, got {value!r}")
  return int(value)


def stack_examples(examples: list[Example]) -> Batch:
  """Stacks a list of example dicts into a dict of arrays with a leading batch axis."""
  keys = examples[0].keys()
  return {key: np.stack([np.asarray(ex[key]) for ex in examples]) for key in keys}


class BatchLoader:
  """Per-process batches of a source with ``__len__`` and ``__getitem__``.

  Args:
    source: random-access examples (dicts); ``__getitems__`` is used if present.
    global_batch_size: examples per step over all processes.
    seed: the data order's seed (use one for all processes).
    transform: ``(example, rng) -> example`` applied to each example (e.g.
      :func:`labelled_transform`); a pure function of its arguments.
    process_index, process_count: this process and the number of processes.
    num_threads: threads that make batches in :meth:`iterate`.
    prefetch: batches made ahead of the consumer in :meth:`iterate`.
  """

  def __init__(
    self,
    source,
    *,
    global_batch_size: int,
    seed: int,
    transform: Callable[[Example, np.random.Generator | None], Example] | None = None,
    process_index: int = 0,
    process_count: int = 1,
    num_threads: int = 2,
    prefetch: int = 2,
  ):
    self.global_batch_size = _positive_int("global_batch_size", global_batch_size)
    self.process_count = _positive_int("process_count", process_count)
    if not 0 <= process_index < self.process_count:
      raise ValueError(f"process_index must be in [0, {self.process_count}), got {process_index!r}")
    if self.global_batch_size % self.process_count:
      raise ValueError(
        f"global_batch_size {self.global_batch_size} is not divisible by process_count {self.process_count}"
      )
    self.num_examples = len(source)
    if self.num_examples < self.global_batch_size:
      raise ValueError(
        f"the data set has {self.num_examples} examples, fewer than one global batch of {self.global_batch_size}"
      )
    self.source = source
    self.seed = int(seed)
    self.transform = transform
    self.process_index = int(process_index)
    self.num_threads = _positive_int("num_threads", num_threads)
    self.prefetch = _positive_int("prefetch", prefetch)
    self.per_process_batch_size = self.global_batch_size // self.process_count
    self.steps_per_epoch = self.num_examples // self.global_batch_size

  def indices(self, step: int) -> np.ndarray:
    """The source indices of this process's part of global batch ``step``."""
    if step < 0:
      raise ValueError(f"step must be >= 0, got {step}")
    epoch, step_in_epoch = divmod(int(step), self.steps_per_epoch)
    start = step_in_epoch * self.global_batch_size + self.process_index * self.per_process_batch_size
    order = epoch_order(self.seed, epoch, self.num_examples)
    return order[start : start + self.per_process_batch_size]

  def _read(self, indices: np.ndarray) -> list[Example]:
    getitems = getattr(self.source, "__getitems__", None)
    if getitems is not None:
      return list(getitems([int(i) for i in indices]))
    return [self.source[int(i)] for i in indices]

  def batch(self, step: int) -> Batch:
    """This process's batch of step ``step``: a dict of stacked arrays."""
    examples = self._read(self.indices(step))
    if self.transform is not None:
      first = self.process_index * self.per_process_batch_size
      examples = [self.transform(ex, example_rng(self.seed, step, first + i)) for i, ex in enumerate(examples)]
    return stack_examples(examples)

  def iterate(self, start_step: int = 0, stop_step: int | None = None) -> Iterator[Batch]:
    """Yields ``batch(s)`` for s = start_step, start_step + 1, ... (< stop_step).

    Batches are made by a pool of ``num_threads`` threads, at most ``prefetch``
    ahead of the consumer; closing the generator cancels the pending work.
    """
    steps = _steps(start_step, stop_step)
    with concurrent.futures.ThreadPoolExecutor(self.num_threads, thread_name_prefix="jaxgan-batches") as pool:
      pending = collections.deque()
      try:
        for step in steps:
          pending.append(pool.submit(self.batch, step))
          if len(pending) >= self.prefetch:
            yield pending.popleft().result()
        while pending:
          yield pending.popleft().result()
      finally:
        for future in pending:
          future.cancel()


def example_rng(seed: int, step: int, position: int) -> np.random.Generator:
  """The augmentation RNG of the example at ``position`` of global batch ``step``."""
  return np.random.default_rng([int(seed), 0x6A17, int(step), int(position)])


def _steps(start: int, stop: int | None) -> Iterator[int]:
  """start, start + 1, ... forever, or up to (not including) ``stop``."""
  if start < 0:
    raise ValueError(f"start_step must be >= 0, got {start}")
  step = start
  while stop is None or step < stop:
    yield step
    step += 1


def labelled_transform(*, image_size: int, channels: int) -> Callable[[Example, np.random.Generator | None], Example]:
  """A transform from a labelled source's example to model inputs.

  Returns ``{'image': float32 [-1, 1] (image_size, image_size, channels),
  'label': int32}``: channels converted (grey replicated to RGB, RGB to luma,
  alpha dropped) and the image resized (bicubic) when its size differs.
  """
  _positive_int("image_size", image_size)
  if channels not in (1, 3):
    raise ValueError(f"channels must be 1 or 3, got {channels!r}")

  def transform(example: Example, rng: np.random.Generator | None = None) -> Example:
    del rng  # deterministic
    image = images_lib.convert_channels(np.asarray(example["image"]), channels)
    if image.shape[:2] != (image_size, image_size):
      image = images_lib.resize(image, (image_size, image_size))
    return {"image": images_lib.to_float(image), "label": np.int32(example["label"])}

  return transform

"""CycleGAN's image pool (Shrivastava et al. 2017), as a pure, jittable function of arrays.

The discriminators of CycleGAN (Zhu et al. 2017) are updated on a history of
generated images rather than on the latest ones only. The official rule
(junyanz/pytorch-CycleGAN-and-pix2pix, ``util/image_pool.py``, ``--pool_size 50``)
takes the images of a batch one after the other:

* while the pool holds fewer than ``pool_size`` images, the image is stored in
  the next free slot and returned;
* once the pool is full, with probability 0.5 a uniformly chosen stored image is
  returned and replaced by the new one; otherwise the new image is returned and
  the pool is left as it is.

``pool_size`` 0 returns the batch unchanged.

Here the pool is an :class:`ImagePool` of two arrays, ``buffer [pool_size, H, W,
C]`` and ``count`` (int32, the number of stored images, at most ``pool_size``),
that lives in the train state: it is carried through ``jit``, replicated like
the rest of the state, and checkpointed like any array. :func:`query_pool` scans
the batch in order (``lax.scan``), exactly as the official loop.

Randomness: image ``i`` of a batch of ``n`` uses ``key_i = jax.random.split(key,
n)[i]`` (:func:`image_keys`), split once more into ``(k_use, k_slot) =
jax.random.split(key_i)``; the stored image is used when ``jax.random.uniform(k_use)
> 0.5`` and its slot is ``jax.random.randint(k_slot, (), 0, pool_size)``. Both
are drawn for every image but only matter once the pool is full (the official
code draws them only then, from Python's ``random``). So the result is a pure
function of (pool, images, key), and a batch equals its images fed one by one
to :func:`query_image` with the keys of :func:`image_keys`.

As the official ``image.data``, returned and stored images carry no gradient
(``lax.stop_gradient``), except with ``pool_size`` 0, where the input itself is
returned.
"""

from __future__ import annotations

from typing import Any

import flax
import jax
import jax.numpy as jnp
from jax import lax

POOL_SIZE = 50  # the official default (--pool_size)


class ImagePool(flax.struct.PyTreeNode):
  """The pool's arrays.

  Attributes:
    buffer: ``[pool_size, H, W, C]`` stored images; slots ``>= count`` are unused
      (zeros).
    count: int32 scalar, the number of stored images (slots ``0 .. count - 1``),
      at most ``pool_size``.
  """

  buffer: jax.Array
  count: jax.Array

  @property
  def pool_size(self) -> int:
    """The number of slots (static: the buffer's leading dimension)."""
    return self.buffer.shape[0]


def init_pool(
  pool_size: int = POOL_SIZE, image_shape: tuple[int, ...] = (256, 256, 3), dtype: Any = jnp.float32
) -> ImagePool:
  """An empty pool of ``pool_size`` images of shape ``image_shape`` (e.g. (H, W, C)) and ``dtype``."""
  if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 0:
    raise ValueError(f"pool_size must be a non-negative integer, got {pool_size!r}")
  image_shape = tuple(int(s) for s in image_shape)
  return ImagePool(buffer=jnp.zeros((pool_size, *image_shape), dtype), count=jnp.zeros((), jnp.int32))


def image_keys(key: jax.Array, num_images: int) -> jax.Array:
  """The keys of the images of a batch of ``num_images``: ``jax.random.split(key, num_images)``."""
  return jax.random.split(key, num_images)


def _check_images(pool: ImagePool, images: jax.Array, batched: bool) -> None:
  shape = pool.buffer.shape[1:]
  got = images.shape[1:] if batched else images.shape
  if (batched and images.ndim != pool.buffer.ndim) or got != shape:
    what = "[N, " + ", ".join(map(str, shape)) + "]" if batched else str(shape)
    raise ValueError(
      f"the pool holds images of shape {shape}; expected "
      f"{'a batch ' if batched else 'an image '}{what}, got {images.shape}"
    )
  if images.dtype != pool.buffer.dtype:
    raise ValueError(
      f"the pool holds {pool.buffer.dtype} images, got {images.dtype}; make the "
      "pool with init_pool(..., dtype=images.dtype)"
    )


def _step(pool: ImagePool, image: jax.Array, key: jax.Array) -> tuple[ImagePool, jax.Array]:
  """One image of the official loop (pool_size > 0); branch-free."""
  size = pool.pool_size
  k_use, k_slot = jax.random.split(key)
  use_stored = jax.random.uniform(k_use) > 0.5
  full = pool.count >= size
  slot = jnp.where(full, jax.random.randint(k_slot, (), 0, size), pool.count)
  stored = lax.dynamic_index_in_dim(pool.buffer, slot, keepdims=False)
  swap = full & use_stored
  returned = jnp.where(swap, stored, image)
  # Filling: the new image goes into the free slot. Full: it replaces the returned
  # stored image, or (not swapped) the slot keeps what it had.
  kept = jnp.where(full & ~use_stored, stored, image)
  buffer = lax.dynamic_update_index_in_dim(pool.buffer, kept, slot, 0)
  count = jnp.minimum(pool.count + 1, size).astype(jnp.int32)
  return ImagePool(buffer=buffer, count=count), returned


def query_image(pool: ImagePool, image: jax.Array, key: jax.Array) -> tuple[ImagePool, jax.Array]:
  """Passes one image ``[H, W, C]`` through the pool with its own ``key``.

  Returns ``(new_pool, returned_image)``; see the module docstring for the rule
  and how ``key`` is used.
  """
  image = jnp.asarray(image)
  _check_images(pool, image, batched=False)
  if pool.pool_size == 0:
    return pool, image
  pool = pool.replace(count=jnp.asarray(pool.count, jnp.int32))
  return _step(pool, lax.stop_gradient(image), key)


def query_pool(pool: ImagePool, images: jax.Array, key: jax.Array) -> tuple[ImagePool, jax.Array]:
  """Passes a batch ``[N, H, W, C]`` through the pool, image by image in batch order.

  Image ``i`` uses ``image_keys(key, N)[i]``. Returns ``(new_pool,
  returned_images)``, the returned images in the batch's order; with
  ``pool_size`` 0, ``(pool, images)`` unchanged.

  Raises:
    ValueError: for images whose shape (after the batch axis) or dtype differ from
      the pool's.
  """
  images = jnp.asarray(images)
  _check_images(pool, images, batched=True)
  if pool.pool_size == 0 or images.shape[0] == 0:
    return pool, images
  pool = pool.replace(count=jnp.asarray(pool.count, jnp.int32))

  def body(state, xs):
    return _step(state, *xs)

  return lax.scan(body, pool, (lax.stop_gradient(images), image_keys(key, images.shape[0])))

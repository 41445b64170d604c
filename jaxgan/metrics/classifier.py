"""A small CNN classifier that judges generated images.

Uses: does a conditional GAN's sample show the class it was asked for (the
classifier's prediction against the requested label); later, did a CycleGAN
translation land in the target domain. Train it once on the real training data with
:func:`cached_classifier`, then call :func:`classify` on generated images.

Architecture (channels-last, any small ``H x W x C``, ``K`` classes)::

    conv3x3(32) - ReLU - conv3x3(64, stride 2) - ReLU - conv3x3(128, stride 2) - ReLU
    - flatten - [dropout] - dense(K)

The widths are ``features`` (default ``(32, 64, 128)``); every conv after the first has
stride 2, 'SAME' padding. The dense layer sees the flattened map, so the classifier
knows *where* things are (it is tied to one image size).

Images are float in [-1, 1] (what jaxgan generators and ``labelled_transform``
produce) or uint8 in [0, 255] (converted with ``jaxgan.data.images.to_float``).

Parameters are a plain nested dict of arrays (``nnx.to_pure_dict``): the
architecture is read back from their shapes, so ``classify(params, images)`` needs
nothing else.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxgan import atomic
from jaxgan.data import images as images_lib
from jaxgan.nn.conv import Conv

DEFAULT_FEATURES = (32, 64, 128)
# Bump when training or the file format changes, so old caches are not reused.
_CACHE_FORMAT = 1

Params = dict[str, Any]


class Classifier(nnx.Module):
  """Images ``[B, H, W, C]`` -> class logits ``[B, num_classes]``."""

  def __init__(
    self,
    *,
    image_shape: Sequence[int],
    num_classes: int,
    features: Sequence[int] = DEFAULT_FEATURES,
    dropout_rate: float = 0.0,
    rngs: nnx.Rngs,
  ):
    if len(image_shape) != 3 or min(image_shape) < 1:
      raise ValueError(f"image_shape must be (H, W, C); got {tuple(image_shape)}")
    if num_classes < 1:
      raise ValueError(f"num_classes must be >= 1; got {num_classes}")
    if not features or min(features) < 1:
      raise ValueError(f"features must be positive widths; got {tuple(features)}")
    self.image_shape = tuple(int(s) for s in image_shape)
    height, width, channels = self.image_shape
    widths = [channels, *features]
    self.convs = nnx.List(
      [
        Conv(a, b, (3, 3), strides=1 if i == 0 else 2, padding="SAME", rngs=rngs)
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:]))
      ]
    )
    for _ in features[1:]:
      height, width = -(-height // 2), -(-width // 2)
    self.dropout = nnx.Dropout(dropout_rate)
    self.dense = nnx.Linear(height * width * features[-1], num_classes, rngs=rngs)

  def __call__(self, x: jax.Array, *, train: bool = False, key: jax.Array | None = None) -> jax.Array:
    """Logits; ``key`` drives dropout and is required when ``train=True``."""
    if train and key is None:
      raise ValueError("Classifier needs a dropout `key` when train=True")
    h = self.feature_map(x)
    h = h.reshape(h.shape[0], -1)
    h = self.dropout(h, deterministic=not train, rngs=key)
    return self.dense(h)

  def feature_map(self, x: jax.Array) -> jax.Array:
    """The last convolution's ReLU activations ``[B, h, w, features[-1]]``."""
    if tuple(x.shape[1:]) != self.image_shape:
      raise ValueError(f"images must have shape [B, *{self.image_shape}]; got {x.shape}")
    h = x
    for conv in self.convs:
      h = jax.nn.relu(conv(h))
    return h

  def embed(self, x: jax.Array) -> dict[str, jax.Array]:
    """``{"features": [B, features[-1]], "logits": [B, K]}``: the spatial mean of
    :meth:`feature_map` (what domain FID/KID compare) and the logits (domain IS), inference mode."""
    h = self.feature_map(x)
    return {"features": h.mean(axis=(1, 2)), "logits": self.dense(h.reshape(h.shape[0], -1))}


# ---------------------------------------------------------------------------- helpers


def _as_float_images(images) -> np.ndarray:
  images = np.asarray(images)
  if images.ndim == 3:  # [N, H, W] grayscale
    images = images[..., None]
  if images.ndim != 4:
    raise ValueError(f"images must be [N, H, W, C] or [N, H, W]; got shape {images.shape}")
  if images.dtype == np.uint8:
    return images_lib.to_float(images)
  if not np.issubdtype(images.dtype, np.floating):
    raise ValueError(f"images must be uint8 or float in [-1, 1]; got dtype {images.dtype}")
  return images.astype(np.float32)


def _check_labels(labels, num_images: int, num_classes: int) -> np.ndarray:
  labels = np.asarray(labels)
  if labels.shape != (num_images,) or not np.issubdtype(labels.dtype, np.integer):
    raise ValueError(f"labels must be integers of shape ({num_images},); got {labels.dtype} {labels.shape}")
  if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
    raise ValueError(f"labels must be in [0, {num_classes}); got values in [{labels.min()}, {labels.max()}]")
  return labels.astype(np.int32)


def _abstract_model(image_shape, num_classes, features, dropout_rate) -> Classifier:
  return nnx.eval_shape(
    lambda: Classifier(
      image_shape=image_shape,
      num_classes=num_classes,
      features=tuple(features),
      dropout_rate=dropout_rate,
      rngs=nnx.Rngs(0),
    )
  )


def _architecture(params: Params) -> tuple[tuple[int, ...], int]:
  """(features, num_classes) read from the parameter shapes."""
  try:
    convs = params["convs"]
    features = tuple(int(np.shape(convs[i]["kernel"])[-1]) for i in sorted(convs))
    num_classes = int(np.shape(params["dense"]["kernel"])[-1])
  except (KeyError, TypeError, IndexError) as e:
    raise ValueError(
      'params are not Classifier parameters (expected {"convs": {0: {"kernel", '
      '"bias"}, ...}, "dense": {...}} as returned by train_classifier)'
    ) from e
  return features, num_classes


def split_model(params_or_model, image_shape) -> tuple[nnx.GraphDef, nnx.State]:
  if isinstance(params_or_model, Classifier):
    return nnx.split(params_or_model)
  features, num_classes = _architecture(params_or_model)
  graphdef, state = nnx.split(_abstract_model(image_shape, num_classes, features, 0.0))
  nnx.replace_by_pure_dict(state, jax.tree_util.tree_map(jnp.asarray, params_or_model))
  return graphdef, state


# --------------------------------------------------------------------------- training


@functools.partial(jax.jit, static_argnames=("graphdef", "batch_size", "learning_rate"), donate_argnums=(1, 2))
def _train_step(graphdef, params, opt_state, images, labels, key, i, *, batch_size, learning_rate):
  tx = optax.adam(learning_rate)

  def loss_fn(params, x, y, dropout_key):
    logits = nnx.merge(graphdef, params)(x, train=True, key=dropout_key)
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y))

  batch_key, dropout_key = jax.random.split(jax.random.fold_in(key, i))
  index = jax.random.randint(batch_key, (batch_size,), 0, images.shape[0])
  grads = jax.grad(loss_fn)(params, images[index], labels[index], dropout_key)
  updates, opt_state = tx.update(grads, opt_state, params)
  return optax.apply_updates(params, updates), opt_state


def _train(graphdef, params, images, labels, key, steps, *, batch_size, learning_rate):
  # A jitted step in a host loop, not a fori_loop: XLA:CPU ran this network's convolutions
  # several times slower inside a while loop (measured: 0.56 s vs ~0.1 s per step).
  opt_state = optax.adam(learning_rate).init(params)
  for i in range(int(steps)):
    params, opt_state = _train_step(
      graphdef, params, opt_state, images, labels, key, jnp.int32(i), batch_size=batch_size, learning_rate=learning_rate
    )
  return params


def train_classifier(
  images,
  labels,
  *,
  num_classes: int,
  steps: int,
  batch_size: int,
  seed: int,
  learning_rate: float = 1e-3,
  features: Sequence[int] = DEFAULT_FEATURES,
  dropout_rate: float = 0.0,
) -> Params:
  """Trains a :class:`Classifier` with Adam on softmax cross-entropy.

  All ``steps`` run in one compiled ``fori_loop``; each step draws ``batch_size``
  examples uniformly with replacement from ``jax.random.fold_in(key(seed), step)``,
  so the result is a deterministic function of the arguments.

  Returns:
    the parameters as a nested dict of arrays (see :func:`classify`).
  """
  images = _as_float_images(images)
  labels = _check_labels(labels, images.shape[0], num_classes)
  for name, value in (("steps", steps), ("batch_size", batch_size)):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
      raise ValueError(f"{name} must be a positive integer; got {value!r}")
  init_key, train_key = jax.random.split(jax.random.key(seed))
  model = Classifier(
    image_shape=images.shape[1:],
    num_classes=num_classes,
    features=tuple(features),
    dropout_rate=dropout_rate,
    rngs=nnx.Rngs(params=init_key),
  )
  graphdef, params = nnx.split(model)
  params = _train(
    graphdef,
    params,
    jnp.asarray(images),
    jnp.asarray(labels),
    train_key,
    jnp.int32(steps),
    batch_size=int(batch_size),
    learning_rate=float(learning_rate),
  )
  return nnx.to_pure_dict(params)


# -------------------------------------------------------------------------- inference


@functools.partial(jax.jit, static_argnames="graphdef")
def _embed(graphdef, state, x):
  return nnx.merge(graphdef, state).embed(x)


def classifier_embeddings(params_or_model, images, *, batch_size: int = 256) -> dict[str, np.ndarray]:
  """``{"features": [N, F], "logits": [N, K]}`` of a trained classifier (params dict or
  :class:`Classifier`; see :meth:`Classifier.embed`).

  Images are processed in batches of ``batch_size`` (the last one padded, so one
  compiled program serves every batch).
  """
  images = _as_float_images(images)
  graphdef, state = split_model(params_or_model, images.shape[1:])
  n = images.shape[0]
  batch_size = max(1, min(int(batch_size), n))
  out = []
  for start in range(0, n, batch_size):
    chunk = images[start : start + batch_size]
    pad = batch_size - chunk.shape[0]
    if pad:
      chunk = np.concatenate([chunk, np.zeros((pad, *chunk.shape[1:]), chunk.dtype)])
    out.append({k: np.asarray(v)[: batch_size - pad] for k, v in _embed(graphdef, state, chunk).items()})
  if not out:
    return {"features": np.zeros((0, 0), np.float32), "logits": np.zeros((0, 0), np.float32)}
  return {k: np.concatenate([o[k] for o in out]) for k in out[0]}


def classifier_logits(params_or_model, images, *, batch_size: int = 256) -> np.ndarray:
  """Logits ``[N, K]`` of a trained classifier (params dict or :class:`Classifier`)."""
  return classifier_embeddings(params_or_model, images, batch_size=batch_size)["logits"]


def classify(params_or_model, images, batch_size: int = 256) -> np.ndarray:
  """Predicted classes ``[N]`` int32 of images ``[N, H, W, C]`` (see module doc)."""
  return np.argmax(classifier_logits(params_or_model, images, batch_size=batch_size), axis=-1).astype(np.int32)


# ----------------------------------------------------------------------------- cache


def cache_key(images, labels, **settings) -> str:
  """A hash of the data (shape, dtype, bytes), the architecture and the training
  settings: a classifier is reused only for exactly the same inputs."""
  digest = hashlib.sha256()
  digest.update(f"jaxgan-classifier-v{_CACHE_FORMAT}\0".encode())
  for name, array in (("images", images), ("labels", labels)):
    array = np.ascontiguousarray(array)
    digest.update(f"{name} {array.dtype.str} {array.shape}\0".encode())
    digest.update(array.data)
  digest.update(json.dumps(settings, sort_keys=True).encode())
  return digest.hexdigest()[:20]


def _flat(params: Params) -> dict[str, Any]:
  leaves, _ = jax.tree_util.tree_flatten_with_path(params)
  return {"/".join(str(getattr(k, "key", k)) for k in path): leaf for path, leaf in leaves}


def _load(path: str, expected: Params) -> Params | None:
  """The cached parameters, or None if missing / unreadable / of other shapes."""
  try:
    with np.load(path, allow_pickle=False) as data:
      stored = {name: data[name] for name in data.files}
  except (OSError, ValueError, EOFError):
    return None
  wanted = _flat(expected)
  if set(stored) - {"__settings__"} != set(wanted) or any(
    stored[name].shape != np.shape(leaf) for name, leaf in wanted.items()
  ):
    return None
  paths, treedef = jax.tree_util.tree_flatten_with_path(expected)
  names = ["/".join(str(getattr(k, "key", k)) for k in p) for p, _ in paths]
  return jax.tree_util.tree_unflatten(treedef, [stored[name] for name in names])


def _save_atomic(path: str, params: Params, settings: dict[str, Any]) -> None:
  arrays = {name: np.asarray(leaf) for name, leaf in _flat(params).items()}
  arrays["__settings__"] = np.asarray(json.dumps(settings, sort_keys=True))
  with atomic.replacing(path) as tmp, open(tmp, "wb") as f:
    np.savez(f, **arrays)
    f.flush()
    os.fsync(f.fileno())


def cached_classifier(
  directory: str | os.PathLike,
  images,
  labels,
  num_classes: int,
  *,
  steps: int = 2000,
  batch_size: int = 128,
  seed: int = 0,
  learning_rate: float = 1e-3,
  features: Sequence[int] = DEFAULT_FEATURES,
  dropout_rate: float = 0.0,
) -> Params:
  """:func:`train_classifier`'s parameters, trained once and cached in ``directory``.

  The file ``directory/classifier-<key>.npz`` is named by :func:`cache_key` over the
  images and labels (shape, dtype and bytes), ``num_classes``, the architecture and
  every training setting, so changed data or settings train a new classifier
  instead of silently reusing an old one. It is written atomically (a temporary
  file renamed into place); an unreadable or mismatching file is retrained and
  replaced. Pass a directory inside the run's workdir.
  """
  settings = dict(
    num_classes=int(num_classes),
    steps=int(steps),
    batch_size=int(batch_size),
    seed=int(seed),
    learning_rate=float(learning_rate),
    features=[int(f) for f in features],
    dropout_rate=float(dropout_rate),
    architecture="conv3x3-stride1-then-stride2-relu-flatten-dense",
  )
  images = np.asarray(images)
  labels = np.asarray(labels)
  directory = os.fspath(directory)
  os.makedirs(directory, exist_ok=True)
  path = os.path.join(directory, f"classifier-{cache_key(images, labels, **settings)}.npz")
  image_shape = _as_float_images(images[:1]).shape[1:]
  expected = nnx.to_pure_dict(nnx.split(_abstract_model(image_shape, num_classes, features, dropout_rate))[1])
  params = _load(path, expected) if os.path.exists(path) else None
  if params is None:
    params = train_classifier(
      images,
      labels,
      num_classes=num_classes,
      steps=steps,
      batch_size=batch_size,
      seed=seed,
      learning_rate=learning_rate,
      features=features,
      dropout_rate=dropout_rate,
    )
    _save_atomic(path, params, settings)
  return params

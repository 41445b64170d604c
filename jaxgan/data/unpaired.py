"""Unpaired images of two domains for CycleGAN (Zhu et al. 2017).

``unpaired_sources(spec, split, data_dir)`` returns the sources of domains A and
B (of any sizes) for ``spec``:

* ``DIR`` or ``unpaired:DIR``: the official layout (junyanz/pytorch-CycleGAN-and-pix2pix,
  ``data/unaligned_dataset.py``)::

      DIR/trainA/  DIR/trainB/  DIR/testA/  DIR/testB/   (and/or valA/, valB/)

  Each domain folder's image files are found recursively, as the official
  ``make_dataset`` (hidden entries are skipped; a folder may be a symlink, e.g.
  ``DIR/trainA -> /data/horses``), in sorted order of their relative paths.
  Images are stored as RGB, as the official ``.convert('RGB')``.
* ``cycle_gan/<name>`` (e.g. ``cycle_gan/horse2zebra``) or ``tfds:NAME``: a tfds
  catalogue dataset with splits trainA, trainB, testA, testB and an 'image'
  feature, already prepared in ``data_dir`` (array_record); nothing is downloaded.
* ``idx-classes:DIR:A=a:B=b``: two classes of MNIST-format IDX files in DIR
  (:mod:`jaxgan.data.idx`): domain A is the images of label ``a``, B those of
  label ``b``; 'train' from the train files, 'test' from the t10k files. With
  Fashion-MNIST, ``A=7:B=9`` is sneaker <-> ankle boot: a translation whose success
  can be counted by a classifier. Images keep their size (28x28x1);
  :func:`unpaired_transform` resizes them.
* ``digits`` (= ``digits-classes:A=3:B=8``) or ``digits-classes:A=a:B=b``: the
  embedded default, two classes of scikit-learn's 8x8 digits (shipped inside the
  scikit-learn wheel, so it works offline); 'test' is every 5th image of each
  class, as the ``digits`` labelled source. Why 3 <-> 8: closing the two open
  arcs of a 3 makes an 8 and opening them makes a 3, a local, shape-preserving
  change like sneaker <-> ankle boot (what CycleGAN can do, unlike 0 <-> 1,
  which replaces the whole shape); both domains are the same kind of image and
  of near-equal size (147 and 140 training images), so neither discriminator has
  an easier job; and the outcome is countable: a digits classifier tells how
  many translated 3s read as 8s and back.

Examples are ``{'image': uint8 HxWxC, 'name': str}`` (C is 3 for folders, the
catalogue's own for tfds, 1 for the class domains); ``name`` is the file's
relative path, ``<phase>-<index in the IDX or digits data>`` for class domains
(e.g. 'train-00042'), ``<split>_<index in the split>`` for tfds. Local data is built once into ``data_dir`` (a tfds
``array_record`` dataset with splits ``<phase>A`` / ``<phase>B`` and features
'image', 'label' (A or B), 'name', named after a fingerprint of the files and
options as in :mod:`jaxgan.data.builders`) and read back without TensorFlow.

:func:`unpaired_batches` reads the two domains as the official data loader
does, and :func:`unpaired_transform` jitters each image on its own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib
import re
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow_datasets as tfds

from jaxgan.data import builders, fingerprint, idx
from jaxgan.data import images as images_lib
from jaxgan.data import jitter as jitter_lib
from jaxgan.data import sources as sources_lib
from jaxgan.data.loader import BatchLoader, Example
from jaxgan.data.record_source import RecordSource, decode_name
from jaxgan.data.streams import ZippedBatches

PREPROCESS = jitter_lib.PREPROCESS
DOMAINS = ("A", "B")
PHASES = ("train", "val", "test")
DIRECTIONS = ("AtoB", "BtoA")
DIGITS_CLASSES = (3, 8)
FASHION_MNIST_CLASSES = (7, 9)  # sneaker <-> ankle boot
B_ORDERS = ("random", "shuffle")
UNPAIRED_SPEC_FORMS = (
  "DIR",
  "unpaired:DIR",
  "cycle_gan/NAME",
  "tfds:NAME",
  "idx-classes:DIR:A=a:B=b",
  "digits",
  "digits-classes:A=a:B=b",
)
DRAW_TAG = 0x0B0B  # separates the B draws from the augmentation RNG of the same example
_SEED_TAG = 0xC7C1

Item = tuple[str, str]  # (name, file)


# ------------------------------------------------------------------ specs


@dataclasses.dataclass(frozen=True)
class UnpairedSpec:
  """A parsed spec: kind in 'folders', 'tfds', 'idx-classes', 'digits-classes'."""

  kind: str
  path: str | None = None
  classes: tuple[int, int] | None = None


_CLASSES = r"A=(\d+):B=(\d+)"


def parse_unpaired_spec(spec: str) -> UnpairedSpec:
  """Parses a spec of :data:`UNPAIRED_SPEC_FORMS` (see the module docstring).

  Raises:
    ValueError: naming the spec and the accepted forms.
  """
  forms = ", ".join(UNPAIRED_SPEC_FORMS)
  if not isinstance(spec, str) or not spec:
    raise ValueError(f"bad unpaired data spec {spec!r}; accepted forms: {forms}")
  if spec == "digits":
    return UnpairedSpec("digits-classes", classes=DIGITS_CLASSES)
  prefix, sep, argument = spec.partition(":")
  if sep and prefix in ("idx-classes", "digits-classes"):
    pattern = (r"(.+):" if prefix == "idx-classes" else "") + _CLASSES
    match = re.fullmatch(pattern, argument)
    if not match:
      example = "idx-classes:/data/fashion-mnist:A=7:B=9" if prefix == "idx-classes" else "digits-classes:A=3:B=8"
      raise ValueError(
        f"bad unpaired data spec {spec!r}: expected {prefix}:"
        f"{'DIR:' if prefix == 'idx-classes' else ''}A=<label>:B=<label>, e.g. {example}"
      )
    *path, a, b = match.groups()
    return UnpairedSpec(prefix, path[0] if path else None, _two_classes(int(a), int(b)))
  if sep and prefix in ("unpaired", "tfds"):
    if not argument:
      raise ValueError(f'unpaired data spec {spec!r} needs a value after "{prefix}:"')
    return UnpairedSpec("folders" if prefix == "unpaired" else "tfds", argument)
  if (spec == "cycle_gan" or spec.startswith("cycle_gan/")) and not os.path.exists(spec):
    return UnpairedSpec("tfds", spec)
  if sep and re.fullmatch(r"[A-Za-z][\w-]+", prefix) and not os.path.exists(spec):
    raise ValueError(f"unknown unpaired data spec {spec!r}; accepted forms: {forms}")
  return UnpairedSpec("folders", spec)


def _two_classes(a: int, b: int) -> tuple[int, int]:
  if a == b:
    raise ValueError(f"domains A and B are the same class {a}; choose two classes")
  return a, b


# ------------------------------------------------------------------ folders


@dataclasses.dataclass(frozen=True)
class UnpairedLayout:
  """The image files of an unpaired root.

  Attributes:
    root: the folder.
    splits: ``'<phase>A'`` / ``'<phase>B'`` -> ``(name, file)`` items, sorted by
      name (the path relative to the domain folder).
  """

  root: pathlib.Path
  splits: dict[str, tuple[Item, ...]]

  @property
  def phases(self) -> tuple[str, ...]:
    return tuple(p for p in PHASES if f"{p}A" in self.splits)

  def all_files(self) -> list[str]:
    return [f for items in self.splits.values() for _, f in items]


def domain_files(folder: str | os.PathLike) -> list[Item]:
  """The image files under ``folder``, recursively, as ``(relative name, path)``, sorted.

  Hidden files and folders (names starting with '.') are skipped; files whose
  extension is not in ``IMAGE_EXTENSIONS`` are ignored.
  """
  folder = pathlib.Path(folder)
  found = []
  for dirpath, dirnames, filenames in os.walk(folder):
    dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    for filename in filenames:
      if filename.startswith(".") or (os.path.splitext(filename)[1].lower() not in images_lib.IMAGE_EXTENSIONS):
        continue
      path = pathlib.Path(dirpath) / filename
      found.append((path.relative_to(folder).as_posix(), os.fspath(path)))
  return sorted(found)


def scan_unpaired_folder(root: str | os.PathLike) -> UnpairedLayout:
  """Finds the domain folders ``<phase>A`` / ``<phase>B`` (phase in PHASES) under ``root``.

  Raises:
    FileNotFoundError / NotADirectoryError: naming a missing or non-folder root.
    ValueError: naming the folders, for a root without any ``<phase>A`` and
      ``<phase>B`` pair, a domain folder without its counterpart, or a domain
      folder without image files.
  """
  root = pathlib.Path(root)
  if not root.exists():
    raise FileNotFoundError(f"unpaired image folder {root} does not exist")
  if not root.is_dir():
    raise NotADirectoryError(f"unpaired image folder {root} is not a directory")
  splits = {}
  for phase in PHASES:
    a_dir, b_dir = root / f"{phase}A", root / f"{phase}B"
    if not a_dir.is_dir() and not b_dir.is_dir():
      continue
    for folder, other in ((a_dir, b_dir), (b_dir, a_dir)):
      if not folder.is_dir():
        raise ValueError(f"{other} has no counterpart: {folder} is missing")
    for folder, domain in ((a_dir, "A"), (b_dir, "B")):
      items = domain_files(folder)
      if not items:
        raise ValueError(
          f"domain folder {folder} has no image files (extensions {', '.join(images_lib.IMAGE_EXTENSIONS)})"
        )
      splits[f"{phase}{domain}"] = tuple(items)
  if not splits:
    present = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    raise ValueError(
      f"unpaired image folder {root} has no domain folders: expected {root}/trainA/ "
      f"and {root}/trainB/ (and {root}/testA/, {root}/testB/), phases among "
      f"{', '.join(PHASES)}; found folders {present}"
    )
  return UnpairedLayout(root=root, splits=splits)


# ------------------------------------------------------------------ builder


@dataclasses.dataclass(eq=False)
class UnpairedConfig(tfds.core.BuilderConfig):
  """Two domains: the folders of ``layout``, or two ``classes`` of IDX files or digits."""

  kind: str = "folders"
  layout: UnpairedLayout | None = dataclasses.field(default=None, repr=False)  # logged by tfds: keep short
  path: str | None = None
  classes: tuple[int, int] | None = None
  image_shape: tuple[int | None, int | None, int] = (None, None, 3)


def _class_counts(labels: np.ndarray, classes: tuple[int, int], where: str) -> None:
  present = np.unique(labels)
  for domain, label in zip(DOMAINS, classes):
    if label not in present:
      raise ValueError(f"domain {domain}: class {label} has no images in {where} (its labels are {present.tolist()})")


def folders_config(layout: UnpairedLayout) -> UnpairedConfig:
  """Names the folder's cache entry after its files."""
  key = fingerprint.files_fingerprint(
    layout.root,
    layout.all_files(),
    {"kind": "unpaired", "splits": {s: len(items) for s, items in layout.splits.items()}},
  )
  return UnpairedConfig(
    name=fingerprint.config_name(layout.root, key),
    description=f"unpaired images in {layout.root.resolve()}",
    kind="folders",
    layout=layout,
    image_shape=(None, None, 3),
  )


def idx_classes_config(directory: str | os.PathLike, classes: tuple[int, int]) -> UnpairedConfig:
  """Two classes of the IDX files in ``directory``; checks that both have train images."""
  files = idx.find_idx_files(directory)
  images_path, labels_path = files["train"]
  _class_counts(idx.read_idx(labels_path), classes, os.fspath(labels_path))
  shape = tuple(idx.read_idx_shape(images_path))
  if len(shape) not in (3, 4) or (len(shape) == 4 and shape[3] not in (1, 3)):
    raise idx.IdxFormatError(images_path, f"expected images (N, H, W[, C]) with C 1 or 3, got {shape}")
  image_shape = shape[1:3] + (shape[3] if len(shape) == 4 else 1,)
  all_files = [f for pair in files.values() for f in pair]
  key = fingerprint.files_fingerprint(directory, all_files, {"classes": classes})
  a, b = classes
  return UnpairedConfig(
    name=f"{fingerprint.config_name(directory, key)}_{a}v{b}",
    description=f"classes {a} (A) and {b} (B) of the IDX files in {pathlib.Path(directory).resolve()}",
    kind="idx-classes",
    path=os.fspath(pathlib.Path(directory).resolve()),
    classes=classes,
    image_shape=image_shape,
  )


def digits_classes_config(classes: tuple[int, int] = DIGITS_CLASSES) -> UnpairedConfig:
  """Two classes of scikit-learn's digits."""
  for domain, label in zip(DOMAINS, classes):
    if not 0 <= label <= 9:
      raise ValueError(f"domain {domain}: digits classes are 0..9, got {label}")
  import sklearn  # pylint: disable=g-import-not-at-top

  options = (sklearn.__version__, classes, builders.DIGITS_TEST_EVERY)
  digest = hashlib.sha256(repr(options).encode()).hexdigest()[:12]
  a, b = classes
  return UnpairedConfig(
    name=f"digits_{a}v{b}_{digest}",
    description=f"scikit-learn's digits, class {a} (A) and {b} (B)",
    kind="digits-classes",
    classes=classes,
    image_shape=(8, 8, 1),
  )


def _class_arrays(config: UnpairedConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  """phase -> (uint8 images, their indices in the data, labels) of a class config."""
  if config.kind == "digits-classes":
    pixels, labels = builders.digits_arrays()
    test = builders.digits_test_mask(labels)
    return {
      "train": (pixels[~test], np.flatnonzero(~test), labels[~test]),
      "test": (pixels[test], np.flatnonzero(test), labels[test]),
    }
  files = idx.find_idx_files(config.path)
  out = {}
  for phase, pair in files.items():
    pixels, labels = idx.read_idx_pair(*pair)
    out[phase] = (pixels, np.arange(len(labels)), labels)
  return out


class JaxganUnpaired(tfds.core.GeneratorBasedBuilder):
  """Two unpaired domains: splits ``<phase>A``, ``<phase>B`` of {'image', 'label', 'name'}.

  'label' is the domain (A or B), as in the tfds ``cycle_gan`` catalogue.
  """

  VERSION = tfds.core.Version("1.0.0")

  def _info(self) -> tfds.core.DatasetInfo:
    config: UnpairedConfig = self.builder_config
    return builders.LocalDatasetInfo(
      builder=self,
      description=config.description,
      features=tfds.features.FeaturesDict(
        {
          "image": tfds.features.Image(shape=tuple(config.image_shape), encoding_format="png"),
          "label": tfds.features.ClassLabel(names=list(DOMAINS)),
          "name": tfds.features.Text(),
        }
      ),
      supervised_keys=("image", "label"),
      disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    config: UnpairedConfig = self.builder_config
    if config.kind == "folders":
      return {
        split: self._generate_examples(_read_files(items), split[-1]) for split, items in config.layout.splits.items()
      }
    generators = {}
    for phase, (pixels, ids, labels) in _class_arrays(config).items():
      for domain, label in zip(DOMAINS, config.classes):
        members = np.flatnonzero(labels == label)
        named = ((f"{phase}-{int(i):05d}", image) for i, image in zip(ids[members], pixels[members]))
        generators[f"{phase}{domain}"] = self._generate_examples(named, domain)
    return generators

  def _generate_examples(self, named_images, domain):
    for name, image in named_images:
      yield name, {"image": images_lib.encode_png(image), "label": domain, "name": name}


def _read_files(items):
  for name, path in items:
    yield name, images_lib.load_image(path, channels=3)


def unpaired_builder(spec: str | UnpairedSpec, data_dir: str | os.PathLike) -> JaxganUnpaired:
  """The (possibly not yet prepared) builder of local unpaired data named by ``spec``."""
  parsed = parse_unpaired_spec(spec) if isinstance(spec, str) else spec
  label = spec if isinstance(spec, str) else parsed.path  # for error messages
  if parsed.kind == "folders":
    config = folders_config(scan_unpaired_folder(sources_lib.spec_folder(label, parsed.path)))
  elif parsed.kind == "idx-classes":
    config = idx_classes_config(sources_lib.spec_folder(label, parsed.path), parsed.classes)
  elif parsed.kind == "digits-classes":
    config = digits_classes_config(parsed.classes)
  else:
    raise ValueError(f"{spec!r} is a tfds catalogue dataset, not local data")
  return JaxganUnpaired(config=config, data_dir=os.fspath(data_dir), file_format=builders.FILE_FORMAT)


# ------------------------------------------------------------------ sources


class DomainSource(RecordSource):
  """Random access to one domain's ``{'image': uint8 HxWxC, 'name': str}`` examples.

  Attributes:
    name: the spec the data was made from.
    split: the split read (e.g. 'trainA').
    domain: 'A' or 'B' (after the direction swap).
    image_shape: (H, W, C); H and W are None when images differ in size.
  """

  def __init__(
    self,
    data_source,
    *,
    name: str,
    split: str,
    domain: str,
    image_shape: tuple[int | None, int | None, int | None],
    batched_reads: bool = True,
  ):
    super().__init__(data_source, batched_reads=batched_reads)
    self.name = name
    self.split = split
    self.domain = domain
    self.image_shape = tuple(image_shape)

  def _example(self, raw, index: int) -> Example:
    image = np.asarray(raw["image"])
    if image.ndim == 2:
      image = image[..., None]
    return {"image": image, "name": decode_name(raw.get("name", f"{self.split}_{index}"))}

  def __repr__(self) -> str:
    return f"DomainSource({self.name!r}, split={self.split!r}, domain={self.domain}, {len(self)} examples)"


def _phase(split: str) -> tuple[str, str]:
  base, bracket, rest = split.partition("[")
  return base, bracket + rest


def _tfds_sources(name: str, phase: str, slice_: str, data_dir: str, spec: str) -> list[DomainSource]:
  out = []
  for domain in DOMAINS:
    split = f"{phase}{domain}{slice_}"
    source, batched_reads = sources_lib.open_tfds_split(
      name, split=split, data_dir=data_dir, hint="unpaired data has splits <phase>A and <phase>B, e.g. trainA"
    )
    features = source.dataset_info.features
    if "image" not in features:
      raise ValueError(f"tfds dataset {name!r} has no image feature; its features are {sorted(features.keys())}")
    out.append(
      DomainSource(
        source, name=spec, split=split, domain=domain, image_shape=features["image"].shape, batched_reads=batched_reads
      )
    )
  return out


def unpaired_sources(
  spec: str, split: str, data_dir: str | os.PathLike, *, direction: str = "AtoB"
) -> tuple[DomainSource, DomainSource]:
  """Opens the two domains named by ``spec`` (see the module docstring): ``(A, B)``.

  ``split`` is a phase ('train', 'test' or, for folders, 'val'), read from the
  splits ``<phase>A`` and ``<phase>B``; a tfds slice applies to both (e.g.
  'train[:100]'). Local data is built into ``data_dir`` on first use and read
  from there afterwards; a changed folder is rebuilt. ``direction='BtoA'``
  returns ``(B, A)``, as the official ``--direction``.

  Raises:
    ValueError: naming the value, for a bad spec, direction or split, bad folders
      (see :func:`scan_unpaired_folder`) or classes absent from the labels.
    DatasetNotPreparedError: a tfds catalogue dataset not prepared in ``data_dir``.
    ImageReadError: naming the file, for an unreadable image.
  """
  if direction not in DIRECTIONS:
    raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
  parsed = parse_unpaired_spec(spec)
  data_dir = os.fspath(data_dir)
  phase, slice_ = _phase(split)
  if parsed.kind == "tfds":
    a, b = _tfds_sources(parsed.path, phase, slice_, data_dir, spec)
  else:
    builder = builders.prepared(unpaired_builder(parsed, data_dir))
    splits = list(builder.info.splits.keys())
    if f"{phase}A" not in splits:
      phases = [s[:-1] for s in splits if s.endswith("A")]
      raise ValueError(f"{spec} has no split {split!r}: no {phase}A / {phase}B domains (its phases are {phases})")
    shape = builder.info.features["image"].shape
    a, b = (
      DomainSource(
        builder.as_data_source(split=f"{phase}{d}{slice_}"),
        name=spec,
        split=f"{phase}{d}{slice_}",
        domain=d,
        image_shape=shape,
      )
      for d in DOMAINS
    )
  if direction == "BtoA":
    a, b = b, a
    a.domain, b.domain = "A", "B"
  return a, b


# ------------------------------------------------------------------ batches


class CyclicSource:
  """A view of ``source`` of ``length`` examples: example i is ``source[i % len(source)]``.

  The official UnalignedDataset reads A as ``A_paths[index % A_size]`` with
  ``index < max(A_size, B_size)``.
  """

  def __init__(self, source, length: int):
    if len(source) == 0:
      raise ValueError(f"{source!r} has no examples")
    self.source = source
    self.length = int(length)

  def __len__(self) -> int:
    return self.length

  def __getitem__(self, index: int) -> Example:
    index = int(index)
    if not 0 <= index < self.length:
      raise IndexError(f"index {index} out of range for {self.length} examples")
    return self.source[index % len(self.source)]

  def __getitems__(self, indices: Sequence[int]) -> list[Example]:
    n = len(self.source)
    wrapped = [int(i) % n for i in indices]
    getitems = getattr(self.source, "__getitems__", None)
    if getitems is not None:
      return list(getitems(wrapped))
    return [self.source[i] for i in wrapped]


def draw_index(seed: int, step: int, position: int, population: int) -> int:
  """The uniform draw in ``[0, population)`` at ``position`` of global batch ``step``."""
  rng = np.random.default_rng([int(seed), DRAW_TAG, int(step), int(position)])
  return int(rng.integers(population))


class UniformDrawLoader(BatchLoader):
  """A :class:`BatchLoader` whose every example is drawn uniformly, with replacement.

  Position ``p`` of global batch ``s`` is example :func:`draw_index` ``(seed, s, p,
  len(source))``, as the official ``index_B = random.randint(0, B_size - 1)``:
  independent of the other positions, of the batch size and of the process
  count. ``epoch_length`` (default ``len(source)``) sets ``steps_per_epoch``.
  """

  def __init__(self, source, *, epoch_length: int | None = None, **kwargs):
    self.population = len(source)
    super().__init__(CyclicSource(source, epoch_length or self.population), **kwargs)

  def indices(self, step: int) -> np.ndarray:
    if step < 0:
      raise ValueError(f"step must be >= 0, got {step}")
    first = self.process_index * self.per_process_batch_size
    return np.array(
      [draw_index(self.seed, step, first + i, self.population) for i in range(self.per_process_batch_size)], np.int64
    )


def domain_seeds(seed: int) -> tuple[int, int]:
  """The seeds of domains A and B, derived from ``seed`` (independent streams)."""
  state = np.random.SeedSequence([int(seed), _SEED_TAG]).generate_state(2)
  return int(state[0]), int(state[1])


class UnpairedBatches(ZippedBatches):
  """Steps of A and B read in lockstep: ``batch(s)`` is ``{'A/image': ..., 'B/image': ...}``.

  Attributes:
    epoch_length: ``max(len(A), len(B))``, the official ``__len__``.
    steps_per_epoch: ``epoch_length // global_batch_size`` (full batches only).
  """

  def __init__(self, loader_a: BatchLoader, loader_b: BatchLoader):
    super().__init__({"A": loader_a, "B": loader_b})
    self.epoch_length = loader_a.num_examples
    self.steps_per_epoch = loader_a.steps_per_epoch


def unpaired_batches(
  source_a,
  source_b,
  *,
  global_batch_size: int,
  seed: int,
  transform_a: Callable[[Example, np.random.Generator | None], Example] | None = None,
  transform_b: Callable[[Example, np.random.Generator | None], Example] | None = None,
  b_order: str = "random",
  process_index: int = 0,
  process_count: int = 1,
  num_threads: int = 2,
  prefetch: int = 2,
) -> UnpairedBatches:
  """Per-process batches of two domains, as the official UnalignedDataset and loader.

  An epoch has ``n = max(len(A), len(B))`` examples. A is read in the order of a
  shuffled epoch of ``n`` indices, example ``i`` being ``A[i % len(A)]``
  (:class:`BatchLoader` over a :class:`CyclicSource`). B, with ``b_order='random'``
  (the official default), is drawn uniformly at random for each example
  (:class:`UniformDrawLoader`); with ``'shuffle'`` it is read like A, from its own
  shuffled epochs. A and B use the seeds of :func:`domain_seeds` ``(seed)``, for
  their orders and for their transforms' RNGs, so their jitter is independent.
  Batches are full (the official loader also yields a last, partial batch).

  Returns:
    :class:`UnpairedBatches`; its keys are ``'A/<key>'`` and ``'B/<key>'`` for the
    keys of the transforms' outputs (``'A/image'``, ``'B/image'`` with
    :func:`unpaired_transform`; without a transform, also ``'A/name'``, ``'B/name'``).
  """
  if b_order not in B_ORDERS:
    raise ValueError(f"b_order must be one of {B_ORDERS}, got {b_order!r}")
  for name, source in (("A", source_a), ("B", source_b)):
    if len(source) == 0:
      raise ValueError(f"domain {name} ({source!r}) has no examples")
  n = max(len(source_a), len(source_b))
  seed_a, seed_b = domain_seeds(seed)
  common = {
    "global_batch_size": global_batch_size,
    "process_index": process_index,
    "process_count": process_count,
    "num_threads": num_threads,
    "prefetch": prefetch,
  }
  loader_a = BatchLoader(CyclicSource(source_a, n), seed=seed_a, transform=transform_a, **common)
  if b_order == "random":
    loader_b = UniformDrawLoader(source_b, epoch_length=n, seed=seed_b, transform=transform_b, **common)
  else:
    loader_b = BatchLoader(CyclicSource(source_b, n), seed=seed_b, transform=transform_b, **common)
  return UnpairedBatches(loader_a, loader_b)


# ------------------------------------------------------------------ transform


def unpaired_transform(
  *, preprocess: str, load_size: int = 286, crop_size: int = 256, flip: bool = True, channels: int = 3
) -> Callable[[Example, np.random.Generator | None], Example]:
  """A transform of one domain's example, as the official ``get_transform`` without params.

  Returns ``transform(example, rng=None) -> {'image': float32 [-1, 1] (h, w,
  channels)}``: the image is converted to ``channels`` (1 = luma, as the official
  Grayscale for ``--input_nc 1`` / ``--output_nc 1``; 3 = RGB; alpha dropped),
  then jittered (:class:`jaxgan.data.jitter.Jitter`: ``preprocess`` a key of
  :data:`PREPROCESS`, the official defaults resize 286, crop 256, flip) with
  parameters drawn from its own ``rng``, so each image of A and of B has its own
  crop and flip; with ``rng=None`` the crop is centred and nothing is flipped.
  Small images (8x8 digits, 28x28 Fashion-MNIST) are resized the same way, e.g.
  ``preprocess='resize_and_crop', load_size=36, crop_size=32``.

  Raises:
    ValueError: for bad options; when called, naming the sizes, for a crop larger
      than the image.
  """
  jitter = jitter_lib.Jitter(preprocess, load_size=load_size, crop_size=crop_size, flip=flip)
  if channels not in (1, 3):
    raise ValueError(f"channels must be 1 or 3, got {channels!r}")

  def transform(example: Example, rng: np.random.Generator | None = None) -> Example:
    image = images_lib.convert_channels(np.asarray(example["image"]), channels)
    return {"image": images_lib.to_float(jitter(image, jitter.params(image.shape[:2], rng)))}

  return transform

"""Paired images for image-to-image translation (pix2pix, Isola et al. 2017).

``paired_source(spec, split, data_dir)`` accepts

* ``DIR`` or ``paired:DIR``: aligned pairs in either layout of the official code
  (junyanz/pytorch-CycleGAN-and-pix2pix, ``data/aligned_dataset.py`` and
  ``datasets/combine_A_and_B.py``)::

      DIR/<split>/<image>                       A in the left half, B in the right
      DIR/A/<split>/<name>, DIR/B/<split>/<name>   two folders, identical names

  with ``<split>`` among train, val and test. A side-by-side image is cut at
  ``w // 2`` and must have an even width.
* ``gray2color:DIR``: pairs made from the colour photos in DIR (its top-level
  image files): A is the photo's luma (ITU-R 601) in 3 channels, B the photo.
  DIR may be a registered name (``gray2color:bsd68``, see :mod:`jaxgan.download`)
  in every form.
* ``edges2photo:DIR``: A is the photo's Canny edges (``skimage.feature.canny`` of
  the luma, sigma :data:`EDGE_SIGMA`) drawn black on white, B the photo.
  Photo folders are split by image: in sorted file-name order every
  :data:`TEST_EVERY`-th photo (ranks 4, 9, 14, ...) is 'test', the rest 'train'.
* ``skimage`` (= ``skimage:gray2color``) and ``skimage:edges2photo``: the same
  pairs made from colour photos bundled with scikit-image (nothing is
  downloaded): 'train' is :data:`SKIMAGE_TRAIN`, 'test' :data:`SKIMAGE_TEST`.

Examples are ``{'a': uint8 HxWx3, 'b': uint8 HxWx3, 'name': str}``; A and B are
stored as RGB (grey, alpha, palette and 16-bit files converted by
:func:`jaxgan.data.images.load_image`) and keep their own sizes. The data is
built once into ``data_dir`` (a tfds ``array_record`` dataset, named after a
fingerprint of the files and options as in :mod:`jaxgan.data.builders`) and read
back without TensorFlow. ``paired_transform`` turns an example into model inputs
with the official jitter (:mod:`jaxgan.data.jitter`), the same on A and B.
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

from jaxgan.data import builders, fingerprint
from jaxgan.data import images as images_lib
from jaxgan.data import jitter as jitter_lib
from jaxgan.data.record_source import RecordSource, decode_name
from jaxgan.data.sources import spec_folder

PREPROCESS = jitter_lib.PREPROCESS  # name -> description, for a config's choices
PREPROCESS_MODES = jitter_lib.PREPROCESS_MODES
SPLIT_FOLDER_NAMES = ("train", "val", "test")
DERIVATIONS = ("gray2color", "edges2photo")
DIRECTIONS = ("AtoB", "BtoA")
PAIRED_SPEC_FORMS = (
  "DIR",
  "paired:DIR",
  "gray2color:DIR",
  "edges2photo:DIR",
  "skimage",
  "skimage:gray2color",
  "skimage:edges2photo",
)
TEST_EVERY = 5
EDGE_SIGMA = 2.0

SKIMAGE_TRAIN = ("astronaut", "coffee", "hubble_deep_field", "immunohistochemistry", "retina", "rocket")
SKIMAGE_TEST = ("chelsea", "motorcycle")

Example = dict[str, object]
Item = tuple[str, tuple[str, ...]]  # (name, files)


# ------------------------------------------------------------------ layouts


@dataclasses.dataclass(frozen=True)
class PairedLayout:
  """Where the pairs of a data set come from.

  Attributes:
    root: the folder (None for the scikit-image photos).
    kind: 'ab' (each item is one side-by-side file), 'aligned' (an A and a B
      file), 'photos' (one photo file) or 'skimage' (a photo named by the item).
    splits: split name -> ``(name, files)`` items, sorted by name.
  """

  root: pathlib.Path | None
  kind: str
  splits: dict[str, tuple[Item, ...]]

  def all_files(self) -> list[str]:
    return [f for items in self.splits.values() for _, files in items for f in files]


def _check_dir(path: pathlib.Path, what: str) -> None:
  if not path.exists():
    raise FileNotFoundError(f"{what} {path} does not exist")
  if not path.is_dir():
    raise NotADirectoryError(f"{what} {path} is not a directory")


def _image_files(folder: pathlib.Path) -> list[pathlib.Path]:
  return sorted(
    p
    for p in folder.iterdir()
    if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in images_lib.IMAGE_EXTENSIONS
  )


def _split_dirs(folder: pathlib.Path) -> dict[str, pathlib.Path]:
  return {s: folder / s for s in SPLIT_FOLDER_NAMES if (folder / s).is_dir()}


def _no_images(folder: pathlib.Path) -> str:
  return f"{folder} has no image files (extensions {', '.join(images_lib.IMAGE_EXTENSIONS)})"


def scan_paired_folder(root: str | os.PathLike) -> PairedLayout:
  """Finds the pairs under ``root`` in either layout (see the module docstring).

  Image files are the visible top-level files of a split folder with an image
  extension; other files and sub-folders are ignored.

  Raises:
    FileNotFoundError / NotADirectoryError: naming a missing or non-folder root.
    ValueError: naming the folder or file, for a root with no split folders, both
      layouts at once, an A/ without B/ (or a split on one side only), an empty
      split folder, or a file without its counterpart on the other side.
  """
  root = pathlib.Path(root)
  _check_dir(root, "paired image folder")
  side_dirs = [root / s for s in ("A", "B") if (root / s).is_dir()]
  ab_splits = _split_dirs(root)
  if side_dirs and ab_splits:
    raise ValueError(
      f"paired image folder {root} holds both {[d.name for d in side_dirs]} "
      f"and split folders {list(ab_splits)}; keep one layout: "
      f"{root}/<split>/<AB image> or {root}/A/<split>/ with {root}/B/<split>/"
    )
  if side_dirs:
    return _scan_aligned(root)
  if not ab_splits:
    raise ValueError(
      f"paired image folder {root} has no split folders: expected "
      f"{root}/<split>/<AB image> or {root}/A/<split>/<name> with "
      f"{root}/B/<split>/<name>, <split> among {', '.join(SPLIT_FOLDER_NAMES)}"
    )
  splits = {}
  for split, folder in ab_splits.items():
    files = _image_files(folder)
    if not files:
      raise ValueError(f"split folder {_no_images(folder)}")
    splits[split] = tuple((f.name, (os.fspath(f),)) for f in files)
  return PairedLayout(root=root, kind="ab", splits=splits)


def _scan_aligned(root: pathlib.Path) -> PairedLayout:
  a_root, b_root = root / "A", root / "B"
  for side, other in ((a_root, b_root), (b_root, a_root)):
    if not side.is_dir():
      raise ValueError(f"paired image folder {root} has {other} but no {side}")
  a_splits, b_splits = _split_dirs(a_root), _split_dirs(b_root)
  if not a_splits and not b_splits:
    raise ValueError(f"{a_root} and {b_root} have no split folders (among {', '.join(SPLIT_FOLDER_NAMES)})")
  splits = {}
  for split in SPLIT_FOLDER_NAMES:
    if split not in a_splits and split not in b_splits:
      continue
    a_dir, b_dir = a_root / split, b_root / split
    for folder, other in ((a_dir, b_dir), (b_dir, a_dir)):
      if not folder.is_dir():
        raise ValueError(f"{other} has no counterpart: {folder} is missing")
    a_files = {f.name: f for f in _image_files(a_dir)}
    b_files = {f.name: f for f in _image_files(b_dir)}
    if not a_files and not b_files:
      raise ValueError(f"split folders {a_dir} and {_no_images(b_dir)}")
    for files, other_files, other_dir in ((a_files, b_files, b_dir), (b_files, a_files, a_dir)):
      unmatched = sorted(set(files) - set(other_files))
      if unmatched:
        more = f" (and {len(unmatched) - 1} more)" if len(unmatched) > 1 else ""
        raise ValueError(
          f"{files[unmatched[0]]} has no counterpart {other_dir / unmatched[0]}"
          f"{more}; A and B files must have identical names"
        )
    splits[split] = tuple((name, (os.fspath(a_files[name]), os.fspath(b_files[name]))) for name in sorted(a_files))
  return PairedLayout(root=root, kind="aligned", splits=splits)


def _split_by_image(names: Sequence[str]) -> tuple[list[int], list[int]]:
  """Indices of (train, test): every TEST_EVERY-th of ``names`` is test."""
  test = set(range(TEST_EVERY - 1, len(names), TEST_EVERY))
  return ([i for i in range(len(names)) if i not in test], sorted(test))


def scan_photo_folder(root: str | os.PathLike) -> PairedLayout:
  """The top-level image files of ``root``, split by image into 'train' and 'test'.

  In sorted file-name order every :data:`TEST_EVERY`-th file is 'test'.

  Raises:
    FileNotFoundError / NotADirectoryError: naming a missing or non-folder root.
    ValueError: naming the folder, when it has fewer than TEST_EVERY images.
  """
  root = pathlib.Path(root)
  _check_dir(root, "photo folder")
  files = _image_files(root)
  if len(files) < TEST_EVERY:
    raise ValueError(
      f"photo folder {root} has {len(files)} top-level image files; pairs made "
      f"from photos need at least {TEST_EVERY} (every {TEST_EVERY}th is the "
      "test split)"
    )
  train, test = _split_by_image([f.name for f in files])
  return PairedLayout(
    root=root,
    kind="photos",
    splits={
      split: tuple((files[i].name, (os.fspath(files[i]),)) for i in indices)
      for split, indices in (("train", train), ("test", test))
    },
  )


# ------------------------------------------------------------------ photos


def _skimage_photos() -> dict[str, Callable[[], np.ndarray]]:
  """Colour photos shipped inside scikit-image's wheel (no download)."""
  from skimage import data  # pylint: disable=g-import-not-at-top

  return {
    "astronaut": data.astronaut,
    "chelsea": data.chelsea,
    "coffee": data.coffee,
    "hubble_deep_field": data.hubble_deep_field,
    "immunohistochemistry": data.immunohistochemistry,
    "motorcycle": lambda: data.stereo_motorcycle()[0],
    "retina": data.retina,
    "rocket": data.rocket,
  }


def skimage_photo(name: str) -> np.ndarray:
  """A scikit-image photo of :data:`SKIMAGE_TRAIN` or :data:`SKIMAGE_TEST` (uint8 RGB)."""
  photos = _skimage_photos()
  if name not in photos:
    raise ValueError(f"unknown scikit-image photo {name!r}; choose from {sorted(photos)}")
  return images_lib.convert_channels(np.asarray(photos[name](), np.uint8), 3)


def skimage_layout() -> PairedLayout:
  """The scikit-image photos: 'train' is SKIMAGE_TRAIN, 'test' SKIMAGE_TEST."""
  return PairedLayout(
    root=None,
    kind="skimage",
    splits={"train": tuple((name, ()) for name in SKIMAGE_TRAIN), "test": tuple((name, ()) for name in SKIMAGE_TEST)},
  )


def gray_input(photo: np.ndarray) -> np.ndarray:
  """The luma of uint8 RGB ``photo`` (ITU-R 601, as Pillow's 'L') in 3 channels."""
  return images_lib.convert_channels(images_lib.convert_channels(photo, 1), 3)


def edge_input(photo: np.ndarray, sigma: float = EDGE_SIGMA) -> np.ndarray:
  """Canny edges of ``photo``'s luma as uint8 HxWx3: 0 on edges, 255 elsewhere."""
  from skimage import feature  # pylint: disable=g-import-not-at-top

  grey = images_lib.convert_channels(photo, 1)[..., 0].astype(np.float64) / 255.0
  edges = feature.canny(grey, sigma=sigma)
  return np.repeat(np.where(edges, 0, 255).astype(np.uint8)[..., None], 3, axis=-1)


DERIVED_INPUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
  "gray2color": gray_input,
  "edges2photo": edge_input,
}


def split_ab(image: np.ndarray, path: str | os.PathLike = "<array>") -> tuple[np.ndarray, np.ndarray]:
  """Cuts a side-by-side image at ``w // 2`` into (A, B); the width must be even."""
  width = image.shape[1]
  if width % 2:
    raise ValueError(
      f"side-by-side image {os.fspath(path)} has an odd width {width}; expected "
      "A (left half) and B (right half) of equal widths"
    )
  return image[:, : width // 2], image[:, width // 2 :]


def load_pair(layout: PairedLayout, item: Item, derive: str | None = None) -> tuple[np.ndarray, np.ndarray]:
  """Reads the (A, B) uint8 RGB images of one item of ``layout``."""
  name, files = item
  if layout.kind == "ab":
    return split_ab(images_lib.load_image(files[0], channels=3), files[0])
  if layout.kind == "aligned":
    return tuple(images_lib.load_image(f, channels=3) for f in files)
  if layout.kind == "photos":
    photo = images_lib.load_image(files[0], channels=3)
  else:
    photo = skimage_photo(name)
  return DERIVED_INPUTS[derive](photo), photo


# ------------------------------------------------------------------ builder


@dataclasses.dataclass(eq=False)
class PairedConfig(tfds.core.BuilderConfig):
  """Paired images of a :class:`PairedLayout`; A derived from B when ``derive`` is set."""

  layout: PairedLayout | None = dataclasses.field(default=None, repr=False)  # logged by tfds: keep short
  derive: str | None = None


def paired_config(layout: PairedLayout, derive: str | None = None) -> PairedConfig:
  """Names the layout's cache entry after its files and the options."""
  if (derive is None) != (layout.kind in ("ab", "aligned")):
    raise ValueError(f"a {layout.kind!r} layout cannot have derive={derive!r}")
  if derive is not None and derive not in DERIVATIONS:
    raise ValueError(f"unknown derivation {derive!r}; choose from {DERIVATIONS}")
  options = {"layout": layout.kind, "derive": derive}
  if derive == "edges2photo":
    options["edge_sigma"] = EDGE_SIGMA
  if layout.kind == "skimage":
    import skimage  # pylint: disable=g-import-not-at-top

    options.update(
      skimage=skimage.__version__, splits={split: [name for name, _ in items] for split, items in layout.splits.items()}
    )
    digest = hashlib.sha256(repr(sorted(options.items())).encode()).hexdigest()[:12]
    return PairedConfig(
      name=f"skimage_{derive}_{digest}", description=f"scikit-image photos, {derive}", layout=layout, derive=derive
    )
  if layout.kind == "photos":
    options["test_every"] = TEST_EVERY
  key = fingerprint.files_fingerprint(layout.root, layout.all_files(), options)
  what = f"{derive} pairs from photos" if derive else "paired images"
  return PairedConfig(
    name=fingerprint.config_name(layout.root, key),
    description=f"{what} in {layout.root.resolve()}",
    layout=layout,
    derive=derive,
  )


class JaxganPaired(tfds.core.GeneratorBasedBuilder):
  """Aligned image pairs: {'a': RGB, 'b': RGB, 'name': file or photo name}.

  A and B keep their own sizes (shape None x None x 3).
  """

  VERSION = tfds.core.Version("1.0.0")

  def _info(self) -> tfds.core.DatasetInfo:
    image = lambda: tfds.features.Image(shape=(None, None, 3), encoding_format="png")
    return builders.LocalDatasetInfo(
      builder=self,
      description=self.builder_config.description,
      features=tfds.features.FeaturesDict({"a": image(), "b": image(), "name": tfds.features.Text()}),
      supervised_keys=("a", "b"),
      disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager
    return {split: self._generate_examples(items) for split, items in self.builder_config.layout.splits.items()}

  def _generate_examples(self, items):
    config: PairedConfig = self.builder_config
    for item in items:
      a, b = load_pair(config.layout, item, config.derive)
      yield item[0], {"a": images_lib.encode_png(a), "b": images_lib.encode_png(b), "name": item[0]}


# ------------------------------------------------------------------ sources


def parse_paired_spec(spec: str) -> tuple[str, str]:
  """Splits a spec into (kind, argument): kind in paired, gray2color, edges2photo, skimage.

  A spec without a known prefix is a folder (``'paired'``); ``'skimage'`` is
  ``('skimage', 'gray2color')``.
  """
  forms = ", ".join(PAIRED_SPEC_FORMS)
  if not isinstance(spec, str) or not spec:
    raise ValueError(f"bad paired data spec {spec!r}; accepted forms: {forms}")
  if spec == "skimage":
    return "skimage", "gray2color"
  prefix, sep, argument = spec.partition(":")
  if sep and prefix in ("paired", "skimage") + DERIVATIONS:
    if not argument:
      raise ValueError(f'paired data spec {spec!r} needs a value after "{prefix}:"')
    if prefix == "skimage" and argument not in DERIVATIONS:
      raise ValueError(f"unknown paired data spec {spec!r}: skimage pairs are one of {DERIVATIONS}")
    return prefix, argument
  if sep and re.fullmatch(r"[A-Za-z][\w-]+", prefix) and not os.path.exists(spec):
    raise ValueError(f"unknown paired data spec {spec!r}; accepted forms: {forms}")
  return "paired", spec


def paired_builder(spec: str, data_dir: str | os.PathLike) -> JaxganPaired:
  """The (possibly not yet prepared) builder of the pairs named by ``spec``."""
  kind, argument = parse_paired_spec(spec)
  if kind == "skimage":
    config = paired_config(skimage_layout(), argument)
  elif kind == "paired":
    config = paired_config(scan_paired_folder(spec_folder(spec, argument)))
  else:
    config = paired_config(scan_photo_folder(spec_folder(spec, argument)), kind)
  return JaxganPaired(config=config, data_dir=os.fspath(data_dir), file_format=builders.FILE_FORMAT)


class PairedSource(RecordSource):
  """Random access to ``{'a': uint8 HxWx3, 'b': uint8 HxWx3, 'name': str}`` examples.

  Attributes:
    name: the spec the data was made from.
    split: the split read.
    direction: 'AtoB', or 'BtoA' where 'a' and 'b' are swapped.
  """

  def __init__(self, data_source, *, name: str, split: str, direction: str = "AtoB"):
    if direction not in DIRECTIONS:
      raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    super().__init__(data_source)
    self.name = name
    self.split = split
    self.direction = direction

  def _example(self, raw, index: int) -> Example:
    del index
    a, b = np.asarray(raw["a"]), np.asarray(raw["b"])
    if self.direction == "BtoA":
      a, b = b, a
    return {"a": a, "b": b, "name": decode_name(raw["name"])}

  def __repr__(self) -> str:
    return f"PairedSource({self.name!r}, split={self.split!r}, {len(self)} examples, direction={self.direction!r})"


def _resolve_split(split: str, splits: Sequence[str], name: str) -> str:
  base, bracket, rest = split.partition("[")
  if base == "test" and "test" not in splits and "val" in splits:
    base = "val"
  if base not in splits:
    raise ValueError(f"{name} has no split {split!r}; its splits are {list(splits)}")
  return base + bracket + rest


def paired_source(spec: str, split: str, data_dir: str | os.PathLike, *, direction: str = "AtoB") -> PairedSource:
  """Opens the image pairs named by ``spec`` (see the module docstring).

  The pairs are built into ``data_dir`` on first use and read from there
  afterwards; a changed folder is rebuilt. ``split`` is 'train' or 'test' (or any
  split folder of a paired folder, e.g. 'val'; tfds slices such as 'train[:8]'
  work); a paired folder with a val/ but no test/ folder gives its 'val' split for
  'test'. ``direction='BtoA'`` swaps 'a' and 'b'.

  Raises:
    ValueError: naming the value, for a bad spec, direction or split, and for bad
      folders (see :func:`scan_paired_folder`, :func:`scan_photo_folder`) or an odd
      side-by-side width.
    ImageReadError: naming the file, for an unreadable image.
  """
  if direction not in DIRECTIONS:
    raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
  builder = builders.prepared(paired_builder(spec, data_dir))
  split = _resolve_split(split, list(builder.info.splits.keys()), spec)
  return PairedSource(builder.as_data_source(split=split), name=spec, split=split, direction=direction)


# ------------------------------------------------------------------ transform


def paired_transform(
  *,
  preprocess: str,
  load_size: int = 286,
  crop_size: int = 256,
  flip: bool = True,
  in_channels: int = 3,
  out_channels: int = 3,
) -> Callable[[Example, np.random.Generator | None], Example]:
  """A transform from a paired example to model inputs, as the official AlignedDataset.

  Returns ``transform(example, rng=None) -> {'a': float32 [-1, 1] (h, w,
  in_channels), 'b': float32 [-1, 1] (h, w, out_channels)}``: A is converted to
  ``in_channels`` and B to ``out_channels`` (1 = luma, 3 = RGB; before the
  resize, as the official Grayscale), then both get the same jitter
  (:class:`jaxgan.data.jitter.Jitter`; ``preprocess`` is a key of :data:`PREPROCESS`),
  drawn from A's size and ``rng``; with ``rng=None`` the crop is centred and
  nothing is flipped.

  Raises:
    ValueError: for bad options; when called, naming the sizes, for a crop larger
      than the image or A and B of different sizes in a cropping mode.
  """
  jitter = jitter_lib.Jitter(preprocess, load_size=load_size, crop_size=crop_size, flip=flip)
  for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
    if value not in (1, 3):
      raise ValueError(f"{name} must be 1 or 3, got {value!r}")

  def transform(example: Example, rng: np.random.Generator | None = None) -> Example:
    a = images_lib.convert_channels(np.asarray(example["a"]), in_channels)
    b = images_lib.convert_channels(np.asarray(example["b"]), out_channels)
    if jitter.crops and jitter.resized_size(a.shape[:2]) != jitter.resized_size(b.shape[:2]):
      raise ValueError(
        f"A ({a.shape[0]}x{a.shape[1]}) and B ({b.shape[0]}x{b.shape[1]}) have "
        f"different sizes after the resize step of preprocess={preprocess!r}, so "
        "one crop cannot fit both; use preprocess='resize_and_crop'"
      )
    params = jitter.params(a.shape[:2], rng)
    return {"a": images_lib.to_float(jitter(a, params)), "b": images_lib.to_float(jitter(b, params))}

  return transform

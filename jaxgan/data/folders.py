"""Scanning an image folder with one sub-folder per class.

Layouts::

    root/<class>/<image>                  everything is the 'train' split
    root/<split>/<class>/<image>          split in 'train', 'test', 'validation'

Classes are the sorted union of class-folder names over all splits, so a label
means the same class in every split. Hidden entries (names starting with '.')
and files whose extension is not in ``IMAGE_EXTENSIONS`` are ignored; whether an
image file is really an image is checked when it is read.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib

from jaxgan.data.images import IMAGE_EXTENSIONS

SPLIT_FOLDER_NAMES = ("train", "test", "validation")


@dataclasses.dataclass(frozen=True)
class FolderLayout:
  """The files of an image folder: class names and (path, label) per split."""

  root: pathlib.Path
  class_names: tuple[str, ...]
  splits: dict[str, tuple[tuple[pathlib.Path, int], ...]]

  def all_files(self) -> list[pathlib.Path]:
    return [path for items in self.splits.values() for path, _ in items]


def _visible_dirs(path: pathlib.Path) -> list[pathlib.Path]:
  return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


def _image_files(class_dir: pathlib.Path) -> list[pathlib.Path]:
  return sorted(
    p
    for p in class_dir.iterdir()
    if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
  )


def scan_folder(root: str | os.PathLike) -> FolderLayout:
  """Finds the classes and image files under ``root``.

  Raises:
    FileNotFoundError / NotADirectoryError: naming a missing or non-folder root.
    ValueError: naming the folder, for an empty root, a root without class
      folders, a mix of split and class folders, or a class folder without images.
  """
  root = pathlib.Path(root)
  if not root.exists():
    raise FileNotFoundError(f"image folder {root} does not exist")
  if not root.is_dir():
    raise NotADirectoryError(f"image folder {root} is not a directory")
  top = _visible_dirs(root)
  if not top:
    raise ValueError(
      f"image folder {root} has no class sub-folders (expected {root}/<class>/<image> or {root}/train/<class>/<image>)"
    )
  split_dirs = [d for d in top if d.name in SPLIT_FOLDER_NAMES]
  if split_dirs and len(split_dirs) != len(top):
    others = [d.name for d in top if d.name not in SPLIT_FOLDER_NAMES]
    raise ValueError(
      f"image folder {root} mixes split folders "
      f"{[d.name for d in split_dirs]} with other folders {others}; use either "
      f"{root}/<class>/ or only {list(SPLIT_FOLDER_NAMES)} folders"
    )
  if split_dirs and "train" not in {d.name for d in split_dirs}:
    raise ValueError(f"image folder {root} has split folders but no train/ folder")
  by_split = {d.name: d for d in split_dirs} or {"train": root}

  class_dirs = {}
  for split, split_dir in by_split.items():
    dirs = _visible_dirs(split_dir)
    if not dirs:
      raise ValueError(f"split folder {split_dir} has no class sub-folders")
    class_dirs[split] = dirs
  class_names = tuple(sorted({d.name for dirs in class_dirs.values() for d in dirs}))
  label_of = {name: label for label, name in enumerate(class_names)}

  splits = {}
  for split, dirs in class_dirs.items():
    items = []
    for class_dir in dirs:
      files = _image_files(class_dir)
      if not files:
        raise ValueError(f"class folder {class_dir} has no image files (extensions {', '.join(IMAGE_EXTENSIONS)})")
      items.extend((path, label_of[class_dir.name]) for path in files)
    splits[split] = tuple(items)
  return FolderLayout(root=root, class_names=class_names, splits=splits)

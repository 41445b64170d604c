"""Tests of jaxgan.data sources (digits, IDX, folders, tfds) and the batch loader."""

import os
import pathlib
import tempfile
import threading

import hypothesis
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import tensorflow_datasets as tfds
from hypothesis import strategies as st
from PIL import Image

from jaxgan import data
from jaxgan.data import builders, idx, images, record_source, sources
from tests.real_data import real_data


def _prepared_dirs(data_dir, builder_name):
  """The finished version directories of a builder under data_dir."""
  return sorted(p.parent.name + "/" + p.name for p in pathlib.Path(data_dir, builder_name).glob("**/1.0.0"))


# ------------------------------------------------------------------ specs


def test_unknown_spec_prefix_names_the_spec_and_the_forms(tmp_path):
  with pytest.raises(ValueError, match="'foo:bar'") as info:
    data.labelled_source("foo:bar", split="train", data_dir=tmp_path)
  for form in ("digits", "idx:PATH", "folder:PATH", "tfds:NAME"):
    assert form in str(info.value)


@pytest.mark.parametrize("spec", ["idx:", "folder:", "tfds:", "", "mnist:3.0.1"])
def test_bad_specs(tmp_path, spec):
  with pytest.raises(ValueError):
    data.labelled_source(spec, split="train", data_dir=tmp_path)


def test_parse_spec():
  assert sources.parse_spec("digits") == ("digits", "")
  assert sources.parse_spec("mnist") == ("tfds", "mnist")
  assert sources.parse_spec("tfds:cycle_gan/horse2zebra") == ("tfds", "cycle_gan/horse2zebra")
  assert sources.parse_spec("folder:/a:b") == ("folder", "/a:b")
  assert set(sources.SOURCE_FACTORIES) == {"digits", "idx", "folder", "tfds"}


# ------------------------------------------------------------------ digits


def _multiset(source):
  return sorted((ex["image"].tobytes(), ex["label"]) for ex in source.__getitems__(range(len(source))))


def test_digits_splits_partition_the_sklearn_digits(tmp_path):
  train = data.labelled_source("digits", split="train", data_dir=tmp_path)
  test = data.labelled_source("digits", split="test", data_dir=tmp_path)
  assert len(train) + len(test) == 1797
  assert 340 <= len(test) <= 370
  pixels, labels = builders.digits_arrays()
  expected = sorted(zip((p.tobytes() for p in pixels), labels.tolist()))
  assert sorted(_multiset(train) + _multiset(test)) == expected
  test_mask = builders.digits_test_mask(labels)
  assert _multiset(test) == sorted(zip((p.tobytes() for p in pixels[test_mask]), labels[test_mask].tolist()))
  for source in (train, test):
    assert source.num_classes == 10 and source.image_shape == (8, 8, 1)
    ex = source[0]
    assert ex["image"].shape == (8, 8, 1) and ex["image"].dtype == np.uint8
    assert isinstance(ex["label"], int)
  all_images = np.stack([ex["image"] for ex in train.__getitems__(range(len(train)))])
  assert all_images.min() == 0 and all_images.max() == 255
  assert {ex["label"] for ex in test.__getitems__(range(len(test)))} == set(range(10))


def test_digits_is_built_once_then_read_from_cache(tmp_path, monkeypatch):
  data.labelled_source("digits", split="train", data_dir=tmp_path)
  info_file = next(pathlib.Path(tmp_path).glob("jaxgan_digits/**/dataset_info.json"))
  mtime = info_file.stat().st_mtime_ns

  def no_rebuild(self, *args):
    raise AssertionError("rebuilt a prepared dataset")

  monkeypatch.setattr(builders.JaxganDigits, "_generate_examples", no_rebuild)
  source = data.labelled_source("digits", split="test", data_dir=tmp_path)
  assert len(source) > 0 and info_file.stat().st_mtime_ns == mtime


def test_building_leaves_nothing_in_the_temp_dir(tmp_path, monkeypatch):
  # tfds makes an empty ``tmp*tfds`` directory per unprepared builder when it looks the
  # dataset up on GCS; jaxgan's builders are local and skip that look-up.
  temp = tmp_path / "temp"
  temp.mkdir()
  monkeypatch.setattr(tempfile, "tempdir", str(temp))
  data.labelled_source("digits", split="train", data_dir=tmp_path / "data")
  assert sorted(os.listdir(temp)) == []


def test_an_interrupted_build_is_not_read_back(tmp_path, monkeypatch):
  original = builders.JaxganDigits._generate_examples

  def interrupted(self, *args):
    for i, example in enumerate(original(self, *args)):
      if i == 10:
        raise KeyboardInterrupt
      yield example

  monkeypatch.setattr(builders.JaxganDigits, "_generate_examples", interrupted)
  with pytest.raises(KeyboardInterrupt):
    data.labelled_source("digits", split="train", data_dir=tmp_path)
  assert not builders.digits_builder(tmp_path).is_prepared()
  assert _prepared_dirs(tmp_path, "jaxgan_digits") == []
  monkeypatch.undo()
  train = data.labelled_source("digits", split="train", data_dir=tmp_path)
  test = data.labelled_source("digits", split="test", data_dir=tmp_path)
  assert len(train) + len(test) == 1797


def test_a_killed_build_s_leftovers_are_removed_before_rebuilding(tmp_path, capsys):
  # tfds builds <name>/<version> in a sibling incomplete.XXXXXX_<version> and renames it
  # when done; a killed build (kill -9) leaves that directory behind for good.
  dataset_dir = pathlib.Path(builders.digits_builder(tmp_path).data_dir).parent
  leftovers = [dataset_dir / "incomplete.abc", dataset_dir / "incomplete.41ZE6P_1.0.0"]
  for leftover in leftovers:
    (leftover / "nested").mkdir(parents=True)
    (leftover / "jaxgan_digits-train.array_record-00000-of-00001").write_bytes(b"partial")
  untouched = {
    dataset_dir / "notes" / "keep.txt": "a folder of mine",
    dataset_dir / "incomplete.txt": "a file, not a build",
    tmp_path / "incomplete.xyz" / "keep.txt": "not in the dataset folder",
  }
  for path, text in untouched.items():
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)

  train = data.labelled_source("digits", split="train", data_dir=tmp_path)
  test = data.labelled_source("digits", split="test", data_dir=tmp_path)
  assert not any(leftover.exists() for leftover in leftovers)
  assert {path: path.read_text() for path in untouched} == untouched
  assert sorted(p.name for p in dataset_dir.iterdir()) == ["1.0.0", "incomplete.txt", "notes"]
  lines = [line for line in capsys.readouterr().out.splitlines() if "unfinished" in line]
  assert len(lines) == 1 and lines[0].startswith("jaxgan: removed 2 unfinished build(s)")
  assert all(str(leftover) in lines[0] for leftover in leftovers)
  pixels, labels = builders.digits_arrays()
  assert sorted(_multiset(train) + _multiset(test)) == sorted(zip((p.tobytes() for p in pixels), labels.tolist()))

  # A prepared dataset is not rebuilt, so nothing next to it is touched.
  (dataset_dir / "incomplete.late").mkdir()
  assert len(data.labelled_source("digits", split="train", data_dir=tmp_path)) == len(train)
  assert (dataset_dir / "incomplete.late").is_dir()
  assert "unfinished" not in capsys.readouterr().out


def test_leftovers_of_another_folder_config_are_not_removed(tmp_path):
  root = tmp_path / "pets"
  _make_folder(root, np.random.default_rng(0))
  dd = tmp_path / "dd"
  config_dir = pathlib.Path(builders.folder_builder(root, dd).data_dir).parent
  other_config = config_dir.parent / "other_folder_0123abcd" / "incomplete.abc"
  for leftover in (config_dir / "incomplete.abc", other_config):
    leftover.mkdir(parents=True)
  source = data.labelled_source(f"folder:{root}", split="train", data_dir=dd)
  assert len(source) == 4
  assert not (config_dir / "incomplete.abc").exists() and other_config.is_dir()


def test_missing_split(tmp_path):
  with pytest.raises(ValueError, match="'validation'"):
    data.labelled_source("digits", split="validation", data_dir=tmp_path)


# ------------------------------------------------------------------ IDX


@hypothesis.settings(deadline=None, max_examples=30)
@hypothesis.given(
  hnp.arrays(
    st.sampled_from(["u1", "i1", "<i2", ">i4", "<f4", "f8"]),
    hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
  ),
  st.booleans(),
)
def test_idx_round_trip(tmp_path_factory, array, gz):
  path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if gz else "a.idx")
  idx.write_idx(path, array)
  back = idx.read_idx(path)
  assert back.shape == array.shape and back.dtype == array.dtype.newbyteorder("=")
  np.testing.assert_array_equal(back, array)
  assert idx.read_idx_shape(path) == array.shape


def test_idx_bad_magic_and_truncation_name_the_file(tmp_path):
  path = tmp_path / "bad-magic-idx3-ubyte"
  path.write_bytes(b"\x01\x02\x08\x03" + b"\0" * 20)
  with pytest.raises(idx.IdxFormatError, match="bad-magic-idx3-ubyte.*magic"):
    idx.read_idx(path)
  path = tmp_path / "short-idx1-ubyte"
  idx.write_idx(path, np.arange(10, dtype=np.uint8))
  path.write_bytes(path.read_bytes()[:-3])
  with pytest.raises(idx.IdxFormatError, match="short-idx1-ubyte.*truncated"):
    idx.read_idx(path)
  path = tmp_path / "cut.gz"
  idx.write_idx(path, np.arange(100, dtype=np.uint8))
  path.write_bytes(path.read_bytes()[:15])
  with pytest.raises(idx.IdxFormatError, match="cut.gz"):
    idx.read_idx(path)


def _write_mnist_dir(directory, *, gz, rng, train=7, test=3, shape=(5, 4)):
  directory.mkdir(parents=True, exist_ok=True)
  suffix = ".gz" if gz else ""
  arrays = {}
  for split, prefix, n in (("train", "train", train), ("test", "t10k", test)):
    x = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    y = rng.integers(0, 10, n).astype(np.uint8)
    idx.write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", x)
    idx.write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", y)
    arrays[split] = (x, y)
  return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_idx_source_round_trips_exactly(tmp_path, gz):
  arrays = _write_mnist_dir(tmp_path / "mnist", gz=gz, rng=np.random.default_rng(int(gz)))
  for split, (x, y) in arrays.items():
    source = data.labelled_source(f"idx:{tmp_path / 'mnist'}", split=split, data_dir=tmp_path / "dd")
    assert len(source) == len(x) and source.image_shape == (5, 4, 1)
    assert source.num_classes == max(arrays["train"][1].max(), arrays["test"][1].max()) + 1
    for i, ex in enumerate(source.__getitems__(range(len(source)))):
      np.testing.assert_array_equal(ex["image"], x[i][..., None])
      assert ex["label"] == y[i]


def test_idx_source_errors_name_the_file(tmp_path):
  directory = tmp_path / "mnist"
  _write_mnist_dir(directory, gz=False, rng=np.random.default_rng(0))
  bad = directory / "train-images-idx3-ubyte"
  bad.write_bytes(b"\x00\x00\x99\x03" + bad.read_bytes()[4:])
  with pytest.raises(ValueError, match=str(bad)):
    data.labelled_source(f"idx:{directory}", split="train", data_dir=tmp_path / "dd")
  with pytest.raises(FileNotFoundError, match="nowhere"):
    data.labelled_source(f"idx:{tmp_path / 'nowhere'}", split="train", data_dir=tmp_path / "dd")
  (tmp_path / "empty").mkdir()
  with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
    data.labelled_source(f"idx:{tmp_path / 'empty'}", split="train", data_dir=tmp_path / "dd")


def test_idx_label_count_mismatch(tmp_path):
  directory = tmp_path / "mnist"
  _write_mnist_dir(directory, gz=False, rng=np.random.default_rng(0))
  idx.write_idx(directory / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
  with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte"):
    data.labelled_source(f"idx:{directory}", split="test", data_dir=tmp_path / "dd")


def test_fashion_mnist_idx_files(tmp_path):
  fashion_mnist = real_data("fashion_mnist")
  sizes = {"train": 60000, "test": 10000}
  for split, size in sizes.items():
    source = data.labelled_source(f"idx:{fashion_mnist}", split=split, data_dir=tmp_path)
    assert len(source) == size
    assert source.image_shape == (28, 28, 1) and source.num_classes == 10
    files = idx.find_idx_files(fashion_mnist)[split]
    x, y = idx.read_idx_pair(*files)
    for i in (0, 1, size // 2, size - 1):
      ex = source[i]
      np.testing.assert_array_equal(ex["image"], x[i])
      assert ex["label"] == y[i]
    assert np.bincount(y).tolist() == [size // 10] * 10


# ------------------------------------------------------------------ folders


def _write(path, array, **kwargs):
  path.parent.mkdir(parents=True, exist_ok=True)
  Image.fromarray(array).save(path, **kwargs)
  return path


def _make_folder(root, rng):
  """cat: RGB png 5x6 + grey jpeg 8x8; dog: RGBA png 4x4, bmp 3x5; readme ignored."""
  _write(root / "cat" / "a.png", rng.integers(0, 256, (5, 6, 3), dtype=np.uint8))
  _write(root / "cat" / "b.jpg", rng.integers(0, 256, (8, 8), dtype=np.uint8))
  _write(root / "dog" / "c.png", rng.integers(0, 256, (4, 4, 4), dtype=np.uint8))
  _write(root / "dog" / "d.bmp", rng.integers(0, 256, (3, 5, 3), dtype=np.uint8))
  (root / "dog" / "README.txt").write_text("not an image, ignored")
  (root / "dog" / ".hidden.png").write_text("hidden, ignored")


def test_folder_with_mixed_formats_and_sizes(tmp_path):
  root = tmp_path / "pets"
  _make_folder(root, np.random.default_rng(0))
  source = data.labelled_source(f"folder:{root}", split="train", data_dir=tmp_path / "dd")
  assert source.class_names == ("cat", "dog") and source.num_classes == 2
  assert source.image_shape == (None, None, 3)
  examples = source.__getitems__(range(len(source)))
  assert [ex["label"] for ex in examples] == [0, 0, 1, 1]
  assert [ex["image"].shape for ex in examples] == [(5, 6, 3), (8, 8, 3), (4, 4, 3), (3, 5, 3)]
  for ex, name in zip(examples, ["cat/a.png", "cat/b.jpg", "dog/c.png", "dog/d.bmp"]):
    np.testing.assert_array_equal(ex["image"], images.load_image(root / name, channels=3))


def test_folder_resized_grey_and_split_folders(tmp_path):
  root = tmp_path / "split"
  rng = np.random.default_rng(0)
  _make_folder(root / "train", rng)
  _write(root / "test" / "cat" / "e.png", rng.integers(0, 256, (9, 9, 3), dtype=np.uint8))
  _write(root / "test" / "zebra" / "f.png", rng.integers(0, 256, (2, 2), dtype=np.uint8))
  kwargs = dict(data_dir=tmp_path / "dd", channels=1, image_size=4)
  train = data.labelled_source(f"folder:{root}", split="train", **kwargs)
  test = data.labelled_source(f"folder:{root}", split="test", **kwargs)
  assert train.class_names == test.class_names == ("cat", "dog", "zebra")
  assert train.image_shape == (4, 4, 1)
  assert len(train) == 4 and len(test) == 2
  assert [ex["label"] for ex in test.__getitems__([0, 1])] == [0, 2]
  expected = images.resize(images.load_image(root / "test/cat/e.png", channels=1), (4, 4))
  np.testing.assert_array_equal(test[0]["image"], expected)
  assert all(ex["image"].shape == (4, 4, 1) for ex in train.__getitems__(range(4)))


def _folder_error(tmp_path, root, error=ValueError):
  with pytest.raises(error) as info:
    data.labelled_source(f"folder:{root}", split="train", data_dir=tmp_path / "dd")
  return str(info.value)


def test_folder_errors_name_the_path(tmp_path):
  rng = np.random.default_rng(0)
  assert str(tmp_path / "missing") in _folder_error(tmp_path, tmp_path / "missing", FileNotFoundError)
  (tmp_path / "empty").mkdir()
  assert str(tmp_path / "empty") in _folder_error(tmp_path, tmp_path / "empty")
  _write(tmp_path / "flat" / "a.png", rng.integers(0, 256, (2, 2), dtype=np.uint8))
  assert str(tmp_path / "flat") in _folder_error(tmp_path, tmp_path / "flat")
  _make_folder(tmp_path / "noimg", rng)
  (tmp_path / "noimg" / "fish").mkdir()
  (tmp_path / "noimg" / "fish" / "notes.txt").write_text("x")
  assert str(tmp_path / "noimg" / "fish") in _folder_error(tmp_path, tmp_path / "noimg")
  _make_folder(tmp_path / "mixed" / "train", rng)
  _make_folder(tmp_path / "mixed" / "owl", rng)
  assert str(tmp_path / "mixed") in _folder_error(tmp_path, tmp_path / "mixed")


@pytest.mark.parametrize("kind", ["text", "truncated"])
def test_folder_bad_image_fails_the_build_naming_the_file(tmp_path, kind):
  root = tmp_path / "pets"
  _make_folder(root, np.random.default_rng(0))
  bad = root / "dog" / "zz.png"
  if kind == "text":
    bad.write_text("not a png")
  else:
    good = (root / "cat" / "a.png").read_bytes()
    bad.write_bytes(good[: len(good) // 2])
  with pytest.raises(images.ImageReadError, match=str(bad)):
    data.labelled_source(f"folder:{root}", split="train", data_dir=tmp_path / "dd")
  assert _prepared_dirs(tmp_path / "dd", "jaxgan_image_folder") == []


def test_changed_folder_is_rebuilt_unchanged_folder_is_not(tmp_path):
  root = tmp_path / "pets"
  _make_folder(root, np.random.default_rng(0))
  dd = tmp_path / "dd"
  first = builders.folder_builder(root, dd)
  assert builders.folder_builder(root, dd).builder_config.name == (first.builder_config.name)
  data.labelled_source(f"folder:{root}", split="train", data_dir=dd)
  assert builders.folder_builder(root, dd).is_prepared()

  new_pixels = np.full((2, 3, 3), 77, np.uint8)
  _write(root / "cat" / "a.png", new_pixels)
  os.utime(root / "cat" / "a.png", ns=(1, 1))  # a different mtime even on coarse clocks
  changed = builders.folder_builder(root, dd)
  assert changed.builder_config.name != first.builder_config.name
  assert not changed.is_prepared()
  source = data.labelled_source(f"folder:{root}", split="train", data_dir=dd)
  np.testing.assert_array_equal(source[0]["image"], new_pixels)
  assert len(_prepared_dirs(dd, "jaxgan_image_folder")) == 2

  # Other options and another folder with the same name get their own entries.
  grey = builders.folder_builder(root, dd, channels=1)
  assert grey.builder_config.name != changed.builder_config.name
  other = tmp_path / "elsewhere" / "pets"
  _make_folder(other, np.random.default_rng(0))
  assert builders.folder_builder(other, dd).builder_config.name != (changed.builder_config.name)


# ------------------------------------------------------------------ tfds catalogue


def test_tfds_dataset_not_prepared(tmp_path):
  with pytest.raises(data.DatasetNotPreparedError) as info:
    data.labelled_source("tfds:mnist", split="train", data_dir=tmp_path)
  message = str(info.value)
  assert str(tmp_path) in message and "not prepared" in message
  assert "tfds build mnist" in message and "jaxgan[tf]" in message


def test_tfds_unknown_name(tmp_path):
  with pytest.raises(ValueError, match="no_such_dataset_xyz"):
    data.labelled_source("no_such_dataset_xyz", split="train", data_dir=tmp_path)


@pytest.mark.parametrize("spec", ["tfds:mnist", "mnist"])
def test_tfds_mock_data(tmp_path, spec):
  with tfds.testing.mock_data(num_examples=6):
    source = data.labelled_source(spec, split="train", data_dir=tmp_path)
    assert len(source) == 6
    assert source.num_classes == 10 and source.image_shape == (28, 28, 1)
    assert source.name == "tfds:mnist"
    ex = source[5]
    assert ex["image"].shape == (28, 28, 1) and ex["image"].dtype == np.uint8
    assert 0 <= ex["label"] < 10
    loader = data.BatchLoader(
      source, global_batch_size=4, seed=0, transform=data.labelled_transform(image_size=8, channels=3)
    )
    batch = loader.batch(1)
  assert batch["image"].shape == (4, 8, 8, 3) and batch["label"].dtype == np.int32


# ------------------------------------------------------------------ loader


class ListSource:
  """An in-memory source: example i is {'image': [[[i]]], 'label': i}."""

  def __init__(self, n):
    self.n = n

  def __len__(self):
    return self.n

  def __getitem__(self, i):
    return {"image": np.full((1, 1, 1), i, np.int64), "label": i}


def _labels(loader, steps):
  return np.concatenate([loader.batch(s)["label"] for s in steps])


loader_cases = st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n), st.integers(0, 2**32 - 1)))


@hypothesis.given(loader_cases)
def test_each_epoch_visits_every_kept_example_once(case):
  n, batch_size, seed = case
  loader = data.BatchLoader(ListSource(n), global_batch_size=batch_size, seed=seed)
  spe = loader.steps_per_epoch
  assert spe == n // batch_size and loader.num_examples == n
  for epoch in range(3):
    labels = _labels(loader, range(epoch * spe, (epoch + 1) * spe))
    assert len(set(labels.tolist())) == len(labels) == spe * batch_size
    np.testing.assert_array_equal(labels, data.loader.epoch_order(seed, epoch, n)[: spe * batch_size])


@hypothesis.given(loader_cases, st.integers(0, 20))
def test_batches_are_a_pure_function_of_seed_and_step(case, step):
  n, batch_size, seed = case
  a = data.BatchLoader(ListSource(n), global_batch_size=batch_size, seed=seed)
  b = data.BatchLoader(ListSource(n), global_batch_size=batch_size, seed=seed)
  for s in (step, 0, step):
    np.testing.assert_array_equal(a.batch(s)["label"], b.batch(s)["label"])
  assert a.batch(step)["image"].shape == (batch_size, 1, 1, 1)


def test_different_seeds_give_different_orders():
  a = data.BatchLoader(ListSource(100), global_batch_size=100, seed=0)
  b = data.BatchLoader(ListSource(100), global_batch_size=100, seed=1)
  assert not np.array_equal(a.batch(0)["label"], b.batch(0)["label"])
  assert not np.array_equal(a.batch(0)["label"], a.batch(1)["label"])


@hypothesis.given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 9), st.integers(0, 10))
def test_process_slices_concatenate_to_the_global_batch(processes, per_process, seed, step):
  batch_size = processes * per_process
  source = ListSource(3 * batch_size + 1)
  whole = data.BatchLoader(source, global_batch_size=batch_size, seed=seed).batch(step)
  parts = [
    data.BatchLoader(source, global_batch_size=batch_size, seed=seed, process_index=p, process_count=processes).batch(
      step
    )
    for p in range(processes)
  ]
  for key in whole:
    np.testing.assert_array_equal(np.concatenate([p[key] for p in parts]), whole[key])
  assert parts[0]["label"].shape == (per_process,)


def _noisy(example, rng):
  """A random transform: adds a draw of the example's augmentation RNG to its label."""
  return {"label": np.float64(example["label"]) + rng.random()}


@hypothesis.given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 9), st.integers(0, 10))
def test_random_transforms_are_reproducible_and_independent_of_process_count(processes, per_process, seed, step):
  batch_size = processes * per_process
  source = ListSource(2 * batch_size + 1)
  make = lambda **kw: data.BatchLoader(source, global_batch_size=batch_size, seed=seed, transform=_noisy, **kw)
  whole = make().batch(step)["label"]
  np.testing.assert_array_equal(make().batch(step)["label"], whole)
  parts = [make(process_index=p, process_count=processes).batch(step)["label"] for p in range(processes)]
  np.testing.assert_array_equal(np.concatenate(parts), whole)
  # Each example got its own draw: the fractional parts differ within a batch.
  fractions = whole - np.floor(whole)
  assert len(set(fractions.tolist())) == batch_size


def test_random_transform_draws_change_with_the_step():
  loader = data.BatchLoader(ListSource(4), global_batch_size=4, seed=0, transform=_noisy)
  draws = [set((b - np.floor(b)).tolist()) for b in (loader.batch(s)["label"] for s in (0, 1))]
  assert draws[0].isdisjoint(draws[1])


def test_iterate_equals_batch_and_resumes(tmp_path):
  loader = data.BatchLoader(ListSource(23), global_batch_size=4, seed=3, num_threads=3, prefetch=3)
  it = loader.iterate(0)
  uninterrupted = [next(it)["label"] for _ in range(14)]
  it.close()
  for s, labels in enumerate(uninterrupted):
    np.testing.assert_array_equal(labels, loader.batch(s)["label"])
  for k in (1, 5, 6, 11):
    resumed = list(loader.iterate(k, stop_step=14))
    assert len(resumed) == 14 - k
    for labels, batch in zip(uninterrupted[k:], resumed):
      np.testing.assert_array_equal(labels, batch["label"])


def test_closing_iterate_stops_its_threads():
  loader = data.BatchLoader(ListSource(50), global_batch_size=5, seed=0)
  it = loader.iterate(0)
  next(it)
  it.close()
  assert not [t for t in threading.enumerate() if t.name.startswith("jaxgan-batches")]


@pytest.mark.parametrize(
  "kwargs, match",
  [
    (dict(global_batch_size=6, process_count=4), "divisible"),
    (dict(global_batch_size=0), "global_batch_size"),
    (dict(global_batch_size=11), "fewer than one global batch"),
    (dict(global_batch_size=4, process_count=2, process_index=2), "process_index"),
    (dict(global_batch_size=4, process_count=0), "process_count"),
    (dict(global_batch_size=2.0), "global_batch_size"),
  ],
)
def test_bad_batch_sizes(kwargs, match):
  with pytest.raises(ValueError, match=match):
    data.BatchLoader(ListSource(10), seed=0, **kwargs)


def test_labelled_transform_on_digits(tmp_path):
  source = data.labelled_source("digits", split="test", data_dir=tmp_path)
  for channels in (1, 3):
    transform = data.labelled_transform(image_size=8, channels=channels)
    loader = data.BatchLoader(source, global_batch_size=16, seed=0, transform=transform)
    batch = loader.batch(2)
    assert batch["image"].shape == (16, 8, 8, channels)
    assert batch["image"].dtype == np.float32 and batch["label"].dtype == np.int32
    assert batch["image"].min() >= -1 and batch["image"].max() <= 1
    raw = source.__getitems__(loader.indices(2))
    np.testing.assert_array_equal(images.to_uint8(batch["image"][..., :1]), np.stack([ex["image"] for ex in raw]))
    np.testing.assert_array_equal(batch["label"], [ex["label"] for ex in raw])
    threaded = list(loader.iterate(1, stop_step=3))
    np.testing.assert_array_equal(threaded[1]["image"], batch["image"])
  big = data.labelled_transform(image_size=12, channels=3)(source[0])
  assert big["image"].shape == (12, 12, 3)
  rgb = {"image": np.zeros((5, 5, 3), np.uint8), "label": 1}
  assert data.labelled_transform(image_size=5, channels=1)(rgb)["image"].shape == (5, 5, 1)


class _Squares(record_source.RecordSource):
  def _example(self, raw, index):
    return {"value": raw * raw, "index": index}


class _ListWithBatchedReads(list):
  def __getitems__(self, indices):
    return [self[i] for i in indices]


@pytest.mark.parametrize("batched", [True, False])
def test_record_source_indexing_matches_a_list(batched):
  records = (_ListWithBatchedReads if batched else list)([3, 1, 4, 1, 5])
  source = _Squares(records)
  assert len(source) == 5 and source._batched_reads == batched
  for i in range(-5, 5):
    assert source[i] == {"value": records[i] ** 2, "index": i % 5}
  assert source.__getitems__([-1, 0, 2]) == [source[-1], source[0], source[2]]
  for bad in (5, -6):
    with pytest.raises(IndexError, match=f"index {bad} out of range for 5 examples"):
      source[bad]
    with pytest.raises(IndexError):
      source.__getitems__([0, bad])
  assert record_source.decode_name(b"a.png") == record_source.decode_name("a.png") == "a.png"

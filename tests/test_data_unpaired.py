"""Tests of jaxgan.data.unpaired: CycleGAN's two domains, their batches and jitter."""

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from jaxgan import data
from jaxgan.data import builders, idx, loader, unpaired
from tests.real_data import real_data


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  """One data dir for the module, so each data set is built once."""
  return tmp_path_factory.mktemp("tfds")


def _write(path, pixels, mode=None):
  path.parent.mkdir(parents=True, exist_ok=True)
  Image.fromarray(np.asarray(pixels), mode=mode).save(path)
  return path


def _root(tmp_path, sizes=(("trainA", 3), ("trainB", 5), ("testA", 2), ("testB", 1))):
  """An official layout whose image k of a domain folder is filled with a tag."""
  rng = np.random.default_rng(0)
  root = tmp_path / "horse2zebra"
  for folder, n in sizes:
    for k in range(n):
      _write(root / folder / f"{k:03d}.png", rng.integers(0, 256, (6 + k, 7, 3), np.uint8))
  return root


# ------------------------------------------------------------------ specs


def test_spec_forms():
  parse = unpaired.parse_unpaired_spec
  assert parse("digits") == unpaired.UnpairedSpec("digits-classes", None, (3, 8))
  assert parse("digits-classes:A=0:B=1").classes == (0, 1)
  assert parse("idx-classes:/d/fashion:A=7:B=9") == unpaired.UnpairedSpec("idx-classes", "/d/fashion", (7, 9))
  assert parse("cycle_gan/horse2zebra") == unpaired.UnpairedSpec("tfds", "cycle_gan/horse2zebra")
  assert parse("tfds:my_set") == unpaired.UnpairedSpec("tfds", "my_set")
  assert parse("unpaired:/x") == parse("/x") == unpaired.UnpairedSpec("folders", "/x")
  for form in ("idx-classes:DIR:A=a:B=b", "digits", "cycle_gan/NAME", "DIR"):
    assert form in data.UNPAIRED_SPEC_FORMS


@pytest.mark.parametrize(
  "spec, match",
  [
    ("idx-classes:/d:7:9", r"idx-classes:DIR:A=<label>:B=<label>"),
    ("idx-classes:/d:A=7:B=7", "same class 7"),
    ("digits-classes:A=3", "digits-classes:A=<label>:B=<label>"),
    ("tfds:", "needs a value"),
    ("", "accepted forms"),
    ("nosuchkind:foo", "accepted forms"),
  ],
)
def test_bad_specs(spec, match):
  with pytest.raises(ValueError, match=match):
    unpaired.parse_unpaired_spec(spec)


# ------------------------------------------------------------------ folders


def test_layout_is_found_recursively_in_sorted_order(tmp_path):
  root = _root(tmp_path)
  _write(root / "trainA" / "sub" / "deep.jpg", np.zeros((4, 4, 3), np.uint8))
  _write(root / "trainA" / ".hidden.png", np.zeros((4, 4, 3), np.uint8))
  (root / "trainA" / "notes.txt").write_text("not an image")
  (root / "README.md").write_text("x")
  layout = unpaired.scan_unpaired_folder(root)
  assert layout.phases == ("train", "test")
  assert sorted(layout.splits) == ["testA", "testB", "trainA", "trainB"]
  assert [n for n, _ in layout.splits["trainA"]] == ["000.png", "001.png", "002.png", "sub/deep.jpg"]
  assert len(layout.splits["trainB"]) == 5 and len(layout.splits["testB"]) == 1


def test_layout_errors_name_the_folders(tmp_path):
  with pytest.raises(FileNotFoundError, match="nowhere"):
    unpaired.scan_unpaired_folder(tmp_path / "nowhere")
  (tmp_path / "file").write_text("x")
  with pytest.raises(NotADirectoryError, match="file"):
    unpaired.scan_unpaired_folder(tmp_path / "file")
  paired_like = tmp_path / "paired_like"
  _write(paired_like / "A" / "train" / "x.png", np.zeros((2, 2, 3), np.uint8))
  with pytest.raises(ValueError, match=r"trainA/.*trainB/.*found folders \['A'\]"):
    unpaired.scan_unpaired_folder(paired_like)
  one_side = _root(tmp_path / "one", sizes=(("trainA", 1), ("testA", 1), ("testB", 1)))
  with pytest.raises(ValueError, match=f"{one_side / 'trainB'} is missing"):
    unpaired.scan_unpaired_folder(one_side)
  empty = _root(tmp_path / "empty", sizes=(("trainA", 1), ("trainB", 0)))
  (empty / "trainB").mkdir()
  (empty / "trainB" / "x.txt").write_text("x")
  with pytest.raises(ValueError, match=f"domain folder {empty / 'trainB'} has no image"):
    unpaired.scan_unpaired_folder(empty)


def test_folder_sources_read_both_domains(tmp_path, data_dir):
  root = _root(tmp_path)
  _write(root / "trainB" / "grey.png", np.full((5, 5), 77, np.uint8))
  _write(root / "trainB" / "rgba.png", np.full((5, 5, 4), (10, 20, 30, 0), np.uint8), "RGBA")
  a, b = data.unpaired_sources(str(root), "train", data_dir)
  assert (len(a), len(b)) == (3, 7)
  assert (a.domain, b.domain, a.split, b.split) == ("A", "B", "trainA", "trainB")
  assert a.image_shape == (None, None, 3)
  example = a[2]
  assert example["name"] == "002.png" and example["image"].shape == (8, 7, 3)
  np.testing.assert_array_equal(example["image"], np.asarray(Image.open(root / "trainA" / "002.png")))
  by_name = {ex["name"]: ex["image"] for ex in b.__getitems__(range(len(b)))}
  np.testing.assert_array_equal(by_name["grey.png"], np.full((5, 5, 3), 77))
  np.testing.assert_array_equal(by_name["rgba.png"], np.full((5, 5, 3), (10, 20, 30)))
  test_a, test_b = data.unpaired_sources(f"unpaired:{root}", "test", data_dir)
  assert (len(test_a), len(test_b)) == (2, 1)
  swapped_a, swapped_b = data.unpaired_sources(str(root), "train[:2]", data_dir, direction="BtoA")
  assert (swapped_a.split, swapped_a.domain, len(swapped_a)) == ("trainB[:2]", "A", 2)
  assert swapped_b.split == "trainA[:2]"
  with pytest.raises(ValueError, match=r"no split 'val'.*phases are \['train', 'test'\]"):
    data.unpaired_sources(str(root), "val", data_dir)


def test_changed_folder_gets_a_new_cache_entry(tmp_path):
  root = _root(tmp_path, sizes=(("trainA", 1), ("trainB", 1)))
  before = unpaired.unpaired_builder(str(root), tmp_path / "dd").builder_config.name
  _write(root / "trainB" / "new.png", np.zeros((3, 3, 3), np.uint8))
  after = unpaired.unpaired_builder(str(root), tmp_path / "dd").builder_config.name
  assert before != after and before.startswith("horse2zebra_")


# ------------------------------------------------------------------ tfds catalogue


def test_tfds_catalogue_not_prepared(tmp_path):
  with pytest.raises(data.DatasetNotPreparedError, match="tfds build cycle_gan/horse2zebra"):
    data.unpaired_sources("cycle_gan/horse2zebra", "train", tmp_path)
  with pytest.raises(ValueError, match="no_such_dataset_xyz"):
    data.unpaired_sources("tfds:no_such_dataset_xyz", "train", tmp_path)


def test_tfds_catalogue_mock_data(tmp_path):
  with tfds.testing.mock_data(num_examples=5):
    a, b = data.unpaired_sources("cycle_gan/horse2zebra", "train", tmp_path)
    assert (len(a), len(b), a.split, b.split) == (5, 5, "trainA", "trainB")
    assert a.image_shape == (None, None, 3)
    examples = b.__getitems__([0, 4])
    assert examples[1]["name"] == "trainB_4"
    assert examples[0]["image"].dtype == np.uint8 and examples[0]["image"].shape[-1] == 3
    transform = data.unpaired_transform(preprocess="resize_and_crop", load_size=10, crop_size=8)
    batch = data.unpaired_batches(
      a, b, global_batch_size=4, seed=0, transform_a=transform, transform_b=transform
    ).batch(1)
  assert sorted(batch) == ["A/image", "B/image"]
  assert batch["A/image"].shape == batch["B/image"].shape == (4, 8, 8, 3)


# ------------------------------------------------------------------ batches


class Tagged:
  """An in-memory domain: example i is {'image': [[[i]]]} (or a fixed picture)."""

  def __init__(self, n, picture=None):
    self.n, self.picture = n, picture

  def __len__(self):
    return self.n

  def __getitem__(self, i):
    if self.picture is not None:
      return {"image": self.picture}
    return {"image": np.full((1, 1, 1), int(i), np.int64)}


def _ids(batches, step, key):
  return batches.batch(step)[key][:, 0, 0, 0]


def test_epoch_is_the_larger_domain_and_a_is_read_cyclically():
  # A smaller: every A example 4 times an epoch (the official index % A_size).
  small_a = data.unpaired_batches(Tagged(10), Tagged(40), global_batch_size=8, seed=3)
  assert small_a.epoch_length == 40 and small_a.steps_per_epoch == 5
  epoch = np.concatenate([_ids(small_a, s, "A/image") for s in range(5)])
  np.testing.assert_array_equal(np.bincount(epoch, minlength=10), 4)
  # A larger: every A example once an epoch, in a new order each epoch.
  big_a = data.unpaired_batches(Tagged(40), Tagged(10), global_batch_size=8, seed=3)
  first = np.concatenate([_ids(big_a, s, "A/image") for s in range(5)])
  second = np.concatenate([_ids(big_a, s, "A/image") for s in range(5, 10)])
  np.testing.assert_array_equal(np.sort(first), np.arange(40))
  np.testing.assert_array_equal(np.sort(second), np.arange(40))
  assert not np.array_equal(first, second)


def test_b_is_drawn_uniformly_and_deterministically():
  batches = data.unpaired_batches(Tagged(40), Tagged(10), global_batch_size=8, seed=5)
  draws = np.concatenate([_ids(batches, s, "B/image") for s in range(100)])
  counts = np.bincount(draws, minlength=10)
  expected = len(draws) / 10
  chi2 = ((counts - expected) ** 2 / expected).sum()
  assert chi2 < 33.7, counts  # chi-square, 9 dof: P(> 33.7) = 1e-4
  # Drawn with replacement, independently: some batch repeats a B example.
  assert any(len(set(_ids(batches, s, "B/image"))) < 8 for s in range(20))
  # A pure function of (seed, step, position): the same in a new object, resumable,
  # and the same whatever the number of processes.
  again = data.unpaired_batches(Tagged(40), Tagged(10), global_batch_size=8, seed=5)
  np.testing.assert_array_equal(_ids(again, 57, "B/image"), draws[57 * 8 : 58 * 8])
  np.testing.assert_array_equal(next(again.iterate(57))["B/image"][:, 0, 0, 0], draws[57 * 8 : 58 * 8])
  halves = [
    data.unpaired_batches(Tagged(40), Tagged(10), global_batch_size=8, seed=5, process_index=p, process_count=2)
    for p in (0, 1)
  ]
  for key in ("A/image", "B/image"):
    np.testing.assert_array_equal(np.concatenate([_ids(h, 9, key) for h in halves]), _ids(batches, 9, key))
  other = data.unpaired_batches(Tagged(40), Tagged(10), global_batch_size=8, seed=6)
  assert not np.array_equal(np.concatenate([_ids(other, s, "B/image") for s in range(5)]), draws[:40])


def test_b_order_shuffle_reads_b_from_its_own_epochs():
  batches = data.unpaired_batches(Tagged(10), Tagged(40), global_batch_size=8, seed=1, b_order="shuffle")
  a = np.concatenate([_ids(batches, s, "A/image") for s in range(5)])
  b = np.concatenate([_ids(batches, s, "B/image") for s in range(5)])
  np.testing.assert_array_equal(np.sort(b), np.arange(40))
  # Different seeds: B's order is not A's.
  assert not np.array_equal(b % 10, a)
  with pytest.raises(ValueError, match="b_order"):
    data.unpaired_batches(Tagged(10), Tagged(10), global_batch_size=2, seed=0, b_order="serial")


def test_the_two_domains_have_independent_jitter():
  picture = np.arange(36, dtype=np.uint8).reshape(6, 6, 1) * 7
  transform = data.unpaired_transform(preprocess="crop", crop_size=4, channels=1)
  batches = data.unpaired_batches(
    Tagged(16, picture), Tagged(16, picture), global_batch_size=8, seed=0, transform_a=transform, transform_b=transform
  )
  a = np.concatenate([batches.batch(s)["A/image"] for s in range(8)])
  b = np.concatenate([batches.batch(s)["B/image"] for s in range(8)])
  # 9 crops x 2 flips: the same picture in A and B coincides about 1 time in 18.
  same = sum(np.array_equal(x, y) for x, y in zip(a, b))
  assert same <= 12, same
  assert len({x.tobytes() for x in a}) >= 10 and len({y.tobytes() for y in b}) >= 10
  # Each domain's jitter is its transform with its own seed's example RNG.
  seed_a, seed_b = unpaired.domain_seeds(0)
  assert seed_a != seed_b
  example = {"image": picture}
  np.testing.assert_array_equal(a[11], transform(example, loader.example_rng(seed_a, 1, 3))["image"])
  np.testing.assert_array_equal(b[11], transform(example, loader.example_rng(seed_b, 1, 3))["image"])


def test_transform_converts_and_jitters_like_the_official_defaults():
  rng = np.random.default_rng(0)
  rgba = rng.integers(0, 256, (300, 290, 4), np.uint8)
  transform = data.unpaired_transform(preprocess="resize_and_crop")
  out = transform({"image": rgba}, np.random.default_rng(1))["image"]
  assert out.shape == (256, 256, 3) and out.dtype == np.float32
  assert -1.0 <= out.min() and out.max() <= 1.0
  grey = rng.integers(0, 256, (8, 8, 1), np.uint8)
  to_rgb = data.unpaired_transform(preprocess="resize_and_crop", load_size=36, crop_size=32, flip=False)
  centred = to_rgb({"image": grey})["image"]
  assert centred.shape == (32, 32, 3)
  np.testing.assert_array_equal(centred[..., 0], centred[..., 2])
  expected = data.to_float(data.resize(grey, (36, 36))[2:34, 2:34])
  np.testing.assert_array_equal(centred[..., :1], expected)
  with pytest.raises(ValueError, match="channels"):
    data.unpaired_transform(preprocess="crop", channels=2)
  with pytest.raises(ValueError, match="cannot crop"):
    data.unpaired_transform(preprocess="crop", crop_size=16)({"image": grey}, None)


# ------------------------------------------------------------------ class domains


def test_digits_default_is_two_classes_with_disjoint_splits(data_dir):
  a, b = data.unpaired_sources("digits", "train", data_dir)
  test_a, test_b = data.unpaired_sources("digits-classes:A=3:B=8", "test", data_dir)
  assert (len(a), len(b), len(test_a), len(test_b)) == (147, 140, 36, 34)
  assert a.image_shape == (8, 8, 1)
  pixels, labels = builders.digits_arrays()
  names = {}
  for source, label in ((a, 3), (b, 8), (test_a, 3), (test_b, 8)):
    examples = source.__getitems__(range(len(source)))
    ids = np.array([int(ex["name"].split("-")[1]) for ex in examples])
    assert (labels[ids] == label).all()
    np.testing.assert_array_equal(np.stack([ex["image"] for ex in examples]), pixels[ids])
    names[source.split] = set(ids)
  assert not names["trainA"] & names["testA"] and not names["trainB"] & names["testB"]
  assert len(names["trainA"] | names["testA"]) == (labels == 3).sum()


def _write_idx(directory, images, labels, prefix):
  idx.write_idx(directory / f"{prefix}-images-idx3-ubyte", images)
  idx.write_idx(directory / f"{prefix}-labels-idx1-ubyte", labels)


def test_idx_class_errors(tmp_path, data_dir):
  rng = np.random.default_rng(0)
  _write_idx(tmp_path, rng.integers(0, 256, (12, 4, 4), np.uint8), np.arange(12, dtype=np.uint8) % 3, "train")
  with pytest.raises(
    ValueError,
    match=r"domain B: class 5 has no images in .*train-labels"
    r".*\[0, 1, 2\]",
  ):
    data.unpaired_sources(f"idx-classes:{tmp_path}:A=1:B=5", "train", data_dir)
  a, b = data.unpaired_sources(f"idx-classes:{tmp_path}:A=2:B=0", "train", data_dir)
  assert (len(a), len(b), a[0]["name"], b[1]["name"]) == (4, 4, "train-00002", "train-00003")
  with pytest.raises(ValueError, match=r"no split 'test'.*phases are \['train'\]"):
    data.unpaired_sources(f"idx-classes:{tmp_path}:A=2:B=0", "test", data_dir)
  with pytest.raises(FileNotFoundError, match=f"--dataset=.*{tmp_path / 'x'}.*: no such folder, not a registered name"):
    data.unpaired_sources(f"idx-classes:{tmp_path / 'x'}:A=1:B=2", "train", data_dir)


def test_fashion_mnist_sneaker_and_ankle_boot_domains(data_dir):
  fashion_mnist = real_data("fashion_mnist")
  spec = f"idx-classes:{fashion_mnist}:A=7:B=9"
  files = idx.find_idx_files(fashion_mnist)
  for split in ("train", "test"):
    pixels, labels = idx.read_idx_pair(*files[split])
    a, b = data.unpaired_sources(spec, split, data_dir)
    assert a.image_shape == (28, 28, 1)
    for source, label in ((a, 7), (b, 9)):
      assert len(source) == (labels == label).sum()
      positions = np.linspace(0, len(source) - 1, 50).astype(int)
      examples = source.__getitems__(positions)
      ids = np.array([int(ex["name"].split("-")[1]) for ex in examples])
      assert (labels[ids] == label).all()
      np.testing.assert_array_equal(np.stack([ex["image"] for ex in examples]), pixels[ids])
      # In file order: the domain is the class's images, nothing else.
      np.testing.assert_array_equal(ids, np.flatnonzero(labels == label)[positions])

"""Tests of jaxgan.data.paired and jaxgan.data.jitter: pix2pix pairs and their jitter."""

import types

import hypothesis
import numpy as np
import pytest
from hypothesis import strategies as st
from PIL import Image

from jaxgan import data
from jaxgan.data import images, jitter, paired
from tests.real_data import real_data

PERMUTATION = [2, 0, 1]


def _write(path, pixels):
  path.parent.mkdir(parents=True, exist_ok=True)
  pixels = np.asarray(pixels)
  Image.fromarray(pixels[..., 0] if pixels.ndim == 3 and pixels.shape[-1] == 1 else pixels).save(path)
  return path


def _noise(rng, h, w, c=3):
  return rng.integers(0, 256, (h, w, c), dtype=np.uint8)


# ------------------------------------------------------------------ jitter vs official


def _official_params(size_wh, opt, rng):
  """A transcription of get_params (base_dataset.py), ``random`` replaced by ``rng``."""
  w, h = size_wh
  new_h, new_w = h, w
  if opt.preprocess == "resize_and_crop":
    new_h = new_w = opt.load_size
  elif opt.preprocess == "scale_width_and_crop":
    new_w = opt.load_size
    new_h = opt.load_size * h // w
  x = int(rng.integers(0, max(0, new_w - opt.crop_size) + 1))
  y = int(rng.integers(0, max(0, new_h - opt.crop_size) + 1))
  return {"crop_pos": (x, y), "flip": rng.random() > 0.5}


def _official_transform(img, params, opt, grayscale):
  """A transcription of get_transform (base_dataset.py) on a PIL image, before ToTensor."""
  method = Image.Resampling.BICUBIC
  if grayscale:
    img = img.convert("L")
  if "resize" in opt.preprocess:
    img = img.resize((opt.load_size, opt.load_size), method)
  elif "scale_width" in opt.preprocess:
    ow, oh = img.size
    if not (ow == opt.load_size and oh >= opt.crop_size):
      img = img.resize((opt.load_size, int(max(opt.load_size * oh / ow, opt.crop_size))), method)
  if "crop" in opt.preprocess:
    (x, y), size = params["crop_pos"], opt.crop_size
    if img.size[0] > size or img.size[1] > size:
      img = img.crop((x, y, x + size, y + size))
  if opt.preprocess == "none":
    ow, oh = img.size
    h, w = int(round(oh / 4) * 4), int(round(ow / 4) * 4)
    if (h, w) != (oh, ow):
      img = img.resize((w, h), method)
  if not opt.no_flip and params["flip"]:
    img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
  pixels = np.asarray(img)
  return images.to_float(pixels[..., None] if pixels.ndim == 2 else pixels)


@st.composite
def _jitter_cases(draw):
  preprocess = draw(st.sampled_from(jitter.PREPROCESS_MODES))
  crop = draw(st.integers(2, 9))
  load = draw(st.integers(crop, 14))
  # Sides of at least 3: the official 'none' mode makes sides under 2 empty.
  h, w = draw(st.integers(max(crop, 3), 20)), draw(st.integers(max(crop, 3), 20))
  return {
    "preprocess": preprocess,
    "crop_size": crop,
    "load_size": load,
    "h": h,
    "w": w,
    "flip": draw(st.booleans()),
    "seed": draw(st.integers(0, 2**32 - 1)),
    "in_channels": draw(st.sampled_from([1, 3])),
  }


@hypothesis.settings(deadline=None, max_examples=150)
@hypothesis.given(_jitter_cases())
def test_jitter_equals_the_official_transform_on_a_and_b(case):
  rng = np.random.default_rng(case["seed"] % 1000)
  a = _noise(rng, case["h"], case["w"])
  b = a[..., PERMUTATION]  # B is a pixelwise function of A
  transform = data.paired_transform(
    preprocess=case["preprocess"],
    load_size=case["load_size"],
    crop_size=case["crop_size"],
    flip=case["flip"],
    in_channels=case["in_channels"],
  )
  out = transform({"a": a, "b": b, "name": "x"}, np.random.default_rng(case["seed"]))

  opt = types.SimpleNamespace(
    preprocess=case["preprocess"], load_size=case["load_size"], crop_size=case["crop_size"], no_flip=not case["flip"]
  )
  params = _official_params((case["w"], case["h"]), opt, np.random.default_rng(case["seed"]))
  for key, pixels, grey in (("a", a, case["in_channels"] == 1), ("b", b, False)):
    expected = _official_transform(Image.fromarray(pixels), params, opt, grey)
    assert out[key].dtype == np.float32
    np.testing.assert_array_equal(out[key], expected)
  if case["in_channels"] == 3:
    np.testing.assert_array_equal(out["b"], out["a"][..., PERMUTATION])


@pytest.mark.parametrize("preprocess", jitter.PREPROCESS_MODES)
@pytest.mark.parametrize("flip", [True, False])
def test_same_jitter_on_a_and_b_over_many_seeds(preprocess, flip):
  a = _noise(np.random.default_rng(1), 13, 17)
  example = {"a": a, "b": a[..., PERMUTATION], "name": "x"}
  transform = data.paired_transform(preprocess=preprocess, load_size=12, crop_size=8, flip=flip)
  outputs = set()
  for seed in range(40):
    out = transform(example, np.random.default_rng(seed))
    np.testing.assert_array_equal(out["b"], out["a"][..., PERMUTATION])
    again = transform(example, np.random.default_rng(seed))
    np.testing.assert_array_equal(again["a"], out["a"])
    outputs.add(out["a"].tobytes())
  # The jitter really varies (so the relation above is not vacuous).
  expected_variants = 1 + ("crop" in preprocess) + flip
  assert len(outputs) >= expected_variants
  if "crop" not in preprocess and not flip:
    assert len(outputs) == 1


def test_flip_probability_and_every_crop_offset_is_drawn():
  a = np.arange(6 * 7, dtype=np.uint8).reshape(6, 7, 1).repeat(3, axis=-1)
  transform = data.paired_transform(preprocess="crop", crop_size=4, flip=True)
  corners, flips = set(), 0
  for seed in range(400):
    out = images.to_uint8(transform({"a": a, "b": a}, np.random.default_rng(seed))["a"])
    first, last = int(out[0, 0, 0]), int(out[0, -1, 0])
    flips += first > last
    y, x = divmod(min(first, last), 7)
    corners.add((x, y))
  assert corners == {(x, y) for x in range(4) for y in range(3)}
  assert 150 < flips < 250


def test_no_rng_is_deterministic_centre_crop_without_flip():
  a = _noise(np.random.default_rng(0), 11, 14)
  transform = data.paired_transform(preprocess="crop", crop_size=6, flip=True)
  out = transform({"a": a, "b": a})
  np.testing.assert_array_equal(out["a"], images.to_float(a[2:8, 4:10]))
  np.testing.assert_array_equal(transform({"a": a, "b": a}, None)["b"], out["b"])


@pytest.mark.parametrize(
  "preprocess, size, expected",
  [
    ("resize_and_crop", (30, 50), (8, 8)),
    ("crop", (30, 50), (8, 8)),
    ("scale_width", (30, 50), (12, 20)),
    ("scale_width", (9, 40), (8, 20)),  # height at least crop_size
    ("scale_width", (30, 20), (30, 20)),  # already load_size wide: kept
    ("scale_width_and_crop", (30, 50), (8, 8)),
    ("none", (30, 50), (32, 48)),  # round(7.5) = 8, round(12.5) = 12
    ("none", (1, 2), (4, 4)),  # at least 4
  ],
)
def test_output_sizes(preprocess, size, expected):
  a = _noise(np.random.default_rng(0), *size)
  transform = data.paired_transform(preprocess=preprocess, load_size=20, crop_size=8)
  for rng in (None, np.random.default_rng(3)):
    out = transform({"a": a, "b": a}, rng)
    assert out["a"].shape == out["b"].shape == expected + (3,)
    assert -1 <= out["a"].min() and out["a"].max() <= 1


def test_channels_of_a_and_b():
  a = _noise(np.random.default_rng(0), 9, 9)
  b = _noise(np.random.default_rng(1), 9, 9, 1)
  transform = data.paired_transform(preprocess="crop", crop_size=9, in_channels=1, out_channels=3)
  out = transform({"a": a, "b": b})
  assert out["a"].shape == (9, 9, 1) and out["b"].shape == (9, 9, 3)
  np.testing.assert_array_equal(out["a"], images.to_float(images.convert_channels(a, 1)))
  np.testing.assert_array_equal(out["b"], images.to_float(np.repeat(b, 3, axis=-1)))


def test_transform_errors_name_the_values():
  small = {"a": np.zeros((5, 7, 3), np.uint8), "b": np.zeros((5, 7, 3), np.uint8)}
  crop = data.paired_transform(preprocess="crop", crop_size=6)
  with pytest.raises(ValueError, match="6x6.*5x7"):
    crop(small)
  with pytest.raises(ValueError, match="6x6.*5x7"):
    crop(small, np.random.default_rng(0))
  with pytest.raises(ValueError, match="5x7.*6x7"):
    crop({"a": small["a"], "b": np.zeros((6, 7, 3), np.uint8)})
  with pytest.raises(ValueError, match="300.*286"):
    data.paired_transform(preprocess="resize_and_crop", crop_size=300)
  with pytest.raises(ValueError, match="'resize'"):
    data.paired_transform(preprocess="resize")
  with pytest.raises(ValueError, match="in_channels"):
    data.paired_transform(preprocess="none", in_channels=2)
  # Different sizes are fine where one resize or no crop makes them agree.
  mixed = {"a": np.zeros((8, 9, 3), np.uint8), "b": np.zeros((10, 12, 3), np.uint8)}
  out = data.paired_transform(preprocess="resize_and_crop", load_size=6, crop_size=4)(mixed)
  assert out["a"].shape == out["b"].shape == (4, 4, 3)
  out = data.paired_transform(preprocess="none")(mixed)
  assert out["a"].shape == (8, 8, 3) and out["b"].shape == (8, 12, 3)  # round(2.5) = 2


# ------------------------------------------------------------------ folder layouts


def _pairs(rng, names, h=6, w=5):
  return {name: (_noise(rng, h, w), _noise(rng, h, w)) for name in names}


def _write_ab(root, splits):
  for split, pairs in splits.items():
    for name, (a, b) in pairs.items():
      _write(root / split / name, np.concatenate([a, b], axis=1))


def _write_aligned(root, splits):
  for split, pairs in splits.items():
    for name, (a, b) in pairs.items():
      _write(root / "A" / split / name, a)
      _write(root / "B" / split / name, b)


def _all(source):
  return source.__getitems__(range(len(source)))


def test_both_layouts_give_the_same_examples_and_direction_swaps(tmp_path):
  rng = np.random.default_rng(0)
  splits = {"train": _pairs(rng, ["b.png", "a.png", "c.png"]), "val": _pairs(rng, ["z.png"])}
  _write_ab(tmp_path / "ab", splits)
  _write_aligned(tmp_path / "aligned", splits)
  (tmp_path / "ab" / "train" / "notes.txt").write_text("ignored")
  dd = tmp_path / "dd"
  for split, expected in (("train", splits["train"]), ("test", splits["val"])):
    sources = [data.paired_source(spec, split, dd) for spec in (str(tmp_path / "ab"), f"paired:{tmp_path / 'aligned'}")]
    assert sources[1].split == ("train" if split == "train" else "val")
    for source in sources:
      examples = _all(source)
      assert [ex["name"] for ex in examples] == sorted(expected)
      for ex in examples:
        a, b = expected[ex["name"]]
        np.testing.assert_array_equal(ex["a"], a)
        np.testing.assert_array_equal(ex["b"], b)
        assert ex["a"].dtype == np.uint8
      single = source[-1]
      np.testing.assert_array_equal(single["a"], examples[-1]["a"])
  forward = data.paired_source(str(tmp_path / "ab"), "train", dd)
  swapped = data.paired_source(str(tmp_path / "ab"), "train", dd, direction="BtoA")
  for ex, original in zip(_all(swapped), _all(forward)):
    assert ex["name"] == original["name"]
    np.testing.assert_array_equal(ex["a"], original["b"])
    np.testing.assert_array_equal(ex["b"], original["a"])
  assert "BtoA" in repr(swapped)
  with pytest.raises(ValueError, match="'AB'"):
    data.paired_source(str(tmp_path / "ab"), "train", dd, direction="AB")
  with pytest.raises(ValueError, match="'validation'"):
    data.paired_source(str(tmp_path / "ab"), "validation", dd)


def test_grey_rgba_palette_and_16_bit_files_are_stored_as_rgb(tmp_path):
  rng = np.random.default_rng(0)
  root = tmp_path / "modes"
  grey = _write(root / "A" / "train" / "x.png", _noise(rng, 4, 5, 1))
  rgba = _write(root / "B" / "train" / "x.png", _noise(rng, 4, 5, 4))
  sixteen = root / "A" / "train" / "y.png"
  Image.fromarray(rng.integers(0, 65536, (3, 6), dtype=np.uint16)).save(sixteen)
  palette = root / "B" / "train" / "y.png"
  Image.fromarray(_noise(rng, 7, 2)).convert("P").save(palette)
  examples = _all(data.paired_source(str(root), "train", tmp_path / "dd"))
  for ex, (a, b) in zip(examples, [(grey, rgba), (sixteen, palette)]):
    np.testing.assert_array_equal(ex["a"], images.load_image(a, channels=3))
    np.testing.assert_array_equal(ex["b"], images.load_image(b, channels=3))
    assert ex["a"].shape[-1] == ex["b"].shape[-1] == 3
  assert examples[1]["a"].shape == (3, 6, 3) and examples[1]["b"].shape == (7, 2, 3)
  assert images.load_image(sixteen, channels=1).max() > 200  # the high byte


def test_odd_width_fails_the_build_naming_the_file(tmp_path):
  rng = np.random.default_rng(0)
  _write_ab(tmp_path / "ab", {"train": _pairs(rng, ["a.png"])})
  odd = _write(tmp_path / "ab" / "train" / "odd.png", _noise(rng, 4, 7))
  with pytest.raises(ValueError, match=f"{odd}.*odd width 7"):
    data.paired_source(str(tmp_path / "ab"), "train", tmp_path / "dd")
  assert not list((tmp_path / "dd").glob("**/1.0.0"))


def test_unreadable_image_fails_the_build_naming_the_file(tmp_path):
  _write_ab(tmp_path / "ab", {"train": _pairs(np.random.default_rng(0), ["a.png"])})
  bad = tmp_path / "ab" / "train" / "bad.jpg"
  bad.write_text("not a jpeg")
  with pytest.raises(images.ImageReadError, match=str(bad)):
    data.paired_source(str(tmp_path / "ab"), "train", tmp_path / "dd")


def _scan_error(root, error=ValueError):
  with pytest.raises(error) as info:
    paired.scan_paired_folder(root)
  return str(info.value)


def test_layout_errors_name_the_folder_or_file(tmp_path):
  rng = np.random.default_rng(0)
  assert str(tmp_path / "missing") in _scan_error(tmp_path / "missing", FileNotFoundError)
  (tmp_path / "nosplits" / "photos").mkdir(parents=True)
  assert str(tmp_path / "nosplits") in _scan_error(tmp_path / "nosplits")
  (tmp_path / "empty" / "train").mkdir(parents=True)
  (tmp_path / "empty" / "train" / "x.txt").write_text("x")
  assert str(tmp_path / "empty" / "train") in _scan_error(tmp_path / "empty")

  splits = {"train": _pairs(rng, ["a.png", "b.png"])}
  _write_aligned(tmp_path / "unmatched", splits)
  extra = _write(tmp_path / "unmatched" / "B" / "train" / "c.png", _noise(rng, 2, 2))
  message = _scan_error(tmp_path / "unmatched")
  assert str(extra) in message and str(tmp_path / "unmatched" / "A" / "train" / "c.png") in (message)
  (tmp_path / "unmatched" / "B" / "train" / "a.png").unlink()
  assert str(tmp_path / "unmatched" / "A" / "train" / "a.png") in _scan_error(tmp_path / "unmatched")

  _write_aligned(tmp_path / "onesplit", splits)
  _write(tmp_path / "onesplit" / "A" / "test" / "a.png", _noise(rng, 2, 2))
  assert str(tmp_path / "onesplit" / "B" / "test") in _scan_error(tmp_path / "onesplit")

  _write(tmp_path / "noB" / "A" / "train" / "a.png", _noise(rng, 2, 2))
  assert str(tmp_path / "noB" / "B") in _scan_error(tmp_path / "noB")

  _write_aligned(tmp_path / "both", splits)
  _write_ab(tmp_path / "both", splits)
  assert str(tmp_path / "both") in _scan_error(tmp_path / "both")


@pytest.mark.parametrize(
  "spec, match",
  [
    ("", "''"),
    ("gray2color:", "'gray2color:'"),
    ("skimage:sketch", "'skimage:sketch'"),
    ("foo:bar", "'foo:bar'"),
  ],
)
def test_bad_specs_name_the_spec(tmp_path, spec, match):
  with pytest.raises(ValueError, match=match):
    data.paired_source(spec, "train", tmp_path / "dd")


def test_parse_paired_spec():
  assert paired.parse_paired_spec("skimage") == ("skimage", "gray2color")
  assert paired.parse_paired_spec("skimage:edges2photo") == ("skimage", "edges2photo")
  assert paired.parse_paired_spec("/data/facades") == ("paired", "/data/facades")
  assert paired.parse_paired_spec("paired:/a:b") == ("paired", "/a:b")
  assert paired.parse_paired_spec("/a:b") == ("paired", "/a:b")
  assert paired.parse_paired_spec("edges2photo:x") == ("edges2photo", "x")


# ------------------------------------------------------------------ pairs from photos


def _photo_folder(root, n, rng):
  for i in range(n):
    photo = np.zeros((12, 14, 3), np.uint8) + rng.integers(0, 60, 3, dtype=np.uint8)
    photo[3:9, 4:10] = rng.integers(150, 256, 3, dtype=np.uint8)  # a bright square
    _write(root / f"p{i:02d}.png", photo)


def test_pairs_from_a_photo_folder(tmp_path):
  root = tmp_path / "photos"
  _photo_folder(root, 7, np.random.default_rng(0))
  dd = tmp_path / "dd"
  train = data.paired_source(f"gray2color:{root}", "train", dd)
  test = data.paired_source(f"gray2color:{root}", "test", dd)
  assert [ex["name"] for ex in _all(test)] == ["p04.png"]
  assert [ex["name"] for ex in _all(train)] == [f"p{i:02d}.png" for i in (0, 1, 2, 3, 5, 6)]
  for ex in _all(train) + _all(test):
    np.testing.assert_array_equal(ex["b"], images.load_image(root / ex["name"], channels=3))
    np.testing.assert_array_equal(ex["a"], paired.gray_input(ex["b"]))
    assert (ex["a"] == ex["a"][..., :1]).all()
  edges = _all(data.paired_source(f"edges2photo:{root}", "train", dd))
  for ex in edges:
    np.testing.assert_array_equal(ex["a"], paired.edge_input(ex["b"]))
    assert set(np.unique(ex["a"])) == {0, 255}  # black edges on white
    assert ex["a"][0, 0, 0] == 255 and (ex["a"] == 0).mean() < 0.5
  assert paired.paired_builder(f"gray2color:{root}", dd).builder_config.name != (
    paired.paired_builder(f"edges2photo:{root}", dd).builder_config.name
  )


def test_photo_folder_with_too_few_images_names_it(tmp_path):
  _photo_folder(tmp_path / "few", 3, np.random.default_rng(0))
  with pytest.raises(ValueError, match=str(tmp_path / "few")):
    data.paired_source(f"gray2color:{tmp_path / 'few'}", "train", tmp_path / "dd")


def test_skimage_default_and_the_loader(tmp_path):
  train = data.paired_source("skimage", "train", tmp_path)
  test = data.paired_source("skimage:gray2color", "test", tmp_path)
  train_names = [ex["name"] for ex in _all(train)]
  test_names = [ex["name"] for ex in _all(test)]
  assert train_names == list(paired.SKIMAGE_TRAIN)
  assert test_names == list(paired.SKIMAGE_TEST)
  assert not set(train_names) & set(test_names)
  for ex in _all(test):
    assert ex["a"].shape == ex["b"].shape and ex["b"].shape[-1] == 3
    np.testing.assert_array_equal(ex["a"], paired.gray_input(ex["b"]))
    assert ex["b"].std(axis=-1).mean() > 5  # a colour photo
  loader = data.BatchLoader(
    train,
    global_batch_size=2,
    seed=0,
    transform=data.paired_transform(preprocess="resize_and_crop", load_size=40, crop_size=32, in_channels=1),
  )
  batch = loader.batch(0)
  assert batch["a"].shape == (2, 32, 32, 1) and batch["b"].shape == (2, 32, 32, 3)
  assert batch["a"].dtype == np.float32


def test_gray2color_on_bsd68(tmp_path):
  bsd68 = real_data("bsd68")
  train = data.paired_source(f"gray2color:{bsd68}", "train", tmp_path)
  test = data.paired_source(f"gray2color:{bsd68}", "test", tmp_path)
  assert len(train) + len(test) == 68 and len(test) == 68 // paired.TEST_EVERY
  assert not {ex["name"] for ex in _all(train)} & {ex["name"] for ex in _all(test)}
  for ex in _all(test):
    assert ex["a"].shape == ex["b"].shape and ex["a"].shape[-1] == 3
    assert sorted(ex["a"].shape[:2]) == [321, 481]
    assert (ex["a"] == ex["a"][..., :1]).all()
  out = data.paired_transform(preprocess="resize_and_crop")(test[0], np.random.default_rng(0))
  assert out["a"].shape == out["b"].shape == (256, 256, 3)

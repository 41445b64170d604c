"""Tests of jaxgan.data.images: conversions, modes, errors, resizing."""

import io

import hypothesis
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import strategies as st
from PIL import Image

from jaxgan.data import images

uint8_images = hnp.arrays(np.uint8, st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([1, 3])))


# ------------------------------------------------------------------ to_float / to_uint8


@hypothesis.given(hnp.arrays(np.uint8, hnp.array_shapes(max_dims=4, max_side=6)))
def test_to_uint8_inverts_to_float(x):
  y = images.to_float(x)
  assert y.dtype == np.float32
  assert np.all(y >= -1) and np.all(y <= 1)
  np.testing.assert_array_equal(images.to_uint8(y), x)


def test_to_float_on_every_uint8_value():
  x = np.arange(256, dtype=np.uint8)
  y = images.to_float(x)
  assert y[0] == -1 and y[255] == 1
  np.testing.assert_allclose(y, x / 127.5 - 1, atol=1e-6)
  np.testing.assert_array_equal(images.to_uint8(y), x)


@hypothesis.given(hnp.arrays(np.float32, 5, elements=st.floats(-10, 10, width=32)))
def test_to_uint8_clips_and_rounds(x):
  y = images.to_uint8(x)
  assert y.dtype == np.uint8
  expected = np.clip(np.rint((x.astype(np.float64) + 1) * 127.5), 0, 255)
  assert np.max(np.abs(y - expected)) <= 1  # float32 vs float64 at .5 ties


# ------------------------------------------------------------------ load_image modes


def _save(tmp_path, img, name="x.png", **kwargs):
  path = tmp_path / name
  img.save(path, **kwargs)
  return path


@hypothesis.settings(deadline=None, max_examples=25)
@hypothesis.given(uint8_images)
def test_png_round_trip(tmp_path_factory, image):
  path = tmp_path_factory.mktemp("png") / "a.png"
  channels = image.shape[-1]
  pixels = image[..., 0] if channels == 1 else image
  Image.fromarray(pixels).save(path)
  np.testing.assert_array_equal(images.load_image(path, channels=channels), image)


def test_rgb_and_grey_channel_conversions(tmp_path):
  rgb = np.array([[[255, 0, 0], [0, 255, 0], [10, 20, 30]]], np.uint8)
  path = _save(tmp_path, Image.fromarray(rgb))
  np.testing.assert_array_equal(images.load_image(path, channels=3), rgb)
  luma = np.asarray(Image.fromarray(rgb).convert("L"))[..., None]
  np.testing.assert_array_equal(images.load_image(path, channels=1), luma)
  # ITU-R 601: L = 0.299 R + 0.587 G + 0.114 B
  np.testing.assert_allclose(luma[..., 0], np.rint(rgb @ np.array([0.299, 0.587, 0.114])), atol=1)

  grey = np.array([[0, 7, 255]], np.uint8)
  path = _save(tmp_path, Image.fromarray(grey), "g.png")
  np.testing.assert_array_equal(images.load_image(path, channels=1), grey[..., None])
  np.testing.assert_array_equal(images.load_image(path, channels=3), np.repeat(grey[..., None], 3, -1))


def test_alpha_is_dropped_not_composited(tmp_path):
  rgba = np.array([[[10, 20, 30, 0], [200, 100, 50, 128]]], np.uint8)
  path = _save(tmp_path, Image.fromarray(rgba, "RGBA"))
  np.testing.assert_array_equal(images.load_image(path, channels=3), rgba[..., :3])
  la = Image.fromarray(np.array([[[40, 0], [90, 255]]], np.uint8), "LA")
  path = _save(tmp_path, la, "la.png")
  assert Image.open(path).mode == "LA"
  np.testing.assert_array_equal(images.load_image(path, channels=1), [[[40], [90]]])


@pytest.mark.parametrize("transparency", [None, 0])
def test_palette_colours_are_kept(tmp_path, transparency):
  img = Image.new("P", (3, 1))
  img.putpalette([255, 0, 0, 0, 128, 0, 1, 2, 3] + [0] * (256 * 3 - 9))
  img.putdata([0, 1, 2])
  kwargs = {} if transparency is None else {"transparency": transparency}
  path = _save(tmp_path, img, **kwargs)
  assert Image.open(path).mode == "P"
  np.testing.assert_array_equal(images.load_image(path, channels=3), [[[255, 0, 0], [0, 128, 0], [1, 2, 3]]])


def test_one_bit(tmp_path):
  img = Image.fromarray(np.array([[True, False, True]]))
  path = _save(tmp_path, img)
  assert Image.open(path).mode == "1"
  np.testing.assert_array_equal(images.load_image(path, channels=1), [[[255], [0], [255]]])


def test_sixteen_bit_keeps_high_byte(tmp_path):
  values = np.array([[0, 255, 256, 40000, 65535]], np.uint16)
  path = _save(tmp_path, Image.fromarray(values))
  assert Image.open(path).mode.startswith("I;16")
  np.testing.assert_array_equal(images.load_image(path, channels=1)[..., 0], [[0, 0, 1, 156, 255]])


def test_int32_mode_is_read_as_sixteen_bit(tmp_path):
  values = np.array([[0, 256, 65535, 70000, -5]], np.int32)
  path = _save(tmp_path, Image.fromarray(values), "i.tif")
  assert Image.open(path).mode == "I"
  np.testing.assert_array_equal(images.load_image(path, channels=1)[..., 0], [[0, 1, 255, 255, 0]])


def test_float_mode_is_read_as_unit_interval(tmp_path):
  values = np.array([[0.0, 0.5, 1.0, 2.0, -1.0]], np.float32)
  path = _save(tmp_path, Image.fromarray(values), "f.tif")
  assert Image.open(path).mode == "F"
  np.testing.assert_array_equal(images.load_image(path, channels=1)[..., 0], [[0, 128, 255, 255, 0]])


def test_cmyk_jpeg(tmp_path):
  img = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # red
  path = _save(tmp_path, img, "c.jpg", quality=100)
  assert Image.open(path).mode == "CMYK"
  out = images.load_image(path, channels=3)
  assert out.shape == (8, 8, 3) and out.dtype == np.uint8
  np.testing.assert_allclose(out.reshape(-1, 3).mean(0), [255, 0, 0], atol=3)


# ------------------------------------------------------------------ errors


def _png_bytes(shape=(16, 16, 3)):
  buffer = io.BytesIO()
  rng = np.random.default_rng(0)
  Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(buffer, "PNG")
  return buffer.getvalue()


@pytest.mark.parametrize("content", ["truncated", "text", "empty", "missing"])
def test_unreadable_files_name_the_path(tmp_path, content):
  path = tmp_path / f"bad_{content}.png"
  if content == "truncated":
    data = _png_bytes()
    path.write_bytes(data[: len(data) // 2])
  elif content == "text":
    path.write_text("this is not an image")
  elif content == "empty":
    path.write_bytes(b"")
  with pytest.raises(images.ImageReadError, match="bad_" + content) as info:
    images.load_image(path, channels=3)
  assert str(path) in str(info.value)
  assert isinstance(info.value, ValueError)
  assert info.value.path == str(path)


def test_bad_channels():
  with pytest.raises(ValueError, match="channels"):
    images.load_image("whatever.png", channels=2)


# ------------------------------------------------------------------ resize, channels, PNG


@hypothesis.given(uint8_images, st.integers(1, 12), st.integers(1, 12))
def test_resize_shape_and_dtype(image, h, w):
  out = images.resize(image, (h, w))
  assert out.shape == (h, w, image.shape[-1]) and out.dtype == np.uint8


@hypothesis.given(st.integers(0, 255), st.integers(1, 3), st.integers(1, 12))
def test_resize_keeps_constant_images(value, channels, size):
  image = np.full((5, 7, channels), value, np.uint8)
  np.testing.assert_array_equal(images.resize(image, (size, size)), np.full((size, size, channels), value))


def test_resize_matches_pil_bicubic():
  rng = np.random.default_rng(1)
  image = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
  expected = np.asarray(Image.fromarray(image).resize((7, 5), Image.BICUBIC))
  np.testing.assert_array_equal(images.resize(image, (5, 7)), expected)


def test_convert_channels():
  grey = np.arange(6, dtype=np.uint8).reshape(2, 3, 1)
  np.testing.assert_array_equal(images.convert_channels(grey, 3), np.repeat(grey, 3, -1))
  rgba = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
  np.testing.assert_array_equal(images.convert_channels(rgba, 3), rgba[..., :3])
  assert images.convert_channels(rgba, 1).shape == (2, 3, 1)
  with pytest.raises(ValueError):
    images.convert_channels(grey.astype(np.float32), 3)


@hypothesis.given(uint8_images)
def test_encode_png_decodes_with_pil(image):
  decoded = np.asarray(Image.open(io.BytesIO(images.encode_png(image))))
  np.testing.assert_array_equal(decoded.reshape(image.shape), image)

"""SR data: MATLAB's bicubic imresize (jaxgan.imresize) and HR crops (jaxgan.data.hr_crops)."""

import numpy as np
import pytest
from PIL import Image

from jaxgan import data
from jaxgan import imresize as mr
from jaxgan.data import hr_crops, images
from tests.real_data import real_data

# ------------------------------------------------------------------ imresize


def test_weights_of_a_halving_are_matlabs_formula_worked_by_hand():
  # 4 -> 2 pixels: u = 1.5 and 3.5, kernel 0.5 cubic(0.5 d) over 8 pixels, so taps at
  # d = +-0.5, +-1.5, +-2.5, +-3.5 weigh 0.43359375, 0.11328125, -0.03515625, -0.01171875.
  # Symmetric boundary: positions 0, -1, -2 are pixels 1, 2, 3 and position 5 is pixel 4.
  row = [0.43359375 + 0.11328125, 0.43359375 - 0.03515625, 0.11328125 - 0.01171875, -0.03515625 - 0.01171875]
  np.testing.assert_allclose(mr.resize_matrix(4, 2), [row, row[::-1]], atol=1e-15)
  # Replicated edge (older MATLAB): every position left of 1 is pixel 1, right of 4 is pixel 4.
  row = [0.5, 0.43359375, 0.11328125, -0.046875]
  np.testing.assert_allclose(mr.resize_matrix(4, 2, boundary="replicate"), [row, row[::-1]], atol=1e-15)


def test_cubic_kernel():
  x = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, -0.5])
  np.testing.assert_allclose(mr.cubic(x), [1, 0.5625, 0, -0.0625, 0, 0, 0.5625])


@pytest.mark.parametrize("factor", [2, 3, 4, 8])
def test_constant_images_stay_constant(factor):
  for value, dtype in ((137, np.uint8), (0.3, np.float64)):
    image = np.full((8 * factor, 5 * factor, 3), value, dtype)
    out = mr.bicubic_downscale(image, factor)
    assert out.shape == (8, 5, 3) and out.dtype == dtype
    np.testing.assert_allclose(out, value, rtol=1e-12)
  np.testing.assert_allclose(mr.matlab_imresize(np.full((7, 9), 0.25), 2.5), 0.25, rtol=1e-12)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_linear_ramps_stay_linear_in_the_interior(factor):
  # Output pixel i (1-based) is centred on input position u = factor (i - 1/2) + 1/2; the
  # window is symmetric about it, so a ramp a + b x comes out as a + b u (away from the edges).
  n = 12 * factor
  rows, cols = np.mgrid[1 : n + 1, 1 : n + 1].astype(np.float64)
  out = mr.bicubic_downscale(3.0 + 0.5 * rows - 0.25 * cols, factor)
  u = factor * (np.arange(1, 13) - 0.5) + 0.5
  expected = 3.0 + 0.5 * u[:, None] - 0.25 * u[None, :]
  np.testing.assert_allclose(out[2:-2, 2:-2], expected[2:-2, 2:-2], atol=1e-10)
  assert np.abs(out - expected).max() > 1e-3  # the mirrored edges bend the ramp


def _pil(image, size_hw):
  return np.asarray(Image.fromarray(image, mode="F").resize(size_hw[::-1], Image.Resampling.BICUBIC))


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_interior_matches_pillow_bicubic(factor):
  # Pillow: the same kernel and antialiasing, but renormalised (not mirrored) at the borders.
  photo = images.load_image(real_data("set5", "baby.png"), channels=3)[: 48 * factor, : 40 * factor]
  grey = photo[..., 1].astype(np.float32)
  ours = mr.bicubic_downscale(grey, factor)
  theirs = _pil(grey, ours.shape)
  np.testing.assert_allclose(ours[2:-2, 2:-2], theirs[2:-2, 2:-2], atol=1e-3)
  assert np.abs(ours - theirs).max() > 0.1  # not the same resizer at the borders
  # uint8 images: within one grey level in the interior (Pillow rounds between its passes).
  ours8 = mr.bicubic_downscale(photo, factor)
  theirs8 = images.resize(photo, ours8.shape[:2])
  assert np.abs(ours8.astype(int) - theirs8)[2:-2, 2:-2].max() <= 1


def test_upscaling_and_identity():
  rng = np.random.default_rng(0)
  image = rng.uniform(0, 255, (10, 12)).astype(np.float32)
  np.testing.assert_allclose(mr.matlab_imresize(image, 1.0), image, rtol=1e-12)
  up = mr.matlab_imresize(image, 4)
  assert up.shape == (40, 48)
  np.testing.assert_allclose(up[8:-8, 8:-8], _pil(image, (40, 48))[8:-8, 8:-8], atol=1e-3)
  assert mr.matlab_imresize(np.zeros((10, 7), np.uint8), 1 / 3).shape == (4, 3)  # ceil(10 / 3), ceil(7 / 3)
  assert mr.matlab_imresize(np.zeros((9, 6, 2)), size=(4, 5)).shape == (4, 5, 2)


def test_imresize_errors_name_the_values():
  with pytest.raises(ValueError, match="exactly one of scale and size"):
    mr.matlab_imresize(np.zeros((4, 4)))
  with pytest.raises(ValueError, match="scale must be positive, got -2"):
    mr.matlab_imresize(np.zeros((4, 4)), -2)
  with pytest.raises(ValueError, match="int64"):
    mr.matlab_imresize(np.zeros((4, 4), np.int64), 0.5)
  with pytest.raises(ValueError, match=r"\(4,\)"):
    mr.matlab_imresize(np.zeros(4), 0.5)
  with pytest.raises(ValueError, match="10x12 is not a multiple of the downscaling factor 4"):
    mr.bicubic_downscale(np.zeros((10, 12)), 4)
  with pytest.raises(ValueError, match="boundary.*'wrap'"):
    mr.matlab_imresize(np.zeros((4, 4)), 0.5, boundary="wrap")


# ------------------------------------------------------------------ HR crops


def _coordinates(h, w):
  """uint8 image whose pixel (y, x) holds (y, x, 7): every crop says where it came from."""
  rows, cols = np.mgrid[:h, :w]
  return np.stack([rows, cols, np.full_like(rows, 7)], axis=-1).astype(np.uint8)


def _where(hr):
  """The (y, x) pixel coordinates of a transformed HR crop (float [-1, 1] -> uint8)."""
  pixels = images.to_uint8(hr)
  assert (pixels[..., 2] == 7).all()
  return pixels[..., 0].astype(int), pixels[..., 1].astype(int)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_crops_lie_inside_the_image_and_lr_is_the_bicubic_of_hr(scale):
  image = _coordinates(50, 61)
  crop = 8 * scale
  transform = data.sr_crop_transform(scale=scale, crop_size=crop)
  corners = set()
  for seed in range(30):
    out = transform({"image": image, "name": "c.png"}, np.random.default_rng(seed))
    assert out["hr"].shape == (crop, crop, 3) and out["lr"].shape == (8, 8, 3)
    assert out["hr"].dtype == out["lr"].dtype == np.float32
    assert 0 <= out["lr"].min() and out["lr"].max() <= 1 and -1 <= out["hr"].min()
    ys, xs = _where(out["hr"])
    top, left = ys[0, 0], xs[0, 0]
    assert 0 <= top <= 50 - crop and 0 <= left <= 61 - crop
    np.testing.assert_array_equal(images.to_uint8(out["hr"]), image[top : top + crop, left : left + crop])
    expected_lr = mr.bicubic_downscale(image[top : top + crop, left : left + crop], scale) / 255.0
    np.testing.assert_allclose(out["lr"], expected_lr, atol=1e-6)
    corners.add((top, left))
  assert len(corners) > 20  # the offsets really vary


def test_crops_are_deterministic_per_rng_and_centred_without_one():
  image = np.random.default_rng(0).integers(0, 256, (40, 44, 3), dtype=np.uint8)
  transform = data.sr_crop_transform(scale=4, crop_size=16, flip=True, rot90=True)
  example = {"image": image}
  for seed in range(5):
    a = transform(example, np.random.default_rng(seed))
    b = transform(example, np.random.default_rng(seed))
    for key in ("lr", "hr"):
      np.testing.assert_array_equal(a[key], b[key])
  centred = transform(example)
  np.testing.assert_array_equal(images.to_uint8(centred["hr"]), image[12:28, 14:30])
  np.testing.assert_array_equal(transform(example, None)["lr"], centred["lr"])


def test_flips_and_rotations_give_the_eight_symmetries_and_commute_with_the_downscaling():
  image = np.random.default_rng(1).integers(0, 256, (12, 12, 3), dtype=np.uint8)  # crop = image
  lr = mr.bicubic_downscale(image.astype(np.float64) / 255, 3)
  transform = data.sr_crop_transform(scale=3, crop_size=12, flip=True, rot90=True, quantize=False)
  symmetries = {np.rot90(f, k).tobytes(): (f is not image, k) for f in (image, image[:, ::-1]) for k in range(4)}
  seen = set()
  for seed in range(64):
    out = transform({"image": image}, np.random.default_rng(seed))
    hr = images.to_uint8(out["hr"])
    flipped, k = symmetries[hr.tobytes()]  # a KeyError would be a transform that is no symmetry
    seen.add((flipped, k))
    expected = np.rot90(lr[:, ::-1] if flipped else lr, k)
    np.testing.assert_allclose(out["lr"], np.clip(expected, 0, 1), atol=1e-6)
  assert len(seen) == 8
  plain = data.sr_crop_transform(scale=3, crop_size=12)  # off by default
  for seed in range(8):
    np.testing.assert_array_equal(images.to_uint8(plain({"image": image}, np.random.default_rng(seed))["hr"]), image)


def test_transform_errors_name_the_values():
  with pytest.raises(ValueError, match="multiple of scale 4, got 30"):
    data.sr_crop_transform(scale=4, crop_size=30)
  with pytest.raises(ValueError, match="scale must be a positive integer, got 0"):
    data.sr_crop_transform(scale=0)
  transform = data.sr_crop_transform(scale=4, crop_size=96)
  with pytest.raises(ValueError, match=r"\(tiny.png\) of size 50x120 is smaller than the HR crop 96x96"):
    transform({"image": np.zeros((50, 120, 3), np.uint8), "name": "tiny.png"}, np.random.default_rng(0))
  with pytest.raises(ValueError, match="2x9 is smaller than the scale 3"):
    hr_crops.modcrop(np.zeros((2, 9, 3)), 3)


def test_modcrop_keeps_the_top_left_part():
  image = np.arange(7 * 10).reshape(7, 10)
  np.testing.assert_array_equal(hr_crops.modcrop(image, 3), image[:6, :9])
  assert hr_crops.modcrop(image, 1).shape == (7, 10)


# ------------------------------------------------------------------ folders


def _write(path, pixels):
  path.parent.mkdir(parents=True, exist_ok=True)
  Image.fromarray(pixels).save(path)
  return path


def test_folder_source_converts_every_mode_to_rgb_and_is_cached(tmp_path):
  rng = np.random.default_rng(0)
  root = tmp_path / "hr"
  _write(root / "b_grey.png", rng.integers(0, 256, (20, 24), dtype=np.uint8))
  _write(root / "a_rgba.png", rng.integers(0, 256, (18, 16, 4), dtype=np.uint8))
  _write(root / "c_rgb.png", rng.integers(0, 256, (16, 30, 3), dtype=np.uint8))
  (root / "notes.txt").write_text("ignored")
  (root / "sub").mkdir()
  dd = tmp_path / "dd"
  source = data.hr_source(root, dd)
  assert len(source) == 3 and repr(source).startswith("HRSource(")
  examples = source.__getitems__(range(3))
  assert [ex["name"] for ex in examples] == ["a_rgba.png", "b_grey.png", "c_rgb.png"]
  for ex in examples:
    assert ex["image"].dtype == np.uint8 and ex["image"].shape[-1] == 3
    np.testing.assert_array_equal(ex["image"], images.load_image(root / ex["name"], channels=3))
  np.testing.assert_array_equal(source[-1]["image"], examples[-1]["image"])
  assert len(data.hr_source(root, dd, split="train[:2]")) == 2
  assert len(list(dd.glob("*/*/1.0.0"))) == 1  # built once
  _write(root / "d_new.png", rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
  assert len(data.hr_source(root, dd)) == 4  # a changed folder is rebuilt


def test_folder_errors_name_the_folder_or_value(tmp_path):
  with pytest.raises(FileNotFoundError, match=str(tmp_path / "missing")):
    data.hr_source(tmp_path / "missing", tmp_path / "dd")
  (tmp_path / "empty").mkdir()
  with pytest.raises(ValueError, match=f"{tmp_path / 'empty'} has no image files"):
    data.hr_source(tmp_path / "empty", tmp_path / "dd")
  _write(tmp_path / "one" / "x.png", np.zeros((4, 4, 3), np.uint8))
  with pytest.raises(ValueError, match="one split, 'train'.*'test'"):
    data.hr_source(tmp_path / "one", tmp_path / "dd", split="test")
  (tmp_path / "bad").mkdir()
  (tmp_path / "bad" / "bad.png").write_text("not a png")
  with pytest.raises(images.ImageReadError, match="bad.png"):
    data.hr_source(tmp_path / "bad", tmp_path / "dd")


def test_set14_grey_bridge_comes_out_rgb_and_evaluation_is_modcropped(tmp_path):
  root = real_data("set14")
  source = data.hr_source(root, tmp_path)
  names = [ex["name"] for ex in source.__getitems__(range(len(source)))]
  assert len(source) == 14 and names == sorted(names) and "bridge.png" in names
  bridge = source[names.index("bridge.png")]["image"]
  assert bridge.shape == (512, 512, 3)
  assert (bridge == bridge[..., :1]).all() and bridge.std() > 10  # the grey file, replicated
  sizes = {}
  for batch in data.sr_eval_batches(source, scale=4):
    hr, lr = batch["hr"], batch["lr"]
    assert hr.shape[0] == lr.shape[0] == 1 and hr.shape[-1] == lr.shape[-1] == 3
    assert hr.shape[1:3] == (4 * lr.shape[1], 4 * lr.shape[2])
    assert 0 <= lr.min() and lr.max() <= 1 and -1 <= hr.min() and hr.max() <= 1
    sizes[batch["name"]] = hr.shape[1:3]
  assert sizes["comic.png"] == (360, 248)  # 361x250 cut to multiples of 4
  assert sizes["bridge.png"] == (512, 512)
  comic = source[names.index("comic.png")]
  out = data.sr_eval_transform(scale=4)(comic)
  np.testing.assert_array_equal(images.to_uint8(out["hr"]), comic["image"][:360, :248])
  np.testing.assert_allclose(out["lr"], mr.bicubic_downscale(comic["image"][:360, :248], 4) / 255.0, atol=1e-6)


def test_training_batches_from_set5(tmp_path):
  source = data.hr_source(real_data("set5"), tmp_path)
  loader = data.BatchLoader(
    source, global_batch_size=2, seed=0, transform=data.sr_crop_transform(scale=4, crop_size=96)
  )
  batch = loader.batch(0)
  assert batch["hr"].shape == (2, 96, 96, 3) and batch["lr"].shape == (2, 24, 24, 3)
  again = loader.batch(0)
  np.testing.assert_array_equal(batch["lr"], again["lr"])
  assert not np.array_equal(loader.batch(1)["hr"], batch["hr"])

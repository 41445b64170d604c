"""Registry names in flags (``--dataset=bsd68``, ``--style_image=candy``, ``--image=balloons``, ...).

Availability is controlled here: ``$JAXGAN_HOME`` is an empty folder and ``$JAXGAN_MIRROR`` either
unset (only the shipped entries exist) or a fake mirror in tmp_path with a few BSD68-like photos,
tiny Fashion-MNIST IDX files and an (empty) VGG16 file at the registry's mirror paths. Nothing is
trained or compiled: the flags are checked by the functions each mode runs first.
"""

import dataclasses
import importlib
import os
import subprocess
import sys

import numpy as np
import pytest
from absl import flags
from PIL import Image

from jaxgan import data, download
from jaxgan import flags as flags_lib
from jaxgan.data import idx, paired
from jaxgan.interop import vgg as vgg_lib
from jaxgan.methods import gatys, pix2pix, singan, singan_apps, sr
from jaxgan.methods import style_transfer as st

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS_DIR = os.path.join(ROOT, "experiments", "flags")
NOT_THERE = "{0} is not downloaded: run `python -m jaxgan.download {0}`"


@pytest.fixture
def no_data(tmp_path, monkeypatch):
  """Only the shipped entries are available."""
  monkeypatch.setenv("JAXGAN_HOME", str(tmp_path / "home"))
  monkeypatch.delenv("JAXGAN_MIRROR", raising=False)
  monkeypatch.delenv("JAXGAN_VGG16", raising=False)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
  """A mirror with bsd68 (6 photos), fashion_mnist (tiny IDX files) and vgg16_keras (an empty file:
  names are only resolved here, never read)."""
  root = tmp_path / "mirror"
  bsd68 = root / "sr" / "BSD68"
  bsd68.mkdir(parents=True)
  rng = np.random.default_rng(0)
  for i in range(6):
    Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(bsd68 / f"{i}.png")
  fashion = root / "fashion-mnist"
  fashion.mkdir()
  for prefix, n in (("train", 7), ("t10k", 3)):
    idx.write_idx(fashion / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 5, 4), dtype=np.uint8))
    idx.write_idx(fashion / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n).astype(np.uint8))
  vgg = root / "vgg16" / "vgg16_conv_keras_imagenet.npz"
  vgg.parent.mkdir()
  vgg.write_bytes(b"")
  monkeypatch.setenv("JAXGAN_HOME", str(tmp_path / "home"))
  monkeypatch.setenv("JAXGAN_MIRROR", str(root))
  monkeypatch.delenv("JAXGAN_VGG16", raising=False)
  return root


def _shipped(name, file):
  return str(download.resolve(name) / file)


def _parse(path):
  """The Config of the method a flagfile is for, from the flagfile alone."""
  prefix = os.path.basename(path).split("_")[0]
  module = {"perceptual": "sr", "srgan": "sr", "srresnet": "sr", "style": "style_transfer"}.get(prefix, prefix)
  method = importlib.import_module(f"jaxgan.methods.{module}")
  fv = flags.FlagValues()
  flags_lib.define_flags(method.Config, fv)
  fv(["prog", f"--flagfile={path}"])
  return method, flags_lib.config_from_flags(method.Config, fv)


# -- super-resolution --------------------------------------------------------------------------------


def test_sr_names_resolve_to_the_registry_paths(mirror):
  config = sr.Config(dataset="bsd68", eval_dir="set5", loss="vgg", vgg_weights="vgg16")
  sr.check_train_flags(config)
  assert (
    sr.folder_flag(config.dataset, "--dataset")
    == str(mirror / "sr" / "BSD68")
    == download.resolve_flag("bsd68", flag="--dataset", kind="dir")
  )
  assert sr.folder_flag(config.eval_dir, "--eval_dir") == str(download.resolve("set5"))
  # vgg16 (torchvision) is not there: its alternative vgg16_keras, at the mirror's path, is.
  assert sr.vgg_weights(config) == str(mirror / "vgg16" / "vgg16_conv_keras_imagenet.npz")
  assert sr.folder_flag("", "--eval_dir") == ""


def test_sr_paths_stay_as_they_are(tmp_path, monkeypatch, no_data):
  folder, weights = tmp_path / "hr", tmp_path / "w.npz"
  folder.mkdir()
  weights.write_bytes(b"")
  assert sr.folder_flag(str(folder), "--dataset") == str(folder)
  assert sr.vgg_weights(sr.Config(loss="vgg", vgg_weights=str(weights))) == str(weights)
  with pytest.raises(vgg_lib.VGGWeightsNotFoundError, match="--vgg_weights=.*nope.npz: no such file"):
    sr.vgg_weights(sr.Config(loss="vgg", vgg_weights=str(tmp_path / "nope.npz")))
  monkeypatch.setenv("JAXGAN_VGG16", str(weights))  # empty --vgg_weights: $JAXGAN_VGG16 as before
  assert sr.vgg_weights(sr.Config(loss="vgg")) == str(weights)


@pytest.mark.parametrize(
  "kw, name",
  [
    (dict(dataset="bsd68"), "bsd68"),
    (dict(dataset="set5", eval_dir="set14"), "set14"),
    (dict(dataset="set5", loss="vgg", vgg_weights="vgg16"), "vgg16"),
  ],
)
def test_sr_train_reports_a_missing_name_before_the_workdir(tmp_path, no_data, kw, name):
  config = sr.Config(workdir=str(tmp_path / "w"), **kw)
  with pytest.raises(download.NotAvailableError, match=NOT_THERE.format(name)):
    sr.train(config)
  assert not (tmp_path / "w").exists()


def test_sr_test_mode_resolves_names(tmp_path, no_data):
  with pytest.raises(download.NotAvailableError, match="--test_input=set14: " + NOT_THERE.format("set14")):
    sr.test(sr.Config(workdir=str(tmp_path / "w"), test_input="set14"))
  with pytest.raises(FileNotFoundError, match="no checkpoint"):  # set5 (shipped) is found; nothing trained
    sr.test(sr.Config(workdir=str(tmp_path / "w"), eval_dir="set5"))
  assert not (tmp_path / "w").exists()


# -- style transfer and Gatys --------------------------------------------------------------------------


def test_style_names_resolve(mirror, tmp_path):
  config = st.Config(workdir=str(tmp_path / "w"), content_dir="bsd68", style_image="candy", vgg_weights="vgg16")
  st.check_train_flags(config)
  assert st.content_folder(config) == str(mirror / "sr" / "BSD68")
  assert st.image_flag("candy", flag="style_image", what="", search=st.STYLE_SEARCH) == _shipped(
    "style_images", "candy.jpg"
  )
  assert st.image_flag("rain-princess", flag="style_image", what="", search=st.STYLE_SEARCH) == _shipped(
    "style_images", "rain-princess.jpg"
  )
  assert st.vgg_weights(config) == str(mirror / "vgg16" / "vgg16_conv_keras_imagenet.npz")
  plan, _ = st._stylize_plan(config.replace(input="amber"))  # pylint: disable=protected-access
  assert plan == [(_shipped("style_content", "amber.jpg"), str(tmp_path / "w" / "stylized" / "amber.png"))]
  plan, _ = st._stylize_plan(config.replace(input="bsd68"))  # pylint: disable=protected-access
  assert [p for p, _ in plan] == [str(mirror / "sr" / "BSD68" / f"{i}.png") for i in range(6)]
  style = st.load_style_image(config.replace(style_size=64))
  assert max(style.shape[:2]) == 64 and style.shape[2] == 3


def test_style_paths_stay_as_they_are(tmp_path, no_data):
  image = tmp_path / "s.png"
  Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(image)
  assert st.image_flag(str(image), flag="style_image", what="", search=st.STYLE_SEARCH) == str(image)
  assert st.content_folder(st.Config(content_dir=str(tmp_path))) == str(tmp_path)


@pytest.mark.parametrize(
  "kw, name",
  [
    (dict(content_dir="bsd68"), "bsd68"),
    (dict(content_dir=os.path.join(ROOT, "jaxgan", "assets", "sr", "Set5"), vgg_weights="vgg16"), "vgg16"),
  ],
)
def test_style_train_reports_a_missing_name_before_the_workdir(tmp_path, no_data, kw, name):
  config = st.Config(workdir=str(tmp_path / "w"), **{"style_image": "candy", "vgg_weights": "vgg16", **kw})
  with pytest.raises(download.NotAvailableError, match=NOT_THERE.format(name)):
    st.train(config)
  assert not (tmp_path / "w").exists()


def test_gatys_content_and_style_names(tmp_path, no_data):
  config = gatys.Config(
    workdir=str(tmp_path / "g"), content_image="amber", style_image="candy", vgg_weights="vgg16", image_size=32
  )
  assert max(gatys.load_content_image(config).shape[:2]) == 32
  with pytest.raises(download.NotAvailableError, match="--vgg_weights=vgg16: " + NOT_THERE.format("vgg16")):
    gatys.run(config)
  assert not (tmp_path / "g").exists()
  with pytest.raises(FileNotFoundError, match="--content_image=nope: no such file.*style_content"):
    gatys.load_content_image(dataclasses.replace(config, content_image="nope"))


# -- SinGAN ------------------------------------------------------------------------------------------


def test_singan_image_names(tmp_path, no_data):
  assert singan.check_image(singan.Config(image="balloons")) == _shipped("singan_images", "balloons.png")
  assert singan.check_image(singan.Config(image="mountains")) == _shipped("singan_images", "mountains.jpg")
  path = _shipped("singan_images", "zebra.png")
  assert singan.check_image(singan.Config(image=path)) == path
  with pytest.raises(FileNotFoundError, match="--image=balloonz: .*singan_images"):
    singan.train_scales(singan.Config(image="balloonz", workdir=str(tmp_path / "w")), progress=False)
  assert not (tmp_path / "w").exists()


def test_singan_ref_image_and_mask_names(no_data):
  assert singan_apps.input_flag("starry_night_naive", "--ref_image") == _shipped(
    "singan_harmonization", "starry_night_naive.png"
  )
  assert singan_apps.input_flag("starry_night_naive_mask", "--mask") == _shipped(
    "singan_harmonization", "starry_night_naive_mask.png"
  )
  assert singan_apps.input_flag("tree_edit_mask", "--mask") == _shipped("singan_editing", "tree_edit_mask.png")
  assert singan_apps.input_flag("cows", "--ref_image") == _shipped("singan_paint", "cows.png")  # Paint first
  assert singan_apps.input_flag("singan_images/cows", "--ref_image") == _shipped("singan_images", "cows.png")


@pytest.mark.parametrize(
  "kw, error, match",
  [
    (dict(), ValueError, "--ref_image is required"),
    (dict(ref_image="starry_night_naive"), ValueError, "--mask is required"),
    (dict(ref_image="starry_night_naive", mask="nope_mask"), FileNotFoundError, "--mask=nope_mask: no such file"),
  ],
)
def test_singan_applications_check_their_inputs_before_training(tmp_path, no_data, kw, error, match):
  config = singan.Config(image="balloons", workdir=str(tmp_path / "w"), **kw)
  with pytest.raises(error, match=match):
    singan_apps.harmonization(config)
  assert not (tmp_path / "w").exists()


# -- data specs: gray2color:NAME, idx:NAME ----------------------------------------------------------


def test_paired_and_idx_specs_take_names(mirror, tmp_path):
  folder = mirror / "sr" / "BSD68"
  named = paired.paired_builder("gray2color:bsd68", tmp_path / "dd").builder_config
  by_path = paired.paired_builder(f"gray2color:{folder}", tmp_path / "dd").builder_config
  assert named.name == by_path.name
  source = data.labelled_source("idx:fashion_mnist", split="test", data_dir=tmp_path / "dd")
  assert len(source) == 3 and source.image_shape == (5, 4, 1)


@pytest.mark.parametrize(
  "spec, name", [("gray2color:bsd68", "bsd68"), ("edges2photo:bsd68", "bsd68"), ("bsd68", "bsd68")]
)
def test_paired_spec_with_a_missing_name(tmp_path, no_data, spec, name):
  with pytest.raises(download.NotAvailableError, match=f"--dataset={spec}: " + NOT_THERE.format(name)):
    data.paired_source(spec, "train", tmp_path / "dd")
  assert not (tmp_path / "dd").exists()


def test_pix2pix_and_idx_with_a_missing_name_create_nothing(tmp_path, no_data):
  config = pix2pix.Config(dataset="gray2color:bsd68", workdir=str(tmp_path / "w"))
  with pytest.raises(download.NotAvailableError, match=NOT_THERE.format("bsd68")):
    pix2pix.train(config)
  with pytest.raises(
    download.NotAvailableError, match="--dataset=idx:fashion_mnist: " + NOT_THERE.format("fashion_mnist")
  ):
    data.labelled_source("idx:fashion_mnist", split="train", data_dir=tmp_path / "w" / "tfds")
  assert not (tmp_path / "w").exists()


# -- the scripts and the flagfiles ---------------------------------------------------------------------


@pytest.mark.parametrize(
  "script, args, name",
  [
    ("sr", ["--flagfile=experiments/flags/srresnet_bsd68.flags"], "bsd68"),
    ("style_transfer", ["--flagfile=experiments/flags/style_candy.flags"], "bsd68"),
    ("pix2pix", ["--flagfile=experiments/flags/pix2pix_bsd68_gray2color.flags"], "bsd68"),
    ("dcgan", ["--dataset=idx:fashion_mnist"], "fashion_mnist"),
  ],
)
def test_scripts_report_a_missing_name_in_one_line(tmp_path, script, args, name):
  env = {k: v for k, v in os.environ.items() if k not in ("JAXGAN_MIRROR", "JAXGAN_DEBUG")}
  env["JAXGAN_HOME"] = str(tmp_path / "home")
  r = subprocess.run(
    [sys.executable, os.path.join("experiments", f"{script}.py"), *args, f"--workdir={tmp_path / 'w'}"],
    capture_output=True,
    text=True,
    timeout=120,
    cwd=ROOT,
    env=env,
    check=False,
  )
  errors = [line for line in r.stderr.splitlines() if line.startswith("jaxgan: error:")]
  assert r.returncode == 2 and len(errors) == 1 and "Traceback" not in r.stderr, r.stderr
  assert errors[0].endswith(NOT_THERE.format(name)), errors[0]
  assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("name", sorted(os.listdir(FLAGS_DIR)))
def test_every_flagfile_parses_and_names_no_shared_folder(name):
  path = os.path.join(FLAGS_DIR, name)
  with open(path) as f:
    text = f.read()
  assert "/shared" not in text and "shared/data" not in text  # the team's data folder: names instead
  _parse(path)


@pytest.mark.parametrize(
  "name, expected",
  [
    ("srresnet_bsd68", dict(dataset="bsd68", eval_dir="set5")),
    ("srgan_bsd68", dict(dataset="bsd68", eval_dir="set5", vgg_weights="vgg16")),
    ("perceptual_sr_bsd68", dict(dataset="bsd68", eval_dir="set5", vgg_weights="vgg16")),
    ("style_candy", dict(content_dir="bsd68", style_image="candy", vgg_weights="vgg16")),
    ("style_mosaic", dict(content_dir="bsd68", style_image="mosaic", vgg_weights="vgg16")),
    ("singan_balloons", dict(image="balloons")),
    ("pix2pix_bsd68_gray2color", dict(dataset="gray2color:bsd68")),
  ],
)
def test_flagfile_names_resolve_when_the_mirror_has_them(mirror, tmp_path, name, expected):
  method, config = _parse(os.path.join(FLAGS_DIR, name + ".flags"))
  assert {k: getattr(config, k) for k in expected} == expected
  if method is sr:
    sr.check_train_flags(config)
  elif method is st:
    st.check_train_flags(config)
  elif method is singan:
    assert singan.check_image(config) == _shipped("singan_images", "balloons.png")
  else:
    assert paired.paired_builder(config.dataset, tmp_path / "dd").builder_config.name.startswith("bsd68_")


def test_unpaired_specs_take_names(tmp_path, monkeypatch):
  """``idx-classes:NAME`` and a bare CycleGAN set name resolve through the registry."""
  from jaxgan.data import unpaired

  monkeypatch.setenv("JAXGAN_HOME", str(tmp_path / "home"))
  monkeypatch.delenv("JAXGAN_MIRROR", raising=False)
  for spec in ("idx-classes:fashion_mnist:A=7:B=9", "horse2zebra"):
    with pytest.raises(download.NotAvailableError, match=r"run `python -m jaxgan.download "):
      unpaired.unpaired_builder(spec, tmp_path / "tfds")
  mirror = tmp_path / "mirror" / "cyclegan" / "horse2zebra"
  for domain in ("trainA", "trainB"):
    (mirror / domain).mkdir(parents=True)
    Image.new("RGB", (8, 8), (10, 20, 30)).save(mirror / domain / "a.png")
  monkeypatch.setenv("JAXGAN_MIRROR", str(tmp_path / "mirror"))
  builder = unpaired.unpaired_builder("horse2zebra", tmp_path / "tfds")
  assert str(mirror.resolve()) in builder.builder_config.description


def test_import_torch_takes_pretrained_generator_names(tmp_path, no_data):
  """``--torch_G=pix2pix_facades_label2photo`` / ``--torch_G_A=cyclegan_horse2zebra_model``: a missing
  name stops before the workdir exists; a cached one resolves to its file."""
  from jaxgan.methods import cyclegan

  config = pix2pix.Config(workdir=str(tmp_path / "w"), torch_G="pix2pix_facades_label2photo")
  with pytest.raises(
    download.NotAvailableError,
    match="--torch_G=pix2pix_facades_label2photo: " + NOT_THERE.format("pix2pix_facades_label2photo"),
  ):
    pix2pix.import_torch(config)
  config = cyclegan.Config(workdir=str(tmp_path / "w"), torch_G_A="cyclegan_horse2zebra_model")
  with pytest.raises(download.NotAvailableError, match="--torch_G_A=cyclegan_horse2zebra_model: "):
    cyclegan.import_torch(config)
  assert not (tmp_path / "w").exists()
  cached = tmp_path / "home" / "cyclegan_horse2zebra_model"
  cached.mkdir(parents=True)
  (cached / "horse2zebra.pth").write_bytes(b"")
  (cached / ".complete").write_text("{}")
  assert download.resolve_flag("cyclegan_horse2zebra_model", flag="--torch_G_A", kind="file") == str(
    cached / "horse2zebra.pth"
  )


def test_official_pix2pix_set_by_name_reads_its_ab_layout(tmp_path, no_data, monkeypatch):
  """``--dataset=facades`` is the official tarball's folder: {train,test}/*.jpg side-by-side AB files."""
  root = tmp_path / "mirror" / "pix2pix" / "facades"
  for split in ("train", "test"):
    (root / split).mkdir(parents=True)
    for i in range(2):
      ab = np.zeros((8, 16, 3), np.uint8)
      ab[:, 8:] = 200  # B half bright, A half dark
      Image.fromarray(ab).save(root / split / f"{i}.png")
  with pytest.raises(download.NotAvailableError, match=NOT_THERE.format("facades")):
    data.paired_source("facades", "train", tmp_path / "dd")
  monkeypatch.setenv("JAXGAN_MIRROR", str(tmp_path / "mirror"))
  source = data.paired_source("facades", "train", tmp_path / "dd")
  assert len(source) == 2
  example = source[0]
  assert example["a"].max() < example["b"].min()

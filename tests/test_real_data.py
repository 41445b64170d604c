"""tests/real_data.py: skip with the download command, fail under CI, always fail on a missing file."""

import pytest

from tests.real_data import real_data


@pytest.fixture
def no_data(tmp_path, monkeypatch):
  """An empty cache and no mirror; CI unset."""
  monkeypatch.setenv("JAXGAN_HOME", str(tmp_path / "home"))
  monkeypatch.delenv("JAXGAN_MIRROR", raising=False)
  monkeypatch.delenv("CI", raising=False)
  return tmp_path


def test_a_missing_entry_skips_with_the_download_command(no_data):
  with pytest.raises(pytest.skip.Exception, match="bsd68 not available: run `python -m jaxgan.download bsd68`"):
    real_data("bsd68", "x.png")


def test_the_reason_names_the_alternatives(no_data):
  with pytest.raises(
    pytest.skip.Exception,
    match=r"vgg16 not available: run `python -m jaxgan.download vgg16` "
    r"\(or `python -m jaxgan.download vgg16_keras`\)",
  ):
    real_data("vgg16")


def test_under_ci_a_missing_entry_fails(no_data, monkeypatch):
  monkeypatch.setenv("CI", "true")
  with pytest.raises(
    pytest.fail.Exception, match=r"bsd68 not available: run `python -m jaxgan.download bsd68` .*\.ci/run.*JAXGAN_MIRROR"
  ):
    real_data("bsd68")
  monkeypatch.setenv("CI", "1")  # only CI=true is CI
  with pytest.raises(pytest.skip.Exception):
    real_data("bsd68")


def test_a_mirror_entry_resolves_and_a_missing_file_in_it_always_fails(no_data, monkeypatch):
  mirror = no_data / "mirror"
  (mirror / "sr" / "BSD68").mkdir(parents=True)
  (mirror / "sr" / "BSD68" / "x.png").write_bytes(b"")
  monkeypatch.setenv("JAXGAN_MIRROR", str(mirror))
  assert real_data("bsd68") == mirror / "sr" / "BSD68"
  assert real_data("bsd68", "x.png") == mirror / "sr" / "BSD68" / "x.png"
  for ci in ("", "true"):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="bsd68 is at .* but has no y.png"):
      real_data("bsd68", "y.png")


def test_shipped_entries_need_no_cache_nor_mirror(no_data, monkeypatch):
  monkeypatch.setenv("CI", "true")
  assert real_data("set5", "baby.png").is_file()
  assert real_data("singan_harmonization", "starry_night_naive_mask.png").is_file()
  assert real_data("style_content", "amber.jpg").is_file()

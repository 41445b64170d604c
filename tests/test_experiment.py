"""The experiment scripts: flags derived from Config, clear errors, end-to-end runs."""

import os
import subprocess
import sys

import pytest
from absl import flags

from jaxgan import flags as flags_lib
from jaxgan.methods import dcgan, gan

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--image_size=16", "--ngf=8", "--ndf=8", "--nz=8", "--batch_size=16", "--num_samples=9",
        "--checkpoint_every=2", "--log_every=1", "--sample_every=2"]


def _run(script, *args, timeout=600):
  return subprocess.run([sys.executable, os.path.join(ROOT, "experiments", script), *args],
                        capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.mark.parametrize("config_cls", [dcgan.Config, gan.Config])
def test_flags_round_trip_every_config_field(config_cls):
  fv = flags.FlagValues()
  flags_lib.define_flags(config_cls, fv)
  fv(["prog"])
  assert flags_lib.config_from_flags(config_cls, fv) == config_cls()


def test_flags_parse_values_and_tuples():
  fv = flags.FlagValues()
  flags_lib.define_flags(gan.Config, fv)
  fv(["prog", "--g_hidden=64,32", "--loss=minimax", "--d_steps=3", "--learning_rate=0.01"])
  config = flags_lib.config_from_flags(gan.Config, fv)
  assert (config.g_hidden, config.loss, config.d_steps, config.learning_rate) == ((64, 32), "minimax", 3, 0.01)


def test_invalid_value_names_the_flag():
  fv = flags.FlagValues()
  flags_lib.define_flags(dcgan.Config, fv)
  fv(["prog", "--image_size=48"])
  with pytest.raises(ValueError, match=r"--image_size=48 must be a power of two"):
    flags_lib.config_from_flags(dcgan.Config, fv)


@pytest.mark.parametrize("args, message", [
    (["--no_such_flag=1"], "no_such_flag"),
    (["--batch_size=abc"], "batch_size"),
    (["--batch_size=0"], "batch_size=0 must be > 0"),
    (["--loss=gauss"], "loss"),
    (["--image_size=100"], "image_size=100"),
    ([], "--workdir is required"),
])
def test_script_stops_on_bad_flags_before_compiling(tmp_path, args, message):
  workdir = [] if not args else [f"--workdir={tmp_path / 'w'}"]
  r = _run("dcgan.py", *workdir, *args, timeout=120)
  assert r.returncode != 0
  assert message in r.stderr + r.stdout
  assert not (tmp_path / "w").exists()  # nothing written


def test_script_reports_a_bad_dataset_path(tmp_path):
  empty = tmp_path / "empty"
  empty.mkdir()
  r = _run("dcgan.py", f"--workdir={tmp_path / 'w'}", f"--dataset=folder:{empty}", *TINY, timeout=120)
  assert r.returncode == 2
  assert str(empty) in r.stderr and "Traceback" not in r.stderr


def test_dcgan_script_trains_resumes_and_runs_latent_tools(tmp_path):
  flagfile = tmp_path / "tiny.flags"
  flagfile.write_text("\n".join(["--dataset=digits", "--channels=1", *TINY]) + "\n")
  workdir = tmp_path / "run"
  common = [f"--flagfile={flagfile}", f"--workdir={workdir}"]
  r = _run("dcgan.py", *common, "--num_steps=2")
  assert r.returncode == 0, r.stderr[-3000:]
  assert f"workdir {workdir}" in r.stdout
  r = _run("dcgan.py", *common, "--num_steps=3")  # resumes from step 2
  assert r.returncode == 0, r.stderr[-3000:]
  assert sorted(os.listdir(workdir / "checkpoints")) == ["2", "3"]
  assert sorted(os.listdir(workdir / "samples")) == ["step_00000002.png", "step_00000003.png"]
  assert os.listdir(workdir / "tensorboard")
  # Other hyperparameters on the same workdir are refused, and nothing is overwritten.
  r = _run("dcgan.py", *common, "--num_steps=4", "--ngf=16")
  assert r.returncode == 2 and "ngf: 8 -> 16" in r.stderr
  assert sorted(os.listdir(workdir / "checkpoints")) == ["2", "3"]
  for mode, name in [("interpolate", "slerp_step00000003.png"), ("arithmetic", "arithmetic_step00000003.png")]:
    r = _run("dcgan.py", *common, f"--mode={mode}", "--num_strips=2", "--interpolation_steps=3")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (workdir / "latent" / name).exists()


def test_latent_tools_need_a_checkpoint(tmp_path):
  r = _run("gan.py", f"--workdir={tmp_path / 'none'}", "--mode=interpolate", timeout=120)
  assert r.returncode == 2 and "no checkpoint" in r.stderr
  assert not (tmp_path / "none").exists()


def test_gan_script_trains_with_k_discriminator_steps(tmp_path):
  r = _run("gan.py", f"--workdir={tmp_path / 'g'}", "--dataset=digits", "--image_size=8", "--g_hidden=32,32",
           "--d_units=16", "--d_pieces=2", "--batch_size=10", "--d_steps=2", "--num_steps=2",
           "--sample_every=2", "--num_samples=4")
  assert r.returncode == 0, r.stderr[-3000:]
  assert os.listdir(tmp_path / "g" / "samples") == ["step_00000002.png"]

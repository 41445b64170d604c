"""The experiment scripts: flags derived from Config, clear errors, end-to-end runs."""

import ast
import inspect
import os
import re
import subprocess
import sys

import pytest
from absl import flags

from jaxgan import flags as flags_lib
from jaxgan.methods import (
  catgan,
  cgan,
  cyclegan,
  dcgan,
  gan,
  gatys,
  pix2pix,
  sgan,
  singan_apps,
  sr,
  style_transfer,
)
from tests.tiny import tree_state, unfinished_copy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = [
  "--image_size=16",
  "--ngf=8",
  "--ndf=8",
  "--nz=8",
  "--batch_size=16",
  "--num_samples=9",
  "--checkpoint_every=2",
  "--log_every=1",
  "--sample_every=2",
]
# The scripts import jaxgan from this tree (not from wherever the package is installed).
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)}


def _run(script, *args, timeout=600):
  return subprocess.run(
    [sys.executable, os.path.join(ROOT, "experiments", script), *args],
    capture_output=True,
    text=True,
    timeout=timeout,
    cwd=ROOT,
    env=ENV,
  )


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


@pytest.mark.parametrize(
  "args, message",
  [
    (["--no_such_flag=1"], "no_such_flag"),
    (["--batch_size=abc"], "batch_size"),
    (["--batch_size=0"], "batch_size=0 must be > 0"),
    (["--loss=gauss"], "loss"),
    (["--image_size=100"], "image_size=100"),
    ([], "--workdir is required"),
  ],
)
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
  # config.json records the first run's 2 steps: its last checkpoint (3) is past them, finished.
  for mode, name in [("interpolate", "slerp_step00000003.png"), ("arithmetic", "arithmetic_step00000003.png")]:
    r = _run("dcgan.py", *common, f"--mode={mode}", "--num_strips=2", "--interpolation_steps=3")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (workdir / "latent" / name).exists()
  assert "--allow_partial" not in r.stdout

  # A run of 5 steps stopped at its step-3 checkpoint: the tools say how to finish it, and change nothing...
  partial = unfinished_copy(workdir, tmp_path / "partial", num_steps=5)
  before = tree_state(partial)
  tool = [f"--flagfile={flagfile}", f"--workdir={partial}", "--mode=interpolate", "--num_strips=2"]
  r = _run("dcgan.py", *tool)
  script = os.path.join(ROOT, "experiments", "dcgan.py")
  assert r.returncode == 2 and "Traceback" not in r.stderr
  assert (
    f"jaxgan: error: train first: python {script} --flagfile={flagfile} --workdir={partial} --num_strips=2 "
    f"--mode=train ({partial} is at step 3 of 5; --allow_partial uses it as it is)"
  ) in r.stderr
  assert tree_state(partial) == before
  # ... unless --allow_partial: then they use step 3, and say so.
  r = _run("dcgan.py", *tool, "--allow_partial")
  assert r.returncode == 0, r.stderr[-3000:]
  assert f"jaxgan: --allow_partial: using step 3 of 5 (the run in {partial} is not finished)" in r.stdout
  assert os.path.exists(os.path.join(partial, "latent", "slerp_step00000003.png"))


def test_latent_tools_need_a_checkpoint(tmp_path):
  r = _run("gan.py", f"--workdir={tmp_path / 'none'}", "--mode=interpolate", "--allow_partial", timeout=120)
  script = os.path.join(ROOT, "experiments", "gan.py")
  assert r.returncode == 2 and "Traceback" not in r.stderr
  assert r.stderr.splitlines()[0].startswith(
    f"jaxgan: error: train first: python {script} --workdir="
    f"{tmp_path / 'none'} --mode=train (no checkpoint in {tmp_path / 'none'})"
  )
  assert not (tmp_path / "none").exists()


# Every mode that is not --mode=train needs a finished (or --allow_partial) checkpoint and says
# "train first" without one, except those that make their own model (test_every_tool_mode_is_checked).
MAKE_THEIR_OWN_MODEL = {("pix2pix", "import_torch"), ("cyclegan", "import_torch")}
TOOL_MODES = {  # where each method's check is tested
  ("gan", "interpolate"),
  ("gan", "arithmetic"),
  ("dcgan", "interpolate"),
  ("dcgan", "arithmetic"),  # here
  ("cgan", "generate"),  # here and in test_cgan.py
  ("pix2pix", "test"),
  ("pix2pix", "export_torch"),  # test_pix2pix.py
  ("cyclegan", "test"),
  ("cyclegan", "export_torch"),  # test_cyclegan.py
  ("sr", "test"),  # test_sr.py
  ("style_transfer", "stylize"),  # test_style.py
  *((method, "video") for method in ("pix2pix", "cyclegan", "sr", "style_transfer")),  # test_inference_modes.py
  *(("singan", mode) for mode in singan_apps.APPLICATIONS),  # test_singan.py
}


SCRIPT_MODULES = {
  "gan": gan,
  "dcgan": dcgan,
  "cgan": cgan,
  "sgan": sgan,
  "catgan": catgan,
  "pix2pix": pix2pix,
  "cyclegan": cyclegan,
  "sr": sr,
  "style_transfer": style_transfer,
  "gatys": gatys,
  "singan": singan_apps,
}


def test_every_tool_mode_is_checked():
  modes = {name: module.MODES for name, module in SCRIPT_MODULES.items()}
  scripts = {os.path.splitext(n)[0] for n in os.listdir(os.path.join(ROOT, "experiments")) if n.endswith(".py")}
  assert set(modes) == scripts
  tools = {(method, mode) for method, ms in modes.items() for mode in ms if mode != "train"}
  assert tools == TOOL_MODES | MAKE_THEIR_OWN_MODEL


@pytest.mark.parametrize("name", sorted(SCRIPT_MODULES))
def test_every_script_is_one_call_of_its_method_module(name):
  """experiments/NAME.py: a docstring, two imports and ``experiment.main(module)``; the module
  follows jaxgan.methods.protocol (Config, MODES of functions of the config, build -> Method)."""
  path = os.path.join(ROOT, "experiments", f"{name}.py")
  with open(path) as f:
    tree = ast.parse(f.read())
  *_, guard = tree.body
  (call,) = guard.body
  module = SCRIPT_MODULES[name]
  assert ast.unparse(call) == f"experiment.main({module.__name__.rsplit('.', 1)[-1]})"
  assert "train" in module.MODES and all(callable(mode) for mode in module.MODES.values())
  for mode in module.MODES.values():
    (param, *rest) = inspect.signature(mode).parameters.values()
    assert param.name == "config" and all(p.default is not p.empty for p in rest), (name, mode)
  if module not in (singan_apps, gatys):  # their builds need the image's pyramid / the images and VGG
    method = module.build(module.Config(workdir="w"))
    assert method.config == module.Config(workdir="w")
    # protocol.Method's members, read statically (a style-transfer consts property loads files)
    assert callable(inspect.getattr_static(method, "init_state"))
    assert callable(inspect.getattr_static(method, "train_step"))
    inspect.getattr_static(method, "consts")  # None, an attribute or a property; AttributeError if missing


def test_train_command_is_the_scripts_own_command_line_in_train_mode(monkeypatch):
  from jaxgan.methods import runner

  config = dcgan.Config(workdir="W", nz=8)
  monkeypatch.setattr(
    sys,
    "argv",
    [
      "experiments/dcgan.py",
      "--flagfile=f.flags",
      "--mode",
      "interpolate",
      "--workdir=W",
      "--allow_partial",
      "--restore_step",
      "3",
      "--noallow_partial",
      "--interpolation=lerp",
      "--arithmetic_groups=0;1;2",
    ],
  )
  assert runner.train_command(config) == (
    "python experiments/dcgan.py --flagfile=f.flags --workdir=W "
    "--interpolation=lerp '--arithmetic_groups=0;1;2' --mode=train"
  )
  monkeypatch.setattr(sys, "argv", ["/x/experiments/gan.py", "--workdir=W"])  # another method's script
  assert runner.train_command(config) == "python experiments/dcgan.py --mode=train --workdir=W --nz=8"


@pytest.mark.parametrize("method, mode", sorted(m for m in TOOL_MODES if m[0] in ("gan", "dcgan", "cgan")))
def test_latent_tools_on_an_empty_workdir_say_train_first(tmp_path, method, mode):
  module = {"gan": gan, "dcgan": dcgan, "cgan": cgan}[method]
  workdir = tmp_path / "empty"
  workdir.mkdir()
  config = module.Config(workdir=str(workdir), allow_partial=True, nz=8)
  with pytest.raises(
    FileNotFoundError,
    match="^"
    + re.escape(
      f"train first: python experiments/{method}.py --mode=train --workdir={workdir} --nz=8 "
      f"(no checkpoint in {workdir})"
    )
    + "$",
  ):
    module.MODES[mode](config)
  assert os.listdir(workdir) == []


def test_gan_script_trains_with_k_discriminator_steps(tmp_path):
  r = _run(
    "gan.py",
    f"--workdir={tmp_path / 'g'}",
    "--dataset=digits",
    "--image_size=8",
    "--g_hidden=32,32",
    "--d_units=16",
    "--d_pieces=2",
    "--batch_size=10",
    "--d_steps=2",
    "--num_steps=2",
    "--sample_every=2",
    "--num_samples=4",
  )
  assert r.returncode == 0, r.stderr[-3000:]
  assert os.listdir(tmp_path / "g" / "samples") == ["step_00000002.png"]

"""Execute the notebooks of ``notebooks/`` with tiny parameters, as CI does.

    python -m tests.run_notebooks                  # all of them
    python -m tests.run_notebooks pix2pix singan   # some
    python -m tests.run_notebooks --out DIR        # keep the executed copies (and workdirs) in DIR

Without ``--out`` they go to a temporary folder, removed after a run in which every notebook passed.

Each notebook runs top to bottom in a fresh kernel (papermill) on this machine's CPU with 8 fake devices,
its ``parameters`` cell followed by the values of :func:`ci_parameters`. Data and weights come by name
through ``jaxgan.download`` (``$JAXGAN_MIRROR`` serves them offline). The official pretrained weights
cannot be had offline, so the pix2pix and CycleGAN notebooks get stand-ins in the official PyTorch format:
randomly initialised tiny generators written by ``jaxgan.interop.to_torch_state_dict`` (what
``--mode=export_torch`` writes). A failing cell fails the run; the report names the notebook and the cell.
The kernels import jaxgan from this checkout.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = ("quickstart", "pix2pix", "cyclegan", "singan", "super_resolution_and_style")
LONGEST_FIRST = ("cyclegan", "singan", "super_resolution_and_style", "pix2pix", "quickstart")  # for --jobs
# Set before JAX starts, here and in the kernels: 8 CPU devices, and XLA's backend at -O0 (these networks are
# tiny, so compile time dominates, as in tests/conftest.py).
XLA_FLAGS = ("--xla_force_host_platform_device_count=8", "--xla_backend_optimization_level=0")
CELL_TIMEOUT = 900  # seconds: a cell that hangs fails the run instead of holding CI


def environment() -> None:
  """This process's environment, which the kernels inherit: 8 CPU devices, a persistent compilation cache,
  this checkout first on the path."""
  flags = os.environ.get("XLA_FLAGS", "").split()
  names = {f.split("=")[0] for f in flags}
  os.environ["XLA_FLAGS"] = " ".join(flags + [f for f in XLA_FLAGS if f.split("=")[0] not in names])
  os.environ.setdefault("JAX_PLATFORMS", "cpu")
  # Programs compiled in earlier runs (and by other notebooks of this one) are read back, not compiled again.
  os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(tempfile.gettempdir(), "jaxgan-notebooks-xla-cache"))
  os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.3")
  os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
  path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
  os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in path if Path(p).resolve() != ROOT])
  if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# The networks of the stand-ins for the official pretrained generators (pix2pix: unet_128 needs 128x128 inputs).
STANDIN_NETS = {
  "pix2pix": dict(netG="unet_128", ngf=4, ndf=4, load_size=128, crop_size=128),
  "cyclegan": dict(netG="resnet_6blocks", ngf=4),
}


def official_format_generators(method: str, nets: tuple[str, ...], folder: Path) -> dict[str, str]:
  """Randomly initialised networks ``nets`` (G, G_A, ...) of ``jaxgan.methods.<method>`` with
  :data:`STANDIN_NETS`, each written as an official PyTorch state_dict (as ``--mode=export_torch`` writes a
  trained one) to ``folder/<method>_standin_<net>.pth``; ``{net: path}``."""
  import jax  # pylint: disable=import-outside-toplevel  (after environment())

  from jaxgan.interop import save_torch_state_dict, to_torch_state_dict  # pylint: disable=import-outside-toplevel

  module = importlib.import_module(f"jaxgan.methods.{method}")
  built = module.build(module.Config(**STANDIN_NETS[method]))
  networks = built.networks if hasattr(built, "networks") else {"G": built.generator, "D": built.discriminator}
  state = built.init_state(jax.random.PRNGKey(0))
  paths = {}
  for net in nets:
    model, paths[net] = state.nets[net], str(folder / f"{method}_standin_{net}.pth")
    save_torch_state_dict(to_torch_state_dict((networks[net].graphdef, model.params, model.stats)), paths[net])
  return paths


def ci_parameters(name: str, tmp: Path, *, write_standins: bool = True) -> dict:
  """The tiny parameters of notebook ``name``; ``tmp`` holds its workdir and the stand-in weights (written
  unless not ``write_standins``)."""
  workdir = str(tmp / name)
  standins = lambda method, *nets: (
    official_format_generators(method, nets, tmp)
    if write_standins
    else {net: str(tmp / f"{method}_standin_{net}.pth") for net in nets}
  )
  if name == "quickstart":
    return dict(
      WORKDIR=workdir,
      DOWNLOADS=[],
      DATASET="digits",
      BATCH_SIZE=16,
      IMAGE_SIZE=16,
      DCGAN_WIDTH=8,
      DCGAN_STEPS=2,
      CGAN_IMAGE_SIZE=16,
      CGAN_STEPS=2,
      CLASSIFIER_STEPS=2,
      EVAL_EVERY=0,
      EVAL_SAMPLES_PER_CLASS=2,
      SAMPLE_EVERY=2,
      NUM_STRIPS=2,
      INTERPOLATION_STEPS=3,
    )
  if name == "pix2pix":
    net = STANDIN_NETS["pix2pix"]
    return dict(
      WORKDIR=workdir,
      DOWNLOADS=["bsd68"],
      PRETRAINED_G=standins("pix2pix", "G")["G"],
      DATASET="gray2color:bsd68",
      DIRECTION="AtoB",
      NET_G=net["netG"],
      NGF=net["ngf"],
      NDF=net["ndf"],
      LOAD_SIZE=net["load_size"],
      CROP_SIZE=net["crop_size"],
      NUM_TEST=2,
      ROWS_SHOWN=2,
      FINETUNE_STEPS=1,
      SAMPLE_EVERY=1,
    )
  if name == "cyclegan":
    net, paths = STANDIN_NETS["cyclegan"], standins("cyclegan", "G_A", "G_B")
    return dict(
      WORKDIR=workdir,
      DOWNLOADS=["bsd68"],
      PRETRAINED_G_A=paths["G_A"],
      PRETRAINED_G_B=paths["G_B"],
      PRETRAINED_NET_G=net["netG"],
      PRETRAINED_NGF=net["ngf"],
      TEST_DATA="bsd68",
      TEST_SUBDIR="",
      TEST_SIZE=32,
      NUM_TEST=2,
      ROWS_SHOWN=2,
      IDX_DATA="",
      CLASS_A=3,
      CLASS_B=8,
      NET_G=net["netG"],
      NGF=net["ngf"],
      LOAD_SIZE=32,
      CROP_SIZE=32,
      NUM_STEPS=2,
      EVAL_EVERY=0,
      EVAL_IMAGES=4,
      CLASSIFIER_STEPS=0,  # no judging classifier: its training would cost CI a compilation
      SAMPLE_EVERY=2,
    )
  if name == "singan":
    return dict(
      WORKDIR=workdir,
      DOWNLOADS=[],
      HARMONIZATION_SCALES=[1],
      EDIT_IMAGE="starry_night",
      EDIT_SCALES=[1],
      MAX_SIZE=32,
      NUM_STEPS=2,
      LR_MILESTONE=1,
      CRITIC_STEPS=1,
      GENERATOR_STEPS=1,
      NUM_SAMPLES=2,
      GEN_START_SCALES=[0, 1],
      ANIM_START_SCALE=1,
      ANIM_FRAMES=3,
    )
  if name == "super_resolution_and_style":
    return dict(
      WORKDIR=workdir,
      DOWNLOADS=["bsd68", "vgg16_keras"],
      VGG_WEIGHTS="vgg16_keras",
      SR_NUM_TEST=1,
      SR_CHANNELS=8,
      SR_BLOCKS=1,
      SR_PHASE1_CROP=24,
      SR_PHASE1_BATCH=8,
      SR_PHASE1_STEPS=1,
      SR_PHASE2_CROP=32,
      SR_PHASE2_STEPS=1,
      SR_PHASE2_DECAY=1,
      SR_EVAL_EVERY=1,
      ROWS_SHOWN=1,
      STYLE_SIZE=64,
      STYLE_IMAGE_SIZE=32,
      STYLE_BATCH=8,
      STYLE_STEPS=1,
      STYLIZE_SIZE=32,
      GATYS_SIZE=32,
      GATYS_STEPS=2,
    )
  raise ValueError(f"unknown notebook {name!r}; the notebooks: {', '.join(NAMES)}")


def run(name: str, out: Path) -> str | None:
  """Execute ``notebooks/<name>.ipynb`` into ``out/<name>.ipynb``; None, or what failed."""
  import papermill  # pylint: disable=import-outside-toplevel

  tmp = out / "work"
  tmp.mkdir(parents=True, exist_ok=True)
  try:
    parameters = ci_parameters(name, tmp)
  except Exception as e:  # noqa: BLE001 -- e.g. no PyTorch for the stand-ins: reported as this notebook's failure
    return f"its CI parameters could not be prepared: {type(e).__name__}: {e}"
  executed = out / f"{name}.ipynb"
  try:
    papermill.execute_notebook(
      str(NOTEBOOKS / f"{name}.ipynb"),
      str(executed),
      parameters=parameters,
      cwd=str(tmp),
      progress_bar=False,
      kernel_name="python3",
      execution_timeout=CELL_TIMEOUT,
    )
  except papermill.PapermillExecutionError as e:
    first_line = next((line for line in e.source.splitlines() if line.strip()), "")
    return (
      f"the cell that starts {first_line!r} (In [{e.exec_count}]) raised {e.ename}: {e.evalue} "
      f"(the traceback is in {executed})"
    )
  except Exception as e:  # noqa: BLE001 -- a cell past CELL_TIMEOUT, a dead kernel: this notebook's failure
    return f"{type(e).__name__}: {e} (the executed copy so far is {executed})"
  return None


def run_and_report(name: str, out: Path) -> bool:
  began = time.monotonic()
  error = run(name, out)
  status = "ok" if error is None else f"FAILED: {error}"
  print(f"notebooks/{name}.ipynb: {status} ({time.monotonic() - began:.0f} s)", flush=True)
  return error is None


def run_in_parallel(names: list[str], out: Path, jobs: int) -> list[str]:
  """Each notebook in a child process (``--child``), ``jobs`` at a time; the names that failed."""
  waiting, running, failed = sorted(names, key=LONGEST_FIRST.index), {}, []
  while waiting or running:
    while waiting and len(running) < jobs:
      name = waiting.pop(0)
      command = [sys.executable, "-m", "tests.run_notebooks", "--child", "--out", str(out), name]
      running[name] = subprocess.Popen(command, cwd=ROOT)
    time.sleep(0.5)
    for name, process in list(running.items()):
      if process.poll() is not None:
        del running[name]
        if process.returncode:
          failed.append(name)
        if process.returncode not in (0, 1):  # the child did not get to report (a timeout, a crash)
          print(f"notebooks/{name}.ipynb: FAILED: its runner ended with exit code {process.returncode}", flush=True)
  return failed


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m tests.run_notebooks", description=__doc__.split("\n\n")[0])
  parser.add_argument("names", nargs="*", help=f"notebooks to run (default: all of {', '.join(NAMES)})")
  parser.add_argument(
    "--out", help="folder for the executed notebooks and their workdirs (default: a temporary one, removed if all pass)"
  )
  parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at the same time (default 2)")
  parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # one notebook, for --jobs
  args = parser.parse_args(argv)
  names = args.names or list(NAMES)
  unknown = [n for n in names if n not in NAMES]
  if unknown:
    parser.error(f"unknown notebook(s) {', '.join(unknown)}; the notebooks: {', '.join(NAMES)}")
  environment()
  out = Path(args.out).resolve() if args.out else Path(tempfile.mkdtemp(prefix="jaxgan-notebooks-"))
  out.mkdir(parents=True, exist_ok=True)
  if args.child:
    return 0 if all([run_and_report(name, out) for name in names]) else 1
  print(f"notebooks: executed copies in {out}; XLA_FLAGS={os.environ['XLA_FLAGS']}", flush=True)
  started = time.monotonic()
  if args.jobs > 1 and len(names) > 1:
    failed = run_in_parallel(names, out, args.jobs)
  else:
    failed = [name for name in names if not run_and_report(name, out)]
  print(f"notebooks: {len(failed)} of {len(names)} failed ({time.monotonic() - started:.0f} s)", flush=True)
  if not args.out and not failed:  # a temporary folder of workdirs (some 250 MB): kept only to show a failure
    shutil.rmtree(out, ignore_errors=True)
    print(f"notebooks: removed {out}", flush=True)
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())

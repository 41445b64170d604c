"""Sharding across devices and processes gives the same training as one device."""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKERS = os.path.join(ROOT, "tests", "workers")


def _env(**extra):
  env = dict(os.environ)
  env.update(extra)
  return env


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def test_step_on_8_devices_equals_step_on_1_device():
  flags = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
  r = subprocess.run(
    [sys.executable, os.path.join(WORKERS, "sharded_vs_single.py")],
    env=_env(XLA_FLAGS=flags.strip()),
    capture_output=True,
    text=True,
    timeout=600,
  )
  assert r.returncode == 0, r.stdout + r.stderr[-3000:]
  for name in (
    "dcgan",
    "gan",
    "pix2pix",
    "cyclegan_no_norm",
    "cgan",
    "sgan",
    "catgan",
    "sr",
    "srgan",
    "style",
  ):
    assert f"{name}: max" in r.stdout, r.stdout


def _load(path):
  with np.load(path) as f:
    return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


@pytest.mark.parametrize("method", ["dcgan", "pix2pix"])
def test_two_processes_on_loopback_train_like_one(tmp_path, method):
  """pix2pix adds batch norm over the global batch, dropout, and random crops and flips that must
  not depend on which process loads an example."""
  worker = [sys.executable, os.path.join(WORKERS, "run_fit.py"), f"--method={method}"]
  single = subprocess.run(
    [*worker, "--workdir", str(tmp_path / "one"), "--out", str(tmp_path / "one.npz")],
    capture_output=True,
    text=True,
    timeout=600,
  )
  assert single.returncode == 0, single.stderr[-3000:]
  port = _free_port()
  procs = [
    subprocess.Popen(
      [
        *worker,
        "--workdir",
        str(tmp_path / "two"),
        "--out",
        str(tmp_path / "two.npz"),
        f"--coordinator_address=127.0.0.1:{port}",
        "--num_processes=2",
        f"--process_id={i}",
      ],
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE,
      text=True,
    )
    for i in range(2)
  ]
  outs = [p.communicate(timeout=600) for p in procs]
  for p, (_out, err) in zip(procs, outs):
    assert p.returncode == 0, err[-3000:]
  assert "process 0/2 devices=2 step=3" in outs[0][0]
  assert "process 1/2 devices=2 step=3" in outs[1][0]
  a, b = _load(tmp_path / "one.npz"), _load(tmp_path / "two.npz")
  assert len(a) == len(b) > 0
  for x, y in zip(a, b):
    np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
  # Every process took part in the checkpoint; only process 0 wrote logs and samples.
  assert sorted(os.listdir(tmp_path / "two" / "checkpoints")) == ["2", "3"]
  events = os.listdir(tmp_path / "two" / "tensorboard")
  assert len(events) == 1, events
  assert sorted(os.listdir(tmp_path / "two" / "samples")) == ["step_00000002.png", "step_00000003.png"]

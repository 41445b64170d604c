"""PyTorch is optional: every test module that mentions it still collects (and skips) without it."""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_modules_that_use_torch_collect_without_it(tmp_path):
  hidden = tmp_path / "torch"
  hidden.mkdir()
  (hidden / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n")
  modules = sorted(
    str(p)
    for p in (ROOT / "tests").glob("test_*.py")
    if "torch" in p.read_text() and p.name != pathlib.Path(__file__).name
  )
  env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")])}
  r = subprocess.run(
    [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", *modules],
    env=env,
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=600,
  )
  assert r.returncode in (0, 5), r.stdout[-3000:] + r.stderr[-2000:]  # 5: everything skipped
  assert "error" not in r.stdout.lower().splitlines()[-1], r.stdout[-3000:]

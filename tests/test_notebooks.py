"""The notebooks' structure (no execution here: ``python -m tests.run_notebooks`` runs them, in .ci/run).

Each notebook of ``notebooks/`` is stored without outputs beside its jupytext percent-format ``.py``
with the same cells; its first code cell installs jaxgan where it is missing and lists the devices; it
has one papermill ``parameters`` cell of plain ``NAME = value`` lines, which holds every parameter CI
passes; it defines no library code (no functions or classes); the README links it on Colab.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from tests import run_notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
COLAB = "https://colab.research.google.com/github/OWNER/jaxgan/blob/main/notebooks/{}.ipynb"


def load(name: str) -> dict:
  with open(NOTEBOOKS / f"{name}.ipynb", encoding="utf-8") as f:
    return json.load(f)


def source(cell: dict) -> str:
  return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def code_cells(name: str) -> list[dict]:
  return [c for c in load(name)["cells"] if c["cell_type"] == "code"]


def parameters_cell(name: str) -> dict:
  tagged = [c for c in load(name)["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
  assert len(tagged) == 1, f"{name}.ipynb has {len(tagged)} cells tagged 'parameters'"
  assert tagged[0]["cell_type"] == "code"
  return tagged[0]


def test_every_notebook_is_run_by_ci_and_paired():
  stored = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
  assert stored == set(run_notebooks.NAMES), "tests/run_notebooks.py must run every notebook, and only those"
  assert {p.stem for p in NOTEBOOKS.glob("*.py")} == stored, "each notebook has its jupytext .py pair"
  assert set(run_notebooks.LONGEST_FIRST) == stored


@pytest.mark.parametrize("name", run_notebooks.NAMES)
def test_stored_without_outputs(name):
  notebook = load(name)
  assert notebook["metadata"]["kernelspec"]["name"] == "python3"
  assert notebook["metadata"]["jupytext"]["formats"] == "ipynb,py:percent"
  for cell in code_cells(name):
    assert cell["outputs"] == [] and cell["execution_count"] is None, f"{name}.ipynb stores outputs"
    assert "papermill" not in cell.get("metadata", {}), f"{name}.ipynb is an executed copy"


@pytest.mark.parametrize("name", run_notebooks.NAMES)
def test_the_py_pair_has_the_same_cells(name):
  try:
    import jupytext  # pylint: disable=import-outside-toplevel
  except ImportError:
    if os.environ.get("CI") == "true":
      pytest.fail("jupytext is not installed: .ci/run installs it with the notebooks extra")
    pytest.skip('jupytext is not installed: pip install -e ".[notebooks]"')
  paired = jupytext.read(NOTEBOOKS / f"{name}.py")
  cells = lambda cs: [(c["cell_type"], source(c).strip(), c.get("metadata", {}).get("tags", [])) for c in cs]
  assert cells(paired["cells"]) == cells(load(name)["cells"]), (
    f"notebooks/{name}.ipynb and .py differ: run `jupytext --sync notebooks/{name}.py` after editing the .py"
  )


@pytest.mark.parametrize("name", run_notebooks.NAMES)
def test_first_code_cell_installs_jaxgan_and_lists_the_devices(name):
  cells = code_cells(name)
  first = source(cells[0])
  for needed in ('REPO_URL = "https://github.com/OWNER/jaxgan"', 'find_spec("jaxgan") is None', "pip", "install"):
    assert needed in first, f"{name}.ipynb's first code cell lacks {needed!r}"
  assert "jax.devices()" in first
  assert "colab_tpu" not in "".join(source(c) for c in cells), "jax.tools.colab_tpu is obsolete on Colab TPU VMs"
  assert cells.index(parameters_cell(name)) == 1, "the parameters cell follows the install cell"


@pytest.mark.parametrize("name", run_notebooks.NAMES)
def test_parameters_cell_is_plain_assignments_holding_every_ci_parameter(name, tmp_path):
  text = source(parameters_cell(name))
  assigned = {}
  for statement in ast.parse(text).body:
    assert isinstance(statement, ast.Assign) and len(statement.targets) == 1, ast.unparse(statement)
    target = statement.targets[0]
    assert isinstance(target, ast.Name) and target.id.isupper(), ast.unparse(statement)
    assigned[target.id] = ast.literal_eval(statement.value)
  for line in text.splitlines():  # papermill's parser reads one `NAME = value` a line, without another "="
    assert line.lstrip().startswith("#") or line.count("=") <= 1, f"{name}.ipynb: papermill cannot parse {line!r}"
  ci = run_notebooks.ci_parameters(name, tmp_path, write_standins=False)
  assert set(ci) <= set(assigned), f"CI passes parameters {sorted(set(ci) - set(assigned))} that {name} lacks"
  assert "WORKDIR" in ci and "DOWNLOADS" in assigned
  for key, value in ci.items():
    assert type(value) is type(assigned[key]), f"{name}: CI's {key}={value!r} is not a {type(assigned[key])}"


@pytest.mark.parametrize("name", run_notebooks.NAMES)
def test_no_library_code(name):
  for cell in code_cells(name):
    for node in ast.walk(ast.parse(source(cell))):
      assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)), (
        f"{name}.ipynb defines {type(node).__name__}: notebooks import jaxgan and define no library code"
      )
  text = json.dumps(load(name))
  assert "shared/" not in text, f"{name}.ipynb names the team's mirror: data comes by name (jaxgan.download)"


@pytest.mark.parametrize("name", run_notebooks.NAMES)
def test_readme_and_the_notebook_link_it_on_colab(name):
  link = COLAB.format(name)
  readme = (ROOT / "README.md").read_text(encoding="utf-8")
  assert link in readme, f"README.md does not link {name}.ipynb on Colab"
  assert link in source(load(name)["cells"][0]), f"{name}.ipynb's title cell does not link itself on Colab"

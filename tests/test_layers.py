"""The package's floors: no module imports from a floor above its own (README, "How a method is put
together"). A new import that breaks this fails here, naming the file and the import."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1] / "jaxgan"
LEAVES = {"atomic", "errors", "imresize", "download"}  # import nothing of jaxgan but each other
# What each part of jaxgan may import (besides itself and the leaves).
ALLOWED = {
  "nn": set(),
  "losses": {"nn"},
  "models": {"nn"},
  "data": set(),
  "config": {"nn"},
  "visualize": {"data"},
  "results": {"data", "visualize"},
  "metrics": {"nn", "data", "models", "interop", "train"},  # FID's Inception network, its weights, the mesh
  "train": {"nn", "config", "visualize"},
  "interop": {"nn", "models", "train"},
  "latent": {"nn"},
  "inference": {"nn", "models", "data", "train", "visualize"},  # tiled and video inference, below the methods
  "flags": {"config"},
  "experiment": {"flags", "train", "config"},
  "methods": {
    "nn",
    "losses",
    "models",
    "data",
    "config",
    "visualize",
    "results",
    "metrics",
    "train",
    "interop",
    "latent",
    "inference",
  },
}


def _imports(path: pathlib.Path):
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "jaxgan":
      names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "jaxgan" else [node.module]
      yield from ((node.lineno, n) for n in names)
    elif isinstance(node, ast.Import):
      yield from ((node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "jaxgan")


def test_no_module_imports_from_a_higher_floor():
  wrong = []
  for path in sorted(ROOT.rglob("*.py")):
    parts = path.relative_to(ROOT).parts
    part = parts[0].removesuffix(".py")
    if part == "__init__":
      continue
    allowed = (LEAVES if part in LEAVES else ALLOWED[part] | LEAVES) | {part}
    for line, module in _imports(path):
      target = module.split(".")[1] if "." in module else module
      if target not in allowed:
        wrong.append(f"{path.relative_to(ROOT.parent)}:{line}: {module}")
  assert not wrong, "imports from a higher floor:\n" + "\n".join(wrong)


def test_every_part_of_the_package_has_a_floor():
  parts = {p.name.removesuffix(".py") for p in ROOT.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
  assert parts - {"__init__", "__main__"} <= set(ALLOWED) | LEAVES

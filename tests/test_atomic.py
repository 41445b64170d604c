"""Atomic writes: the old file or the new one, never half of one; nothing left behind."""

import json
import os

import pytest

from jaxgan import atomic


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
  path = tmp_path / "sub" / "eval.json"
  atomic.write_json(path, {"a": 1})
  with pytest.raises(RuntimeError, match="disk"):
    with atomic.replacing(path) as tmp:
      with open(tmp, "w") as f:
        f.write('{"a": ')  # cut short
      raise RuntimeError("disk full")
  assert json.loads(path.read_text()) == {"a": 1}
  assert os.listdir(path.parent) == ["eval.json"]


def test_the_temporary_keeps_the_extension_and_sits_beside_the_target(tmp_path):
  with atomic.replacing(tmp_path / "walk.gif") as tmp:
    assert os.path.dirname(tmp) == str(tmp_path) and tmp.endswith(".gif") and not os.path.exists(tmp_path / "walk.gif")
    open(tmp, "wb").close()
  assert os.listdir(tmp_path) == ["walk.gif"]
  assert atomic.write_text(tmp_path / "page.html", "é") == str(tmp_path / "page.html")
  assert (tmp_path / "page.html").read_text(encoding="utf-8") == "é"
  mask = os.umask(0)
  os.umask(mask)
  assert os.stat(tmp_path / "page.html").st_mode & 0o777 == 0o666 & ~mask  # as open() would make it

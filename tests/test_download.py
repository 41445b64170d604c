"""jaxgan.download against a local HTTP server on 127.0.0.1 and mirror folders; never the internet."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import re
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from jaxgan import download
from jaxgan.download import __main__ as cli
from jaxgan.download import fetch, registry, store

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class Server:
  """Serves ``files`` (path -> bytes) with optional faults; records the Range header of each request."""

  def __init__(self):
    self.files: dict[str, bytes] = {}
    self.cut: dict[str, int] = {}  # path -> number of requests to cut halfway
    self.no_range: set[str] = set()
    self.requests: list[tuple[str, str | None]] = []
    outer = self

    class Handler(http.server.BaseHTTPRequestHandler):
      def log_message(self, *args):
        pass

      def do_GET(self):  # noqa: N802
        rng = self.headers.get("Range")
        outer.requests.append((self.path, rng))
        body = outer.files.get(self.path)
        if body is None:
          self.send_error(404)
          return
        start = 0
        if rng and self.path not in outer.no_range:
          start = int(re.match(r"bytes=(\d+)-", rng).group(1))
          if start >= len(body):
            self.send_error(416)
            return
          self.send_response(206)
          self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
          self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        rest = body[start:]
        if outer.cut.get(self.path, 0) > 0:
          outer.cut[self.path] -= 1
          self.wfile.write(rest[: len(rest) // 2])
          self.wfile.flush()
          self.close_connection = True
          return
        self.wfile.write(rest)

    self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
    self.thread.start()

  def url(self, path: str) -> str:
    return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

  def close(self):
    self.httpd.shutdown()
    self.httpd.server_close()


@pytest.fixture
def server():
  s = Server()
  yield s
  s.close()


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
  monkeypatch.setenv("JAXGAN_HOME", str(tmp_path / "home"))
  monkeypatch.delenv("JAXGAN_MIRROR", raising=False)
  return tmp_path / "home"


def register(monkeypatch, entry: registry.Entry) -> registry.Entry:
  monkeypatch.setitem(registry.REGISTRY, entry.name, entry)
  return entry


def file_entry(name, url, **remote) -> registry.Entry:
  r = registry.Remote(url, **remote)
  return registry.Entry(name, "weights", "test", "test", remotes=(r,), path=r.name)


# -- one file ------------------------------------------------------------------------------------


def test_download_verifies_size_and_sha256_and_renames(server, tmp_path):
  server.files["/w.bin"] = PAYLOAD
  dest = tmp_path / "out" / "w.bin"
  sha = fetch.download(registry.Remote(server.url("/w.bin"), len(PAYLOAD), SHA), dest, quiet=True)
  assert sha == SHA and dest.read_bytes() == PAYLOAD
  assert not dest.with_name("w.bin.part").exists()


@pytest.mark.parametrize(
  "spec", [dict(sha256="0" * 64), dict(size=len(PAYLOAD) + 1), dict(sha256_prefix="ffffffff"), dict(md5="0" * 32)]
)
def test_checksum_mismatch_removes_the_file_and_says_why(server, tmp_path, spec):
  server.files["/w.bin"] = PAYLOAD
  dest = tmp_path / "w.bin"
  with pytest.raises(download.ChecksumError, match=r"/w\.bin: not the expected file .*removed"):
    fetch.download(registry.Remote(server.url("/w.bin"), **spec), dest, quiet=True)
  assert list(tmp_path.iterdir()) == []


def test_md5_and_prefix_checks_accept_the_right_file(server, tmp_path):
  server.files["/w.bin"] = PAYLOAD
  remote = registry.Remote(server.url("/w.bin"), md5=hashlib.md5(PAYLOAD).hexdigest(), sha256_prefix=SHA[:8])
  assert fetch.download(remote, tmp_path / "w.bin", quiet=True) == SHA


def test_interrupted_transfer_resumes_with_a_range_request(server, tmp_path):
  server.files["/w.bin"] = PAYLOAD
  server.cut["/w.bin"] = 1
  dest = tmp_path / "w.bin"
  fetch.download(registry.Remote(server.url("/w.bin"), sha256=SHA), dest, quiet=True)
  assert dest.read_bytes() == PAYLOAD
  ranges = [r for p, r in server.requests if p == "/w.bin"]
  assert ranges == [None, f"bytes={len(PAYLOAD) // 2}-"]


def test_server_that_ignores_range_gives_the_whole_file_again(server, tmp_path):
  server.files["/w.bin"] = PAYLOAD
  server.cut["/w.bin"] = 1
  server.no_range.add("/w.bin")
  dest = tmp_path / "w.bin"
  fetch.download(registry.Remote(server.url("/w.bin"), sha256=SHA), dest, quiet=True)
  assert dest.read_bytes() == PAYLOAD


def test_a_transfer_that_keeps_failing_keeps_the_part_file_and_resumes_next_run(server, tmp_path):
  server.files["/w.bin"] = PAYLOAD
  server.cut["/w.bin"] = 2
  server.no_range.add("/w.bin")  # both attempts restart and are cut at half: no progress, give up
  dest = tmp_path / "w.bin"
  remote = registry.Remote(server.url("/w.bin"), sha256=SHA)
  with pytest.raises(download.DownloadError, match="partial file .* is kept: run the same command again"):
    fetch.download(remote, dest, quiet=True)
  assert not dest.exists() and dest.with_name("w.bin.part").stat().st_size == len(PAYLOAD) // 2
  server.no_range.clear()  # the next run resumes from the part file
  fetch.download(remote, dest, quiet=True)
  assert dest.read_bytes() == PAYLOAD
  assert server.requests[-1] == ("/w.bin", f"bytes={len(PAYLOAD) // 2}-")


def test_truncated_file_fails_its_check(server, tmp_path):
  server.files["/w.bin"] = PAYLOAD[:1000]  # the server's copy itself is short
  with pytest.raises(download.ChecksumError, match=f"size 1,000 bytes, expected {len(PAYLOAD):,}"):
    fetch.download(registry.Remote(server.url("/w.bin"), len(PAYLOAD), SHA), tmp_path / "w.bin", quiet=True)


def test_http_error_and_unreachable_host_are_one_line(server, tmp_path):
  with pytest.raises(download.DownloadError, match=r"/nothing: HTTP 404"):
    fetch.download(registry.Remote(server.url("/nothing")), tmp_path / "x", quiet=True)
  closed = Server()
  url = closed.url("/w.bin")
  closed.close()
  with pytest.raises(download.DownloadError, match="no internet.*JAXGAN_MIRROR"):
    fetch.download(registry.Remote(url), tmp_path / "x", quiet=True)


# -- entries: cache, records, archives, mirrors ------------------------------------------------------


def test_fetch_entry_caches_and_resolve_finds_it(server, monkeypatch, empty_cache):
  server.files["/w.bin"] = PAYLOAD
  e = register(monkeypatch, file_entry("w", server.url("/w.bin"), sha256=SHA))
  with pytest.raises(download.NotAvailableError, match="w is not downloaded: run `python -m jaxgan.download w`"):
    download.resolve("w")
  path = download.fetch_entry("w", quiet=True)
  assert path == empty_cache / "w" / "w.bin" == download.resolve("w")
  assert download.fetch_entry("w", quiet=True) == path  # cached: no second request
  assert len(server.requests) == 1
  assert download.status(e.name) == ("cache", path)


def test_unpublished_hash_is_recorded_at_first_download_and_enforced_after(server, monkeypatch, empty_cache):
  server.files["/w.bin"] = PAYLOAD
  register(monkeypatch, file_entry("w", server.url("/w.bin")))
  path = download.fetch_entry("w", quiet=True)
  records = json.loads((empty_cache / "hashes.json").read_text())
  assert records == {server.url("/w.bin"): SHA}
  path.unlink()
  (empty_cache / "w" / ".complete").unlink()
  server.files["/w.bin"] = PAYLOAD[::-1]  # the file changed upstream
  with pytest.raises(download.ChecksumError, match="recorded at the first download"):
    download.fetch_entry("w", quiet=True)
  assert not path.exists()


def _tar_gz(members: dict[str, bytes]) -> bytes:
  buf = io.BytesIO()
  with tarfile.open(fileobj=buf, mode="w:gz") as t:
    for name, data in members.items():
      info = tarfile.TarInfo(name)
      info.size = len(data)
      t.addfile(info, io.BytesIO(data))
  return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
  buf = io.BytesIO()
  with zipfile.ZipFile(buf, "w") as z:
    for name, data in members.items():
      z.writestr(name, data)
  return buf.getvalue()


@pytest.mark.parametrize("pack,ext", [(_tar_gz, "tar.gz"), (_zip, "zip")])
def test_archive_entry_is_extracted_and_reduced_to_its_members(server, monkeypatch, empty_cache, pack, ext):
  archive = pack({"set/test/1.jpg": b"one", "set/test/2.jpg": b"two", "set/train/3.jpg": b"three"})
  server.files[f"/set.{ext}"] = archive
  remote = registry.Remote(server.url(f"/set.{ext}"), len(archive), hashlib.sha256(archive).hexdigest())
  register(monkeypatch, registry.Entry("whole", "dataset", "t", "t", (remote,), path="set", extract=True))
  register(
    monkeypatch,
    registry.Entry("two", "dataset", "t", "t", (remote,), path="set/test", extract=True, members=("2.jpg",)),
  )
  whole = download.fetch_entry("whole", quiet=True)
  assert sorted(p.relative_to(whole).as_posix() for p in whole.rglob("*.jpg")) == [
    "test/1.jpg",
    "test/2.jpg",
    "train/3.jpg",
  ]
  two = download.fetch_entry("two", quiet=True)
  assert [p.name for p in two.iterdir()] == ["2.jpg"]
  assert len(server.requests) == 1  # the archive is downloaded once for both entries
  assert not list(empty_cache.glob(".two.*"))  # no staging folder left


def test_archive_that_escapes_its_folder_is_refused(tmp_path):
  (tmp_path / "evil.tar.gz").write_bytes(_tar_gz({"../outside.txt": b"x"}))
  with pytest.raises(download.DownloadError, match="outside the folder"):
    store.extract(tmp_path / "evil.tar.gz", tmp_path / "into")
  assert not (tmp_path / "outside.txt").exists()


def test_archive_missing_expected_members_is_an_error(server, monkeypatch, empty_cache):
  archive = _zip({"set/1.jpg": b"one"})
  server.files["/s.zip"] = archive
  register(
    monkeypatch,
    registry.Entry(
      "s",
      "dataset",
      "t",
      "t",
      (registry.Remote(server.url("/s.zip")),),
      path="set",
      extract=True,
      members=("1.jpg", "9.jpg"),
    ),
  )
  with pytest.raises(download.DownloadError, match=r"lacks 1 expected files, e.g. \['9.jpg'\]"):
    download.fetch_entry("s", quiet=True)
  with pytest.raises(download.NotAvailableError):
    download.resolve("s")


def test_mirror_copy_is_verified_and_nothing_is_requested(server, monkeypatch, tmp_path, empty_cache):
  register(monkeypatch, file_entry("w", server.url("/w.bin"), sha256=SHA))
  mirror = tmp_path / "mirror"
  mirror.mkdir()
  (mirror / "w.bin").write_bytes(PAYLOAD)
  monkeypatch.setenv("JAXGAN_MIRROR", f"{tmp_path / 'absent'}:{mirror}")
  assert download.fetch_entry("w", quiet=True).read_bytes() == PAYLOAD
  assert server.requests == []
  assert (mirror / "w.bin").exists()  # a mirror is read, never changed


def test_corrupt_mirror_copy_is_refused(server, monkeypatch, tmp_path):
  register(monkeypatch, file_entry("w", server.url("/w.bin"), sha256=SHA))
  (tmp_path / "m").mkdir()
  (tmp_path / "m" / "w.bin").write_bytes(PAYLOAD[:-1] + b"!")
  with pytest.raises(download.ChecksumError, match=r"m/w\.bin: not the expected file"):
    download.fetch_entry("w", mirror=tmp_path / "m", quiet=True)
  assert (tmp_path / "m" / "w.bin").exists()


def test_ready_made_mirror_folder_is_used_in_place(monkeypatch, tmp_path):
  (tmp_path / "m" / "sr" / "BSD68").mkdir(parents=True)
  monkeypatch.setenv("JAXGAN_MIRROR", str(tmp_path / "m"))
  assert download.resolve("bsd68") == tmp_path / "m" / "sr" / "BSD68"
  assert download.fetch_entry("bsd68") == tmp_path / "m" / "sr" / "BSD68"
  assert download.status("bsd68")[0] == f"mirror {tmp_path / 'm'}"


def test_alternatives_stand_in_and_the_error_names_every_command(monkeypatch, tmp_path):
  with pytest.raises(
    download.NotAvailableError,
    match=r"vgg16 is not downloaded: run `python -m jaxgan.download vgg16` "
    r"\(or python -m jaxgan.download vgg16_keras\)",
  ):
    download.resolve("vgg16")
  (tmp_path / "m" / "vgg16").mkdir(parents=True)
  (tmp_path / "m" / "vgg16" / "vgg16_conv_keras_imagenet.npz").write_bytes(b"")
  monkeypatch.setenv("JAXGAN_MIRROR", str(tmp_path / "m"))
  assert download.resolve("vgg16").name == "vgg16_conv_keras_imagenet.npz"


# -- flags -----------------------------------------------------------------------------------------


def test_resolve_flag_paths_names_and_files_of_entries(tmp_path):
  (tmp_path / "x.png").write_bytes(b"")
  assert download.resolve_flag(str(tmp_path / "x.png"), flag="--image", kind="file") == str(tmp_path / "x.png")
  images = download.resolve("singan_images")
  assert download.resolve_flag("balloons", flag="--image", kind="file", search=("singan_images",)) == str(
    images / "balloons.png"
  )
  assert download.resolve_flag("singan_harmonization/tree", flag="--ref_image", kind="file").endswith(
    "Harmonization/tree.jpg"
  )
  assert download.resolve_flag("set5", flag="--eval_dir", kind="dir") == str(download.resolve("set5"))
  with pytest.raises(FileNotFoundError, match="--eval_dir=set5: .* is not a file"):
    download.resolve_flag("set5", flag="--eval_dir", kind="file")
  with pytest.raises(
    FileNotFoundError, match="--image=nope: no such file, not a registered name nor a file of singan_images"
  ):
    download.resolve_flag("nope", flag="--image", kind="file", search=("singan_images",))
  with pytest.raises(download.NotAvailableError, match="--dataset=bsd68: bsd68 is not downloaded: run"):
    download.resolve_flag("bsd68", flag="--dataset", kind="dir")


# -- the command -----------------------------------------------------------------------------------


def test_command_fetches_lists_and_rejects_unknown_names(server, monkeypatch, capsys, empty_cache):
  server.files["/w.bin"] = PAYLOAD
  register(monkeypatch, file_entry("w", server.url("/w.bin"), sha256=SHA))
  assert cli.main(["w", "--quiet"]) == 0
  assert capsys.readouterr().out.strip() == f"w: {empty_cache / 'w' / 'w.bin'}"
  assert cli.main(["--list"]) == 0
  listing = capsys.readouterr().out
  assert re.search(r"^w +weights .* cache ", listing, re.M)
  assert re.search(r"^set5 +example .* shipped ", listing, re.M)
  assert re.search(r"^horse2zebra +dataset +111\.5 MB  missing ", listing, re.M)
  with pytest.raises(SystemExit) as e:
    cli.main(["not_a_name"])
  assert e.value.code == 2 and "unknown name(s) not_a_name" in capsys.readouterr().err
  server.files["/w.bin"] = b"other"
  register(monkeypatch, file_entry("v", server.url("/w.bin"), sha256=SHA))
  assert cli.main(["v", "--quiet"]) == 1
  assert re.fullmatch(r"jaxgan\.download: v: .*not the expected file.*\n", capsys.readouterr().err)


# -- the registry itself ---------------------------------------------------------------------------


def test_registry_is_well_formed():
  for name, e in registry.REGISTRY.items():
    assert re.fullmatch(r"[a-z0-9_]+", name), name
    for r in e.remotes:
      assert r.url.startswith(("http://", "https://")) and "127.0.0.1" not in r.url and "localhost" not in r.url
      assert r.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", r.sha256), name
      assert r.md5 is None or re.fullmatch(r"[0-9a-f]{32}", r.md5), name
      if r.sha256_prefix:  # torchvision / pytorch-fid: the prefix is part of the published file name
        assert r.name.rsplit(".", 1)[0].endswith(r.sha256_prefix), r.name
    if e.shipped:
      files = [p for p in (store.ASSETS / e.shipped).iterdir() if p.is_file()]
      assert files and all(p.suffix in (".png", ".jpg") for p in files), name


def test_shipped_assets_stay_small_and_carry_their_provenance():
  total = sum(p.stat().st_size for p in store.ASSETS.rglob("*") if p.is_file())
  assert total < 10 * 2**20
  for top in ("singan", "style", "sr"):
    assert "github.com/" in (store.ASSETS / top / "SOURCE.md").read_text()


def test_no_product_file_names_the_team_mirror():
  root = Path(__file__).resolve().parents[1]
  hits = [
    str(p)
    for folder in ("jaxgan", "experiments", "tests", "benchmarks")
    for p in (root / folder).rglob("*")
    if p.is_file()
    and p.suffix in (".py", ".flags", ".md")
    and p != Path(__file__).resolve()
    and re.search(r"\.\./shared", p.read_text(errors="replace"))
  ]
  assert hits == []

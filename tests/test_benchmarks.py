"""Smoke tests of the helpers of benchmarks/train_step.py and benchmarks/conv_layers.py (fast)."""

import json
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

import conv_layers  # noqa: E402
import train_step  # noqa: E402

from jaxgan.methods import dcgan  # noqa: E402


def test_cost_flops_accepts_dict_list_and_missing():
  assert train_step.cost_flops({"flops": 3.0, "bytes accessed": 1.0}) == 3.0
  assert train_step.cost_flops([{"flops": 2.0}, {"flops": 5.0}]) == 7.0
  assert train_step.cost_flops([{}]) is None
  assert train_step.cost_flops(None) is None


def test_compiled_helpers_on_a_tiny_function():
  compiled = jax.jit(lambda a, b: a @ b).lower(jnp.ones((8, 8)), jnp.ones((8, 8))).compile()
  assert train_step.cost_flops(compiled.cost_analysis()) >= 2 * 8**3 * 0.5
  mem = train_step.compiled_memory(compiled)
  assert set(mem) >= {"argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes"}
  if mem["argument_size_in_bytes"] is not None:
    assert mem["argument_size_in_bytes"] == 2 * 8 * 8 * 4
  assert train_step.max_rss_bytes() > 0
  assert train_step.measure_peak_flops(n=64, repeats=2) > 0


def test_presets_and_overrides():
  assert set(train_step.PRESETS) == {
    "dcgan64_b128",
    "dcgan16_digits",
    "gan_mnist_b100",
    "pix2pix256_b1",
    "pix2pix256_b16",
    "cyclegan256_b1",
  }
  preset = train_step.PRESETS["dcgan16_digits"]()
  assert (preset.config.image_size, preset.config.channels, preset.config.ngf, preset.config.batch_size) == (
    16,
    1,
    64,
    128,
  )
  config = train_step.apply_overrides(dcgan.Config(), "ngf=16, ndf=8,learning_rate=0.1")
  assert (config.ngf, config.ndf, config.learning_rate) == (16, 8, 0.1)
  with pytest.raises(ValueError):
    train_step.apply_overrides(dcgan.Config(), "nonsense=1")
  batch = train_step.random_batch(config.replace(batch_size=4, image_size=16))
  assert batch["image"].shape == (4, 16, 16, 3) and batch["label"].shape == (4,)
  p2p = train_step.PRESETS["pix2pix256_b16"]()
  batch = p2p.make_batch(p2p.config, 0)
  assert batch["a"].shape == batch["b"].shape == (16, 256, 256, 3)
  cg = train_step.PRESETS["cyclegan256_b1"]()
  batch = cg.make_batch(cg.config, 0)
  assert batch["A/image"].shape == batch["B/image"].shape == (1, 256, 256, 3)


def test_markdown_table_has_one_row_per_result_and_dashes_for_unknowns():
  table = train_step.markdown_table([{"preset": "p", "method": "m", "batch": 2, "step_ms": 1.0}])
  lines = table.splitlines()
  assert len(lines) == 3 and lines[2].startswith("| p | m | 2 |") and "| - |" in lines[2]


@pytest.mark.parametrize("cin,cout,side", [(3, 5, 4), (4, 1, 3)])
def test_conv_reformulations_equal_the_model_layers(cin, cout, side):
  kx, kw = jax.random.split(jax.random.PRNGKey(0))
  x = jax.random.normal(kx, (2, side, side, cin))
  w = jax.random.normal(kw, (4, 4, cin, cout))
  ref = conv_layers.convt_flax(x, w)
  assert ref.shape == (2, 2 * side, 2 * side, cout)
  for f in (conv_layers.convt_subpixel, conv_layers.convt_phases):
    np.testing.assert_allclose(f(x, w), ref, atol=1e-4)
  xd = jax.random.normal(kx, (2, 2 * side, 2 * side, cin))
  np.testing.assert_allclose(conv_layers.conv_s2d(xd, w), conv_layers.conv_flax(xd, w), atol=1e-4)


def test_singan_scales_parses_scales_and_times_every_scale(tmp_path, capsys):
  import singan_scales  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top

  assert singan_scales.parse_scales("all", 3) == [0, 1, 2]
  assert singan_scales.parse_scales("2,-1,0", 4) == [0, 2, 3]
  with pytest.raises(ValueError, match="--scales: 5 is not a scale"):
    singan_scales.parse_scales("5", 3)
  pixels = np.random.default_rng(0).integers(0, 256, (30, 36, 3), dtype=np.uint8)
  Image.fromarray(pixels).save(tmp_path / "img.png")
  out = str(tmp_path / "rows.json")
  rows = singan_scales.main(
    [
      f"--image={tmp_path / 'img.png'}",
      "--max_size=36",
      "--steps=1",
      "--warmup=0",
      "--set=min_size=24,nfc=8,min_nfc=8,num_steps=100",
      f"--data_dir={tmp_path / 'tfds'}",
      "--scales=0,-1",
      f"--json={out}",
    ]
  )
  assert len(rows) == 2 and rows[0]["scale"] == 0 and rows[1]["scale"] > 0 and rows[1]["shape"] == [30, 36]
  assert all(r["iteration_s"] > 0 and r["hours_at_num_steps"] == r["iteration_s"] * 100 / 3600 for r in rows)
  assert "| scale | H x W |" in capsys.readouterr().out
  assert os.path.exists(out)


def test_singan_gp_norm_trains_the_coarsest_scale_with_each_norm(tmp_path):
  import singan_gp_norm  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top

  pixels = np.random.default_rng(0).integers(0, 256, (26, 30, 3), dtype=np.uint8)
  Image.fromarray(pixels).save(tmp_path / "img.png")
  with pytest.raises(SystemExit):
    singan_gp_norm.main([f"--image={tmp_path / 'img.png'}", "--norms=batch", f"--out={tmp_path}"])
  results = singan_gp_norm.main(
    [
      f"--image={tmp_path / 'img.png'}",
      "--max_size=30",
      "--iterations=2",
      f"--data_dir={tmp_path / 'tfds'}",
      f"--out={tmp_path / 'out'}",
    ]
  )
  assert set(results) == {"pixel", "example"}
  for norm, r in results.items():
    assert r["critic_gap"] == pytest.approx(r["d_real"] - r["d_fake"]) and np.isfinite(r["gradient_penalty"])
    assert os.path.exists(tmp_path / "out" / f"{norm}.png")
  # The two norms penalise different gradients: their first steps differ.
  assert results["pixel"]["gradient_penalty"] != results["example"]["gradient_penalty"]


def test_vs_pytorch_times_both_sides_of_every_method(tmp_path, capsys):
  """Every method's jaxgan step and PyTorch step run at a tiny setting; the row's ratio is theirs."""
  pytest.importorskip("torch")
  import vs_pytorch  # noqa: E402 (imports torch_steps lazily)

  out = tmp_path / "vs.json"
  rows = []
  for methods, overrides in [
    ("dcgan", "image_size=16,batch_size=4,ngf=8,ndf=8"),
    ("srresnet,srgan", "crop_size=24,batch_size=2,n_blocks=2"),
    ("style", "image_size=32,batch_size=1"),
  ]:
    rows += vs_pytorch.main(
      [f"--methods={methods}", f"--set={overrides}", "--steps=2", "--warmup=0", f"--json={out}", "--threads=1"]
    )
  singan_args = ["--methods=singan", "--set=max_size=40,d_steps=1,g_steps=1", "--scales=0,-1", "--steps=1"]
  rows += vs_pytorch.main([*singan_args, "--warmup=0", "--threads=1"])
  assert [r["method"] for r in rows][:4] == ["dcgan", "srresnet", "srgan", "style"]
  assert [r["scale"] for r in rows[4:]] == [0, rows[-1]["scale"]] and rows[-1]["scale"] > 0
  for r in rows:
    assert len(r["jax_times"]) == len(r["torch_times"]) >= 1
    assert r["speed"] == pytest.approx(r["torch_s"] / r["jax_s"])
    assert r["gflop_per_step"] > 0 and r["torch_params"] > 0 and r["torch_step_peak_mib"] >= 0
  saved = json.loads(out.read_text())
  assert saved["rows"][0]["method"] == "style" and saved["environment"]["compile_options"] is not None
  assert "| dcgan |" in capsys.readouterr().out


def test_vs_pytorch_rejects_unknown_methods():
  pytest.importorskip("torch")
  import vs_pytorch  # noqa: E402

  with pytest.raises(SystemExit):
    vs_pytorch.main(["--methods=dcgan,nope"])


def test_conv_paths_checks_and_times_every_path(monkeypatch, capsys, conv_paths_at_any_size):
  import conv_paths  # noqa: E402

  layers = {
    "tiny": (2, 9, 3, 4, 4, 2, 1),
    "tiny_s1": (1, 7, 2, 3, 3, 1, 1),
    "tiny_t": (2, 3, 3, 2, 4, 2, 1, "transposed"),
    "few_pixels": (1, 2, 4, 16, 4, 2, 1),  # one output pixel, 16 channels: jaxgan.nn.patch_gemm
    "few_pixels_t": (1, 2, 3, 16, 4, 2, 1, "transposed"),
  }
  monkeypatch.setattr(conv_paths, "LAYERS", layers)
  # --no_patch_products sets the rule's module constant: monkeypatch restores it afterwards
  monkeypatch.setattr(
    conv_paths.conv_rules, "PATCH_GEMM_PIXELS_PER_CHANNEL", conv_paths.conv_rules.PATCH_GEMM_PIXELS_PER_CHANNEL
  )
  for flags in ([], ["--no_patch_products"]):  # each path checked equal to XLA's before it is timed
    rows = conv_paths.main([f"--layers={','.join(layers)}", "--repeats=1", "--no_torch", *flags])
    assert [r["layer"] for r in rows] == list(layers)
    assert all(set(r) >= {"xla", "eigen", "jaxgan"} and r["jaxgan"]["dw"] > 0 for r in rows)
    assert [r["transposed"] for r in rows] == [False, False, True, False, True]
  assert conv_paths.conv_rules.PATCH_GEMM_PIXELS_PER_CHANNEL == 0
  assert "| tiny_t |" in capsys.readouterr().out


@pytest.mark.parametrize("budget", [10_000, 123_456, 5_000_000])
def test_memory_largest_crop_fits_and_the_next_size_does_not(budget):
  import memory  # pylint: disable=import-outside-toplevel

  calls = []

  def measure(crop):  # a plan that is not exactly a line in pixels
    calls.append(crop)
    return 500 + 3 * crop * crop + 40 * crop

  crop, seen = memory.largest_crop(measure, 16, budget, probes=(32, 64))
  assert crop % 16 == 0 and measure(crop) <= budget < measure(crop + 16)
  assert len(set(calls)) == len(calls) - 2  # each size measured once (plus the two checks above)
  assert set(seen) >= {32, 64, crop, crop + 16}


def test_memory_line_fit_and_budget_crop():
  import memory  # pylint: disable=import-outside-toplevel

  intercept, slope = memory.fit_line([(100, 1_000 + 2 * 100**2), (200, 1_000 + 2 * 200**2)])
  assert abs(intercept - 1_000) < 1e-3 and abs(slope - 2) < 1e-9
  crop = memory.crop_in_budget(intercept, slope, 1_000 + 2 * 300**2, 64)
  assert crop == 256


def test_memory_plans_less_with_remat_and_writes_a_table(tmp_path, capsys):
  """The real plans at small crops: --remat lowers pix2pix's; the table and JSON come out."""
  import memory  # pylint: disable=import-outside-toplevel

  plain = memory.planned_bytes("pix2pix", 512, remat=False, precision="float32")
  remat = memory.planned_bytes("pix2pix", 512, remat=True, precision="float32")
  assert remat < plain
  budget = (remat + 1) / 2**30  # a little more than the plan at 512
  rows = memory.main(
    [
      "--methods=pix2pix",
      f"--budget_gib={budget}",
      "--torch_sizes=256",
      "--no_torch",
      "--settings=remat",
      f"--json={tmp_path / 'm.json'}",
    ]
  )
  assert [(r["setting"], r["largest_crop"]) for r in rows] == [("jaxgan remat", 512)]
  assert "| pix2pix | jaxgan remat |" in capsys.readouterr().out
  assert json.load(open(tmp_path / "m.json"))["budget_gib"] == budget


def test_norm_reductions_flat_equals_axes(capsys):
  import norm_reductions  # pylint: disable=import-outside-toplevel

  rows = norm_reductions.main(["--shapes=2x5x4x3", "--repeats=1"])
  assert [r["norm"] for r in rows] == ["batch", "instance"]
  assert all(r["max_abs_diff"] < 1e-5 and r["flat_bwd_ms"] > 0 for r in rows)
  assert "| instance | 2x5x4x3 |" in capsys.readouterr().out

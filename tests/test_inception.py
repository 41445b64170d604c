"""The FID Inception-v3 (jaxgan.models.inception, jaxgan.interop.inception) against pytorch-fid and
torch-fidelity, with random weights (no real ones here): outputs, resizes, loaders, errors.

The reference tests skip where torch / pytorch-fid / torch-fidelity are missing (tests.reference_fid);
the rest runs everywhere.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxgan import download
from jaxgan.interop import inception as interop
from jaxgan.interop.torch_checkpoint import StateDictMismatchError
from jaxgan.models import inception as inc
from jaxgan.train.state import split_module

PARAMS = 23_850_960  # torchvision's Inception3 with a 1008-way fc and no aux head
TOL = 1e-4  # relative to the largest magnitude of each output
RESIZE_TOL = 1e-5


def rel_err(got, want) -> float:
  got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
  assert got.shape == want.shape, (got.shape, want.shape)
  return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-12))


@pytest.fixture(scope="module")
def ref():
  from tests import reference_fid  # skips where torch / pytorch-fid / torch-fidelity are missing

  return reference_fid


@pytest.fixture(scope="module")
def abstract_net():
  return interop.abstract_inception()


@pytest.fixture(scope="module")
def random_weights(abstract_net):
  """``(graphdef, params, stats)`` of a random network, and its state dict (numpy), without torch."""
  rng = np.random.default_rng(0)
  graphdef, params, stats = split_module(abstract_net)
  params, stats = jax.tree.map(lambda a: jnp.asarray(0.1 * rng.standard_normal(a.shape, np.float32)), (params, stats))
  return (graphdef, params, stats), interop.to_torch_state_dict(params, stats)


# ------------------------------------------------------------------ structure


def test_parameter_count_and_key_set(abstract_net):
  assert inc.count_params(abstract_net) == PARAMS
  keys = interop.state_dict_keys()
  assert len(keys) == 94 * 6 + 2 and len(set(keys)) == len(keys)  # 94 BasicConv2d (conv + 5 bn) and the fc
  assert keys[:2] == ["Conv2d_1a_3x3.conv.weight", "Conv2d_1a_3x3.bn.weight"] and keys[-2:] == ["fc.weight", "fc.bias"]


def test_outputs_shapes_order_and_depth(random_weights):
  (graphdef, params, stats), _ = random_weights

  def run(x, outputs=None):
    return nnx.merge(graphdef, params, stats)(x, outputs=outputs)

  x = jax.ShapeDtypeStruct((2, 299, 299, 3), jnp.float32)
  out = jax.eval_shape(run, x)
  assert set(out) == set(inc.OUTPUTS)
  shapes = {k: v.shape for k, v in out.items()}
  assert shapes == {
    "64": (2, 73, 73, 64),
    "192": (2, 35, 35, 192),
    "768": (2, 17, 17, 768),
    "2048": (2, 2048),
    "logits_unbiased": (2, 1008),
    "logits": (2, 1008),
  }
  assert set(jax.eval_shape(lambda x: run(x, ("2048", "64")), x)) == {"64", "2048"}
  # Only as deep as asked: 3 convolutions to "64", 5 to "192", 70 to "768", all 94 for pool3.
  counts = [str(jax.make_jaxpr(lambda x, o=o: run(x, o))(x)).count("conv_general_dilated[") for o in inc.OUTPUTS]
  assert counts == [3, 5, 70, 94, 94, 94]


def test_bad_outputs_and_sizes(random_weights):
  (graphdef, params, stats), _ = random_weights
  net = nnx.merge(graphdef, params, stats)
  with pytest.raises(ValueError, match="unknown Inception output"):
    inc.check_outputs(["pool3"])
  with pytest.raises(ValueError, match="at least one"):
    inc.check_outputs([])
  for stage, side in inc.MIN_SIDE.items():
    name = next(n for n in inc.OUTPUTS if inc.STAGE[n] == stage)
    ok = jax.eval_shape(
      lambda x, name=name: net(x, outputs=name), jax.ShapeDtypeStruct((1, side, side, 3), jnp.float32)
    )
    assert all(min(v.shape) >= 1 for v in ok.values())
    with pytest.raises(ValueError, match=f"at least {side}"):
      net(jnp.zeros((1, side - 1, side + 10, 3)), outputs=name)
  with pytest.raises(ValueError, match=r"\[N, H, W, 3\]"):
    net(jnp.zeros((1, 299, 299, 1)))


# ------------------------------------------------------------------ preprocessing


def test_preprocess_dtype_rule():
  rng = np.random.default_rng(0)
  u8 = rng.integers(0, 256, (2, 40, 30, 3), dtype=np.uint8)
  floats = u8.astype(np.float32) / 127.5 - 1
  for resize in inc.RESIZES:
    a = inc.preprocess(u8, resize=resize)
    b = inc.preprocess(floats, resize=resize)
    assert a.shape == (2, 299, 299, 3) and a.dtype == jnp.float32
    assert float(jnp.max(jnp.abs(a - b))) < 1e-6  # the float x stands for the uint8 (x + 1) 127.5
  full = np.array([0, 255], np.uint8).reshape(1, 1, 2, 1).repeat(299, 1).repeat(150, 2).repeat(3, 3)[:, :, :299]
  assert full.shape == (1, 299, 299, 3)
  # At 299 no resampling; the normalisations differ: pytorch-fid maps to [-1, 1], TF to [-1, 127/128].
  assert set(np.unique(np.asarray(inc.preprocess(full, resize="pytorch_fid")))) == {-1.0, 1.0}
  assert set(np.unique(np.asarray(inc.preprocess(full, resize="tf1")))) == {-1.0, 127 / 128}
  with pytest.raises(TypeError, match="uint8"):
    inc.preprocess(u8.astype(np.int32))
  with pytest.raises(ValueError, match="resize"):
    inc.preprocess(u8, resize="bilinear")


@settings(max_examples=15, deadline=None)
@given(
  h=st.integers(1, 360),
  w=st.integers(1, 360),
  oh=st.integers(1, 300),
  ow=st.integers(1, 300),
  seed=st.integers(0, 2**16),
)
def test_resizes_match_torch_and_torch_fidelity(ref, h, w, oh, ow, seed):
  x = np.random.default_rng(seed).uniform(0, 255, (2, h, w, 3)).astype(np.float32)
  want = ref.nhwc(ref.F.interpolate(ref.nchw(x), size=(oh, ow), mode="bilinear", align_corners=False))
  assert rel_err(inc.resize_bilinear_torch(x, (oh, ow)), want) < RESIZE_TOL
  want = ref.nhwc(ref.tf1_resize(ref.nchw(x), (oh, ow)))
  assert rel_err(inc.resize_bilinear_tf1(x, (oh, ow)), want) < RESIZE_TOL


def test_resizes_differ_from_each_other():
  """The two references' resizes are different functions (pixel centres vs corners)."""
  x = np.random.default_rng(1).uniform(0, 1, (1, 32, 32, 3)).astype(np.float32)
  assert rel_err(inc.resize_bilinear_torch(x), inc.resize_bilinear_tf1(x)) > 1e-2


# ------------------------------------------------------------------ against the references


@pytest.fixture(scope="module")
def reference_setup(ref, tmp_path_factory):
  """Random weights in pytorch-fid's file (with num_batches_tracked) and torch-fidelity's (without)."""
  folder = tmp_path_factory.mktemp("fid_inception")
  sd = ref.random_state_dict(seed=3)
  pt_fid = folder / "pt_inception-random.pth"
  ref.torch.save(sd, pt_fid)
  fidelity = folder / "weights-inception-random.pth"
  ref.torch.save({k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}, fidelity)
  graphdef, params, stats = interop.load_fid_inception(pt_fid)
  apply = jax.jit(lambda params, stats, x: nnx.merge(graphdef, params, stats)(x))
  with pytest.MonkeyPatch.context() as monkeypatch:
    pytorch_fid = ref.pytorch_fid_inception(sd, monkeypatch, resize_input=True, normalize_input=True)
  return sd, fidelity, (graphdef, params, stats), apply, pytorch_fid, ref.torch_fidelity_extractor(fidelity)


def test_loaders_agree_and_count_matches_torch(reference_setup):
  sd, fidelity, (graphdef, params, stats), _, pytorch_fid, torch_fidelity = reference_setup
  _, params2, stats2 = interop.load_fid_inception(fidelity)
  same = jax.tree.map(lambda a, b: np.array_equal(np.asarray(a), np.asarray(b)), (params, stats), (params2, stats2))
  assert all(jax.tree.leaves(same))
  fc = sd["fc.weight"].numel() + sd["fc.bias"].numel()  # pytorch-fid's wrapper holds all but the fc
  assert sum(p.numel() for p in pytorch_fid.parameters()) + fc == PARAMS
  assert sum(p.numel() for p in torch_fidelity.parameters()) == PARAMS
  assert list(torch_fidelity.state_dict()) == interop.state_dict_keys()  # torch-fidelity's keys are pytorch-fid's


def test_pytorch_fid_mode_matches_pytorch_fid(ref, reference_setup):
  sd, _, (graphdef, params, stats), apply, net, _ = reference_setup
  images = np.random.default_rng(5).integers(0, 256, (2, 96, 128, 3), dtype=np.uint8)  # upscaled, non-square
  with ref.torch.no_grad():
    blocks = net(ref.nchw(images).float() / 255)  # pytorch-fid's ToTensor: uint8 / 255
    pool3 = blocks[3].flatten(1)
    logits = ref.F.linear(pool3, sd["fc.weight"], sd["fc.bias"])
  want = {"64": blocks[0], "192": blocks[1], "768": blocks[2], "2048": pool3, "logits": logits}
  got = apply(params, stats, inc.preprocess(images, resize="pytorch_fid"))
  errors = {k: rel_err(got[k], ref.nhwc(v)) for k, v in want.items()}
  print("pytorch_fid relative errors", errors)
  assert max(errors.values()) < TOL, errors
  assert rel_err(got["logits_unbiased"] + params["fc"]["bias"][...], got["logits"]) < 1e-6
  # feature_fn (the jitted loader path) on a shallow output gives the same block.
  shallow = inc.feature_fn(graphdef, outputs="64", resize="pytorch_fid")(params, stats, images)
  assert list(shallow) == ["64"] and rel_err(shallow["64"], got["64"]) < 1e-6


def test_tf1_mode_matches_torch_fidelity(ref, reference_setup):
  _, _, (graphdef, params, stats), apply, _, extractor = reference_setup
  images = np.random.default_rng(6).integers(0, 256, (2, 331, 310, 3), dtype=np.uint8)  # downscaled, non-square
  with ref.torch.no_grad():
    want = dict(zip(ref.TORCH_FIDELITY_FEATURES, extractor(ref.nchw(images))))
  got = inc.spatial_means(apply(params, stats, inc.preprocess(images, resize="tf1")))
  errors = {k: rel_err(got[k], ref.nhwc(v)) for k, v in want.items()}
  print("tf1 relative errors", errors)
  assert max(errors.values()) < TOL, errors


# ------------------------------------------------------------------ loader errors and files


def test_loader_errors_name_the_key(random_weights):
  _, sd = random_weights
  missing = dict(sd)
  del missing["Mixed_6c.branch7x7dbl_3.bn.running_var"]
  with pytest.raises(StateDictMismatchError, match=r"missing.*Mixed_6c\.branch7x7dbl_3\.bn\.running_var"):
    interop.load_fid_inception(missing)
  wrong = dict(sd, **{"Mixed_7b.branch3x3_2a.conv.weight": np.zeros((384, 384, 3, 1), np.float32)})
  with pytest.raises(StateDictMismatchError, match=r"shape mismatch for 'Mixed_7b\.branch3x3_2a\.conv\.weight'"):
    interop.load_fid_inception(wrong)
  imagenet = dict(sd, **{"AuxLogits.fc.weight": np.zeros((1000, 768), np.float32)})
  imagenet["fc.weight"] = np.zeros((1000, 2048), np.float32)
  with pytest.raises(StateDictMismatchError, match=r"(?s)AuxLogits\.fc\.weight.*'fc\.weight'.*ImageNet"):
    interop.load_fid_inception(imagenet)
  wrapper = {f"blocks.0.{k}": v for k, v in sd.items()}
  with pytest.raises(StateDictMismatchError, match="InceptionV3 wrapper"):
    interop.load_fid_inception(wrapper)
  no_stats = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
  interop.load_fid_inception(no_stats)  # torch-fidelity's file has none: fine


def test_npz_round_trip_without_torch(random_weights, tmp_path):
  (graphdef, params, stats), sd = random_weights
  path = tmp_path / "inception.npz"
  interop.save_inception_npz(params, stats, path)
  _, params2, stats2 = interop.load_fid_inception(path)
  same = jax.tree.map(lambda a, b: np.array_equal(np.asarray(a), np.asarray(b)), (params, stats), (params2, stats2))
  assert all(jax.tree.leaves(same))
  assert set(np.load(path).files) == set(sd)


def test_registered_names(tmp_path, monkeypatch):
  monkeypatch.setenv("JAXGAN_HOME", str(tmp_path / "home"))
  monkeypatch.setenv("JAXGAN_MIRROR", "")
  for name in interop.WEIGHTS:
    entry = download.REGISTRY[name]
    assert entry.kind == "weights" and entry.remotes[0].sha256_prefix == "6726825d"
    with pytest.raises(download.NotAvailableError, match=f"python -m jaxgan.download {name}"):
      interop.load_fid_inception(name)
  with pytest.raises(FileNotFoundError, match="fid_inception_torch_fidelity"):
    interop.load_fid_inception(str(tmp_path / "nothing.pth"))
  bad = tmp_path / "weights.bin"
  bad.write_bytes(b"x")
  with pytest.raises(ValueError, match="unknown FID Inception weights format"):
    interop.load_fid_inception(bad)

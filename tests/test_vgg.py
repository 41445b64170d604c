"""VGG16/19 feature extractors and their torchvision / Keras weights.

The PyTorch reference is torchvision's ``vgg{16,19}().features`` layout (``[Conv2d 3x3 p1,
ReLU] * n + MaxPool2d(2, 2)`` per block), rebuilt here from torchvision's configurations D
and E so that torchvision itself is not needed.
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from PIL import Image

from jaxgan.interop import vgg as iv
from jaxgan.interop.torch_checkpoint import StateDictMismatchError
from jaxgan.models import vgg
from jaxgan.nn import count_params
from tests.real_data import real_data


@functools.cache
def random_net(depth=16, convention="keras", seed=0):
  return iv.LossNetwork.from_module(vgg.VGG(depth=depth, rngs=nnx.Rngs(seed)), convention)


def images(shape, seed=0):
  return jnp.asarray(np.random.default_rng(seed).uniform(-1, 1, shape), jnp.float32)


def assert_same_params(a, b):
  assert a.depth == b.depth and sorted(a.params) == sorted(b.params)
  for name in a.params:
    for kind in ("kernel", "bias"):
      np.testing.assert_array_equal(np.asarray(a.params[name][kind]), np.asarray(b.params[name][kind]))


def rel_err(got, want):
  got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
  return np.max(np.abs(got - want)) / np.max(np.abs(want))


# ------------------------------------------------------------ the architecture


@pytest.mark.parametrize("preset,depth,params", [(vgg.vgg16, 16, 14_714_688), (vgg.vgg19, 19, 20_024_384)])
def test_parameter_counts_and_layer_names(preset, depth, params):
  net = nnx.eval_shape(lambda: preset(rngs=nnx.Rngs(0)))
  assert net.depth == depth
  assert count_params(net) == params  # Keras' VGG16/VGG19(include_top=False) convolutional base
  names = vgg.LAYER_NAMES[depth]
  assert len(names) == (13 if depth == 16 else 16)
  assert names[:4] == ("relu1_1", "relu1_2", "relu2_1", "relu2_2")
  assert names[-1] == ("relu5_3" if depth == 16 else "relu5_4")


@pytest.mark.parametrize("depth", [16, 19])
@pytest.mark.parametrize("size", [32, 35])
def test_output_shapes(depth, size):
  """Every ReLU map, with floor-mode pooling: side n -> n // 2 per block."""
  net = nnx.eval_shape(lambda: vgg.VGG(depth=depth, rngs=nnx.Rngs(0)))
  graphdef, state = nnx.split(net)
  out = jax.eval_shape(
    lambda s, x: nnx.merge(graphdef, s)(x), state, jax.ShapeDtypeStruct((2, size, size + 4, 3), jnp.float32)
  )
  assert tuple(out) == vgg.LAYER_NAMES[depth]
  for name, value in out.items():
    b = int(name[4])
    h, w = size, size + 4
    for _ in range(b - 1):
      h, w = h // 2, w // 2
    assert value.shape == (2, h, w, vgg.BLOCK_WIDTHS[b - 1]), name


def test_torchvision_indices():
  assert iv.torchvision_conv_indices(16) == (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
  assert iv.torchvision_conv_indices(19) == (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)


@pytest.mark.parametrize(
  "layers,convs", [(("relu1_1",), 1), (("relu2_2", "relu1_2"), 4), (("relu4_3",), 10), (None, 13)]
)
def test_runs_only_up_to_the_deepest_requested_layer(layers, convs):
  net = random_net()
  x = jax.ShapeDtypeStruct((1, 32, 32, 3), jnp.float32)
  jaxpr = jax.make_jaxpr(lambda n, x: n.features(x, layers))(net, x)
  assert str(jaxpr).count("conv_general_dilated") == convs
  out = jax.eval_shape(lambda n, x: n.features(x, layers), net, x)
  assert set(out) == set(vgg.LAYER_NAMES[16] if layers is None else layers)


def test_bad_arguments_raise():
  net = random_net()
  with pytest.raises(ValueError, match="relu5_4"):
    net.features(images((1, 16, 16, 3)), ["relu5_4"])  # a VGG19 layer
  with pytest.raises(ValueError, match=r"\[B, H, W, 3\]"):
    net.features(images((1, 16, 16, 1)), ["relu1_1"])
  with pytest.raises(ValueError, match="too small"):
    net.module()(images((1, 4, 4, 3)), layers=["relu4_1"])
  with pytest.raises(ValueError, match="depth must be one of"):
    vgg.VGG(depth=11, rngs=nnx.Rngs(0))
  with pytest.raises(ValueError, match="convention must be one of"):
    net.with_convention("caffe2")
  with pytest.raises(ValueError, match="value_range"):
    net.features(images((1, 16, 16, 3)), "relu1_1", value_range=(1.0, -1.0))


# ------------------------------------------------------------ conventions


def test_preprocessing_constants():
  u = np.random.default_rng(0).uniform(0, 1, (2, 3, 3, 3)).astype(np.float32)
  x = jnp.asarray(2 * u - 1)  # [-1, 1]
  want_torch = (u - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
  want_keras = 255 * u[..., ::-1] - np.array([103.939, 116.779, 123.68])
  np.testing.assert_allclose(random_net(convention="torchvision").preprocess(x), want_torch, atol=1e-5)
  np.testing.assert_allclose(random_net().preprocess(x), want_keras, atol=1e-3)
  np.testing.assert_allclose(random_net().preprocess(jnp.asarray(u), value_range=(0, 1)), want_keras, atol=1e-3)


def _border(layer):
  """Pixels from the edge of ``layer``'s map that zero padding of the input can reach."""
  block, conv = map(int, layer[4:].split("_"))
  reach = 0
  for b, n in enumerate(vgg.BLOCK_CONVS[16], 1):
    if b > 1:
      reach = math.ceil(reach / 2)
    for c in range(1, n + 1):
      reach += 1
      if (b, c) == (block, conv):
        return reach
  raise AssertionError(layer)


@pytest.mark.parametrize("layer", ["relu1_1", "relu2_2", "relu3_1"])
def test_keras_to_torchvision_folds_the_preprocessing(layer):
  """Same features inside the image; different colours are zero-padded at the border."""
  keras = random_net()
  torch_like = iv.LossNetwork(iv.keras_to_torchvision(keras.params), convention="torchvision")
  x = images((2, 64, 64, 3), seed=3)
  want = keras.features(x, layer)[layer]
  got = torch_like.features(x, layer)[layer]
  r = _border(layer)
  assert r < want.shape[1] // 2
  inner = (slice(None), slice(r, -r), slice(r, -r))
  assert rel_err(got[inner], want[inner]) < 1e-5
  assert rel_err(got, want) > 1e-6  # the border does differ: nothing is hidden by the crop
  np.testing.assert_allclose(keras.with_convention("torchvision").features(x, layer)[layer], got, rtol=1e-6, atol=1e-6)


def test_convention_round_trip():
  keras = random_net()
  back = iv.torchvision_to_keras(iv.keras_to_torchvision(keras.params))
  for name in keras.params:
    for kind in ("kernel", "bias"):
      a, b = np.asarray(keras.params[name][kind]), np.asarray(back[name][kind])
      if name == "block1_conv1":
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
      else:
        assert back[name][kind] is keras.params[name][kind]  # only the first conv changes


# ------------------------------------------------------------ file formats round-trip


def test_npz_round_trip(tmp_path):
  net = random_net()
  iv.save_vgg_npz(net, tmp_path / "w.npz")
  loaded = iv.load_vgg(tmp_path / "w.npz")
  assert loaded.convention == "keras"
  assert_same_params(loaded, net)
  x = images((1, 16, 16, 3))
  np.testing.assert_array_equal(loaded.features(x, "relu2_1")["relu2_1"], net.features(x, "relu2_1")["relu2_1"])
  relabelled = iv.load_vgg(tmp_path / "w.npz", convention="torchvision")
  assert relabelled.convention == "torchvision"
  assert_same_params(relabelled, net)


def test_torchvision_state_dict_round_trip_without_torch():
  net = random_net(depth=19, convention="torchvision")
  sd = iv.to_torchvision_state_dict(net)
  assert list(sd) == [f"features.{i}.{k}" for i in iv.torchvision_conv_indices(19) for k in ("weight", "bias")]
  assert sd["features.0.weight"].shape == (64, 3, 3, 3) and sd["features.34.bias"].shape == (512,)
  np.testing.assert_array_equal(
    sd["features.2.weight"], np.asarray(net.params["block1_conv2"]["kernel"]).transpose(3, 2, 0, 1)
  )
  loaded = iv.load_torchvision_vgg({**sd, "classifier.6.bias": np.zeros(1000)}, depth=19)
  assert loaded.convention == "torchvision"
  assert_same_params(loaded, net)


def _write_h5(path, arrays, layout):
  h5py = pytest.importorskip("h5py")
  names = sorted({k.split("/")[0] for k in arrays})
  with h5py.File(path, "w") as f:
    if layout == "weights_file":  # vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5
      f.attrs["layer_names"] = np.array([b"input_1"] + [n.encode() for n in names] + [b"block1_pool"])
      f.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S1")
      f.create_group("block1_pool").attrs["weight_names"] = np.array([], dtype="S1")
      for n in names:
        g = f.create_group(n)
        g.attrs["weight_names"] = np.array([f"{n}_W_1:0".encode(), f"{n}_b_1:0".encode()])
        g[f"{n}_W_1:0"] = arrays[f"{n}/kernel"]
        g[f"{n}_b_1:0"] = arrays[f"{n}/bias"]
    elif layout == "model":  # model.save('vgg.h5'): model_weights/<layer>/<layer>/kernel:0
      root = f.create_group("model_weights")
      for n in names:
        g = root.create_group(n).create_group(n)
        g["kernel:0"] = arrays[f"{n}/kernel"]
        g["bias:0"] = arrays[f"{n}/bias"]
      f.create_group("optimizer_weights").create_dataset("iterations:0", data=np.zeros(()))
    else:  # Keras 3 .weights.h5: layers/<layer>/vars/0 (kernel), vars/1 (bias)
      root = f.create_group("layers")
      for n in names:
        g = root.create_group(n).create_group("vars")
        g["0"] = arrays[f"{n}/kernel"]
        g["1"] = arrays[f"{n}/bias"]


@pytest.mark.parametrize("layout", ["weights_file", "model", "keras3"])
def test_h5_round_trip(tmp_path, layout):
  net = random_net()
  path = tmp_path / ("w.weights.h5" if layout == "keras3" else "w.h5")
  _write_h5(path, iv.to_keras_arrays(net), layout)
  loaded = iv.load_vgg(path)
  assert loaded.convention == "keras"
  assert_same_params(loaded, net)


# ------------------------------------------------------------ PyTorch


def _torch_vgg(depth, seed):
  torch = pytest.importorskip("torch")
  nn = torch.nn
  layers, cin = [], 3
  for n, width in zip(vgg.BLOCK_CONVS[depth], vgg.BLOCK_WIDTHS):
    for _ in range(n):
      layers += [nn.Conv2d(cin, width, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
      cin = width
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
  model = nn.Module()
  model.features = nn.Sequential(*layers)
  model.classifier = nn.Sequential(nn.Linear(8, 4), nn.ReLU(True), nn.Linear(4, 2))  # shapes unused
  g = torch.Generator().manual_seed(seed)
  with torch.no_grad():
    for _name, p in model.named_parameters():
      if p.ndim > 1:
        p.copy_(torch.randn(p.shape, generator=g) * math.sqrt(2.0 / p[0].numel()))
      else:
        p.copy_(0.1 * torch.randn(p.shape, generator=g))
  return model


def _torch_relus(model, x_nhwc01):
  """Every ReLU output of ``model.features`` for [0, 1] RGB images, torchvision-preprocessed."""
  torch = pytest.importorskip("torch")
  mean = np.array([0.485, 0.456, 0.406], np.float32)
  std = np.array([0.229, 0.224, 0.225], np.float32)
  h = torch.from_numpy(np.ascontiguousarray(((x_nhwc01 - mean) / std).transpose(0, 3, 1, 2)))
  out = []
  with torch.no_grad():
    for m in model.features:
      h = m(h)
      if isinstance(m, torch.nn.ReLU):
        out.append(h.numpy().transpose(0, 2, 3, 1).copy())
  return out


@pytest.mark.parametrize("depth,size", [(16, 34), (19, 33)])
def test_matches_torchvision_layout(tmp_path, depth, size):
  torch = pytest.importorskip("torch")
  model = _torch_vgg(depth, seed=depth)
  path = tmp_path / f"vgg{depth}.pth"
  torch.save(model.state_dict(), path)
  net = iv.load_vgg(path, depth=depth)
  assert net.convention == "torchvision"
  u = np.random.default_rng(depth).uniform(0, 1, (2, size, size, 3)).astype(np.float32)
  got = net.features(jnp.asarray(2 * u - 1))
  want = _torch_relus(model, u)
  assert len(want) == len(got)
  for (name, g), w in zip(got.items(), want):
    assert g.shape == w.shape, name
    assert rel_err(g, w) < 1e-4, name
  # And back to a .pth that PyTorch loads into the features.
  from jaxgan.interop import save_torch_state_dict

  save_torch_state_dict(iv.to_torchvision_state_dict(net), tmp_path / "again.pth")
  again = torch.load(tmp_path / "again.pth", weights_only=True)
  fresh = _torch_vgg(depth, seed=0)
  fresh.features.load_state_dict({k.removeprefix("features."): v for k, v in again.items()}, strict=True)
  for a, b in zip(fresh.features.state_dict().values(), model.features.state_dict().values()):
    np.testing.assert_array_equal(a.numpy(), b.numpy())


# ------------------------------------------------------------ errors


def test_no_weights_is_a_clear_error(monkeypatch, tmp_path):
  monkeypatch.delenv("JAXGAN_VGG16", raising=False)
  assert iv.default_vgg16_path() is None
  with pytest.raises(iv.VGGWeightsNotFoundError) as e:
    iv.load_vgg()
  msg = str(e.value)
  for hint in ("vgg16-397923af.pth", "vgg19-dcbb9e9d.pth", "_notop.h5", "block{b}_conv{c}/kernel", "JAXGAN_VGG16"):
    assert hint in msg
  missing = tmp_path / "nowhere" / "vgg16-397923af.pth"
  with pytest.raises(FileNotFoundError, match="nowhere"):
    iv.load_vgg(missing)
  monkeypatch.setenv("JAXGAN_VGG16", str(missing))
  assert iv.default_vgg16_path() == str(missing)
  with pytest.raises(iv.VGGWeightsNotFoundError, match="nowhere"):
    iv.load_vgg()
  with pytest.raises(ValueError, match=r"'\.npz'"):
    iv.load_vgg(tmp_path / "vgg.onnx")


def test_default_path_is_used(monkeypatch, tmp_path):
  iv.save_vgg_npz(random_net(), tmp_path / "w.npz")
  monkeypatch.setenv("JAXGAN_VGG16", str(tmp_path / "w.npz"))
  assert_same_params(iv.load_vgg(), random_net())


def test_mismatched_weights_are_named(tmp_path):
  arrays = iv.to_keras_arrays(random_net())
  path = tmp_path / "bad.npz"
  np.savez(path, **{k: v for k, v in arrays.items() if not k.startswith("block4_conv2")})
  with pytest.raises(StateDictMismatchError, match=r"block4_conv2/kernel") as e:
    iv.load_vgg(path)
  assert "bad.npz" in str(e.value) and "HWIO" in str(e.value)
  np.savez(path, **{**arrays, "block2_conv1/bias": np.zeros(64, np.float32)})
  with pytest.raises(StateDictMismatchError, match=r"block2_conv1/bias has shape \(64,\), expected \(128,\)"):
    iv.load_vgg(path)
  oihw = arrays["block1_conv1/kernel"].transpose(3, 2, 0, 1)
  with pytest.raises(StateDictMismatchError, match="OIHW"):
    iv.load_keras_vgg({**arrays, "block1_conv1/kernel": oihw})
  vgg19 = iv.to_keras_arrays(random_net(depth=19))
  with pytest.raises(StateDictMismatchError, match="block3_conv4"):  # VGG19 weights read as VGG16
    iv.load_keras_vgg(vgg19, depth=16)
  iv.load_keras_vgg({**arrays, "fc1/kernel": np.zeros((2, 2))})  # the classifier is ignored
  sd = iv.to_torchvision_state_dict(random_net())
  del sd["features.28.weight"]
  with pytest.raises(StateDictMismatchError, match=r"features\.28\.weight"):
    iv.load_torchvision_vgg(sd)
  np.save(tmp_path / "garbage.npz", np.zeros(3))  # .npy data under an .npz name
  (tmp_path / "garbage.npz.npy").rename(tmp_path / "garbage.npz")
  with pytest.raises(ValueError, match="garbage.npz"):
    iv.load_vgg(tmp_path / "garbage.npz")


# ------------------------------------------------------------ the real ImageNet weights


@functools.cache
def real_net():
  return iv.load_vgg(real_data("vgg16_keras"))  # Keras .h5, or the mirror's .npz


def real_image(*parts, size=64):
  img = Image.open(real_data(*parts)).convert("RGB").resize((size, size), Image.BICUBIC)
  return jnp.asarray(np.asarray(img, np.float32)[None] / 127.5 - 1.0)


LOSS_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")


def test_real_weights_give_sparse_non_negative_features():
  net = real_net()
  assert net.depth == 16 and net.convention == "keras"
  feats = net.features(real_image("style_content", "amber.jpg"), LOSS_LAYERS)
  for name, f in feats.items():
    f = np.asarray(f)
    assert np.all(np.isfinite(f)) and f.min() >= 0, name
    active = np.mean(f > 0)
    assert 0.01 < active < 0.99, (name, active)  # ReLUs neither dead nor all on
    assert np.mean(f.max(axis=(0, 1, 2)) > 0) > 0.5, name  # most channels respond somewhere


def test_real_weights_perceive_noise_as_closer_than_another_image():
  net = real_net()
  amber = real_image("style_content", "amber.jpg")
  noisy = jnp.clip(amber + 0.02 * jax.random.normal(jax.random.key(0), amber.shape), -1, 1)
  candy = real_image("style_images", "candy.jpg")
  from jaxgan.losses import perceptual

  fa, fn, fc = (net.features(x, "relu2_2")["relu2_2"] for x in (amber, noisy, candy))
  assert float(perceptual.feature_reconstruction_loss(fa, fa)[0]) == 0.0
  assert float(perceptual.feature_reconstruction_loss(fa, fn)[0]) < 0.1 * float(
    perceptual.feature_reconstruction_loss(fa, fc)[0]
  )


def test_real_weights_in_the_torchvision_convention():
  """The fold on the real weights: the same relu2_2 inside the image."""
  net = real_net()
  tv = net.with_convention("torchvision")
  x = real_image("style_content", "amber.jpg")
  want, got = (n.features(x, "relu2_2")["relu2_2"] for n in (net, tv))
  r = _border("relu2_2")
  assert rel_err(got[:, r:-r, r:-r], want[:, r:-r, r:-r]) < 1e-5
  sd = iv.to_torchvision_state_dict(tv)
  assert_same_params(iv.load_torchvision_vgg(sd), tv)

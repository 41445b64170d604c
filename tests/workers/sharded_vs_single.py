"""Worker: the compiled train step on an 8-device mesh equals the 1-device step, for every method.

Needs 8 CPU devices, set before JAX starts (XLA_FLAGS=--xla_force_host_platform_device_count=8).
For each method (``sys.argv[1:]`` picks some) both runs start from the same initial state
(checked) and take the same batches. The 8-device run must really be sharded: every global
batch split over the 8 devices, 1/8 of its examples on each, and the state replicated, its 8
copies of every leaf identical. Prints one line per method and exits non-zero if any check
failed. ``TOL`` = 1e-4 throughout, on the largest absolute difference unless said otherwise.

After the first step:

* the optimiser moments of every network (Adam's ``mu = (1 - b1) g`` and ``nu = (1 - b2) g^2``,
  SGD's momentum ``g``: the first gradient itself) agree to TOL *relative to the largest value of
  that moment in that network*. Adam's updates alone would not show a gradient off by a constant factor, and a
  network whose gradients are tiny moves too little for an absolute TOL to see (the tiny GAN's G
  moves 8e-8 in three steps). Each moment must also be non-zero: a gradient reached the network.
* every leaf but the parameters and the optimiser state (statistics, image pools, step, key)
  agrees to TOL;
* the parameters agree to TOL, beyond Adam's slack: Adam's first update ``lr * g / (|g| + eps)``
  is discontinuous at ``g = 0``, so where a gradient is at float32 rounding level (exactly zero
  in exact arithmetic, as for the conv biases before an instance or batch norm, or next to eps)
  two programs that sum in another order get updates up to 2 lr apart. A parameter may differ
  beyond TOL only by what Adam makes of the difference of the two (compared) gradients,
  ``lr * |u(g8) - u(g1)|`` with ``u = m_hat / (sqrt(v_hat) + eps)`` computed from each run's
  moments: never more than 2 lr, and only where the gradient is at rounding level.

After the last step (``steps``, 3 by default): every leaf of the state agrees to TOL, and the
metrics to TOL (relative above 1: near a loss of 500 one float32 ulp is 3e-5). A method whose
state after three steps carries rounding amplified beyond TOL takes one step (``make_cases``
says where and how much); its later steps would compare the conditioning of its tiny networks,
not the sharding.
"""

import dataclasses
import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from PIL import Image  # noqa: E402

from jaxgan.methods import catgan, cgan, cyclegan, dcgan, gan, pix2pix, sgan, sr  # noqa: E402
from jaxgan.methods import style_transfer as st  # noqa: E402
from jaxgan.train import sharding  # noqa: E402
from jaxgan.train.loop import compile_train_step, init_or_restore  # noqa: E402
from tests import tiny  # noqa: E402

TOL = 1e-4
DEVICES = 8
ADAM_EPS = 1e-8  # optax.adam's default, kept by jaxgan.train.optim.adam and style transfer


@dataclasses.dataclass(frozen=True)
class Case:
  """A method to compare: ``build()`` makes a fresh method for each run, ``batch(config, seed)`` the
  global batch of step ``seed``."""

  build: Callable[[], Any]
  batch: Callable[..., dict]
  steps: int = 3


@dataclasses.dataclass
class Run:
  """What one run leaves, on the host: the config, the initial state, and (state, metrics) after
  the first and the last step."""

  config: Any
  init: Any
  first: tuple
  last: tuple


class CheckFailed(Exception):
  pass


def check(ok: bool, message: str) -> None:
  if not ok:
    raise CheckFailed(message)


def translation_batch(keys, config, seed=0):
  """A random batch of two image arrays named ``keys`` (pix2pix a/b, CycleGAN A/image, B/image)."""
  rng = np.random.default_rng(seed)
  shape = (config.batch_size, config.crop_size, config.crop_size)
  return {
    keys[0]: rng.uniform(-1, 1, shape + (config.input_nc,)).astype(np.float32),
    keys[1]: rng.uniform(-1, 1, shape + (config.output_nc,)).astype(np.float32),
  }


# -- the runs ---------------------------------------------------------------------------------------


def check_split(batch, n: int) -> None:
  """Every leaf of the global batch is split over the ``n`` devices, 1/n of its examples on each."""
  for x in jax.tree.leaves(batch):
    check(
      len(x.sharding.device_set) == n and x.sharding.shard_shape(x.shape)[0] * n == x.shape[0],
      f"a batch leaf of shape {x.shape} is not split over {n} devices: {x.sharding}",
    )


def check_replicated(state, n: int) -> None:
  """Every leaf of the state has ``n`` full copies, one per device, all identical."""
  for path, x in jax.tree_util.tree_flatten_with_path(state)[0]:
    shards = [np.asarray(s.data) for s in x.addressable_shards]
    check(
      len(shards) == n and all(s.shape == x.shape for s in shards),
      f"{jax.tree_util.keystr(path)} is not replicated over {n} devices: {x.sharding}",
    )
    check(
      all(np.array_equal(shards[0], s) for s in shards[1:]), f"the {n} copies of {jax.tree_util.keystr(path)} differ"
    )


def run(case: Case, n: int) -> Run:
  """``case.steps`` compiled steps on the first ``n`` devices, from the state of key 0."""
  method, mesh = case.build(), sharding.make_mesh(n)
  state, state_sh = init_or_restore(method.init_state, jax.random.PRNGKey(0), mesh)
  init = jax.device_get(state)
  step = compile_train_step(
    method.train_step, state_sh, sharding.batch_shardings(case.batch(method.config), mesh), mesh
  )
  consts = sharding.replicate(method.consts, mesh)  # SR's and style transfer's frozen VGG (and Grams)
  after = []
  for i in range(case.steps):
    batch = sharding.global_batch(case.batch(method.config, seed=i), mesh)
    check_split(batch, n)
    state, metrics = step(state, batch, consts)
    check_replicated(state, n)
    if i in (0, case.steps - 1):
      after.append(jax.device_get((state, metrics)))
  return Run(method.config, init, after[0], after[-1])


# -- the comparisons ----------------------------------------------------------------------------------


def max_diff(a, b, slack=0.0) -> float:
  """The largest ``|a - b| - slack`` of two arrays (0 for empty ones)."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  return float((np.abs(a - b) - slack).max()) if a.size else 0.0


def without(state, *fields):
  """``state`` without the networks' ``fields`` (e.g. ``params``, ``opt_state``)."""
  return state.replace(nets={k: v.replace(**dict.fromkeys(fields)) for k, v in state.nets.items()})


def moment_groups(opt_state) -> dict[str, list]:
  """The floating leaves of an optimiser state by moment (``[0].mu``, ``[0].nu``,
  ``.inner_state[0].trace``): their path up to the parameters' own keys."""
  groups = {}
  for path, x in jax.tree_util.tree_flatten_with_path(opt_state)[0]:
    if np.issubdtype(np.asarray(x).dtype, np.floating):
      head = path[: next((i for i, k in enumerate(path) if isinstance(k, jax.tree_util.DictKey)), len(path))]
      groups.setdefault(jax.tree_util.keystr(head), []).append(np.asarray(x, np.float64))
  return groups


def adam_direction(model_state, config):
  """Adam's first update direction per parameter, ``m_hat / (sqrt(v_hat) + eps)``, from the
  moments after one step; None for another optimiser."""
  is_adam = lambda s: isinstance(s, optax.ScaleByAdamState)
  found = [s for s in jax.tree.leaves(model_state.opt_state, is_leaf=is_adam) if is_adam(s)]
  if not found:
    return None
  m_hat = jax.tree.map(lambda m: np.asarray(m, np.float64) / (1 - config.beta1), found[0].mu)
  v_hat = jax.tree.map(lambda v: np.asarray(v, np.float64) / (1 - config.beta2), found[0].nu)
  return jax.tree.map(lambda m, v: m / (np.sqrt(v) + ADAM_EPS), m_hat, v_hat)


def adam_slack(state8, state1, config) -> dict:
  """``{net: leaves}``: how far each parameter may differ beyond TOL after the first step,
  ``lr * |u(g8) - u(g1)|`` for Adam (``config.learning_rate``: every schedule here starts there)."""
  slack = {}
  for net, ms in state1.nets.items():
    u8, u1 = adam_direction(state8.nets[net], config), adam_direction(ms, config)
    slack[net] = (
      jax.tree.map(lambda p: np.zeros(np.shape(p)), ms.params)
      if u1 is None
      else jax.tree.map(lambda a, b: config.learning_rate * np.abs(a - b), u8, u1)
    )
  return slack


def compare_params(state8, state1, slack=None) -> tuple[float, int]:
  """Parameters within TOL (beyond ``slack``); returns (largest difference, elements beyond TOL)."""
  worst, beyond = 0.0, 0
  for net, ms in state1.nets.items():
    slacks = jax.tree.leaves(slack[net]) if slack else [0.0] * len(jax.tree.leaves(ms.params))
    for a, b, s in zip(jax.tree.leaves(state8.nets[net].params), jax.tree.leaves(ms.params), slacks, strict=True):
      check(
        max_diff(a, b, s) <= TOL,
        f"{net}'s parameters differ by {max_diff(a, b):.3g}, more than {TOL}"
        + (" beyond Adam's slack" if slack else ""),
      )
      worst = max(worst, max_diff(a, b))
      beyond += int(np.sum(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)) > TOL))
  return worst, beyond


def compare_rest(state8, state1, *skip: str) -> float:
  """Every leaf but the networks' parameters (and ``skip`` fields) within TOL; returns the largest
  difference."""
  worst = max(
    max_diff(a, b)
    for a, b in zip(
      jax.tree.leaves(without(state8, "params", *skip)), jax.tree.leaves(without(state1, "params", *skip)), strict=True
    )
  )
  check(worst <= TOL, f"the state (parameters aside) differs by {worst:.3g} > {TOL}")
  return worst


def compare_moments(state8, state1) -> float:
  """Each network's optimiser moments within TOL of their largest value, which is non-zero; returns
  the largest relative difference."""
  worst = 0.0
  for net, ms in state1.nets.items():
    groups8 = moment_groups(state8.nets[net].opt_state)
    for group, leaves1 in moment_groups(ms.opt_state).items():
      scale = max(float(np.abs(x).max()) for x in leaves1 if x.size)
      check(scale > 0, f"{net}'s {group} is zero: no gradient reached it")
      rel = max(max_diff(a, b) for a, b in zip(groups8[group], leaves1, strict=True)) / scale
      check(rel <= TOL, f"{net}'s {group} differ by {rel:.3g} of their largest value > {TOL}")
      worst = max(worst, rel)
  return worst


def compare_metrics(metrics8, metrics1) -> float:
  """The metrics within TOL, relative above 1; returns the largest difference."""
  check(set(metrics8) == set(metrics1), f"metrics {sorted(metrics8)} != {sorted(metrics1)}")
  worst = max(abs(float(metrics8[k]) - float(metrics1[k])) / max(1.0, abs(float(metrics1[k]))) for k in metrics1)
  check(worst <= TOL, f"the metrics differ by {worst:.3g} (relative above 1) > {TOL}")
  return worst


def compare(case: Case, r8: Run, r1: Run) -> str:
  """Every check of the two runs; returns a summary."""
  for a, b in zip(jax.tree.leaves(r8.init), jax.tree.leaves(r1.init), strict=True):
    check(np.array_equal(a, b), "the initial states differ")
  (first8, _), (first1, _) = r8.first, r1.first
  moments = compare_moments(first8, first1)
  params, beyond = compare_params(first8, first1, adam_slack(first8, first1, r1.config))
  rest = compare_rest(first8, first1, "opt_state")
  (last8, metrics8), (last1, metrics1) = r8.last, r1.last
  if case.steps > 1:
    params, _ = compare_params(last8, last1)
    rest = compare_rest(last8, last1)
  metrics = compare_metrics(metrics8, metrics1)
  note = f" ({beyond} beyond {TOL} after step 1, within Adam's slack)" if beyond else ""
  return (
    f"max |state_8dev - state_1dev| = {rest:.3g}, parameters {params:.3g}{note}, metrics {metrics:.3g} "
    f"after {case.steps} step(s); optimiser moments after step 1 {moments:.3g} of their largest"
  )


# -- the methods ------------------------------------------------------------------------------------


def style_files(tmp: str) -> dict:
  """A random VGG16 and a random style image under ``tmp`` (no ImageNet weights needed)."""
  style = os.path.join(tmp, "style.png")
  Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 28, 3), dtype=np.uint8)).save(style)
  return {"vgg": tiny.random_vgg16(os.path.join(tmp, "vgg16_random.npz")), "style": style}


def make_cases(tmp: str) -> dict[str, Case]:
  """Per-method tiny configurations. Every global batch is 8 examples, 1 per device (SGAN and
  CatGAN: 8 labelled and 8 unlabelled)."""
  files = functools.cache(lambda: style_files(tmp))
  translation = dict(ngf=2, ndf=2, batch_size=8, n_epochs=1, n_epochs_decay=1)
  # 6 ResNet blocks rather than the default 9: the blocks are alike and the step compiles faster.
  cycle = dict(netG="resnet_6blocks", input_nc=1, output_nc=1, load_size=32, crop_size=32, pool_size=4, **translation)
  cycle_batch = lambda c, seed=0: translation_batch(("A/image", "B/image"), c, seed)
  ssl = dict(image_size=8, num_labeled=20, batch_size=8, labeled_batch_size=8, nz=4, num_samples=4)
  sr_tiny = dict(channels=8, n_blocks=2, crop_size=16, batch_size=8)
  return {
    "dcgan": Case(lambda: dcgan.build(tiny.dcgan_config()), tiny.image_batch),
    "gan": Case(lambda: gan.build(tiny.gan_config(d_steps=2)), tiny.image_batch),
    # Batch norm over the sharded global batch, dropout masks drawn for the global batch.
    "pix2pix": Case(
      lambda: pix2pix.build(pix2pix.Config(netG="unet_128", load_size=128, crop_size=128, **translation)),
      lambda c, seed=0: translation_batch(("a", "b"), c, seed),
    ),
    # Without a norm, so that three steps stay within TOL: the image pools (batch 8 > pool 4) are
    # filled, swapped and carried over steps. (The default instance norm normalises each image on
    # its own device, nothing to shard; with it the conv biases before the norm have exactly-zero
    # gradients, which Adam's first update turns into +-lr, 5.7e-4 apart after three steps. It
    # compiled for 86 s of this worker's 340 s with a cold cache, so it is not repeated here.)
    "cyclegan_no_norm": Case(lambda: cyclegan.build(cyclegan.Config(norm="none", **cycle)), cycle_batch),
    # The paper's MLP/maxout networks with dropout, SGD and max-norm; the fakes' labels and Reed et
    # al.'s mismatched labels drawn for the global batch. (Its G moves 2e-6 in three steps, too
    # little for TOL: its gradient is compared by the moments, relative.)
    "cgan": Case(
      lambda: cgan.build(
        cgan.Config(image_size=8, channels=1, nz=8, batch_size=8, num_classes=10, num_samples=10, mismatch_weight=1.0)
      ),
      tiny.image_batch,
    ),
    # SGAN's Adam at lr 3e-3 moves G's gradient elements of ~1e-10 (next to eps) by lr * g / eps:
    # after three steps G's parameters are 1.3e-4 apart and its first moments 7.7e-4 of their
    # largest: one step. CatGAN (the same networks at lr 2e-4) stays within 1.5e-5 after three.
    "sgan": Case(lambda: sgan.build(sgan.Config(**ssl)), tiny.semi_supervised_batch, steps=1),
    "catgan": Case(lambda: catgan.build(catgan.Config(**ssl)), tiny.semi_supervised_batch),
    # SRResNet (MSE) and SRGAN (the VGG content loss on a random VGG16, relu2_2): the conv biases
    # before batch norm have exactly-zero gradients, as CycleGAN's; after three steps they are
    # 4.4e-4 apart, and so (1.6e-4) are the running means of the batch norms after them: one step.
    "sr": Case(lambda: sr.build(sr.Config(**sr_tiny)), tiny.sr_batch, steps=1),
    "srgan": Case(
      lambda: sr.build(
        sr.Config(loss="srgan", vgg_weights=files()["vgg"], content_layer="relu2_2", d_channels=8, **sr_tiny)
      ),
      tiny.sr_batch,
      steps=1,
    ),
    # Conv biases before instance norm, and 1.7M parameters, 1.5k of whose gradients are small
    # enough for their rounding to flip the sign of Adam's first update (2 lr = 2e-3 apart); after
    # three steps the parameters are 5.9e-3 apart, the first moments 1.2% of their largest: one step.
    "style": Case(
      lambda: st.build(
        st.Config(
          style_image=files()["style"],
          vgg_weights=files()["vgg"],
          content_dir=tmp,
          image_size=16,
          batch_size=8,
          style_layers=("relu1_2", "relu2_2"),
        )
      ),
      tiny.content_batch,
      steps=1,
    ),
  }


def main():
  assert jax.device_count() == DEVICES, jax.devices()
  only = sys.argv[1:]
  failed = []
  with tempfile.TemporaryDirectory() as tmp:
    for name, case in make_cases(tmp).items():
      if only and name not in only:
        continue
      start = time.perf_counter()
      try:
        summary = compare(case, run(case, DEVICES), run(case, 1))
        print(f"{name}: {summary} [{time.perf_counter() - start:.0f} s]", flush=True)
      except CheckFailed as e:
        print(f"{name}: FAILED: {e}", flush=True)
        failed.append(name)
  sys.exit(1 if failed else 0)


if __name__ == "__main__":
  main()

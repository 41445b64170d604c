"""The host loop: checkpoints, resume == uninterrupted, outputs in the workdir only."""

import json
import os

import jax
import numpy as np
import optax
import pytest

from jaxgan import config as config_lib
from jaxgan.data import BatchLoader, labelled_transform
from jaxgan.methods import dcgan
from jaxgan.train.checkpoint import Checkpointer
from jaxgan.train.loop import LoopOptions, fit
from tests import tiny


def _fit(workdir, num_steps, method, **options):
  loader = BatchLoader(
    tiny.ListSource(n=24, size=16), global_batch_size=8, seed=3, transform=labelled_transform(image_size=16, channels=1)
  )
  options = {"checkpoint_every": 2, "keep_checkpoints": 2, "log_every": 1, "sample_every": 3, **options}
  return fit(
    workdir=workdir,
    init_fn=method.init_state,
    train_step=method.train_step,
    batches=loader,
    options=LoopOptions(num_steps=num_steps, progress=False, **options),
    key=jax.random.PRNGKey(7),
    sample_fn=method.sample,
    eval_fn=lambda state: {"g_norm": float(optax.tree.norm(state.nets["G"].params))},
  )


def test_resumed_run_is_bit_identical_to_uninterrupted_run(tmp_path, fit_spy):
  method = dcgan.build(tiny.dcgan_config())
  straight = _fit(tmp_path / "straight", 5, method)
  _fit(tmp_path / "resumed", 3, method)  # stops at 3 (not a checkpoint of the straight run)
  assert Checkpointer(tmp_path / "resumed" / "checkpoints").all_steps() == [2, 3]
  # Restores 3, runs 4 and 5 (epoch 2 data), evaluating, sampling and saving after each step
  # without recompiling its step.
  resumed = _fit(tmp_path / "resumed", 5, method, sample_every=1, eval_every=1)
  assert fit_spy.summary() == [(0, 5), (0, 3), (3, 2)]
  assert int(resumed.step) == int(straight.step) == 5
  for a, b in zip(jax.tree.leaves(jax.device_get(straight)), jax.tree.leaves(jax.device_get(resumed))):
    np.testing.assert_array_equal(a, b)


def test_fit_writes_checkpoints_events_and_samples_inside_workdir(tmp_path):
  method = dcgan.build(tiny.dcgan_config())
  workdir = tmp_path / "run"
  _fit(workdir, 5, method)
  assert sorted(os.listdir(workdir)) == ["checkpoints", "samples", "tensorboard"]
  assert Checkpointer(workdir / "checkpoints").all_steps() == [4, 5]  # keep 2, final save at 5
  assert sorted(os.listdir(workdir / "samples")) == ["step_00000003.png", "step_00000005.png"]
  events = os.listdir(workdir / "tensorboard")
  assert len(events) == 1 and events[0].startswith("events.out.tfevents")
  from PIL import Image

  grid = np.asarray(Image.open(workdir / "samples" / "step_00000005.png"))
  assert grid.shape == (2 + 2 * 18, 2 + 2 * 18)  # 4 samples of 16x16, 2 px padding
  assert grid.std() > 0
  # A finished run asked for the same number of steps does nothing and keeps its checkpoints.
  state = _fit(workdir, 5, method)
  assert int(state.step) == 5
  assert Checkpointer(workdir / "checkpoints").all_steps() == [4, 5]


def test_workdir_refuses_a_run_with_other_hyperparameters(tmp_path):
  path = tmp_path / "config.json"
  config_lib.write_or_check(tiny.dcgan_config(workdir=str(tmp_path)), path)
  # Run-only fields may change on resumption ...
  config_lib.write_or_check(tiny.dcgan_config(workdir=str(tmp_path), num_steps=99, log_every=7), path)
  # ... what is trained may not.
  with pytest.raises(ValueError, match=r"ngf: 8 -> 16"):
    config_lib.write_or_check(tiny.dcgan_config(workdir=str(tmp_path), ngf=16), path)
  assert json.loads(path.read_text())["ngf"] == 8


def test_loop_options_reject_negative_values():
  with pytest.raises(ValueError, match="log_every"):
    LoopOptions(num_steps=3, log_every=-1)


def test_evaluation_hook_runs_every_m_steps_and_at_the_end(tmp_path):
  method = dcgan.build(tiny.dcgan_config())
  seen = []

  def eval_fn(state):
    seen.append(int(state.step))
    return {"step_seen": float(state.step)}

  loader = BatchLoader(
    tiny.ListSource(n=24, size=16), global_batch_size=8, seed=3, transform=labelled_transform(image_size=16, channels=1)
  )
  fit(
    workdir=tmp_path,
    init_fn=method.init_state,
    train_step=method.train_step,
    batches=loader,
    options=LoopOptions(num_steps=5, checkpoint_every=0, eval_every=2, progress=False),
    key=jax.random.PRNGKey(0),
    eval_fn=eval_fn,
  )
  assert seen == [2, 4, 5]


def test_once_per_step_evaluates_each_step_once():
  from types import SimpleNamespace

  from jaxgan.methods import runner

  calls = []
  evaluate = runner.once_per_step(lambda s: calls.append(int(s.step)) or {"step_seen": int(s.step)})
  at = lambda step: SimpleNamespace(step=np.int32(step))
  assert evaluate(at(3)) == {"step_seen": 3}
  assert evaluate(at(3)) == {"step_seen": 3}  # the final report after fit's last evaluation
  assert evaluate(at(4)) == {"step_seen": 4}
  assert calls == [3, 4]


class _FakeClock:
  """``time.monotonic`` of the loop: fetching a batch costs 1 s, an evaluation ``eval_seconds``."""

  def __init__(self):
    self.now = 0.0

  def monotonic(self):
    return self.now

  def perf_counter(self):
    return self.now


def _fit_with_deadline(workdir, method, clock, deadline, eval_seconds=0.0, num_steps=100):
  loader = BatchLoader(
    tiny.ListSource(n=24, size=16), global_batch_size=8, seed=3, transform=labelled_transform(image_size=16, channels=1)
  )

  class Clocked:
    def iterate(self, start_step=0):
      for batch in loader.iterate(start_step):
        clock.now += 1.0
        yield batch

  def eval_fn(state):
    clock.now += eval_seconds
    return {}

  return fit(
    workdir=workdir,
    init_fn=method.init_state,
    train_step=method.train_step,
    batches=Clocked(),
    options=LoopOptions(num_steps=num_steps, checkpoint_every=0, eval_every=3, progress=False),
    key=jax.random.PRNGKey(7),
    eval_fn=eval_fn,
    deadline=deadline,
  )


@pytest.mark.parametrize("eval_seconds", [0.0, 2.0])
def test_deadline_stops_before_it_with_a_checkpoint_and_a_prefix_of_the_unlimited_run(
  tmp_path, monkeypatch, eval_seconds
):
  from jaxgan.train import loop

  clock = _FakeClock()
  monkeypatch.setattr(loop, "time", clock)
  method = dcgan.build(tiny.dcgan_config())
  state = _fit_with_deadline(tmp_path / "timed", method, clock, deadline=10.5, eval_seconds=eval_seconds)
  step = int(state.step)
  # Even steps of 1 s: the 11th would end at 11 s > 10.5, so it stops after 10. Uneven steps
  # (an evaluation every 3rd) may overrun the deadline by at most one evaluation.
  if eval_seconds == 0.0:
    assert step == 10 and clock.now == 10.0
  else:
    assert 4 <= step < 10 and clock.now <= 10.5 + eval_seconds, (step, clock.now)
  assert Checkpointer(tmp_path / "timed" / "checkpoints").all_steps() == [step]
  straight = _fit_with_deadline(tmp_path / "straight", method, _FakeClock(), deadline=None, num_steps=step)
  for a, b in zip(jax.tree.leaves(jax.device_get(straight)), jax.tree.leaves(jax.device_get(state))):
    np.testing.assert_array_equal(a, b)


def test_a_deadline_already_past_trains_nothing(tmp_path, monkeypatch):
  from jaxgan.train import loop

  clock = _FakeClock()
  monkeypatch.setattr(loop, "time", clock)
  state = _fit_with_deadline(tmp_path, dcgan.build(tiny.dcgan_config()), clock, deadline=-1.0)
  assert int(state.step) == 0

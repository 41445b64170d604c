"""Nothing lost, nothing silent: the non-finite guard, checkpoint fallback, preemption, config.json
written only after a restore, and one-line errors with distinct exit codes."""

import errno
import json
import os
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import errors, experiment
from jaxgan.train.checkpoint import ASIDE, Checkpointer
from jaxgan.train.loop import LoopOptions, fit
from jaxgan.train.state import TrainState
from tests import tiny

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _Batches:
  """Batch of step s: x = s + 1, except ``bad`` steps whose x is inf (a divergence)."""

  def __init__(self, bad=()):
    self.bad = set(bad)

  def iterate(self, start_step=0):
    step = start_step
    while True:
      step += 1
      yield {"x": np.full((2,), np.inf if step in self.bad else float(step), np.float32)}


def _init(key, width=3):
  return TrainState(step=jnp.zeros((), jnp.int32), rng=key, nets={"w": jnp.ones((width,))}, extra={})


def _step(state, batch, consts=None):
  del consts
  w = state.nets["w"] * 0.9 + 0.01 * batch["x"].mean()
  return state.replace(step=state.step + 1, nets={"w": w}), {"loss": jnp.sum(w**2)}


def _run(workdir, num_steps, bad=(), width=3, **options):
  defaults = dict(checkpoint_every=2, keep_checkpoints=3, log_every=1, sample_every=0, progress=False)
  return fit(
    workdir=workdir,
    init_fn=lambda k: _init(k, width),
    train_step=_step,
    batches=_Batches(bad),
    options=LoopOptions(num_steps=num_steps, **{**defaults, **options}),
    key=jax.random.PRNGKey(0),
  )


def _leaves(state):
  return [np.asarray(x) for x in jax.tree.leaves(jax.device_get(state))]


def _assert_same(a, b):
  for x, y in zip(_leaves(a), _leaves(b)):
    np.testing.assert_array_equal(x, y)


def _restore(workdir, step):
  ckpt = Checkpointer(os.path.join(workdir, "checkpoints"))
  try:
    return ckpt.restore(jax.eval_shape(_init, jax.random.PRNGKey(0)), step)
  finally:
    ckpt.close()


@pytest.mark.parametrize("log_every", [1, 100])
def test_a_divergence_stops_training_and_keeps_the_last_finite_checkpoint(tmp_path, log_every):
  with pytest.raises(errors.NonFiniteError, match=r"step [56]: train/loss is inf"):
    _run(tmp_path, 20, bad={5}, log_every=log_every)
  ckpt = Checkpointer(tmp_path / "checkpoints")
  assert ckpt.all_steps() == [2, 4]  # nothing saved from step 5 on, nothing good rotated out
  ckpt.close()
  assert all(np.isfinite(x).all() for x in _leaves(_restore(tmp_path, 4)))


def test_the_message_names_the_step_the_metric_and_the_kept_checkpoint(tmp_path):
  with pytest.raises(errors.NonFiniteError) as e:
    _run(tmp_path, 20, bad={3}, log_every=1)
  message = str(e.value)
  assert "step 3: train/loss is inf" in message and "step 2" in message and "\n" not in message
  assert "--on_nonfinite=skip_step" in message


def _scalars(path, tag):
  """The values of scalar ``tag`` in a TensorBoard event file (TFRecord framing, Event protos)."""
  from tensorboardX.proto import event_pb2

  data, values, at = path.read_bytes(), [], 0
  while at < len(data):
    (length,) = np.frombuffer(data[at : at + 8], np.uint64)
    event = event_pb2.Event.FromString(data[at + 12 : at + 12 + int(length)])
    values += [v.simple_value for v in event.summary.value if v.tag == tag]
    at += 12 + int(length) + 4
  return values


def test_skip_step_drops_exactly_the_bad_updates(tmp_path):
  skipped = _run(tmp_path / "skip", 6, bad={3, 5}, on_nonfinite="skip_step")
  assert int(skipped.step) == 6
  (events,) = (tmp_path / "skip" / "tensorboard").iterdir()
  assert _scalars(events, "train/skipped_steps") == [0, 0, 1, 1, 2, 2]

  # The same run by hand: steps 3 and 5 change nothing but the step counter.
  state = _init(jax.random.PRNGKey(0))
  for s in range(1, 7):
    new, _ = _step(state, {"x": np.full((2,), float(s), np.float32)})
    state = state.replace(step=new.step) if s in (3, 5) else new
  _assert_same(skipped, state)
  assert all(np.isfinite(x).all() for x in _leaves(_restore(tmp_path / "skip", 6)))


def test_skip_step_counts_the_skipped_steps_in_the_metrics():
  from jaxgan.train.loop import skipping_nonfinite

  step = jax.jit(skipping_nonfinite(_step))
  state = _init(jax.random.PRNGKey(0))
  _, good = step(state, {"x": np.ones((2,), np.float32)}, None)
  after, bad = step(state, {"x": np.full((2,), np.inf, np.float32)}, None)
  assert float(good["skipped_steps"]) == 0 and float(bad["skipped_steps"]) == 1
  np.testing.assert_array_equal(after.nets["w"], state.nets["w"])
  assert int(after.step) == 1


def _damage_newest(workdir):
  """Truncate the largest file of the newest checkpoint (a write cut short)."""
  newest = max(Checkpointer(os.path.join(workdir, "checkpoints")).all_steps())
  files = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(workdir, "checkpoints", str(newest))) for f in fs]
  largest = max(files, key=os.path.getsize)
  with open(largest, "r+b") as f:
    f.truncate(os.path.getsize(largest) // 3)
  return newest


def test_an_unreadable_checkpoint_is_moved_aside_and_the_run_resumes_from_the_previous(tmp_path, capfd):
  straight = _run(tmp_path / "straight", 8)
  workdir = tmp_path / "resumed"
  _run(workdir, 6)
  assert _damage_newest(workdir) == 6
  resumed = _run(workdir, 8)
  err = capfd.readouterr().err
  assert "checkpoint 6" in err and "unreadable" in err and "moved to" in err
  assert os.listdir(workdir / ASIDE) == ["6.unreadable"]  # kept, not deleted
  _assert_same(resumed, straight)  # restored 4, ran 5..8


def test_restore_step_resumes_from_an_older_checkpoint_and_sets_the_later_ones_aside(tmp_path):
  straight = _run(tmp_path / "straight", 6)
  workdir = tmp_path / "w"
  _run(workdir, 6)
  resumed = _run(workdir, 6, restore_step=2)
  assert sorted(os.listdir(workdir / ASIDE)) == ["4.after_restore_step", "6.after_restore_step"]
  _assert_same(resumed, straight)
  with pytest.raises(errors.CheckpointError, match="--restore_step=3: no such checkpoint"):
    _run(workdir, 6, restore_step=3)


def test_a_checkpoint_of_other_shapes_is_named_and_left_alone(tmp_path):
  _run(tmp_path, 4)
  with pytest.raises(errors.CheckpointError, match=r"nets\.w: float32\[3\] in the checkpoint, float32\[5\] now"):
    _run(tmp_path, 6, width=5)
  assert not os.path.exists(tmp_path / ASIDE)
  assert int(_run(tmp_path, 6).step) == 6  # the original settings still resume


def test_a_failed_save_stops_training(tmp_path, monkeypatch):
  import orbax.checkpoint as ocp

  calls = []

  def failing(self):
    calls.append(1)
    if len(calls) > 1:  # the first save's background write failed
      raise OSError(errno.ENOSPC, "No space left on device")

  monkeypatch.setattr(ocp.CheckpointManager, "check_for_errors", failing)
  with pytest.raises(OSError) as e:
    _run(tmp_path, 20)
  assert e.value.errno == errno.ENOSPC
  assert Checkpointer(tmp_path / "checkpoints").all_steps() == [2]  # stopped at the save of step 4


def _dcgan(workdir, **overrides):
  settings = dict(num_steps=4, checkpoint_every=2, log_every=2, sample_every=0)
  return tiny.dcgan_config(workdir=str(workdir), **{**settings, **overrides})


def _train_dcgan(config):
  from jaxgan.methods import dcgan

  return dcgan.MODES["train"](config)


def test_config_json_is_written_only_after_the_checkpoint_restored(tmp_path):
  _train_dcgan(_dcgan(tmp_path))
  recorded = json.loads((tmp_path / "config.json").read_text())
  os.remove(tmp_path / "config.json")
  with pytest.raises(errors.CheckpointError, match="other settings .*in the checkpoint"):
    _train_dcgan(_dcgan(tmp_path, ngf=16, num_steps=6))
  assert not (tmp_path / "config.json").exists()  # the failed resume recorded nothing
  _train_dcgan(_dcgan(tmp_path, num_steps=6))  # the original settings resume ...
  assert json.loads((tmp_path / "config.json").read_text()) == {**recorded, "num_steps": 6}  # ... and record


def test_reported_exit_codes():
  assert experiment.reported_exit(errors.NonFiniteError("x"))[0] == errors.EXIT_NONFINITE
  assert experiment.reported_exit(errors.CheckpointError("x"))[0] == errors.EXIT_CHECKPOINT
  assert experiment.reported_exit(ValueError("x"))[0] == errors.EXIT_BAD_INPUT
  code, message = experiment.reported_exit(OSError(errno.ENOSPC, "No space left on device", "/w/x"))
  assert code == errors.EXIT_DISK and "/w/x" in message
  code, message = experiment.reported_exit(ModuleNotFoundError("No module named 'torch'", name="torch"))
  assert code == errors.EXIT_MISSING_DEPENDENCY and "pip install torch" in message
  assert experiment.reported_exit(errors.Preempted(signal.SIGTERM, 7, "/w"))[0] == 128 + signal.SIGTERM
  assert experiment.reported_exit(RuntimeError("a bug"))[0] is None  # tracebacks stay for bugs


def _script(*args, **env):
  return (
    [sys.executable, os.path.join(REPO, "experiments", "dcgan.py"), *args],
    {**os.environ, "PYTHONPATH": REPO, **env},
  )


DIGITS = [
  "--dataset=digits",
  "--image_size=16",
  "--channels=1",
  "--ngf=8",
  "--ndf=8",
  "--batch_size=8",
  "--sample_every=0",
  "--log_every=1",
]


def test_sigterm_saves_a_checkpoint_and_the_same_command_resumes(tmp_path):
  workdir = tmp_path / "w"
  command, env = _script(f"--workdir={workdir}", "--num_steps=100000", "--checkpoint_every=100000", *DIGITS)
  proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  deadline = time.time() + 240
  while not (workdir / "tensorboard").exists() or not os.listdir(workdir / "tensorboard"):
    assert proc.poll() is None and time.time() < deadline, proc.communicate()
    time.sleep(0.5)
  time.sleep(3)  # some steps
  proc.send_signal(signal.SIGTERM)
  out, err = proc.communicate(timeout=120)
  assert proc.returncode == 128 + signal.SIGTERM, err
  assert "stopped by SIGTERM at step" in err and "run the same command to resume" in err
  step = int(err.split("stopped by SIGTERM at step ")[1].split(";")[0])
  assert Checkpointer(workdir / "checkpoints").all_steps() == [step] and step > 0
  command, env = _script(f"--workdir={workdir}", f"--num_steps={step + 2}", "--checkpoint_every=100000", *DIGITS)
  r = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
  assert r.returncode == 0, r.stderr
  assert Checkpointer(workdir / "checkpoints").all_steps() == [step, step + 2]


def test_errors_are_one_line_with_their_exit_code(tmp_path):
  command, env = _script(
    f"--workdir={tmp_path}", "--num_steps=10", "--checkpoint_every=5", "--learning_rate=1e9", *DIGITS
  )
  r = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
  assert r.returncode == errors.EXIT_NONFINITE, r.stderr
  lines = [line for line in r.stderr.splitlines() if line.startswith("jaxgan: error:")]
  assert len(lines) == 1 and any(w in lines[0] for w in ("not finite", " is nan", " is inf")), r.stderr
  assert "Traceback" not in r.stderr
  r = subprocess.run(command + ["--verbose"], env=env, capture_output=True, text=True, timeout=240)
  assert "Traceback" in r.stderr


def test_cgan_rejects_a_gradient_penalty_before_anything_is_written(tmp_path):
  from jaxgan.methods import cgan

  with pytest.raises(ValueError, match="gp_weight=10.0 is not supported by the conditional GAN"):
    cgan.Config(workdir=str(tmp_path / "w"), gp_weight=10.0)
  assert not (tmp_path / "w").exists()


def test_a_checkpoint_that_still_holds_the_former_constants_restores_without_them(tmp_path, capfd):
  """SR and style-transfer checkpoints written before their frozen VGG (and Grams) became ``fit``'s
  consts restore into today's state: those arrays are read and dropped, everything else is kept."""
  trained = _run(tmp_path, 2)
  old = trained.replace(
    extra={"vgg": {"block1_conv1": {"kernel": jnp.ones((3, 3, 3, 4))}}, "style_grams": {"relu1_2": jnp.ones((1, 4, 4))}}
  )
  ckpt = Checkpointer(tmp_path / "old")
  ckpt.save(2, old)
  ckpt.wait()
  restored, step = ckpt.restore_newest(jax.eval_shape(_init, jax.random.PRNGKey(0)))
  ckpt.close()
  assert step == 2 and restored.extra == {}
  _assert_same(restored, trained)
  assert "holds constants that later checkpoints leave out (vgg, style_grams): read, not used" in capfd.readouterr().err
  # Any other leaf the state no longer has is still a run with other settings.
  other = Checkpointer(tmp_path / "other")
  other.save(1, trained.replace(extra={"pool": jnp.zeros((2,))}))
  other.wait()
  with pytest.raises(errors.CheckpointError, match=r"extra.pool: present in the checkpoint, absent now"):
    other.restore_newest(jax.eval_shape(_init, jax.random.PRNGKey(0)))
  other.close()

"""Latent-space tools: interpolation and vector arithmetic (Radford et al. 2015, Sec. 6).

Pure ``jnp`` functions. ``lerp`` / ``slerp`` take two latent vectors of the same shape
and a 1-D array of interpolation times ``ts`` and return ``[len(ts), *z0.shape]``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

# Below this angle (radians) slerp falls back to lerp: sin(omega) ~ 0 there, and
# float32 arccos cannot resolve angles much below ~5e-4 anyway. The two differ by a
# relative O(angle^2 / 8) ~ 1e-7 at the threshold.
_SLERP_MIN_ANGLE = 1e-3


def _check_pair(z0: jax.Array, z1: jax.Array, ts: jax.Array):
  z0, z1, ts = jnp.asarray(z0), jnp.asarray(z1), jnp.asarray(ts)
  if z0.shape != z1.shape:
    raise ValueError(f"z0 and z1 must have the same shape; got {z0.shape} and {z1.shape}")
  if ts.ndim != 1:
    raise ValueError(f"ts must be a 1-D array of times; got shape {ts.shape}")
  return z0, z1, ts


def _times(ts: jax.Array, z: jax.Array) -> jax.Array:
  """``ts`` reshaped to broadcast against ``[len(ts), *z.shape]``."""
  return ts.reshape(ts.shape + (1,) * z.ndim).astype(z.dtype)


def lerp(z0: jax.Array, z1: jax.Array, ts: jax.Array) -> jax.Array:
  """Linear interpolation ``(1 - t) z0 + t z1`` for each t: ``[len(ts), *z0.shape]``."""
  z0, z1, ts = _check_pair(z0, z1, ts)
  t = _times(ts, z0)
  return (1.0 - t) * z0[None] + t * z1[None]


def slerp(z0: jax.Array, z1: jax.Array, ts: jax.Array) -> jax.Array:
  """Spherical interpolation (Shoemake 1985; White 2016 for GAN latents).

  ``sin((1-t) w)/sin(w) z0 + sin(t w)/sin(w) z1`` with ``w`` the angle between z0 and
  z1 (the vectors are not normalised, so norms are interpolated too). Falls back to
  ``lerp`` when the vectors are (anti)parallel or either is zero, where the great
  circle is undefined. t = 0 and t = 1 return z0 and z1 exactly.
  Returns ``[len(ts), *z0.shape]``.
  """
  z0, z1, ts = _check_pair(z0, z1, ts)
  n0 = jnp.linalg.norm(z0.ravel())
  n1 = jnp.linalg.norm(z1.ravel())
  denom = n0 * n1
  safe_denom = jnp.where(denom > 0, denom, 1.0)
  cos = jnp.clip(jnp.vdot(z0.ravel(), z1.ravel()) / safe_denom, -1.0, 1.0)
  omega = jnp.arccos(cos)
  sin_omega = jnp.sin(omega)
  degenerate = (denom <= 0) | (sin_omega < jnp.sin(_SLERP_MIN_ANGLE))
  safe_sin = jnp.where(degenerate, 1.0, sin_omega)
  t = _times(ts, z0)
  spherical = jnp.sin((1.0 - t) * omega) / safe_sin * z0[None] + jnp.sin(t * omega) / safe_sin * z1[None]
  out = jnp.where(degenerate, lerp(z0, z1, ts), spherical)
  # Exact endpoints (sin(w) / sin(w) is not always exactly 1 in floating point).
  out = jnp.where(t == 0, z0[None], out)
  return jnp.where(t == 1, z1[None], out)


INTERPOLATIONS: dict[str, Callable[[jax.Array, jax.Array, jax.Array], jax.Array]] = {
  "lerp": lerp,
  "slerp": slerp,
}


def interpolation_strips(key: jax.Array, *, num_strips: int, steps: int, nz: int, method: str = "slerp") -> jax.Array:
  """``num_strips`` walks between random N(0, I) endpoints: ``[num_strips, steps, nz]``.

  Each strip starts exactly at its first endpoint and ends exactly at its second.
  """
  if method not in INTERPOLATIONS:
    raise ValueError(f"unknown interpolation {method!r}; valid names: {sorted(INTERPOLATIONS)}")
  if num_strips < 1 or steps < 2 or nz < 1:
    raise ValueError(f"need num_strips >= 1, steps >= 2, nz >= 1; got {num_strips}, {steps}, {nz}")
  k0, k1 = jax.random.split(key)
  z0 = jax.random.normal(k0, (num_strips, nz))
  z1 = jax.random.normal(k1, (num_strips, nz))
  ts = jnp.linspace(0.0, 1.0, steps)
  interpolate = INTERPOLATIONS[method]
  return jax.vmap(lambda a, b: interpolate(a, b, ts))(z0, z1)


def vector_arithmetic(z_a: jax.Array, z_b: jax.Array, z_c: jax.Array) -> jax.Array:
  """``mean(z_a) - mean(z_b) + mean(z_c)`` over each group's rows: ``[nz]``.

  Each group is ``[n_i, nz]`` (e.g. three "smiling woman" latents); the groups may
  have different sizes but must share nz. DCGAN's "smiling woman - neutral woman +
  neutral man" example.
  """
  groups = [jnp.asarray(z) for z in (z_a, z_b, z_c)]
  for name, z in zip(("z_a", "z_b", "z_c"), groups):
    if z.ndim != 2 or z.shape[0] < 1:
      raise ValueError(f"{name} must have shape [n, nz] with n >= 1; got {z.shape}")
  nzs = {z.shape[1] for z in groups}
  if len(nzs) != 1:
    raise ValueError(f"z_a, z_b, z_c must share nz; got shapes {[z.shape for z in groups]}")
  mean_a, mean_b, mean_c = (jnp.mean(z, axis=0) for z in groups)
  return mean_a - mean_b + mean_c

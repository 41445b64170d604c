"""SGAN (Odena 2016; Salimans et al. 2016): see :mod:`jaxgan.methods.semi_supervised`."""

from jaxgan.methods.semi_supervised import MODES, Config, Method, build  # noqa: F401

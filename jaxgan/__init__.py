"""jaxgan: faithful, functional JAX/Flax reimplementations of the classic image GANs."""

__version__ = "0.1.0"

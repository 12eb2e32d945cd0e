"""jaxdiag: the practical methodology of deep learning as compiled, tested JAX tools."""

__version__ = "0.1.0"

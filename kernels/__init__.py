"""Pure, jit- and vmap-compatible array kernels; installed as ``jaxdiag.kernels``.

Nothing here imports jaxdiag: kernels take arrays and static sizes and return arrays.
"""

from .confusion import confusion_matrix

__all__ = ["confusion_matrix"]

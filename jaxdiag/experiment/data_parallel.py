"""Data parallelism of the single-model loop: each minibatch split over devices along its
batch axis, the model, its optimizer state and the training arrays replicated on each.

The split is a sharding constraint on the minibatch inside the one compiled training
program; XLA partitions the forward and backward passes along the batch and sums the
gradients (and BatchNorm's batch statistics) across devices, so the numbers are those of one
device up to the order of float additions.
"""

import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

BATCH_AXIS = "batch"


class DataParallel(NamedTuple):
    """Where the loop's values go.

    Attributes:
      replicated: the sharding of the train state and the training arrays: whole on each
        device.
      batch: the sharding of a minibatch: its leading axis split over the devices.
    """

    replicated: NamedSharding
    batch: NamedSharding

    @property
    def num_devices(self) -> int:
        return self.batch.mesh.size


def data_parallel(batch_size: int, devices: Sequence[jax.Device] | None = None
                  ) -> DataParallel:
    """The layout of minibatches of ``batch_size`` over ``devices`` (all JAX sees when None):
    the most of them that divides the batch size evenly, with a warning when that leaves some
    out (a batch of 100 on 8 devices uses 4; choose a multiple of the device count).

    Raises:
      ValueError: an empty ``devices`` or a batch size below 1.
    """
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("devices: expected at least one device, found none.")
    if batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, found {batch_size}.")
    used = max(d for d in range(1, len(devices) + 1) if batch_size % d == 0)
    if used < len(devices):
        warnings.warn(f"batch_size {batch_size} does not split evenly over the {len(devices)} "
                      f"devices; each batch is split over {used} of them (a multiple of "
                      f"{len(devices)} uses all).", stacklevel=3)
    mesh = Mesh(np.array(devices[:used]), (BATCH_AXIS,))
    return DataParallel(NamedSharding(mesh, PartitionSpec()),
                        NamedSharding(mesh, PartitionSpec(BATCH_AXIS)))


def split_like(batches: Any, tree: Any) -> Any:
    """``batches`` (arrays of shape (num_batches, batch_size, ...)) with their batch axis
    (axis 1) split over the devices that ``tree`` (a train state's params) is replicated over
    by ``data_parallel``, so that evaluation is data parallel too; as they are when ``tree``
    is on one device or another layout, or the devices do not divide the batch size."""
    leaves = jax.tree.leaves(tree)
    sharding = getattr(leaves[0], "sharding", None) if leaves else None
    if not isinstance(sharding, NamedSharding) or sharding.mesh.axis_names != (BATCH_AXIS,) \
            or sharding.mesh.size == 1:
        return batches
    size = sharding.mesh.size
    if any(np.shape(leaf)[1] % size for leaf in jax.tree.leaves(batches)):
        return batches
    return jax.device_put(batches, NamedSharding(sharding.mesh, PartitionSpec(None, BATCH_AXIS)))

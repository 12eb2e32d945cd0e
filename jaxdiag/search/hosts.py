"""The processes of a ``jax.distributed`` job: one program on every process, the population
axis sharded over the global mesh, files written by process 0 only.

Every process runs the same sweep on its own copy of the data. What decides the sweep (which
populations are done, the sampler's points, the trial ids) is read or computed on process 0
and broadcast, so all processes train the same members; what they trained is gathered back
to every process, so all hold the same results. On one process every function here is the
identity, a plain call or a no-op.
"""

import json
from collections.abc import Callable
from typing import Any, TypeVar

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

T = TypeVar("T")


def initialize(coordinator: str, num_processes: int, process_id: int) -> None:
    """Joins the ``jax.distributed`` job: ``coordinator`` is process 0's ``host:port``, which
    every process names. Call it before anything else uses JAX. On CPUs the collectives run
    over gloo."""
    if not isinstance(num_processes, int) or num_processes < 1:
        raise ValueError(f"num_processes: expected a positive integer, found {num_processes!r}")
    if not isinstance(process_id, int) or not 0 <= process_id < num_processes:
        raise ValueError(f"process_id: expected an integer in [0, {num_processes}), found "
                         f"{process_id!r}")
    if ":" not in coordinator:
        raise ValueError(f"coordinator: expected host:port of process 0, found {coordinator!r}")
    jax.distributed.initialize(coordinator, num_processes=num_processes, process_id=process_id)


def is_primary() -> bool:
    """Whether this is process 0, the one that writes files and shows progress."""
    return jax.process_index() == 0


def from_primary(compute: Callable[[], T]) -> T:
    """``compute()`` on process 0, its JSON-able result sent to every process (the others do
    not call it)."""
    if jax.process_count() == 1:
        return compute()
    payload = json.dumps(compute()).encode() if is_primary() else b""
    size = int(multihost_utils.broadcast_one_to_all(np.int64(len(payload))))
    buffer = np.zeros(size, np.uint8)
    if is_primary():
        buffer[:] = np.frombuffer(payload, np.uint8)
    return json.loads(bytes(np.asarray(multihost_utils.broadcast_one_to_all(buffer))))


def barrier(name: str) -> None:
    """Waits until every process reaches the barrier ``name``."""
    if jax.process_count() > 1:
        multihost_utils.sync_global_devices(name)


def to_host(tree: Any) -> Any:
    """Every leaf as a host NumPy array, whole on every process: arrays sharded over other
    processes' devices are gathered."""
    def gather(x):
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            return np.asarray(multihost_utils.process_allgather(x, tiled=True))
        return np.asarray(x)
    return jax.tree.map(gather, tree)


def to_mesh(tree: Any, mesh: Mesh, sharded: bool) -> Any:
    """Values identical on every process (host arrays, or arrays on this process's devices)
    as global arrays over ``mesh``: split along their leading (member) axis when ``sharded``,
    else replicated; arrays that are global already are kept. On one process the values are
    returned as they are (the computation places them)."""
    if jax.process_count() == 1:
        return tree
    sharding = NamedSharding(mesh, PartitionSpec(mesh.axis_names[0]) if sharded
                             else PartitionSpec())

    def place(x):
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            return x
        return jax.device_put(np.asarray(x), sharding)
    return jax.tree.map(place, tree)

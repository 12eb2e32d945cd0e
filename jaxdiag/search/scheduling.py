"""How a population is laid out on the hardware: members per vmapped chunk, groups run at
once from threads on a CPU, and padded member counts that few compiled programs serve.

XLA's CPU backend runs a program of small ops on one core, and concurrent calls on others; so
on a single CPU device the members are split into groups, one per core, each run from its own
thread, while on accelerators (and over several devices) all members run in one program.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial

import jax
import jax.numpy as jnp
import numpy as np

from jaxdiag.kernels.host_blocks import cpu_cores
from jaxdiag.search.task import Task

CPU_FLOPS_PER_CHUNK = 8e6  # on CPU, vmap members until a chunk's step costs this (measured)
CPU_FLOPS_PER_GROUP = 2e6  # on CPU, run groups at once while each group's step costs this


def members_per_chunk(task: Task, batch_size: int, members: int,
                      platform: str | None = None) -> int:
    """How many members to vmap at once: all on accelerators; on CPU, the largest power of
    two that keeps one chunk's training step under ``CPU_FLOPS_PER_CHUNK`` (a model that
    fills the CPU alone runs one member at a time, where vmap would only add copies)."""
    platform = platform or jax.default_backend()
    members = max(members, 1)
    if platform != "cpu":
        return members
    most = max(CPU_FLOPS_PER_CHUNK / task.step_flops(batch_size), 1.0)
    return min(1 << int(np.log2(most)), members)


def concurrent_groups(task: Task, batch_size: int, members: int, devices: list) -> int:
    """How many groups of a device's ``members`` to run at once, each from its own thread.

    On a single CPU device: the most groups, up to the core count and dividing ``members``,
    whose training step still costs ``CPU_FLOPS_PER_GROUP`` each (XLA runs a program of small
    ops on one core, and concurrent calls on others; a smaller group gains less than the
    thread costs). Else 1: devices already run in parallel.
    """
    if len(devices) > 1 or devices[0].platform != "cpu":
        return 1
    per_member = task.step_flops(batch_size)
    return max(g for g in range(1, min(cpu_cores(), members) + 1)
               if members % g == 0 and (g == 1 or members // g * per_member >= CPU_FLOPS_PER_GROUP))


@cache
def _group_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=cpu_cores(), thread_name_prefix="jaxdiag-population")


@partial(jax.jit, static_argnums=1)
def _split(tree, groups: int) -> list:
    """``groups`` equal parts of the leading axis of every leaf, in one compiled call: a
    slice per leaf dispatched from Python added 6-12 ms to a 0.28 s population (tiny MLP,
    K = 256, with the concatenation below)."""
    size = len(jax.tree_util.tree_leaves(tree)[0]) // groups
    return [jax.tree_util.tree_map(lambda v, i=i: v[i * size:(i + 1) * size], tree)
            for i in range(groups)]


@jax.jit
def _concatenate(trees: list):
    """The leaves of same-structure ``trees`` concatenated along their leading axis."""
    return jax.tree_util.tree_map(lambda *vs: jnp.concatenate(vs), *trees)


def in_groups(f: Callable, member_args: tuple, shared: tuple, groups: int):
    """``f(*member_args, *shared)`` with the member axis (leading, of every leaf of
    ``member_args``) split into ``groups`` equal parts run at once; outputs concatenated."""
    if groups == 1:
        return f(*member_args, *shared)
    outs = list(_group_pool().map(lambda part: f(*part, *shared), _split(member_args, groups)))
    return _concatenate(outs)


def padded_size(k: int, devices: int) -> int:
    """The member count a population of ``k`` is computed at: per device, a power of two up
    to 8, then n * 2^m with 4 <= n < 8 (at most 25% padding), so that populations of many
    sizes, and the shrinking populations of successive halving, share few compiled programs."""
    per_device = -(-k // devices)
    if per_device <= 8:
        return (1 << (per_device - 1).bit_length()) * devices
    step = 1 << max(per_device.bit_length() - 3, 0)
    return -(-per_device // step) * step * devices


def padded(index: np.ndarray, devices: int) -> np.ndarray:
    """``index`` padded with copies of its first entry to ``padded_size``; padding members
    are computed and dropped."""
    pad = padded_size(len(index), devices) - len(index)
    return np.concatenate([index, np.full(pad, index[0])]) if pad else index

"""Vectorized finite-difference gradient check of a scalar function of a parameter pytree.

Every floating leaf is checked on its own, so a wrong gradient is pinned to the leaf that has
it: along ``num_directions`` random directions inside the leaf (a random sign per entry,
normalized), and along coordinate axes (all of them for a leaf of at most ``exhaustive_size``
entries, ``num_coordinates`` random ones otherwise). Each central difference
``f(p + eps d) - f(p - eps d)`` is compared with the back-propagated ``<grad f, step>``. The
leaves are raveled into one vector (per dtype, and per ``GROUP_BYTES`` of points), so the
evaluations of all leaves are one ``vmap`` of ``f`` in one compiled program: compiling costs
about one gradient and one batched forward, whatever the number of leaves, and the random
draws are made on the host, so no random-number program is compiled.

A leaf's relative error is ``|num - ana| / (max(|num|, |ana|) + sqrt(m) atol / rtol)``, norms
over its m directions and coordinates: a stopped gradient gives 1, a gradient scaled by s gives
``|1 - s| / max(1, s)``, and the occasional direction that crosses a ReLU kink is diluted.

References:
  Goodfellow, Bengio and Courville, Deep Learning (2016), 11.5: numerical gradient checks.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxdiag.gradcheck.report import Coordinate, GradcheckReport, LeafCheck
from jaxdiag.kernels import central_differences

# dtype -> (eps, rtol, atol noise factor): central differences in float32 carry a rounding
# noise of about u |f| / eps and kink errors of a few percent; float64 is the precise mode.
_DEFAULTS = {np.dtype(np.float32): (1e-3, 1e-1, 4.0), np.dtype(np.float64): (1e-6, 1e-5, 4.0)}
# Leaves are checked together while their points (2 per direction, each the whole raveled
# group) take at most this much memory: one compiled evaluation for all of a small model's
# leaves (a 100k-parameter MLP: 0.6 s of compiling against 2.8 s for one per leaf).
GROUP_BYTES = 256 * 2**20


def _path(key_path) -> str:
    return jax.tree_util.keystr(key_path, simple=True, separator="/")


def _to_float64(tree: Any) -> Any:
    def cast(x):
        x = jnp.asarray(x)
        return x.astype(jnp.float64) if jnp.issubdtype(x.dtype, jnp.floating) else x
    return jax.tree_util.tree_map(cast, tree)


def _derivatives(fn, treedef, groups, batch_size, leaves, args, signs, indices, eps):
    """Per checked leaf: (numerical, analytic) derivatives along its directions, coordinates.

    ``groups`` holds tuples of ``(leaf, num_directions, num_coordinates)`` of one dtype: a
    group's leaves are raveled into one vector, and the points of all its leaves (each
    direction nonzero on its own leaf only) are evaluated by one ``vmap`` of ``fn``, so the
    program holds one batched copy of ``fn`` per group, however many leaves it checks.
    ``signs`` holds int8 (sum of directions x size,) per group: the directions' entries;
    ``indices`` int32 (num_coordinates,) per leaf: its coordinates.
    """
    checked = [i for group in groups for i, _, _ in group]
    index_of = dict(zip(checked, indices, strict=True))
    layouts = []  # per group: its leaves and their offsets in the group's vector
    for group in groups:
        members = [i for i, _, _ in group]
        layouts.append((members, np.concatenate([[0], np.cumsum([leaves[i].size
                                                                 for i in members])])))

    def f(vectors):  # the other leaves (integers, RNG counts) are held fixed
        full = list(leaves)
        for vector, (members, offsets) in zip(vectors, layouts, strict=True):
            for i, start, stop in zip(members, offsets[:-1], offsets[1:], strict=True):
                full[i] = vector[start:stop].reshape(leaves[i].shape)
        return fn(jax.tree_util.tree_unflatten(treedef, full), *args)

    vectors = [jnp.concatenate([leaves[i].ravel() for i in members]) for members, _ in layouts]
    value, flat_grads = jax.value_and_grad(f)(vectors)
    out = {}
    for g, (group, group_signs, (_, offsets)) in enumerate(zip(groups, signs, layouts,
                                                               strict=True)):
        flat = vectors[g]
        stacks, used = [], 0
        for (i, num_directions, _), offset in zip(group, offsets, strict=False):
            size = leaves[i].size
            directions = group_signs[used:used + num_directions * size].reshape(-1, size)
            used += num_directions * size
            local = jnp.concatenate([directions.astype(flat.dtype) / np.sqrt(size),
                                     jax.nn.one_hot(index_of[i], size, dtype=flat.dtype)])
            stacks.append(jnp.pad(local, ((0, 0), (offset, flat.size - offset - size))))

        def f_flat(vector, g=g):
            return f([*vectors[:g], vector, *vectors[g + 1:]])

        difference, step = central_differences(f_flat, flat, jnp.concatenate(stacks), eps,
                                               batch_size)
        predicted = step @ flat_grads[g]
        row = 0
        for i, num_directions, num_coordinates in group:
            rows = slice(row, row + num_directions + num_coordinates)
            out[i] = (difference[rows] / (2 * eps), predicted[rows] / (2 * eps))
            row = rows.stop
    return value, [out[i] for i in checked]


# A check runs once and briefly (0.1 s for a 100k-parameter MLP), so on a CPU its program is
# compiled with LLVM's cheap passes: 0.25 s of compiling against 0.44 s, 0.15 s of running
# against 0.10 s.
_CPU_COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}


@cache
def _compiled_derivatives(platform: str) -> Callable:
    return jax.jit(_derivatives, static_argnums=(0, 1, 2, 3), compiler_options=(
        _CPU_COMPILER_OPTIONS if platform == "cpu" else None))


def _draws(key: jax.Array, leaves: list, groups: tuple) -> tuple[list, list]:
    """The random part of the check, drawn on the host (every ``jax.random`` call would be a
    program of its own to compile: 0.3 s for a float64 normal on a CPU): per group int8 signs,
    a direction being a random sign per entry of its leaf, normalized; per leaf its
    coordinates, all of them or a uniform draw without replacement."""
    data = jax.random.key_data(key) if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) \
        else key
    rng = np.random.default_rng(np.asarray(data, np.uint32).ravel().tolist())
    signs, indices = [], []
    for group in groups:
        count = sum(d * leaves[i].size for i, d, _ in group)
        signs.append(rng.integers(0, 2, count, dtype=np.int8) * np.int8(2) - np.int8(1))
        for i, _, num_coordinates in group:
            size = leaves[i].size
            indices.append(np.arange(size, dtype=np.int32) if num_coordinates == size
                           else rng.choice(size, num_coordinates, replace=False)
                           .astype(np.int32))
    return signs, indices


def _groups(leaves: list, plan: tuple, max_bytes: int) -> tuple:
    """The plan's leaves in groups of one dtype whose stack of points (2 per direction, each a
    whole group vector) stays under ``max_bytes``; a leaf too large for any is alone."""
    groups: list[list] = []
    for entry in sorted(plan, key=lambda e: (str(leaves[e[0]].dtype), e[0])):
        i, num_directions, num_coordinates = entry
        leaf = leaves[i]
        if groups:
            last = groups[-1]
            points = 2 * sum(d + c for _, d, c in last) + 2 * (num_directions + num_coordinates)
            size = sum(leaves[j].size for j, _, _ in last) + leaf.size
            if leaves[last[0][0]].dtype == leaf.dtype and \
                    points * size * leaf.dtype.itemsize <= max_bytes:
                last.append(entry)
                continue
        groups.append([entry])
    return tuple(tuple(group) for group in groups)


def _over_params(fn: Callable[..., jax.Array],
                 module: nnx.Module) -> tuple[Callable, Any, Any]:
    """``(fn(params, rest, *args) of the module's Param leaves as a pure dict and its other
    state, those leaves, that state)``."""
    graphdef, params, rest = nnx.split(module, nnx.Param, ...)

    def over_params(pure_params, rest, *args):
        return fn(nnx.merge(graphdef, pure_params, rest), *args)

    return over_params, nnx.to_pure_dict(params), rest


def _check_args(num_directions, num_coordinates, exhaustive_size, eps, rtol, atol) -> None:
    for name, value, low in (("num_directions", num_directions, 0),
                             ("num_coordinates", num_coordinates, 0),
                             ("exhaustive_size", exhaustive_size, 0)):
        if not isinstance(value, int) or value < low:
            raise ValueError(f"{name}: expected an int >= {low}, found {value!r}")
    if num_directions + num_coordinates == 0:
        raise ValueError("num_directions, num_coordinates: expected at least one check per leaf, "
                         "found 0 and 0")
    for name, value in (("eps", eps), ("rtol", rtol), ("atol", atol)):
        if value is not None and not (isinstance(value, int | float) and value > 0):
            raise ValueError(f"{name}: expected a positive number or None, found {value!r}")


def gradcheck(
    fn: Callable[..., jax.Array],
    params: Any,
    *args: Any,
    num_directions: int = 16,
    num_coordinates: int = 8,
    exhaustive_size: int = 64,
    eps: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    key: jax.Array | None = None,
    float64: bool = False,
    batch_size: int | None = None,
    top_coordinates: int = 5,
) -> GradcheckReport:
    """Check ``jax.grad(fn)`` against central finite differences, leaf by leaf.

    Args:
      fn: ``fn(params, *args)`` returning a scalar; traced with jit.
      params: pytree of arrays; its floating leaves are checked, the others (integers, RNG
        keys and counts) held fixed. Or a Flax NNX module that ``fn`` takes: its ``nnx.Param``
        leaves are checked, everything else (BatchNorm statistics, dropout RNG state) held
        fixed, and the report's paths are those of ``nnx.to_pure_dict``.
      *args: the other arguments of ``fn`` (a batch, labels...).
      num_directions: random directions per leaf larger than ``exhaustive_size``.
      num_coordinates: random coordinate axes per leaf larger than ``exhaustive_size``.
      exhaustive_size: leaves of at most this many entries are checked at every coordinate.
      eps: finite-difference step; default 1e-3 in float32, 1e-6 in float64.
      rtol: relative tolerance; default 1e-1 in float32, 1e-5 in float64.
      atol: absolute tolerance of a derivative; default 4 u max(|f|, 1) / eps (u the unit
        roundoff of the dtype), the rounding noise of the difference quotient.
      key: PRNG key for the directions; default ``jax.random.key(0)``.
      float64: run the whole check in float64 (inside ``jax.enable_x64``), params and args cast.
      batch_size: evaluate at most this many perturbed points of a leaf at once (memory).
      top_coordinates: how many of the worst coordinates the report lists.

    Returns:
      ``GradcheckReport``; ``str(report)`` is a table with one row per leaf.
    """
    _check_args(num_directions, num_coordinates, exhaustive_size, eps, rtol, atol)
    if isinstance(params, nnx.Module):
        fn, params, rest = _over_params(fn, params)
        args = (rest, *args)  # an argument, so that float64 casts its statistics too
    if float64:
        with jax.enable_x64(True):
            return gradcheck(fn, _to_float64(params), *_to_float64(args),
                             num_directions=num_directions, num_coordinates=num_coordinates,
                             exhaustive_size=exhaustive_size, eps=eps, rtol=rtol, atol=atol,
                             key=key, batch_size=batch_size, top_coordinates=top_coordinates)
    with_paths, treedef = jax.tree_util.tree_flatten_with_path(params)
    leaves = [jnp.asarray(leaf) for _, leaf in with_paths]
    checked = [i for i, leaf in enumerate(leaves)
               if jnp.issubdtype(leaf.dtype, jnp.floating) and leaf.size > 0]
    if not checked:
        raise ValueError("params: expected a pytree with at least one non-empty floating-point "
                         f"leaf, found leaves {[(leaf.dtype, leaf.shape) for leaf in leaves]}")
    try:
        out_shape = jax.eval_shape(fn, params, *args)
    except (TypeError, ValueError) as e:  # shape and dtype errors of fn on these arguments
        shapes = [tuple(getattr(a, "shape", ())) for a in jax.tree.leaves(args)]
        raise ValueError(
            f"args: expected arguments that fn(params, *args) accepts, found arrays of shapes "
            f"{shapes} with params of shapes {[tuple(leaf.shape) for leaf in leaves]}; fn "
            f"raised {type(e).__name__}: {str(e).splitlines()[0]}") from None
    if getattr(out_shape, "shape", None) != ():
        raise ValueError(f"fn: expected a scalar output, found {out_shape}")
    dtype = np.dtype(jnp.result_type(*(leaves[i].dtype for i in checked)))
    default_eps, default_rtol, noise = _DEFAULTS.get(dtype, _DEFAULTS[np.dtype(np.float32)])
    eps = default_eps if eps is None else float(eps)
    rtol = default_rtol if rtol is None else float(rtol)
    plan = tuple(
        (i, 0, leaves[i].size) if leaves[i].size <= exhaustive_size
        else (i, num_directions, min(num_coordinates, leaves[i].size)) for i in checked)
    key = jax.random.key(0) if key is None else key
    groups = _groups(leaves, plan, GROUP_BYTES if batch_size is None else 0)
    signs, indices = _draws(key, leaves, groups)
    value, results = _compiled_derivatives(jax.default_backend())(
        fn, treedef, groups, batch_size, leaves, args, signs, indices, jnp.asarray(eps, dtype))
    value = float(value)
    if atol is None:
        atol = noise * float(np.finfo(dtype).eps) * max(abs(value), 1.0) / eps
    leaf_checks, coordinates = {}, []
    order = [entry for group in groups for entry in group]
    for (i, num_dir, num_coord), (numerical, analytic), index in zip(order, results, indices,
                                                                     strict=True):
        numerical = np.asarray(numerical, np.float64)
        analytic = np.asarray(analytic, np.float64)
        path = _path(with_paths[i][0])
        error = np.linalg.norm(numerical - analytic)
        floor = np.sqrt(numerical.size) * atol / rtol
        scale = max(np.linalg.norm(numerical), np.linalg.norm(analytic)) + floor
        relative = float(error / scale)
        leaf_checks[path] = LeafCheck(path, tuple(leaves[i].shape), num_dir, num_coord,
                                      relative, bool(relative <= rtol))
        coordinate_scale = scale / np.sqrt(numerical.size)
        shape = leaves[i].shape
        for k, flat in enumerate(np.asarray(index)):
            num, ana = numerical[num_dir + k], analytic[num_dir + k]
            coordinates.append(Coordinate(
                path, tuple(int(j) for j in np.unravel_index(int(flat), shape)), float(ana),
                float(num), float(abs(num - ana) / (max(abs(num), abs(ana)) + coordinate_scale))))
    worst = max(leaf_checks.values(), key=lambda leaf: leaf.relative_error)
    coordinates.sort(key=lambda c: c.relative_error, reverse=True)
    return GradcheckReport(
        ok=all(leaf.ok for leaf in leaf_checks.values()),
        worst_relative_error=worst.relative_error, worst_leaf=worst.path, leaves=leaf_checks,
        worst_coordinates=tuple(coordinates[:top_coordinates]), eps=eps, rtol=rtol,
        atol=float(atol), dtype=dtype.name, loss=value)

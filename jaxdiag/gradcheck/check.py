"""Vectorized finite-difference gradient check of a scalar function of a parameter pytree.

Every floating leaf is checked on its own, so a wrong gradient is pinned to the leaf that has
it: along ``num_directions`` random unit directions inside the leaf, and along coordinate axes
(all of them for a leaf of at most ``exhaustive_size`` entries, ``num_coordinates`` random ones
otherwise). Each central difference ``f(p + eps d) - f(p - eps d)`` is compared with the
back-propagated ``<grad f, step>``; all the evaluations of all leaves run in one compiled
program, one ``vmap`` per leaf.

A leaf's relative error is ``|num - ana| / (max(|num|, |ana|) + sqrt(m) atol / rtol)``, norms
over its m directions and coordinates: a stopped gradient gives 1, a gradient scaled by s gives
``|1 - s| / max(1, s)``, and the occasional direction that crosses a ReLU kink is diluted.

References:
  Goodfellow, Bengio and Courville, Deep Learning (2016), 11.5: numerical gradient checks.
"""

from collections.abc import Callable
from functools import partial
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


def _path(key_path) -> str:
    return jax.tree_util.keystr(key_path, simple=True, separator="/")


def _to_float64(tree: Any) -> Any:
    def cast(x):
        x = jnp.asarray(x)
        return x.astype(jnp.float64) if jnp.issubdtype(x.dtype, jnp.floating) else x
    return jax.tree_util.tree_map(cast, tree)


@partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _derivatives(fn, treedef, plan, batch_size, leaves, args, key, eps):
    """Per checked leaf: (numerical, analytic) derivatives along its directions, coordinates."""

    checked = [i for i, _, _ in plan]

    def f(leaves):
        return fn(jax.tree_util.tree_unflatten(treedef, leaves), *args)

    def f_checked(values):  # the other leaves (integers, RNG counts) are held fixed
        full = list(leaves)
        for i, value in zip(checked, values, strict=True):
            full[i] = value
        return f(full)

    value, checked_grads = jax.value_and_grad(f_checked)([leaves[i] for i in checked])
    grads = dict(zip(checked, checked_grads, strict=True))
    out = []
    for i, num_directions, num_coordinates in plan:
        leaf, grad = leaves[i], grads[i]
        k_dir, k_coord = jax.random.split(jax.random.fold_in(key, i))
        size = leaf.size
        directions = jax.random.normal(k_dir, (num_directions, size), leaf.dtype)
        directions /= jnp.linalg.norm(directions, axis=1, keepdims=True)
        if num_coordinates == size:
            index = jnp.arange(size)
        else:
            index = jax.random.choice(k_coord, size, (num_coordinates,), replace=False)
        axes = jax.nn.one_hot(index, size, dtype=leaf.dtype)
        stack = jnp.concatenate([directions, axes]).reshape(-1, *leaf.shape)

        def f_leaf(x, i=i):
            return f([*leaves[:i], x, *leaves[i + 1:]])

        difference, step = central_differences(f_leaf, leaf, stack, eps, batch_size)
        predicted = (step * grad).reshape(step.shape[0], -1).sum(axis=1)
        out.append((difference / (2 * eps), predicted / (2 * eps), index))
    return value, out


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
      num_directions: random unit directions per leaf larger than ``exhaustive_size``.
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
    value, results = _derivatives(fn, treedef, plan, batch_size, leaves, args, key,
                                  jnp.asarray(eps, dtype))
    value = float(value)
    if atol is None:
        atol = noise * float(np.finfo(dtype).eps) * max(abs(value), 1.0) / eps
    leaf_checks, coordinates = {}, []
    for (i, num_dir, num_coord), (numerical, analytic, index) in zip(plan, results, strict=True):
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

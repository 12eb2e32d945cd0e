"""The population trainer: K members trained at once in one compiled program.

Each member is a ``Task`` (any model through ``ModelTask``, the built-in MLP through
``mlp_task``) with its own hyperparameters and seed. A segment of training is one ``jax.jit``
of ``lax.map`` over members (``vmap`` over chunks of ``members_per_chunk``) of a ``lax.scan``
over steps; the member axis is split over all devices with ``jax.shard_map``: the local ones,
or in a ``jax.distributed`` job every process's (``jaxdiag.search.hosts``). On one CPU
device, which runs a program of small ops on one core, the members are instead split into
``concurrent_groups``, one per core, each run from its own thread (the layout:
``jaxdiag.search.scheduling``). A member whose loss turns NaN/Inf is frozen from that step on
and reported as failed; the others never see it. Successive halving stops the worst members at
rungs and compacts the population, so only survivors are computed.

A member's minibatches and dropout masks depend only on its seed and the step number, so a
member trains the same way alone, in any population, on any number of devices.
"""

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec

from jaxdiag.experiment.checkpoint import Checkpointer
from jaxdiag.experiment.loop import SegmentLog, run_segments
from jaxdiag.kernels import class_balanced_indices, class_layout, minibatch_indices
from jaxdiag.search.halving import survivors
from jaxdiag.search.hosts import to_host, to_mesh
from jaxdiag.search.scheduling import (
    concurrent_groups,
    in_groups,
    members_per_chunk,
    padded,
    padded_size,
)
from jaxdiag.search.task import MEMBER_HPARAMS, HParams, Task, evaluate

TARGET_STREAM = 0x7A3C9E1  # a member's target-domain batches: its seed xor this
SHARE_STREAM = 0x2D358DCB  # which of its draws are class-balanced


class Data(NamedTuple):
    """Training and dev arrays: x float (n, ...), y int (n,); and for a task that adapts to the
    target domain (``needs_target``), the target's unlabelled training inputs x_target float
    (m, ...)."""

    x_train: jax.Array
    y_train: jax.Array
    x_dev: jax.Array
    y_dev: jax.Array
    x_target: jax.Array | None = None


class MemberState(NamedTuple):
    params: object
    model_state: object  # BatchNorm statistics, RNG counts: {} for none
    opt_state: object
    alive: jax.Array  # bool: not failed
    failed_at: jax.Array  # int32: step whose loss or update was not finite, -1 if none


@dataclass(frozen=True)
class PopulationResult:
    """What happened to each of K members (host NumPy arrays, member order as given).

    Attributes:
      train_loss: float32 (K, steps): each step's minibatch loss; NaN where the member was
        failed or stopped.
      failed_at: int (K,): first step with a non-finite loss, -1 for members that never failed.
      stopped_at: int (K,): the rung step where halving stopped the member; ``steps`` for
        members that ran to the end (and for failed ones: see ``failed_at``).
      rungs: {step: {"dev_error": (K,), "dev_loss": (K,)}} at each rung and at the end,
        NaN for members no longer trained there.
      dev_error, dev_loss: (K,): at the last step each member was trained to.
      members_per_chunk: members vmapped at once in each compiled program.
      groups: programs run at once on each device (in the first segment; the fewer
        survivors of a rung may run in fewer), each on its share of the members.
      params: the members' parameters at the last step each was trained to, the task's
        pytree with a leading member axis K on every leaf.
      model_state: the members' carried model state there (``{}`` for none), likewise.
    """

    train_loss: np.ndarray
    failed_at: np.ndarray
    stopped_at: np.ndarray
    rungs: dict[int, dict[str, np.ndarray]]
    dev_error: np.ndarray
    dev_loss: np.ndarray
    members_per_chunk: int
    groups: int
    params: object
    model_state: object


def _check_hparams(hparams: Mapping[str, np.ndarray], seeds: np.ndarray,
                   task: Task) -> dict[str, np.ndarray]:
    k = len(seeds)
    unknown = sorted(set(hparams) - set(task.traced_hparams))
    if unknown:
        raise ValueError(f"hparams: expected names among {sorted(task.traced_hparams)} (what "
                         f"{task.name} traces per member), found {unknown[0]!r}.")
    full = {name: np.broadcast_to(np.asarray(hparams.get(name, default), np.float64), (k,))
            for name, default in MEMBER_HPARAMS.items()}
    checks = {"learning_rate": (0, np.inf, "> 0"), "momentum": (0, 1, "in [0, 1)"),
              "weight_decay": (0, np.inf, ">= 0"), "dropout": (0, 1, "in [0, 1)"),
              "init_scale": (0, np.inf, "> 0"), "remedy_weight": (0, np.inf, ">= 0")}
    for name, (low, high, expected) in checks.items():
        v = full[name]
        strict_low = name in ("learning_rate", "init_scale")
        bad = ~np.isfinite(v) | (v <= low if strict_low else v < low) | (v >= high)
        if bad.any():
            raise ValueError(f"hparams[{name!r}]: expected values {expected}, found "
                             f"{float(v[bad][0])!r} (member {int(np.argmax(bad))}).")
    return {name: v.astype(np.float32) for name, v in full.items()}


def _member_functions(task: Task, batch_size: int):
    def init(seed: jax.Array, hp: HParams) -> MemberState:
        params, model_state = task.init(jax.random.fold_in(jax.random.key(seed), 0), hp)
        return MemberState(params, model_state, task.tx(hp).init(params), jnp.array(True),
                           jnp.array(-1))

    classes = getattr(task, "balanced_classes", 0)  # static: balanced draws when > 0

    def train(state: MemberState, hp: HParams, seed: jax.Array, examples: jax.Array,
              size: jax.Array, data: Data, start: jax.Array, num_steps: int,
              dropout: bool) -> tuple[MemberState, jax.Array, tuple]:
        """``num_steps`` steps from step ``start`` on the first ``size`` of ``examples`` (the
        member's training examples); the losses; the dev (error, loss) after."""
        tx = task.tx(hp)
        key = jax.random.key(seed)
        steps = start + jnp.arange(num_steps)
        # the segment's batches, at once; a target batch per step from a stream of its own
        batches = examples[minibatch_indices(seed, steps, batch_size, size)]
        if classes:  # class-balanced draws for a share remedy_weight of the batch
            own = jnp.arange(examples.shape[0]) < size  # the rest is padding
            by_class, starts, counts = class_layout(
                jnp.where(own, data.y_train[examples], -1), classes)
            balanced = examples[by_class[class_balanced_indices(seed, steps, batch_size, starts,
                                                                counts)]]
            share = minibatch_indices(seed ^ SHARE_STREAM, steps, batch_size, 1 << 24)
            batches = jnp.where(share < hp["remedy_weight"] * (1 << 24), balanced, batches)
        targets = (minibatch_indices(seed ^ TARGET_STREAM, steps, batch_size,
                                     data.x_target.shape[0])
                   if data.x_target is not None else jnp.zeros((num_steps, 0), jnp.int32))

        def step(state: MemberState, t_batch: tuple[jax.Array, jax.Array, jax.Array]):
            t, batch, target = t_batch
            dropout_key = jax.random.fold_in(jax.random.fold_in(key, 2), t) if dropout else None
            x = data.x_train[batch]
            if data.x_target is not None:
                x = (x, data.x_target[target])
            (loss, model_state), grads = jax.value_and_grad(task.loss, has_aux=True)(
                state.params, state.model_state, x, data.y_train[batch], dropout_key, hp)
            updates, opt_state = tx.update(grads, state.opt_state, state.params)
            # The loss is the check: a non-finite update shows in the next step's loss, and
            # one more reduction per leaf would cost as much as the step on a small model.
            # A failed member's updates are masked out for good, so its parameters stay as
            # they were; its optimizer state is never used again.
            ok = state.alive & jnp.isfinite(loss)
            params = jax.tree_util.tree_map(lambda p, u: p + jnp.where(ok, u, 0), state.params,
                                            updates)
            model_state = jax.tree_util.tree_map(lambda new, old: jnp.where(ok, new, old),
                                                 model_state, state.model_state)
            failed_at = jnp.where(state.alive & ~ok, t, state.failed_at)
            return (MemberState(params, model_state, opt_state, ok, failed_at),
                    jnp.where(ok, loss, jnp.nan))

        state, losses = jax.lax.scan(step, state, (steps, batches, targets))
        error, loss = evaluate(task, state.params, state.model_state, data.x_dev, data.y_dev)
        dev = jnp.where(state.alive, error, jnp.nan), jnp.where(state.alive, loss, jnp.nan)
        return state, losses, dev

    return init, train


@lru_cache(maxsize=32)
def _compiled(task: Task, batch_size: int, chunk: int, devices: tuple) -> "_Compiled":
    """The programs of one configuration, kept so that a second population reuses them."""
    return _Compiled(task, batch_size, chunk, list(devices))


class _Compiled:
    """The jitted, chunked and sharded programs of one task; one compile per member count."""

    def __init__(self, task: Task, batch_size: int, chunk: int, devices: list):
        init, train = _member_functions(task, batch_size)
        self.mesh = mesh = Mesh(np.array(devices), ("members",))
        members, replicated = PartitionSpec("members"), PartitionSpec()

        def over_members(f: Callable, extra_specs: tuple) -> Callable:
            def local(member_args, *extra):
                # batch_size=1 would vmap a batch of one, which XLA runs slower than a plain scan
                return jax.lax.map(lambda a: f(*a, *extra), member_args,
                                   batch_size=chunk if chunk > 1 else None)

            if len(devices) == 1:
                return local
            return jax.shard_map(local, mesh=mesh, in_specs=(members, *extra_specs),
                                 out_specs=members)

        # One member at a time: jax.random under vmap over keys compiles several times slower,
        # and initialization is cheap to run.
        self.init = jax.jit(lambda seeds, hp: jax.lax.map(lambda a: init(*a), (seeds, hp)))

        @partial(jax.jit, static_argnums=(6, 7))
        def train_all(states, hp, seeds, examples, sizes, data, num_steps, dropout, start):
            f = over_members(
                lambda s, h, k, e, z, d, t: train(s, h, k, e, z, d, t, num_steps, dropout),
                (replicated, replicated))
            return f((states, hp, seeds, examples, sizes), data, start)

        self.train = train_all


def train_population(
    task: Task,
    hparams: Mapping[str, np.ndarray],
    seeds: np.ndarray,
    data: Data,
    *,
    steps: int,
    batch_size: int,
    rungs: tuple[int, ...] = (),
    keep_fraction: float = 1 / 3,
    chunk: int | None = None,
    devices: list | None = None,
    groups: int | None = None,
    on_segment: Callable[[int], None] | None = None,
    train_masks: np.ndarray | None = None,
    checkpoint_dir: Path | None = None,
    checkpoint_every: int | None = None,
    log_dir: Path | None = None,
    progress: str | None = None,
) -> PopulationResult:
    """Trains K members of ``task``, one per seed, with their own hyperparameters.

    Args:
      task: the model, optimizer and shapes shared by all members: ``mlp_task``, or any model
        through ``ModelTask``.
      hparams: {name: (K,) values} for names in ``task.traced_hparams`` (among
        learning_rate, momentum, weight_decay, dropout, init_scale); a missing name takes its
        default (``MEMBER_HPARAMS``).
      seeds: int (K,): each member's initialization, minibatches and dropout.
      data: training and dev arrays.
      steps: training steps of a member that is not stopped.
      batch_size: examples per step.
      rungs: increasing steps in (0, steps) where successive halving keeps the best
        ``keep_fraction`` of the running members by dev error (then dev loss).
      keep_fraction: in (0, 1]; at least one member survives a rung.
      chunk: members vmapped at once; ``members_per_chunk`` decides when None.
      devices: devices to split the members over; all devices when None (in a
        ``jax.distributed`` job, those of every process: each process then calls this with the
        same arguments, and each gets every member's results).
      groups: programs run at once on each device, lowered to a divisor of the (padded)
        member count; ``concurrent_groups`` decides when None.
      on_segment: called with the step reached after each segment (a hook for the caller's
        own logging; an exception it raises stops training, as a kill would).
      train_masks: bool (K, n): the training examples each member may draw (a learning
        curve's growing fractions, cross-validation's folds); all of them when None.
      checkpoint_dir: where the population's Orbax checkpoints go (every member's state and
        what happened so far, at the end of the segments ending at a multiple of
        ``checkpoint_every`` and at each rung): a population run again with the same arguments
        resumes from the latest one and ends with the numbers of an uninterrupted run. None:
        no checkpoints.
      checkpoint_every: steps between checkpoints (segments end there too); with
        ``checkpoint_dir`` only, and at most ``steps``. None: at the rungs and the end only.
      log_dir: TensorBoard's folder for the population's scalars after each segment
        (``population/running``, ``population/minibatch_loss``: the median over running
        members of their mean loss in the segment, ``population/dev_error_best`` and
        ``population/dev_error_median``); none when None.
      progress: the progress bar's label; no bar when None.

    The segments, TensorBoard, checkpoints, progress and resume are those of every jaxdiag
    training loop (``jaxdiag.experiment.loop.run_segments``).

    Returns:
      A ``PopulationResult``.

    Raises:
      ValueError: bad hyperparameters (naming the name and member), seeds, steps, rungs or
        train masks.
    """
    seeds = np.asarray(seeds)
    if seeds.ndim != 1 or len(seeds) == 0 or not np.issubdtype(seeds.dtype, np.integer):
        raise ValueError(f"seeds: expected a non-empty 1-D integer array, found {seeds!r}.")
    hp = _check_hparams(hparams, seeds, task)
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps, batch_size: expected positive integers, found {steps}, "
                         f"{batch_size}.")
    if list(rungs) != sorted(set(rungs)) or any(not 0 < r < steps for r in rungs):
        raise ValueError(f"rungs: expected increasing steps in (0, {steps}), found {rungs}.")
    if not 0 < keep_fraction <= 1:
        raise ValueError(f"keep_fraction: expected a value in (0, 1], found {keep_fraction}.")
    if checkpoint_every is not None and (checkpoint_dir is None or not 0 < checkpoint_every):
        raise ValueError(f"checkpoint_every: expected a positive step count with a "
                         f"checkpoint_dir, found {checkpoint_every} with {checkpoint_dir}.")
    devices = devices or jax.devices()
    k = len(seeds)
    per_device = padded_size(k, len(devices)) // len(devices)
    groups = groups or concurrent_groups(task, batch_size, per_device, devices)
    if groups < 1 or (groups > 1 and len(devices) > 1):
        raise ValueError(f"groups: expected a positive integer, and 1 with several devices "
                         f"({len(devices)} here), found {groups}.")
    groups = math.gcd(groups, per_device)  # equal groups of the padded members
    chunk = chunk or members_per_chunk(task, batch_size, per_device // groups,
                                       devices[0].platform)
    compiled = _compiled(task, batch_size, chunk, tuple(devices))
    needs_target = getattr(task, "needs_target", False)
    if needs_target != (data.x_target is not None):
        raise ValueError(
            f"data.x_target: expected {'the target domain' if needs_target else 'no'} "
            f"unlabelled training inputs for {task.name}"
            f"{' (it adapts to them)' if needs_target else ' (it does not adapt)'}, found "
            f"{'None' if data.x_target is None else f'shape {np.shape(data.x_target)}'}.")
    # device_put: one copy of a host array (jnp.asarray held two at once); none of a device one
    data = Data(*(None if a is None else jax.device_put(a) for a in data))
    mesh = compiled.mesh
    shared_data = to_mesh(data, mesh, sharded=False)
    examples, sizes = _member_examples(train_masks, k, data.x_train.shape[0])
    dropout = task.uses_key(hp["dropout"])  # whether training draws masks

    boundaries = sorted({0, *rungs, steps, *range(checkpoint_every or steps, steps,
                                                   checkpoint_every or steps)})
    record = _Record.fresh(k, steps, len(boundaries))
    member_seeds_all = seeds.astype(np.uint32)
    checkpointer = None if checkpoint_dir is None else Checkpointer(checkpoint_dir)
    states, start_at = None, 0
    running = np.arange(k)

    def train_segment(start: int, end: int) -> SegmentLog:
        nonlocal states, record, running
        b = boundaries.index(start)
        index = padded(running, len(devices))
        member_hp = {name: jnp.asarray(v[index]) for name, v in hp.items()}
        member_seeds = jnp.asarray(member_seeds_all[index])
        segment_groups = math.gcd(groups, len(index))
        if states is None:
            states = in_groups(compiled.init, (member_seeds, member_hp), (), segment_groups)
            record = record._replace(members=jax.tree.map(
                lambda v: np.array(v[:k]), jax.device_get(states)))
        states, losses, dev = in_groups(
            compiled.train,
            to_mesh((states, member_hp, member_seeds, jnp.asarray(examples[index]),
                     jnp.asarray(sizes[index])), mesh, sharded=True),
            (shared_data, end - start, dropout,
             to_mesh(jnp.asarray(start), mesh, sharded=False)), segment_groups)
        error, loss = (v[:len(running)] for v in to_host(dev))
        losses = to_host(losses)[:len(running)]
        record.train_loss[running, start:end] = losses
        record.failed_at[running] = to_host(states.failed_at)[:len(running)]
        record.dev_error[b + 1, running], record.dev_loss[b + 1, running] = error, loss
        log = _segment_log(losses, error, len(running))
        if on_segment is not None:
            on_segment(end)
        at_rung = end in rungs
        if at_rung:
            keep = survivors(error, loss, keep_fraction)
            record.stopped_at[running[~keep]] = end
        if at_rung or end == steps or checkpointer is not None:
            # every member's state as of now (stopped members keep theirs for good)
            _scatter_rows(record.members, states, running, np.arange(len(running)))
        if at_rung:
            record.running[running[~keep]] = False
            running = running[keep]
            positions = padded(np.flatnonzero(keep), len(devices))
            states = jax.tree_util.tree_map(lambda v, p=positions: v[p], to_host(states))
        return log

    try:
        if checkpointer is not None:  # initialized once: the structure to restore into
            record = record._replace(
                members=_init_all(compiled, member_seeds_all, hp, len(devices), groups))
            restored = checkpointer.restore_latest(like=record)
            if restored is not None:
                record = jax.tree.map(np.array, restored[1])  # writable host copies
                start_at = restored[0]
                running = np.flatnonzero(record.running)
            index = padded(running, len(devices))
            states = jax.tree.map(lambda v, i=index: jnp.asarray(v[i]), record.members)
        run_segments(train_segment, boundaries, start=start_at,
                     save=None if checkpointer is None
                     else lambda end: checkpointer.save(end, record, {"step": end}),
                     log_dir=log_dir, progress=progress)
    finally:
        if checkpointer is not None:
            checkpointer.close()

    rung_metrics = {end: {"dev_error": record.dev_error[b + 1].astype(np.float64),
                          "dev_loss": record.dev_loss[b + 1].astype(np.float64)}
                    for b, end in enumerate(boundaries[1:]) if end in rungs or end == steps}
    stopped_at = record.stopped_at
    dev_error = np.array([rung_metrics[s]["dev_error"][i] for i, s in enumerate(stopped_at)])
    dev_loss = np.array([rung_metrics[s]["dev_loss"][i] for i, s in enumerate(stopped_at)])
    return PopulationResult(record.train_loss, record.failed_at, stopped_at, rung_metrics,
                            dev_error, dev_loss, chunk, groups, record.members.params,
                            record.members.model_state)


class _Record(NamedTuple):
    """What a population checkpoint holds, host arrays over all K members: every member's
    state as of its last segment, the losses and dev metrics so far (NaN where not trained),
    and who is still running."""

    members: MemberState
    train_loss: np.ndarray  # float32 (K, steps)
    failed_at: np.ndarray  # int (K,)
    stopped_at: np.ndarray  # int (K,)
    running: np.ndarray  # bool (K,)
    dev_error: np.ndarray  # float32 (boundaries, K): at each segment's end
    dev_loss: np.ndarray

    @classmethod
    def fresh(cls, k: int, steps: int, boundaries: int) -> "_Record":
        return cls(None, np.full((k, steps), np.nan, np.float32), np.full(k, -1),
                   np.full(k, steps), np.ones(k, bool), np.full((boundaries, k), np.nan,
                                                                np.float32),
                   np.full((boundaries, k), np.nan, np.float32))


def _segment_log(losses: np.ndarray, error: np.ndarray, running: int) -> SegmentLog:
    """The population's TensorBoard scalars and progress after a segment: float32
    (running, segment steps) losses and (running,) dev errors of the running members (NaN
    for failed ones)."""
    with warnings.catch_warnings():  # every member failed: NaN, as each of theirs
        warnings.simplefilter("ignore", RuntimeWarning)
        loss = float(np.nanmedian(np.nanmean(losses, axis=1)))
        best, median = float(np.nanmin(error)), float(np.nanmedian(error))
    scalars = {"population/running": float(running), "population/minibatch_loss": loss,
               "population/dev_error_best": best, "population/dev_error_median": median}
    return SegmentLog(scalars, {"running": str(running), "best dev error": f"{best:.4f}"})


def _init_all(compiled: "_Compiled", seeds: np.ndarray, hp: dict, num_devices: int,
              groups: int) -> MemberState:
    """Every member's initial state on the host (the structure a checkpoint restores into)."""
    index = padded(np.arange(len(seeds)), num_devices)
    states = in_groups(compiled.init, (jnp.asarray(seeds[index]),
                                       {n: jnp.asarray(v[index]) for n, v in hp.items()}), (),
                       math.gcd(groups, len(index)))
    return jax.tree.map(lambda v: np.array(v[:len(seeds)]), jax.device_get(states))


def _scatter_rows(out: MemberState, states: MemberState, members: np.ndarray,
                  rows: np.ndarray) -> None:
    """Sets ``members`` of the host arrays ``out`` from ``rows`` of the population's states."""
    host = to_host(states)
    for o, v in zip(jax.tree_util.tree_leaves(out), jax.tree_util.tree_leaves(host), strict=True):
        o[members] = v[rows]


def _member_examples(masks: np.ndarray | None, k: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """int32 (K, n): each member's training examples first, then padding; int32 (K,) counts."""
    if masks is None:
        return np.broadcast_to(np.arange(n, dtype=np.int32), (k, n)), np.full(k, n, np.int32)
    masks = np.asarray(masks)
    if masks.shape != (k, n) or masks.dtype != bool:
        raise ValueError(f"train_masks: expected a bool array of shape {(k, n)}, found "
                         f"{masks.dtype} of shape {masks.shape}.")
    sizes = masks.sum(axis=1).astype(np.int32)
    if np.any(sizes == 0):
        raise ValueError(f"train_masks: expected every member to keep an example, found none "
                         f"for member {int(np.argmin(sizes))}.")
    # a stable sort puts each member's own examples first, in order
    return np.argsort(~masks, axis=1, kind="stable").astype(np.int32), sizes



def member_errors(task: Task, result: PopulationResult,
                  splits: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """{split: float64 (K,)}: every member's error rate on each of ``splits`` ({name: (x, y)}),
    its final parameters in evaluation mode (``evaluate``), the members vmapped in one program."""
    error = jax.jit(jax.vmap(lambda p, s, x, y: evaluate(task, p, s, x, y)[0],
                             in_axes=(0, 0, None, None)))
    return {name: np.asarray(error(result.params, result.model_state, x, y), np.float64)
            for name, (x, y) in splits.items()}

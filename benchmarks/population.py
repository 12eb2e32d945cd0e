"""Population training against K sequential runs and against Optuna, same task.

    python benchmarks/population.py                 # every size, K = 8, 64, 256 (MLPs)
    python benchmarks/population.py --sizes cnn user-nnx --ks 8 64
    (on a GPU the default adds K = 1024 for the MLPs)

The task: softmax classification of synthetic data (4 classes from a random linear teacher),
SGD with momentum 0.9, 200 steps, learning rate log-uniform in [1e-3, 1].
  tiny:  the built-in MLP (mlp_task), 16 inputs, 2 x 16 hidden, batch 32.
  small: the built-in MLP (mlp_task), 16 inputs, 2 x 64 hidden, batch 128.
  cnn:   the built-in LeNet-like CNN (jaxdiag.models.LeNet) on 8x8x1 images, batch 64,
         through ModelTask (K = 8, 64 by default: training, not compiling, dominates).
  user-nnx: a user's NNX model (Linear 16->64, BatchNorm, ReLU, Dropout 0.1, Linear) on the
         16 features, batch 64, through ModelTask: its BatchNorm statistics are carried and its
         dropout masks drawn per member.
Peers, all on the same data, model and batches:
  (a) sequential: one jitted ``lax.scan`` of the 200 steps with the learning rate as a traced
      argument, compiled once and called K times (the best a careful user does by hand);
  (b) Optuna (TPE): K trials whose objective builds and jits its own training, as usual;
  (c) jaxdiag.search.train_population: the K members in one compiled program (on a CPU,
      split into groups run at once from one thread per core when the model is big enough).
Run times are warm, best of --repeats with (a) and (c) interleaved; compile time is the first
call minus a warm one.
Optuna's wall time includes its compiles, which is how it runs; (c)/(b) compares it with
jaxdiag's first call, compile included.
Achieved FLOP/s count 6 FLOPs per parameter and example and step (``step_flops``; for the
CNN this undercounts its convolutions, so compare its times, not its FLOP/s);
on a GPU whose peak is known, (c)'s is also given as a share of the dense TF32 tensor-core
peak, the most a float32 matmul can run at there.
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxdiag.models import LeNet
from jaxdiag.search import (
    MEMBER_HPARAMS,
    Data,
    ModelTask,
    Task,
    minibatch_indices,
    mlp_task,
    nnx_factory,
    train_population,
)

STEPS = 200


class UserNet(nnx.Module):
    """A user's tabular NNX model with BatchNorm and Dropout."""

    def __init__(self, din: int, dout: int, *, rngs: nnx.Rngs):
        self.dense = nnx.Linear(din, 64, use_bias=False, rngs=rngs)
        self.norm = nnx.BatchNorm(64, rngs=rngs)
        self.drop = nnx.Dropout(0.1, rngs=rngs)
        self.out = nnx.Linear(64, dout, rngs=rngs)

    def __call__(self, x):
        return self.out(self.drop(nnx.relu(self.norm(self.dense(x)))))


# size: (the task, the batch size, images or not, default K on a CPU)
SIZES = {
    "tiny": (mlp_task((16,), 4, hidden=(16, 16)), 32, False, (8, 64, 256)),
    "small": (mlp_task((16,), 4, hidden=(64, 64)), 128, False, (8, 64, 256)),
    "cnn": (ModelTask(nnx_factory(LeNet, (8, 8, 1), 4), optimizer="sgd"), 64, True, (8, 64)),
    "user-nnx": (ModelTask(nnx_factory(UserNet, 16, 4), optimizer="sgd"), 64, False, (8, 64)),
}
# Dense TF32 tensor-core peak FLOP/s by device kind (NVIDIA data sheets; SXM unless named).
PEAK_FLOPS = {"H200": 494.7e12, "H100 PCIe": 378e12, "H100": 494.7e12, "A100": 156e12}


def peak_flops(device) -> float | None:
    """The device's peak from ``PEAK_FLOPS`` by the first name its kind contains, if any."""
    return next((peak for name, peak in PEAK_FLOPS.items() if name in device.device_kind), None)


def make_data(images: bool, seed: int = 0) -> Data:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(5000, 64 if images else 16)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(x.shape[1], 4)), axis=1)
    if images:
        x = x.reshape(-1, 8, 8, 1)
    return Data(x[:4000], y[:4000], x[4000:], y[4000:])


def sequential_trainer(task: Task, data: Data, batch_size: int):
    """(a): one member's whole training as a jitted scan of the task's own init, loss and
    optimizer (SGD, momentum 0.9), learning rate and seed traced; the same keys and batches
    as member ``seed`` of a population."""
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)

    @jax.jit
    def train(learning_rate, seed):
        hp = {**{k: jnp.float32(v) for k, v in MEMBER_HPARAMS.items()},
              "learning_rate": learning_rate, "momentum": jnp.float32(0.9)}
        key = jax.random.key(seed)
        params, model_state = task.init(jax.random.fold_in(key, 0), hp)
        tx = task.tx(hp)
        batches = minibatch_indices(seed, jnp.arange(STEPS), batch_size, len(x))
        dropout = jax.random.fold_in(key, 2)
        keyed = task.uses_key(np.zeros(1))  # as the population decides, for dropout 0

        def step(carry, t_batch):
            params, model_state, opt_state = carry
            t, batch = t_batch
            step_key = jax.random.fold_in(dropout, t) if keyed else None
            (loss, model_state), grads = jax.value_and_grad(task.loss, has_aux=True)(
                params, model_state, x[batch], y[batch], step_key, hp)
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), model_state, opt_state), loss

        carry = (params, model_state, tx.init(params))
        return jax.lax.scan(step, carry, (jnp.arange(STEPS), batches))[1]

    return train


def timed(f) -> tuple[float, object]:
    start = time.perf_counter()
    out = jax.block_until_ready(f())
    return time.perf_counter() - start, out


def run_sequential(train, lrs, seeds) -> list:
    return [train(jnp.float32(lr), jnp.uint32(s)) for lr, s in zip(lrs, seeds, strict=True)]


def run_optuna(task: Task, data: Data, batch_size: int, k: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        learning_rate = trial.suggest_float("learning_rate", 1e-3, 1.0, log=True)
        train = sequential_trainer(task, data, batch_size)  # a fresh jit per trial, as usual
        return float(train(jnp.float32(learning_rate), jnp.uint32(trial.number))[-1])

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    start = time.perf_counter()
    study.optimize(objective, n_trials=k)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+",
                        help="population sizes (default per size: 8 64 256 for the MLPs, 8 64 "
                             "for the CNN and the user model, and 1024 on accelerators)")
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--optuna-max-k", type=int, default=64,
                        help="run Optuna only up to this K (it compiles every trial)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    accelerator = jax.default_backend() != "cpu"
    device = jax.local_devices()[0]
    peak = peak_flops(device)
    print(f"jax {jax.__version__} on {jax.default_backend()} ({len(jax.local_devices())} x "
          f"{device.device_kind}), {STEPS} steps; times in seconds; peak "
          f"{f'{peak / 1e12:.0f} TFLOP/s (dense TF32)' if peak else 'unknown'}")
    print("size | K | groups x members/chunk | (a) sequential | (a) compile"
          " | (b) optuna, compiles incl. | (c) jaxdiag | (c) compile | (c) member-steps/s"
          " | (a) GFLOP/s | (c) GFLOP/s | (c) of peak | (c) vs (a) | (c) vs (b)")
    print(" | ".join(["---"] * 14))
    try:
        import optuna  # noqa: F401
        have_optuna = True
    except ImportError:
        have_optuna = False
        print("optuna is not installed: column (b) is skipped (pip install optuna)")
    for size in args.sizes:
        task, batch, images, default_ks = SIZES[size]
        ks = args.ks or [*default_ks, *([1024] if accelerator and not images else [])]
        data = make_data(images)
        train = sequential_trainer(task, data, batch)
        for i, k in enumerate(ks):
            optuna_k = have_optuna and k <= args.optuna_max_k
            print(measure(task, train, data, batch, k, args.repeats, optuna_k, size, peak,
                          compiles=i == 0), flush=True)


def measure(task: Task, train, data: Data, batch: int, k: int, repeats: int,
            with_optuna: bool, size: str, peak: float | None, compiles: bool) -> str:
    """One row of the table: (a), (b) and (c) for K members; ``compiles``: (a)'s first call
    here compiles it (it is compiled once per size)."""
    lrs = np.exp(np.random.default_rng(k).uniform(np.log(1e-3), 0.0, k)).astype(np.float32)
    seeds = np.arange(k)

    def one_run():
        return train(jnp.float32(0.1), jnp.uint32(0))

    def population():
        return train_population(task, {"learning_rate": lrs, "momentum": 0.9}, seeds, data,
                                steps=STEPS, batch_size=batch)

    first, _ = timed(one_run)
    one = min(timed(one_run)[0] for _ in range(repeats))
    cold, result = timed(population)
    sequential_times, population_times = [], []
    for _ in range(repeats):  # interleaved, so that drift on a shared machine hits both
        sequential_times.append(timed(lambda: run_sequential(train, lrs, seeds))[0])
        population_times.append(timed(population)[0])
    sequential, warm = min(sequential_times), min(population_times)
    optuna_time = run_optuna(task, data, batch, k) if with_optuna else None
    versus_b = f"{optuna_time / cold:.1f}x" if optuna_time else "n/a"
    flops = k * STEPS * task.step_flops(batch)
    of_peak = f"{flops / warm / peak:.2%}" if peak else "n/a"
    compile_a = f"{first - one:.2f}" if compiles else "compiled above"
    optuna = f"{optuna_time:.2f}" if optuna_time else "not run"
    return (f"{size} | {k} | {result.groups} x {result.members_per_chunk} | {sequential:.3f} | "
            f"{compile_a} | {optuna} | "
            f"{warm:.3f} | {cold - warm:.2f} | {k * STEPS / warm:,.0f} | "
            f"{flops / sequential / 1e9:.1f} | {flops / warm / 1e9:.1f} | {of_peak} | "
            f"{sequential / warm:.2f}x | {versus_b}")

if __name__ == "__main__":
    main()

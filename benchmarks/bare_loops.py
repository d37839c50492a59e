"""Bare training loops, one per mode, to measure the harness overhead of bench's trainers.

Each loop is the minimum code for the workload (no records, no callbacks, no evaluation), but
its clock covers what the trainer's clock covers: the epoch's order is drawn before the clock
(as bench.training does); the gather of the epoch's rows and a wait for the result at the end
of the epoch are on it. It pins itself to the core a CPU case trains on
(bench.conditions.cpu_case_cores), so it competes on equal terms with the trainer it is
compared with. Keys are `<framework>-<mode>` for every mode of bench.config.FRAMEWORK_MODES.
Run one mode per process:  python -m benchmarks.bare_loops torch-eager [--epochs 6] [--cores 1]
`benchmarks/overhead.sh` runs every mode against the matching trainer over several rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.conditions import cpu_case_cores, parse_cores, pin
from bench.data.loading import Split, load_dataset, split_dataset
from bench.frameworks import set_import_env

BATCH = 64


def timed_epochs(rows: int, epochs: int, run_epoch: Callable[[np.ndarray], object]) -> list[float]:
    """Seconds of each epoch; run_epoch gets the epoch's order and returns after a sync."""
    rng = np.random.default_rng(1)
    times = []
    for _ in range(epochs):
        order = rng.permutation(rows)
        start = time.perf_counter()
        run_epoch(order)
        times.append(time.perf_counter() - start)
    return times


def _torch_model(torch: Any) -> Any:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1))


def torch_loop(split: Split, mode: str | None, epochs: int) -> list[float]:
    import torch

    model = _torch_model(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    fwd = torch.compile(model, mode=mode) if mode else model
    x, y = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)

    def epoch(order: np.ndarray) -> None:
        idx = torch.from_numpy(order)
        xs, ys = x[idx], y[idx]
        for i in range(0, len(x), BATCH):
            loss = torch.nn.functional.l1_loss(fwd(xs[i : i + BATCH]), ys[i : i + BATCH])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        loss.item()

    return timed_epochs(len(x), epochs, epoch)


def torch_dataloader_loop(split: Split, epochs: int) -> list[float]:
    """The tutorials' loop: a DataLoader over a TensorDataset, default (unfused) Adam."""
    import torch

    model = _torch_model(torch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    order_list: list[int] = []  # the sampler: refilled with each epoch's order
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=BATCH, sampler=order_list
    )

    def epoch(order: np.ndarray) -> None:
        order_list[:] = order.tolist()
        for xb, yb in loader:
            loss = torch.nn.functional.l1_loss(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        loss.item()

    return timed_epochs(len(x), epochs, epoch)


def torch_epoch_loop(split: Split, epochs: int) -> list[float]:
    """The epoch as one torch.compile'd scan. The program is bench's own
    (bench.frameworks.torch_epoch: autograd and torch.optim cannot run inside scan, so its
    gradients and Adam are written out); only the loop around it is bare."""
    import torch

    from bench.frameworks.torch_epoch import initial_state, train_epoch

    state = initial_state(_torch_model(torch))
    compiled = torch.compile(train_epoch, fullgraph=True)
    x, y = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)

    def epoch(order: np.ndarray) -> None:
        nonlocal state
        state, loss = compiled(state, x, y, torch.from_numpy(order))
        loss.item()

    return timed_epochs(len(x), epochs, epoch)


def _tf_setup(fused: bool = False) -> tuple[Any, Any, Callable[[Any, Any], Any]]:
    """(tensorflow, a fresh Keras model, its train step, not yet compiled): Keras Adam, or with
    `fused` the same update as TF's fused kernel (the trainer's whole-epoch graphs)."""
    import tensorflow as tf

    from bench.frameworks.tf_trainer import FusedAdam

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    model = _keras_model(tf)
    opt = tf.keras.optimizers.Adam(1e-3)
    opt.build(model.trainable_variables)
    adam = FusedAdam(opt, model.trainable_variables) if fused else None

    def step(xb: Any, yb: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(model(xb, training=True) - yb))
        grads = tape.gradient(loss, model.trainable_variables)
        if adam is not None:
            adam.apply(grads)
        else:
            opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    return tf, model, step


def _keras_model(tf: Any) -> Any:
    return tf.keras.Sequential(
        [
            tf.keras.Input((8,)),
            tf.keras.layers.Dense(128, activation="relu"),
            tf.keras.layers.Dense(1),
        ]
    )


def tf_loop(split: Split, mode: str, epochs: int) -> list[float]:
    tf, _, step = _tf_setup()
    if mode != "eager":
        step = tf.function(step, jit_compile=mode == "xla")
    x, y = tf.constant(split.x_train), tf.constant(split.y_train)
    rows = len(split.x_train)

    def epoch(order: np.ndarray) -> None:
        idx = tf.constant(order)
        xs, ys = tf.gather(x, idx), tf.gather(y, idx)
        for i in range(0, rows, BATCH):
            loss = step(xs[i : i + BATCH], ys[i : i + BATCH])
        loss.numpy()

    return timed_epochs(rows, epochs, epoch)


def tf_epoch_loop(split: Split, xla: bool, epochs: int, fused: bool = True) -> list[float]:
    """The whole epoch in one tf.function: batches from a reshape to (steps, 64, 8), Adam as
    TF's fused kernel (as the trainer) or, with `fused=False`, Keras's Adam (what it costs)."""
    tf, _, step = _tf_setup(fused=fused)
    rows, features = split.x_train.shape
    steps = rows // BATCH  # the training split has whole batches only
    x, y = tf.constant(split.x_train), tf.constant(split.y_train)

    @tf.function(jit_compile=xla)
    def run(index: Any) -> Any:
        xs = tf.reshape(tf.gather(x, index), (steps, BATCH, features))
        ys = tf.reshape(tf.gather(y, index), (steps, BATCH, 1))
        total = tf.constant(0.0)
        for i in tf.range(steps):
            total += step(xs[i], ys[i])
        return total

    return timed_epochs(rows, epochs, lambda order: run(tf.constant(order)).numpy())


def keras_fit_loop(split: Split, epochs: int) -> list[float]:
    """What people write: compile, then fit one epoch on the epoch's rows in its order."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    model = _keras_model(tf)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="mean_absolute_error")

    def epoch(order: np.ndarray) -> float:
        history = model.fit(
            split.x_train[order], split.y_train[order], batch_size=BATCH, shuffle=False, verbose=0
        )
        return float(history.history["loss"][-1])

    return timed_epochs(len(split.x_train), epochs, epoch)


def jax_loop(split: Split, scan: bool, epochs: int) -> list[float]:
    """A jitted step in a Python loop, or the epoch in one jitted lax.scan (optax Adam)."""
    set_import_env("jax", "cpu")  # as the trainer: 1 thread, CPU only
    import jax
    import jax.numpy as jnp
    import optax

    cpu = jax.devices("cpu")[0]
    rows, features = split.x_train.shape
    steps = rows // BATCH  # the training split has whole batches only
    k1, k2 = jax.random.split(jax.random.key(0))
    bound1, bound2 = 1 / np.sqrt(features), 1 / np.sqrt(128)
    params = {
        "w1": jax.random.uniform(k1, (features, 128), minval=-bound1, maxval=bound1),
        "b1": jnp.zeros(128),
        "w2": jax.random.uniform(k2, (128, 1), minval=-bound2, maxval=bound2),
        "b2": jnp.zeros(1),
    }
    opt = optax.adam(1e-3)
    # Committed to the CPU up front: a change of placement after epoch 1 would recompile.
    state = jax.device_put((params, opt.init(params)), cpu)
    x, y = jax.device_put((split.x_train, split.y_train), cpu)

    def loss_fn(p: Any, xb: Any, yb: Any) -> Any:
        hidden = jax.nn.relu(xb @ p["w1"] + p["b1"])
        return jnp.mean(jnp.abs(hidden @ p["w2"] + p["b2"] - yb))

    def update(p: Any, s: Any, xb: Any, yb: Any) -> Any:
        loss, grads = jax.value_and_grad(loss_fn)(p, xb, yb)
        updates, s = opt.update(grads, s, p)
        return optax.apply_updates(p, updates), s, loss

    def batches(index: Any) -> Any:
        return x[index].reshape(steps, BATCH, features), y[index].reshape(steps, BATCH, 1)

    @jax.jit
    def scan_epoch(p: Any, s: Any, index: Any) -> Any:
        def body(carry: Any, batch: Any) -> Any:
            p, s, loss = update(*carry, *batch)
            return (p, s), loss

        (p, s), losses = jax.lax.scan(body, (p, s), batches(index))
        return p, s, losses.mean()

    step = jax.jit(update)

    def epoch(order: np.ndarray) -> float:
        nonlocal state
        index = jax.device_put(order, cpu)
        if scan:
            p, s, loss = scan_epoch(*state, index)
        else:
            (p, s), (xs, ys) = state, batches(index)
            for i in range(steps):
                p, s, loss = step(p, s, xs[i], ys[i])
        state = (p, s)
        return float(loss)  # waits for the result

    return timed_epochs(rows, epochs, epoch)


MODES: dict[str, Callable[[Split, int], list[float]]] = {
    "torch-eager": lambda s, e: torch_loop(s, None, e),
    "torch-compile": lambda s, e: torch_loop(s, "default", e),
    "torch-compile-reduce-overhead": lambda s, e: torch_loop(s, "reduce-overhead", e),
    "torch-compile-max-autotune": lambda s, e: torch_loop(s, "max-autotune", e),
    "torch-compile-epoch": torch_epoch_loop,
    "torch-dataloader": torch_dataloader_loop,
    "tensorflow-eager": lambda s, e: tf_loop(s, "eager", e),
    "tensorflow-function": lambda s, e: tf_loop(s, "function", e),
    "tensorflow-xla": lambda s, e: tf_loop(s, "xla", e),
    "tensorflow-function-epoch": lambda s, e: tf_epoch_loop(s, False, e),
    "tensorflow-xla-epoch": lambda s, e: tf_epoch_loop(s, True, e),
    "tensorflow-keras-fit": keras_fit_loop,
    "jax-jit": lambda s, e: jax_loop(s, False, e),
    "jax-scan": lambda s, e: jax_loop(s, True, e),
}


# Loops that are no bench mode, run only by name: what one choice inside a mode costs.
VARIANTS: dict[str, Callable[[Split, int], list[float]]] = {
    # The epoch graph with Keras's Adam instead of the fused kernel the trainer uses.
    "tensorflow-function-epoch-keras-adam": lambda s, e: tf_epoch_loop(s, False, e, fused=False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=sorted(MODES | VARIANTS))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--cores", help="pin to these cores (default: a 1-thread CPU case's)")
    args = parser.parse_args()
    cores = tuple(sorted(parse_cores(args.cores))) if args.cores else cpu_case_cores(1)
    pin(cores)  # before any framework starts its threads
    split = split_dataset(load_dataset(), seed=42)
    times = (MODES | VARIANTS)[args.mode](split, args.epochs)
    steady = statistics.median(times[1:] or times)
    result = {
        "mode": args.mode,
        "cores": list(cores),
        "first_epoch_s": times[0],
        "steady_epoch_s": steady,
        "epochs_s": times,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Bare training loops, one per mode, to measure the harness overhead of bench's trainers.

Each loop is the minimum code for the workload (no records, no callbacks, no evaluation). It
pins itself to the core a CPU case trains on (bench.conditions.cpu_case_cores), so it competes
on equal terms with the trainer it is compared with.
Run one mode per process:  python -m benchmarks.bare_loops torch-eager [--epochs 6] [--cores 1]
`benchmarks/overhead.sh` runs every mode against the matching trainer over several rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from bench.conditions import cpu_case_cores, parse_cores, pin
from bench.data.loading import load_dataset, split_dataset


def torch_loop(split, mode: str | None, epochs: int) -> list[float]:  # type: ignore[no-untyped-def]
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    fwd = torch.compile(model, mode=mode) if mode else model
    x, y = torch.from_numpy(split.x_train), torch.from_numpy(split.y_train)
    rng = np.random.default_rng(1)
    times = []
    for _ in range(epochs):
        idx = torch.from_numpy(rng.permutation(len(x)))
        xs, ys = x[idx], y[idx]
        start = time.perf_counter()
        for i in range(0, len(x), 64):
            loss = torch.nn.functional.l1_loss(fwd(xs[i : i + 64]), ys[i : i + 64])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        loss.item()
        times.append(time.perf_counter() - start)
    return times


def tf_loop(split, mode: str, epochs: int) -> list[float]:  # type: ignore[no-untyped-def]
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    model = tf.keras.Sequential(
        [
            tf.keras.Input((8,)),
            tf.keras.layers.Dense(128, activation="relu"),
            tf.keras.layers.Dense(1),
        ]
    )
    opt = tf.keras.optimizers.Adam(1e-3)
    opt.build(model.trainable_variables)

    def step(xb, yb):  # type: ignore[no-untyped-def]
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(model(xb, training=True) - yb))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    if mode != "eager":
        step = tf.function(step, jit_compile=mode == "xla")
    x, y = tf.constant(split.x_train), tf.constant(split.y_train)
    rng = np.random.default_rng(1)
    times = []
    for _ in range(epochs):
        idx = tf.constant(rng.permutation(len(split.x_train)))
        xs, ys = tf.gather(x, idx), tf.gather(y, idx)
        start = time.perf_counter()
        for i in range(0, len(split.x_train), 64):
            loss = step(xs[i : i + 64], ys[i : i + 64])
        loss.numpy()
        times.append(time.perf_counter() - start)
    return times


MODES = {
    "torch-eager": lambda s, e: torch_loop(s, None, e),
    "torch-compile": lambda s, e: torch_loop(s, "default", e),
    "torch-compile-reduce-overhead": lambda s, e: torch_loop(s, "reduce-overhead", e),
    "torch-compile-max-autotune": lambda s, e: torch_loop(s, "max-autotune", e),
    "tensorflow-eager": lambda s, e: tf_loop(s, "eager", e),
    "tensorflow-function": lambda s, e: tf_loop(s, "function", e),
    "tensorflow-xla": lambda s, e: tf_loop(s, "xla", e),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--cores", help="pin to these cores (default: a 1-thread CPU case's)")
    args = parser.parse_args()
    cores = tuple(sorted(parse_cores(args.cores))) if args.cores else cpu_case_cores(1)
    pin(cores)  # before any framework starts its threads
    split = split_dataset(load_dataset(), seed=42)
    times = MODES[args.mode](split, args.epochs)
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

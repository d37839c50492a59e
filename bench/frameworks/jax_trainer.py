"""JAX trainer (with optax): a jitted train step, or the whole epoch in one jitted `lax.scan`.

Same workload as the other frameworks: Linear(8,128) -> ReLU -> Linear(128,1) in float32, L1
loss, Adam (optax's defaults are torch's: betas 0.9/0.999, eps 1e-8), batches of 64 in the shared
epoch order. Start weights follow torch.nn.Linear's rule (uniform in +-1/sqrt(fan_in)) from the
run's seed, shared by both JAX modes. Threads and platforms are set before the import
(bench.frameworks.trainer_factory).
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from bench.config import WORKLOAD, Case
from bench.data.loading import Split
from bench.frameworks.base import CaseSkipped

Params = dict[str, jax.Array]
# What jax.monitoring reports for each XLA compilation.
COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


def _device(case: Case) -> Any:
    if case.device == "cpu":
        return jax.devices("cpu")[0]
    try:
        return jax.devices("gpu")[0]
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CaseSkipped(f"no GPU visible to JAX {jax.__version__}: {first}") from exc


def init_params(seed: int, features: int, hidden: int) -> Params:
    """torch.nn.Linear's default init: weights and biases uniform in +-1/sqrt(fan_in)."""
    keys = jax.random.split(jax.random.PRNGKey(seed), 4)

    def uniform(key: jax.Array, shape: tuple[int, ...], fan_in: int) -> jax.Array:
        bound = 1.0 / np.sqrt(fan_in)
        return jax.random.uniform(key, shape, jnp.float32, -bound, bound)

    return {
        "w1": uniform(keys[0], (features, hidden), features),
        "b1": uniform(keys[1], (hidden,), features),
        "w2": uniform(keys[2], (hidden, 1), hidden),
        "b2": uniform(keys[3], (1,), hidden),
    }


def predict(params: Params, x: jax.Array) -> jax.Array:
    hidden = jax.nn.relu(x @ params["w1"] + params["b1"])
    return hidden @ params["w2"] + params["b2"]


def _loss(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean(jnp.abs(predict(params, x) - y))


class JaxTrainer:
    def __init__(self, case: Case, split: Split, *, seed: int, threads: int) -> None:
        self.case = case
        self.threads = threads
        self.device = _device(case)
        self.optimizer = optax.adam(WORKLOAD.learning_rate)
        n, features = split.x_train.shape
        if n % WORKLOAD.batch_size:
            raise ValueError("the JAX modes need whole batches: the training split has a rest")
        self.steps = n // WORKLOAD.batch_size
        # Everything committed to the device up front: jit compiles again when an argument's
        # placement changes (uncommitted start weights, committed ones after the first epoch).
        put = jax.device_put
        self.params = put(init_params(seed, features, WORKLOAD.hidden), self.device)
        self.opt_state = put(self.optimizer.init(self.params), self.device)
        self.x_train, self.y_train = (
            put(split.x_train, self.device),
            put(split.y_train, self.device),
        )
        self.x_test, self.y_test = put(split.x_test, self.device), put(split.y_test, self.device)
        self.traces = 0
        # XLA compilations while training (not evaluating), in the warm-up epoch and after it:
        # one after warm-up is a hidden recompile.
        self.compiles = {"warm_up": 0, "steady": 0}
        self.epochs_done, self._training = 0, False
        jax.monitoring.register_event_duration_secs_listener(self._on_event)
        self.step = jax.jit(self._step)
        self.epoch = jax.jit(self._epoch)

    def _step(self, params: Params, opt_state: Any, xb: jax.Array, yb: jax.Array) -> Any:
        self.traces += 1  # Python runs here only while JAX traces
        return self._update(params, opt_state, xb, yb)

    def _update(self, params: Params, opt_state: Any, xb: jax.Array, yb: jax.Array) -> Any:
        loss, grads = jax.value_and_grad(_loss)(params, xb, yb)
        updates, opt_state = self.optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    def _epoch(self, params: Params, opt_state: Any, index: jax.Array) -> Any:
        """All steps of an epoch in one program: (params, opt_state, mean of the step losses)."""
        self.traces += 1
        batch, features = WORKLOAD.batch_size, self.x_train.shape[1]
        xs = self.x_train[index].reshape(self.steps, batch, features)
        ys = self.y_train[index].reshape(self.steps, batch, 1)

        def body(carry: Any, data: Any) -> Any:
            params, opt_state, loss = self._update(*carry, *data)
            return (params, opt_state), loss

        (params, opt_state), losses = jax.lax.scan(body, (params, opt_state), (xs, ys))
        return params, opt_state, jnp.mean(losses)

    def _on_event(self, event: str, duration_secs: float, **kwargs: str | int) -> None:
        if self._training and event == COMPILE_EVENT:
            self.compiles["steady" if self.epochs_done else "warm_up"] += 1

    def train_epoch(self, order: np.ndarray) -> float:
        self._training = True
        try:
            return self._train_epoch(order)
        finally:
            self._training = False
            self.epochs_done += 1

    def _train_epoch(self, order: np.ndarray) -> float:
        index = jax.device_put(order, self.device)
        if self.case.mode == "scan":
            self.params, self.opt_state, loss = self.epoch(self.params, self.opt_state, index)
            return float(loss)  # float() waits for the device
        batch = WORKLOAD.batch_size
        xs = self.x_train[index].reshape(self.steps, batch, -1)
        ys = self.y_train[index].reshape(self.steps, batch, 1)
        losses = []
        for i in range(self.steps):
            self.params, self.opt_state, loss = self.step(self.params, self.opt_state, xs[i], ys[i])
            losses.append(loss)
        return float(jnp.mean(jnp.stack(losses)))

    def evaluate(self) -> tuple[float, float]:
        err = predict(self.params, self.x_test) - self.y_test
        return float(jnp.mean(err * err)), float(jnp.mean(jnp.abs(err)))

    def peak_device_bytes(self) -> int | None:
        if self.case.device == "cpu":
            return None
        stats = self.device.memory_stats() or {}
        return int(stats["peak_bytes_in_use"]) if "peak_bytes_in_use" in stats else None

    def environment(self) -> dict[str, Any]:
        import jaxlib

        env: dict[str, Any] = {
            "framework": "jax",
            "framework_version": jax.__version__,
            "jaxlib_version": jaxlib.__version__,
            "optax_version": optax.__version__,
            "threads": {
                "intra_op": self.threads,
                "xla_flags": os.environ.get("XLA_FLAGS"),
                "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            },
            "traces": self.traces,
            "compiles": dict(self.compiles),
        }
        if self.case.device != "cpu":
            env["gpu_name"] = self.device.device_kind
        return env


def prepare(case: Case, split: Split, *, seed: int, threads: int) -> JaxTrainer:
    return JaxTrainer(case, split, seed=seed, threads=threads)

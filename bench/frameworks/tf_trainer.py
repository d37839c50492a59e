"""TensorFlow trainer: eager GradientTape, a tf.function train step or that step under XLA, the
whole epoch as one tf.function (with or without XLA), or Keras `model.fit` as people write it.

The step modes update with Keras's Adam, as people write them; the whole-epoch graphs with the
same Adam as TF's fused kernel (FusedAdam), the fastest form of the update TensorFlow offers."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import tensorflow as tf

from bench.config import WORKLOAD, Case
from bench.data.loading import Split
from bench.frameworks.base import CaseSkipped

keras = tf.keras


def _device(case: Case) -> str:
    if case.device == "cpu":
        return "/CPU:0"
    if not tf.config.list_physical_devices("GPU"):
        build = "CUDA build" if tf.test.is_built_with_cuda() else "CPU-only build"
        raise CaseSkipped(f"no GPU visible to TensorFlow {tf.__version__} ({build})")
    return "/GPU:0"


# Modes that compile: the step, or the whole epoch, under tf.function; XLA for some of them.
STEP_GRAPH_MODES = ("function", "xla")
EPOCH_GRAPH_MODES = ("function-epoch", "xla-epoch")
XLA_MODES = ("xla", "xla-epoch")
# keras-fit runs one step per call of its compiled function: Keras's default, what people write.
STEPS_PER_EXECUTION = 1


def _check_xla(device: str) -> None:
    with tf.device(device):
        try:
            tf.function(lambda x: x * 2.0, jit_compile=True)(tf.ones((2,)))
        except (tf.errors.OpError, ValueError) as exc:
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            raise CaseSkipped(f"XLA JIT is not available on {device}: {first_line}") from exc


class FusedAdam:
    """Keras Adam's update (its formula, betas and epsilon) through TF's fused ResourceApplyAdam
    kernel: one op per variable where Keras runs about fifteen. Inside one tf.function without
    XLA those ops were 40% of an epoch (bare loops, BENCHMARKS.md); XLA fuses both the same."""

    def __init__(self, optimizer: Any, variables: list[Any]) -> None:
        self.variables = [v.value for v in variables]  # the tf.Variables behind Keras's
        self.beta_1, self.beta_2 = float(optimizer.beta_1), float(optimizer.beta_2)
        self.epsilon = float(optimizer.epsilon)
        self.learning_rate = float(np.asarray(optimizer.learning_rate))
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]
        self.v = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]
        self.iterations = tf.Variable(0.0, trainable=False)

    def apply(self, grads: list[Any]) -> None:
        self.iterations.assign_add(1.0)
        beta_1_power = tf.pow(self.beta_1, self.iterations)
        beta_2_power = tf.pow(self.beta_2, self.iterations)
        for var, m, v, grad in zip(self.variables, self.m, self.v, grads, strict=True):
            tf.raw_ops.ResourceApplyAdam(
                var=var.handle,
                m=m.handle,
                v=v.handle,
                beta1_power=beta_1_power,
                beta2_power=beta_2_power,
                lr=self.learning_rate,
                beta1=self.beta_1,
                beta2=self.beta_2,
                epsilon=self.epsilon,
                grad=grad,
            )


class TensorFlowTrainer:
    def __init__(self, case: Case, split: Split, *, seed: int, threads: int) -> None:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        self.case = case
        self.device = _device(case)
        if case.mode in XLA_MODES:
            _check_xla(self.device)
        keras.utils.set_random_seed(seed)
        with tf.device(self.device):
            self.model = keras.Sequential(
                [
                    keras.Input(shape=(split.x_train.shape[1],)),
                    keras.layers.Dense(WORKLOAD.hidden, activation="relu"),
                    keras.layers.Dense(1),
                ]
            )
            self.optimizer = keras.optimizers.Adam(learning_rate=WORKLOAD.learning_rate)
            # Create the slots now: variables may not be created inside a traced function.
            self.optimizer.build(self.model.trainable_variables)
            self.fused = None
            if case.mode in EPOCH_GRAPH_MODES:
                self.fused = FusedAdam(self.optimizer, self.model.trainable_variables)
            self.x_train = tf.constant(split.x_train)
            self.y_train = tf.constant(split.y_train)
            self.x_test = tf.constant(split.x_test)
            self.y_test = tf.constant(split.y_test)
        self.step: Any = self._train_step
        self.epoch: Any = None
        if case.mode in STEP_GRAPH_MODES:
            signature = [
                tf.TensorSpec((None, split.x_train.shape[1]), tf.float32),
                tf.TensorSpec((None, 1), tf.float32),
            ]
            # A fixed signature: one trace for the whole run, never a retrace per batch.
            self.step = tf.function(
                self._train_step, input_signature=signature, jit_compile=case.mode in XLA_MODES
            )
        elif case.mode in EPOCH_GRAPH_MODES:
            signature = [tf.TensorSpec((len(split.x_train),), tf.int64)]
            self.epoch = tf.function(
                self._train_epoch_graph,
                input_signature=signature,
                jit_compile=case.mode in XLA_MODES,
            )
        elif case.mode == "keras-fit":
            self.model.compile(
                optimizer=self.optimizer,
                loss="mean_absolute_error",
                steps_per_execution=STEPS_PER_EXECUTION,
            )
            self.x_host, self.y_host = split.x_train, split.y_train
            self.fit_traces = 0
            fit_step = self.model.train_step

            def counted_step(data: Any) -> Any:
                # Python runs only while Keras traces its train function: one call per trace.
                self.fit_traces += 1
                return fit_step(data)

            self.model.train_step = counted_step

    def _train_step(self, xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            pred = self.model(xb, training=True)
            loss = tf.reduce_mean(tf.abs(pred - yb))
        variables = self.model.trainable_variables
        grads = tape.gradient(loss, variables)
        if self.fused is not None:
            self.fused.apply(grads)
        else:
            self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        return loss

    def _train_epoch_graph(self, index: tf.Tensor) -> tf.Tensor:
        """All steps of an epoch in one graph; the loss is the mean of the step losses.

        Batches come from a reshape to (steps, batch, features): static shapes, which XLA needs
        (slicing with tensor-valued bounds ran 40x slower under XLA).
        """
        batch = WORKLOAD.batch_size
        n, features = self.x_train.shape
        steps, rest = divmod(n, batch)
        x, y = tf.gather(self.x_train, index), tf.gather(self.y_train, index)
        xs = tf.reshape(x[: steps * batch], (steps, batch, features))
        ys = tf.reshape(y[: steps * batch], (steps, batch, 1))
        total = tf.constant(0.0)
        for i in tf.range(steps):
            total += self._train_step(xs[i], ys[i])
        if rest:  # a last, smaller batch: its own static shape
            total += self._train_step(x[steps * batch :], y[steps * batch :])
        return total / (steps + (1 if rest else 0))

    def train_epoch(self, order: np.ndarray) -> float:
        if self.epoch is not None:
            with tf.device(self.device):
                # .numpy() copies the result to the host, so the device has finished.
                return float(self.epoch(tf.constant(order, dtype=tf.int64)).numpy())
        if self.case.mode == "keras-fit":
            return self._fit_epoch(order)
        with tf.device(self.device):
            index = tf.constant(order)
            # One gather and one split per epoch: no per-step host copies or tf.data rebuilds.
            sizes = _batch_sizes(len(order), WORKLOAD.batch_size)
            xs = tf.split(tf.gather(self.x_train, index), sizes)
            ys = tf.split(tf.gather(self.y_train, index), sizes)
            losses = [self.step(xb, yb) for xb, yb in zip(xs, ys, strict=True)]
            # .numpy() copies the result to the host, so the device has finished.
            return float(tf.reduce_mean(tf.stack(losses)).numpy())

    def _fit_epoch(self, order: np.ndarray) -> float:
        """What people write: the epoch's rows in the shared order, Keras batches them."""
        with tf.device(self.device):
            history = self.model.fit(
                self.x_host[order],
                self.y_host[order],
                batch_size=WORKLOAD.batch_size,
                epochs=1,
                shuffle=False,
                verbose=0,
            )
        # Keras's epoch loss is the batch-size-weighted mean of the step losses.
        return float(history.history["loss"][-1])

    def evaluate(self) -> tuple[float, float]:
        with tf.device(self.device):
            err = self.model(self.x_test, training=False) - self.y_test
            mse = tf.reduce_mean(tf.square(err)).numpy()
            mae = tf.reduce_mean(tf.abs(err)).numpy()
        return float(mse), float(mae)

    def peak_device_bytes(self) -> int | None:
        if self.device == "/CPU:0":
            return None
        return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])

    def environment(self) -> dict[str, Any]:
        env: dict[str, Any] = {
            "framework": "tensorflow",
            "framework_version": tf.__version__,
            "keras_version": keras.__version__,
            "threads": {
                "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
                "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            },
        }
        if self.case.mode in STEP_GRAPH_MODES:
            env["traces"] = self.step.experimental_get_tracing_count()
        elif self.case.mode in EPOCH_GRAPH_MODES:
            env["traces"] = self.epoch.experimental_get_tracing_count()
            env["adam"] = "fused ResourceApplyAdam kernel"
        elif self.case.mode == "keras-fit":
            env["steps_per_execution"] = STEPS_PER_EXECUTION
            env["traces"] = self.fit_traces
        if self.device != "/CPU:0":
            gpu = tf.config.list_physical_devices("GPU")[0]
            env["gpu_name"] = tf.config.experimental.get_device_details(gpu).get("device_name")
            env["cuda_version"] = tf.sysconfig.get_build_info().get("cuda_version")
        return env


def _batch_sizes(n: int, batch: int) -> list[int]:
    sizes = [batch] * (n // batch)
    if n % batch:
        sizes.append(n % batch)
    return sizes


def prepare(case: Case, split: Split, *, seed: int, threads: int) -> TensorFlowTrainer:
    return TensorFlowTrainer(case, split, seed=seed, threads=threads)

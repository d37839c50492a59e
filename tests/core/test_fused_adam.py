"""FusedAdam (the whole-epoch TensorFlow graphs' update) is Keras Adam's update, step for step."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")


def _pair() -> tuple[list, list]:
    rng = np.random.default_rng(0)
    shapes = [(8, 16), (16,), (16, 1), (1,)]
    start = [rng.normal(size=s).astype("float32") for s in shapes]
    keras_vars = [tf.keras.Variable(a) for a in start]
    fused_vars = [tf.keras.Variable(a) for a in start]
    return keras_vars, fused_vars


@pytest.mark.parametrize("scale", [1.0, 1e-6])  # tiny gradients: epsilon matters
def test_fused_adam_matches_keras_adam_over_several_steps(scale: float) -> None:
    from bench.frameworks.tf_trainer import FusedAdam

    keras_vars, fused_vars = _pair()
    keras_adam = tf.keras.optimizers.Adam(learning_rate=1e-3)
    keras_adam.build(keras_vars)
    fused = FusedAdam(tf.keras.optimizers.Adam(learning_rate=1e-3), fused_vars)
    rng = np.random.default_rng(1)
    for _ in range(5):
        grads = [(scale * rng.normal(size=v.shape)).astype("float32") for v in keras_vars]
        keras_adam.apply_gradients(zip([tf.constant(g) for g in grads], keras_vars, strict=True))
        fused.apply([tf.constant(g) for g in grads])
    start = _pair()[0]
    moved = [
        float(np.abs(k.numpy() - a.numpy()).max()) for k, a in zip(keras_vars, start, strict=True)
    ]
    assert min(moved) > 5e-4  # five steps of lr 1e-3 really moved every variable
    for k, f in zip(keras_vars, fused_vars, strict=True):
        np.testing.assert_allclose(f.numpy(), k.numpy(), rtol=1e-5, atol=1e-7)
    assert float(fused.iterations.numpy()) == 5.0

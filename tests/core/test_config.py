from __future__ import annotations

import pytest

from bench.config import FRAMEWORK_MODES, Case, RunSettings, all_cases


def test_case_name_and_validation() -> None:
    assert Case("torch", "compile-max-autotune", "gpu").name == "torch-compile-max-autotune-gpu"
    with pytest.raises(ValueError, match="choose one of eager, compile"):
        Case("torch", "xla", "cpu")
    with pytest.raises(ValueError, match="unknown framework 'mxnet'"):
        Case("mxnet", "eager", "cpu")
    with pytest.raises(ValueError, match="unknown jax mode 'eager'; choose one of jit, scan"):
        Case("jax", "eager", "cpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        Case("torch", "eager", "tpu")


def test_full_matrix_is_twenty_eight_cases() -> None:
    cases = all_cases()
    assert len(cases) == sum(len(m) for m in FRAMEWORK_MODES.values()) * 2 == 28
    assert len(set(cases)) == 28


def test_each_case_has_its_frameworks_baseline() -> None:
    assert Case("torch", "compile-epoch", "gpu").baseline == Case("torch", "eager", "gpu")
    assert Case("tensorflow", "keras-fit", "cpu").baseline == Case("tensorflow", "eager", "cpu")
    assert Case("jax", "scan", "cpu").baseline == Case("jax", "jit", "cpu")


def test_filters_combine() -> None:
    cases = all_cases(frameworks=["tensorflow"], modes=["xla", "eager"], devices=["cpu"])
    assert [c.name for c in cases] == ["tensorflow-eager-cpu", "tensorflow-xla-cpu"]
    with pytest.raises(ValueError, match="unknown mode 'function' for torch"):
        all_cases(frameworks=["torch"], modes=["function"])


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_THREADS", "2")
    monkeypatch.setenv("BENCH_DATA_HOME", "/data")
    settings = RunSettings.from_env(epochs=5, threads=None)
    assert (settings.threads, settings.data_home, settings.epochs) == (2, "/data", 5)
    assert RunSettings.from_env(threads=1).threads == 1
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        RunSettings(epochs=0)

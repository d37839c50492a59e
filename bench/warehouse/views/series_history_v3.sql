-- One row per result with its run's attributes: filter on framework, mode and device and
-- ORDER BY started_at (ix_results_case_started serves both, including ORDER BY ... DESC LIMIT n
-- for the newest runs). No ORDER BY inside the view: it would force a full sort of the case
-- even when only the last few runs are asked for.
CREATE VIEW series_history AS
SELECT
    r.framework, r.mode, r.device, r.started_at, r.run_id, r.status, r.reason,
    r.epochs_completed,
    r.steady_epoch_seconds, r.compile_seconds, r.total_seconds,
    r.peak_rss_bytes, r.peak_device_bytes, r.reference_seconds,
    r.test_mse_10, r.test_mae_10, r.test_mse_20, r.test_mae_20, r.test_mse_30, r.test_mae_30,
    r.eval_epoch, r.test_mse, r.test_mae,
    r.environment_fingerprint, r.framework_version,
    r.steady_ci_low, r.steady_ci_high, r.steady_cv, r.repeats, r.noisy,
    ru.trigger, ru.code_version, ru.validation_outcome, ru.note
FROM benchmark_results r
JOIN benchmark_runs ru ON ru.run_id = r.run_id

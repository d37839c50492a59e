-- Per case (framework, mode, device): the result of the most recent run that has that case,
-- "most recent" = greatest started_at, ties broken by the greater run_id. Any status.
-- `cases` walks the distinct cases through ix_results_case_started (a loose index scan: one
-- probe per case instead of reading every result), then one backward probe per case finds its
-- latest result, so the cost grows with the number of cases, not of results.
CREATE VIEW latest_results AS
WITH RECURSIVE cases(framework, mode, device) AS (
    SELECT framework, mode, device FROM (
        SELECT framework, mode, device FROM benchmark_results
        ORDER BY framework, mode, device
        LIMIT 1
    ) first_case
    UNION ALL
    SELECT n.framework, n.mode, n.device
    FROM cases c JOIN benchmark_results n ON n.id = COALESCE(
        -- the next case after c in index order: next device, else next mode, else next
        -- framework (three range probes; a row-value comparison is not indexed by SQLite)
        (SELECT x.id FROM benchmark_results x
         WHERE x.framework = c.framework AND x.mode = c.mode AND x.device > c.device
         ORDER BY x.framework, x.mode, x.device LIMIT 1),
        (SELECT x.id FROM benchmark_results x
         WHERE x.framework = c.framework AND x.mode > c.mode
         ORDER BY x.framework, x.mode, x.device LIMIT 1),
        (SELECT x.id FROM benchmark_results x
         WHERE x.framework > c.framework
         ORDER BY x.framework, x.mode, x.device LIMIT 1)
    )
),
latest(id) AS (
    SELECT (
        SELECT x.id FROM benchmark_results x
        WHERE x.framework = c.framework AND x.mode = c.mode AND x.device = c.device
        ORDER BY x.started_at DESC, x.run_id DESC
        LIMIT 1
    )
    FROM cases c
)
SELECT
    r.id, r.run_id, r.framework, r.mode, r.device, r.started_at, r.status, r.reason,
    r.epochs_completed, r.compile_seconds, r.steady_epoch_seconds,
    r.steady_ci_low, r.steady_ci_high, r.steady_cv, r.repeats, r.noisy, r.reference_seconds,
    r.total_seconds,
    r.peak_rss_bytes, r.peak_device_bytes,
    r.test_mse_10, r.test_mae_10, r.test_mse_20, r.test_mae_20, r.test_mse_30, r.test_mae_30,
    r.eval_epoch, r.test_mse, r.test_mae,
    r.eval_metrics, r.dataset_sha256, r.framework_version, r.environment_fingerprint,
    r.schema_version, r.stored_at,
    ru.trigger, ru.code_version, ru.note
FROM latest
JOIN benchmark_results r ON r.id = latest.id
JOIN benchmark_runs ru ON ru.run_id = r.run_id

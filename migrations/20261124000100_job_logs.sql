-- The last lines each backtest or hyperopt wrote, as the job executor last read them
-- from the runtime (while it runs, and once more when it ends). Volatile, so not in
-- the event log; removed with the job.
CREATE TABLE job_logs (
    job_id     uuid        PRIMARY KEY,
    log_output text        NOT NULL,
    updated_at timestamptz NOT NULL
);

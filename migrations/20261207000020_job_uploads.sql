-- What a job run in a cluster sends home when its steps end: one upload per job, taken
-- only with the one-time token made when the job was started (stored as its SHA-256).
CREATE TABLE job_uploads (
    job_id uuid PRIMARY KEY,
    token_sha256 bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Set once, by the upload.
    exit_status integer,
    archive bytea,
    received_at timestamptz
);

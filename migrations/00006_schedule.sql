-- The periodic jobs' runs: one row per job and tick, claimed by the server that runs it,
-- so a tick runs once however many servers are up. Kept for a week, for looking back.

-- +goose Up
CREATE TABLE schedule_runs (
    job         text NOT NULL,
    tick        timestamptz NOT NULL,
    host        text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    error       text,
    PRIMARY KEY (job, tick)
);

-- +goose Down
DROP TABLE schedule_runs;

-- Preventive maintenance: plans per asset, and the occurrences the generator has made
-- into work orders.

-- +goose Up

-- Planned work carries when it is due, and when it goes to auto-dispatch (cleared by
-- dispatch's sweep once it has).
ALTER TABLE tickets
    ADD COLUMN scheduled_for  timestamptz,
    ADD COLUMN dispatch_after timestamptz;
CREATE INDEX tickets_dispatch_after_idx ON tickets (dispatch_after) WHERE dispatch_after IS NOT NULL;

CREATE TABLE pm_plans (
    id               uuid PRIMARY KEY,
    asset_id         uuid NOT NULL REFERENCES assets (id),
    name             text NOT NULL CHECK (btrim(name) <> ''),
    description      text NOT NULL DEFAULT '',
    -- Exactly one schedule: a cron expression read on the site's wall clock, or a number of
    -- days after the last completion (due at time_of_day, site time).
    cron             text CHECK (btrim(cron) <> ''),
    interval_days    integer CHECK (interval_days BETWEEN 1 AND 3660),
    time_of_day      time NOT NULL DEFAULT '09:00',
    horizon_days     integer NOT NULL CHECK (horizon_days BETWEEN 1 AND 366),
    lead_hours       integer NOT NULL CHECK (lead_hours BETWEEN 0 AND 2160),
    duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 10080),
    priority         text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    template_id      uuid REFERENCES checklist_templates (id),
    starts_on        date NOT NULL,
    ends_on          date,
    active           boolean NOT NULL DEFAULT true,
    -- The generator's place: the next occurrence not yet made a work order (NULL once the
    -- plan has ended, or while an interval plan waits for its work order to be done), and
    -- when that occurrence comes within the horizon. The generator reads only the plans
    -- whose generate_at has come, through the index below, never the history.
    next_due_at      timestamptz,
    generate_at      timestamptz,
    last_due_at      timestamptz,
    last_done_at     timestamptz,
    version          integer NOT NULL DEFAULT 1,
    created_by       uuid REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pm_plans_schedule_check CHECK ((cron IS NULL) <> (interval_days IS NULL)),
    CONSTRAINT pm_plans_ends_on_check CHECK (ends_on IS NULL OR ends_on >= starts_on),
    CONSTRAINT pm_plans_generate_at_check CHECK ((next_due_at IS NULL) = (generate_at IS NULL))
);
CREATE INDEX pm_plans_generate_idx ON pm_plans (generate_at) WHERE active AND generate_at IS NOT NULL;
CREATE INDEX pm_plans_asset_idx ON pm_plans (asset_id);

CREATE TABLE pm_plan_skills (
    plan_id  uuid NOT NULL REFERENCES pm_plans (id) ON DELETE CASCADE,
    skill_id uuid NOT NULL REFERENCES skills (id),
    PRIMARY KEY (plan_id, skill_id)
);

-- One row per occurrence made into a work order. The key makes generation idempotent:
-- whatever runs at once, an occurrence becomes one work order. The ticket is written after
-- its occurrence wins the key, in the same transaction.
CREATE TABLE pm_occurrences (
    plan_id    uuid NOT NULL REFERENCES pm_plans (id),
    due_at     timestamptz NOT NULL,
    ticket_id  uuid NOT NULL REFERENCES tickets (id) DEFERRABLE INITIALLY DEFERRED,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, due_at),
    CONSTRAINT pm_occurrences_ticket_id_key UNIQUE (ticket_id)
);
CREATE INDEX pm_occurrences_due_idx ON pm_occurrences (due_at);

-- +goose Down
DROP TABLE pm_occurrences, pm_plan_skills, pm_plans;
DROP INDEX tickets_dispatch_after_idx;
ALTER TABLE tickets DROP COLUMN dispatch_after, DROP COLUMN scheduled_for;

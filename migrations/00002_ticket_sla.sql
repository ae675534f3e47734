-- Tickets with SLA clocks, ratings and text search.
--
-- The SLA targets of a ticket are copied from its contract's policy when it is filed (and
-- when its priority changes), so a later change to the policy never rewrites history.
-- The instants at which each clock reaches 80 % (at risk) and 100 % (due) are computed in
-- business time by the service and stored, so the sweep that marks tickets is one indexed
-- UPDATE, not calendar math over every open ticket every minute.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE tickets
    ADD COLUMN reaction_minutes   integer CHECK (reaction_minutes > 0),
    ADD COLUMN resolution_minutes integer CHECK (resolution_minutes > 0),
    ADD COLUMN reaction_risk_at   timestamptz,
    ADD COLUMN resolution_risk_at timestamptz,
    -- ok → at_risk → breached, or met once the reaction happened / the work was resolved.
    ADD COLUMN reaction_state     text NOT NULL DEFAULT 'none'
        CHECK (reaction_state IN ('none', 'ok', 'at_risk', 'breached', 'met', 'met_late')),
    ADD COLUMN resolution_state   text NOT NULL DEFAULT 'none'
        CHECK (resolution_state IN ('none', 'ok', 'at_risk', 'breached', 'met', 'met_late')),
    -- While waiting on the client the resolution clock stops: paused_since marks when.
    ADD COLUMN waiting_on         text CHECK (waiting_on IN ('client', 'parts')),
    ADD COLUMN paused_since       timestamptz,
    ADD COLUMN resolution_note    text,
    ADD COLUMN csat_comment       text,
    ADD COLUMN rated_at           timestamptz,
    ADD COLUMN reopen_count       integer NOT NULL DEFAULT 0 CHECK (reopen_count >= 0),
    ADD CONSTRAINT tickets_waiting_on_status_check CHECK ((status = 'waiting') = (waiting_on IS NOT NULL)),
    ADD CONSTRAINT tickets_paused_since_check CHECK (paused_since IS NULL OR waiting_on = 'client');

-- paused_minutes (from 00001) counts business minutes the resolution clock stood still.
COMMENT ON COLUMN tickets.paused_minutes IS 'business minutes spent waiting on the client';

CREATE INDEX tickets_reaction_risk_idx ON tickets (reaction_risk_at)
    WHERE reaction_state IN ('ok', 'at_risk');
CREATE INDEX tickets_resolution_risk_idx ON tickets (resolution_risk_at)
    WHERE resolution_state IN ('ok', 'at_risk') AND paused_since IS NULL;
CREATE INDEX tickets_resolved_at_idx ON tickets (resolved_at) WHERE status = 'resolved';
CREATE INDEX tickets_search_idx ON tickets USING gin ((number || ' ' || title || ' ' || description) gin_trgm_ops);

-- +goose Down
DROP INDEX tickets_search_idx, tickets_resolved_at_idx, tickets_resolution_risk_idx,
    tickets_reaction_risk_idx;
ALTER TABLE tickets
    DROP CONSTRAINT tickets_paused_since_check,
    DROP CONSTRAINT tickets_waiting_on_status_check,
    DROP COLUMN reopen_count, DROP COLUMN rated_at, DROP COLUMN csat_comment, DROP COLUMN resolution_note,
    DROP COLUMN paused_since, DROP COLUMN waiting_on, DROP COLUMN resolution_state, DROP COLUMN reaction_state,
    DROP COLUMN resolution_risk_at, DROP COLUMN reaction_risk_at, DROP COLUMN resolution_minutes,
    DROP COLUMN reaction_minutes;

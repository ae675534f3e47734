-- Tickets: drop tickets_assignee_id_idx. tickets_assignee_site_idx (assignee_id, site_id)
-- has the same predicate and leads with the same column, so it serves every lookup by
-- assignee (and the foreign key) as well; the duplicate only cost an index insert on
-- every assignment.

-- +goose Up
DROP INDEX tickets_assignee_id_idx;

-- +goose Down
CREATE INDEX tickets_assignee_id_idx ON tickets (assignee_id) WHERE assignee_id IS NOT NULL;

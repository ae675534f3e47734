-- Pushed mutations are kept as long as a device may come back without a full resync;
-- the periodic job prunes older ones by this index.

-- +goose Up
CREATE INDEX sync_mutations_applied_idx ON sync_mutations (applied_at);

-- +goose Down
DROP INDEX sync_mutations_applied_idx;

-- Mobile delta sync: devices, change stamps, each engineer's scope, and pushed mutations.
--
-- Every synced row carries sync_xid, the id of the transaction that last wrote it. A pull
-- serves the rows whose sync_xid lies in a window [low, high) where high is the oldest
-- transaction still running when the window opened (pg_snapshot_xmin): everything below
-- it has finished, so a transaction that commits late can never slip behind a cursor, as
-- it would with timestamps or sequences. A row written again later simply gets a newer
-- stamp and comes in a later window.

-- +goose Up

-- +goose StatementBegin
CREATE FUNCTION sync_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sync_xid := pg_current_xact_id();
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

ALTER TABLE tickets ADD COLUMN sync_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE sites ADD COLUMN sync_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE assets ADD COLUMN sync_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE comments ADD COLUMN sync_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE skills ADD COLUMN sync_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE TRIGGER tickets_sync_stamp BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION sync_stamp();
CREATE TRIGGER sites_sync_stamp BEFORE UPDATE ON sites FOR EACH ROW EXECUTE FUNCTION sync_stamp();
CREATE TRIGGER assets_sync_stamp BEFORE UPDATE ON assets FOR EACH ROW EXECUTE FUNCTION sync_stamp();
CREATE TRIGGER comments_sync_stamp BEFORE UPDATE ON comments FOR EACH ROW EXECUTE FUNCTION sync_stamp();
CREATE TRIGGER skills_sync_stamp BEFORE UPDATE ON skills FOR EACH ROW EXECUTE FUNCTION sync_stamp();
-- Each synced table is searched by stamp (what changed in a window) as well as by owner.
CREATE INDEX comments_ticket_sync_idx ON comments (ticket_id, sync_xid);
CREATE INDEX tickets_sync_idx ON tickets (sync_xid);
CREATE INDEX sites_sync_idx ON sites (sync_xid);
CREATE INDEX assets_sync_idx ON assets (sync_xid);
CREATE INDEX comments_sync_idx ON comments (sync_xid);
CREATE INDEX skills_sync_idx ON skills (sync_xid);

-- Work logged on a ticket, written by engineers (from the app, offline).
CREATE TABLE time_entries (
    id          uuid PRIMARY KEY,
    ticket_id   uuid NOT NULL REFERENCES tickets (id),
    engineer_id uuid NOT NULL REFERENCES engineers (id),
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz NOT NULL,
    note        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    sync_xid    xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT time_entries_ended_at_check CHECK (ended_at > started_at AND ended_at - started_at <= interval '24 hours')
);
CREATE INDEX time_entries_ticket_sync_idx ON time_entries (ticket_id, sync_xid);
CREATE INDEX time_entries_sync_idx ON time_entries (sync_xid);
CREATE TRIGGER time_entries_sync_stamp BEFORE UPDATE ON time_entries FOR EACH ROW EXECUTE FUNCTION sync_stamp();

-- What each engineer's device should hold: the engineer's tickets (open, and finished in
-- the last days) and the sites and assets they need. A row leaving the scope is kept as
-- present = false with a new stamp, which a pull turns into "removed".
CREATE TABLE sync_scope (
    engineer_id uuid NOT NULL REFERENCES engineers (id),
    entity      text NOT NULL CHECK (entity IN ('ticket', 'site', 'asset')),
    row_id      uuid NOT NULL,
    present     boolean NOT NULL,
    sync_xid    xid8 NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (engineer_id, entity, row_id)
);
CREATE INDEX sync_scope_present_idx ON sync_scope (engineer_id, entity, row_id) WHERE present;
CREATE INDEX sync_scope_stamp_idx ON sync_scope (engineer_id, sync_xid);
CREATE INDEX tickets_assignee_site_idx ON tickets (assignee_id, site_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX tickets_assignee_asset_idx ON tickets (assignee_id, asset_id) WHERE assignee_id IS NOT NULL;

-- How long finished work stays on an engineer's device.
CREATE TABLE sync_settings (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    -- Bumping the epoch sends every device back to a full sync (after a restore, say).
    epoch         integer NOT NULL DEFAULT 1,
    finished_days integer NOT NULL DEFAULT 7 CHECK (finished_days >= 0)
);
INSERT INTO sync_settings DEFAULT VALUES;

-- +goose StatementBegin
-- sync_ticket_wanted: does ticket t belong on engineer e's device?
CREATE FUNCTION sync_ticket_wanted(e uuid, t tickets) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT t.assignee_id = e AND (t.status NOT IN ('resolved', 'closed', 'cancelled')
        OR coalesce(t.closed_at, t.resolved_at, t.updated_at)
            > now() - make_interval(days => (SELECT finished_days FROM sync_settings)))
$$;

-- sync_rescope_ticket brings engineer e's scope up to date for one ticket and the site and
-- asset it names: the ticket is in scope when wanted, a site or asset while any wanted
-- ticket of e's needs it. Only rows whose presence changes get a new stamp.
CREATE FUNCTION sync_rescope_ticket(e uuid, ticket uuid, site uuid, asset uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF e IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO sync_scope AS s (engineer_id, entity, row_id, present)
    SELECT e, x.entity, x.row_id, x.wanted FROM (VALUES
        ('ticket', ticket, EXISTS (SELECT 1 FROM tickets t WHERE t.id = ticket AND sync_ticket_wanted(e, t))),
        ('site', site, EXISTS (SELECT 1 FROM tickets t WHERE t.assignee_id = e AND t.site_id = site AND sync_ticket_wanted(e, t))),
        ('asset', asset, EXISTS (SELECT 1 FROM tickets t WHERE t.assignee_id = e AND t.asset_id = asset AND sync_ticket_wanted(e, t)))
    ) AS x (entity, row_id, wanted)
    -- A row the device never had needs no "removed" marker.
    WHERE x.row_id IS NOT NULL AND (x.wanted OR EXISTS (SELECT 1 FROM sync_scope o
        WHERE o.engineer_id = e AND o.entity = x.entity AND o.row_id = x.row_id))
    ON CONFLICT (engineer_id, entity, row_id) DO UPDATE
        SET present = EXCLUDED.present, sync_xid = pg_current_xact_id()
        WHERE s.present IS DISTINCT FROM EXCLUDED.present;
END;
$$;

-- sync_expire takes finished work off devices once it is older than finished_days.
CREATE FUNCTION sync_expire() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer := 0;
    r record;
BEGIN
    FOR r IN SELECT s.engineer_id, t.id, t.site_id, t.asset_id FROM sync_scope s JOIN tickets t ON t.id = s.row_id
        WHERE s.entity = 'ticket' AND s.present AND NOT sync_ticket_wanted(s.engineer_id, t)
    LOOP
        PERFORM sync_rescope_ticket(r.engineer_id, r.id, r.site_id, r.asset_id);
        n := n + 1;
    END LOOP;
    RETURN n;
END;
$$;

CREATE FUNCTION tickets_sync_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM sync_rescope_ticket(OLD.assignee_id, OLD.id, OLD.site_id, OLD.asset_id);
        IF NEW.assignee_id IS DISTINCT FROM OLD.assignee_id OR NEW.site_id IS DISTINCT FROM OLD.site_id
            OR NEW.asset_id IS DISTINCT FROM OLD.asset_id THEN
            PERFORM sync_rescope_ticket(NEW.assignee_id, NEW.id, NEW.site_id, NEW.asset_id);
        END IF;
    ELSE
        PERFORM sync_rescope_ticket(NEW.assignee_id, NEW.id, NEW.site_id, NEW.asset_id);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER tickets_sync_scope AFTER INSERT OR UPDATE OF assignee_id, status, site_id, asset_id ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_sync_scope();

-- A refresh token family may live longer than the default (a device's login): rotation
-- keeps its lifetime.
ALTER TABLE refresh_tokens ADD COLUMN lifetime interval;

-- Engineers' devices. A device holds a long-lived login of its own, which an admin can
-- revoke without touching the engineer's other devices.
CREATE TABLE devices (
    id               uuid PRIMARY KEY,
    user_id          uuid NOT NULL REFERENCES users (id),
    platform         text NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
    app_version      text NOT NULL CHECK (btrim(app_version) <> ''),
    push_token       text,
    token_family     uuid,
    last_mutation_id uuid,
    registered_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz,
    revoked_at       timestamptz
);
CREATE INDEX devices_user_idx ON devices (user_id);
CREATE UNIQUE INDEX devices_push_token_key ON devices (push_token) WHERE push_token IS NOT NULL AND revoked_at IS NULL;

-- Every mutation a device pushed, with its result: a replay answers the stored result and
-- changes nothing.
CREATE TABLE sync_mutations (
    device_id   uuid NOT NULL REFERENCES devices (id),
    id          uuid NOT NULL,
    status      text NOT NULL CHECK (status IN ('applied', 'rejected')),
    result      jsonb NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, id)
);

-- Existing assignments enter the scopes.
SELECT sync_rescope_ticket(t.assignee_id, t.id, t.site_id, t.asset_id) FROM tickets t WHERE t.assignee_id IS NOT NULL;

-- +goose Down
DROP TABLE sync_mutations, devices;
ALTER TABLE refresh_tokens DROP COLUMN lifetime;
DROP TRIGGER tickets_sync_scope ON tickets;
DROP FUNCTION tickets_sync_scope(), sync_expire(), sync_rescope_ticket(uuid, uuid, uuid, uuid), sync_ticket_wanted(uuid, tickets);
DROP TABLE sync_settings, sync_scope, time_entries;
DROP INDEX tickets_assignee_site_idx, tickets_assignee_asset_idx, skills_sync_idx, comments_ticket_sync_idx,
    tickets_sync_idx, sites_sync_idx, assets_sync_idx, comments_sync_idx;
DROP TRIGGER tickets_sync_stamp ON tickets;
DROP TRIGGER sites_sync_stamp ON sites;
DROP TRIGGER assets_sync_stamp ON assets;
DROP TRIGGER comments_sync_stamp ON comments;
DROP TRIGGER skills_sync_stamp ON skills;
ALTER TABLE tickets DROP COLUMN sync_xid;
ALTER TABLE sites DROP COLUMN sync_xid;
ALTER TABLE assets DROP COLUMN sync_xid;
ALTER TABLE comments DROP COLUMN sync_xid;
ALTER TABLE skills DROP COLUMN sync_xid;
DROP FUNCTION sync_stamp();

-- Evidence from the field: photos and other files (bytes in object storage, records
-- here), and checklists — templates with typed items, pinned per ticket, answered item by
-- item, and archived when the ticket is resolved.

-- +goose Up

-- A file attached to a ticket. The row is the upload slot first (pending): the device
-- puts the bytes straight into object storage, then confirms, and the server checks the
-- stored object against what was declared before the file counts (confirmed). Slots not
-- confirmed in time expire and their objects are removed; the row stays as a record.
CREATE TABLE attachments (
    id           uuid PRIMARY KEY,
    ticket_id    uuid NOT NULL REFERENCES tickets (id),
    kind         text NOT NULL CHECK (kind IN ('photo', 'signature', 'document')),
    file_name    text NOT NULL DEFAULT '',
    content_type text NOT NULL,
    size_bytes   bigint NOT NULL CHECK (size_bytes > 0),
    sha256       bytea NOT NULL CHECK (length(sha256) = 32),
    object_key   text NOT NULL UNIQUE,
    -- The multipart upload a large file goes through, until it is completed.
    upload_id    text,
    public       boolean NOT NULL DEFAULT false,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'expired')),
    uploaded_by  uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    confirmed_at timestamptz,
    sync_xid     xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX attachments_ticket_idx ON attachments (ticket_id, created_at);
CREATE INDEX attachments_ticket_sync_idx ON attachments (ticket_id, sync_xid);
CREATE INDEX attachments_pending_idx ON attachments (expires_at) WHERE status = 'pending';
CREATE TRIGGER attachments_sync_stamp BEFORE UPDATE ON attachments FOR EACH ROW EXECUTE FUNCTION sync_stamp();

-- A checklist template. What it asks lives in its versions: editing the items makes a new
-- version, and a ticket keeps the version it was given, so answers never change meaning.
-- It applies to new tickets of its kinds (any kind when empty) on assets of its types
-- (any ticket when empty).
CREATE TABLE checklist_templates (
    id           uuid PRIMARY KEY,
    name         text NOT NULL CHECK (btrim(name) <> ''),
    description  text NOT NULL DEFAULT '',
    ticket_kinds text[] NOT NULL DEFAULT '{}',
    asset_types  text[] NOT NULL DEFAULT '{}',
    version      integer NOT NULL DEFAULT 1,
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX checklist_templates_name_key ON checklist_templates (lower(name));
CREATE TRIGGER checklist_templates_updated_at BEFORE UPDATE ON checklist_templates FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE checklist_template_versions (
    template_id uuid NOT NULL REFERENCES checklist_templates (id),
    version     integer NOT NULL CHECK (version > 0),
    items       jsonb NOT NULL CHECK (jsonb_typeof(items) = 'array'),
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (template_id, version)
);

-- A checklist on a ticket: a template at the version the ticket got.
CREATE TABLE ticket_checklists (
    id               uuid PRIMARY KEY,
    ticket_id        uuid NOT NULL REFERENCES tickets (id),
    template_id      uuid NOT NULL,
    template_version integer NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sync_xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    FOREIGN KEY (template_id, template_version) REFERENCES checklist_template_versions (template_id, version),
    UNIQUE (ticket_id, template_id)
);
CREATE INDEX ticket_checklists_sync_idx ON ticket_checklists (ticket_id, sync_xid);

-- One answer per item. Every write bumps version: a writer that read an older version is
-- told its answer replaced someone else's (last write wins, in server order).
CREATE TABLE checklist_answers (
    id           uuid PRIMARY KEY,
    checklist_id uuid NOT NULL REFERENCES ticket_checklists (id),
    ticket_id    uuid NOT NULL REFERENCES tickets (id),
    item_id      text NOT NULL,
    value        jsonb,
    version      integer NOT NULL DEFAULT 1,
    answered_by  uuid NOT NULL REFERENCES users (id),
    answered_at  timestamptz NOT NULL,
    sync_xid     xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (checklist_id, item_id)
);
CREATE INDEX checklist_answers_sync_idx ON checklist_answers (ticket_id, sync_xid);
CREATE TRIGGER checklist_answers_sync_stamp BEFORE UPDATE ON checklist_answers FOR EACH ROW EXECUTE FUNCTION sync_stamp();

-- The completed checklists of a resolution, as a JSON document and a human-readable
-- work-completion act. Both are built, and their SHA-256 fixed, in the transaction that
-- resolves the ticket; the bytes wait here until object storage has them, so an outage
-- delays the archive and loses nothing.
CREATE TABLE checklist_archives (
    id           uuid PRIMARY KEY,
    ticket_id    uuid NOT NULL REFERENCES tickets (id),
    resolved_at  timestamptz NOT NULL,
    json_key     text NOT NULL,
    json_sha256  bytea NOT NULL,
    act_key      text NOT NULL,
    act_sha256   bytea NOT NULL,
    -- The documents, until they are stored.
    json_doc     bytea,
    act_doc      bytea,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    next_try_at  timestamptz NOT NULL DEFAULT now(),
    archived_at  timestamptz,
    UNIQUE (ticket_id, resolved_at)
);
CREATE INDEX checklist_archives_pending_idx ON checklist_archives (next_try_at) WHERE archived_at IS NULL;

-- +goose Down
DROP TABLE checklist_archives, checklist_answers, ticket_checklists, checklist_template_versions, checklist_templates,
    attachments;

-- The core of the service desk: people, clients and their contracts, the places and
-- equipment we serve, engineers, and tickets with their history.
--
-- Constraint names follow <table>_<field>_<kind> (PostgreSQL's own default), because
-- postgres.MapError turns a violated constraint into an error on that field.
--
-- Coordinates have no CHECK: PostGIS coerces an out-of-range geography into range (with a
-- NOTICE) before a CHECK could see it, so the API validates lat/lng before writing.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS postgis;

-- +goose StatementBegin
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- Business calendars: a time zone, weekly working hours ({"mon": [{"start": "09:00",
-- "end": "13:00"}, ...], ...}; a missing day is a day off), holidays, and working days
-- that override the week (moved working days, shortened days before a holiday).
CREATE TABLE calendars (
    id           uuid PRIMARY KEY,
    name         text NOT NULL CHECK (btrim(name) <> ''),
    time_zone    text NOT NULL CHECK (time_zone <> ''),
    weekly_hours jsonb NOT NULL CHECK (jsonb_typeof(weekly_hours) = 'object'),
    holidays     date[] NOT NULL DEFAULT '{}',
    working_days jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(working_days) = 'array'),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sla_policies (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sla_policies_name_key ON sla_policies (lower(name));

-- Reaction and resolution targets in business minutes, one row per priority.
CREATE TABLE sla_targets (
    policy_id          uuid NOT NULL REFERENCES sla_policies (id) ON DELETE CASCADE,
    priority           text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    reaction_minutes   integer NOT NULL CHECK (reaction_minutes > 0),
    resolution_minutes integer NOT NULL,
    PRIMARY KEY (policy_id, priority),
    CONSTRAINT sla_targets_resolution_minutes_check CHECK (resolution_minutes >= reaction_minutes)
);

CREATE TABLE clients (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    tax_id     text CHECK (tax_id ~ '^([0-9]{10}|[0-9]{12})$'),
    email      text CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    phone      text,
    address    text,
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX clients_tax_id_key ON clients (tax_id);
CREATE INDEX clients_name_idx ON clients (lower(name));

CREATE TABLE contracts (
    id               uuid PRIMARY KEY,
    client_id        uuid NOT NULL REFERENCES clients (id),
    number           text NOT NULL CHECK (btrim(number) <> ''),
    starts_on        date NOT NULL,
    ends_on          date,
    sla_policy_id    uuid NOT NULL REFERENCES sla_policies (id),
    calendar_id      uuid NOT NULL REFERENCES calendars (id),
    default_priority text NOT NULL DEFAULT 'normal'
        CHECK (default_priority IN ('low', 'normal', 'high', 'critical')),
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contracts_number_key UNIQUE (client_id, number),
    -- Lets tickets prove that their contract is their client's.
    CONSTRAINT contracts_id_client_id_key UNIQUE (id, client_id),
    CONSTRAINT contracts_ends_on_check CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX contracts_client_id_idx ON contracts (client_id);

CREATE TABLE sites (
    id         uuid PRIMARY KEY,
    client_id  uuid NOT NULL REFERENCES clients (id),
    name       text NOT NULL CHECK (btrim(name) <> ''),
    address    text NOT NULL CHECK (btrim(address) <> ''),
    location   geography(Point, 4326) NOT NULL,
    time_zone  text NOT NULL CHECK (time_zone <> ''),
    contact_name  text,
    contact_phone text,
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Lets tickets prove that their site belongs to their client.
    CONSTRAINT sites_id_client_id_key UNIQUE (id, client_id)
);
CREATE INDEX sites_location_idx ON sites USING gist (location);
CREATE INDEX sites_client_id_idx ON sites (client_id);

CREATE TABLE assets (
    id             uuid PRIMARY KEY,
    site_id        uuid NOT NULL REFERENCES sites (id),
    asset_type     text NOT NULL CHECK (asset_type ~ '^[a-z][a-z0-9_]{1,39}$'),
    manufacturer   text,
    model          text,
    serial_number  text,
    installed_on   date,
    warranty_until date,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assets_warranty_until_check CHECK (warranty_until IS NULL OR installed_on IS NULL OR warranty_until >= installed_on),
    CONSTRAINT assets_id_site_id_key UNIQUE (id, site_id)
);
CREATE UNIQUE INDEX assets_serial_number_key ON assets (coalesce(manufacturer, ''), serial_number);
CREATE INDEX assets_site_id_idx ON assets (site_id);

CREATE TABLE skills (
    id         uuid PRIMARY KEY,
    code       text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    name       text NOT NULL CHECK (btrim(name) <> ''),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT skills_code_key UNIQUE (code)
);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    full_name     text NOT NULL CHECK (btrim(full_name) <> ''),
    phone         text,
    role          text NOT NULL CHECK (role IN ('admin', 'dispatcher', 'manager', 'engineer', 'client')),
    client_id     uuid REFERENCES clients (id),
    password_hash text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- A client user belongs to exactly one client company; staff to none.
    CONSTRAINT users_client_id_check CHECK ((role = 'client') = (client_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_client_id_idx ON users (client_id);

-- Refresh tokens rotate on every use. A family is one login; presenting a token that was
-- already spent means it was stolen, and the whole family is revoked.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id),
    token_hash  bytea NOT NULL,
    expires_at  timestamptz NOT NULL,
    spent_at    timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

CREATE TABLE engineers (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id),
    home_base           geography(Point, 4326) NOT NULL,
    calendar_id         uuid NOT NULL REFERENCES calendars (id),
    capacity            integer NOT NULL DEFAULT 5 CHECK (capacity BETWEEN 1 AND 100),
    last_location       geography(Point, 4326),
    last_location_at    timestamptz,
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT engineers_user_id_key UNIQUE (user_id),
    CONSTRAINT engineers_last_location_check CHECK ((last_location IS NULL) = (last_location_at IS NULL))
);
CREATE INDEX engineers_last_location_idx ON engineers USING gist (last_location);
CREATE INDEX engineers_home_base_idx ON engineers USING gist (home_base);

CREATE TABLE engineer_skills (
    engineer_id uuid NOT NULL REFERENCES engineers (id) ON DELETE CASCADE,
    skill_id    uuid NOT NULL REFERENCES skills (id),
    PRIMARY KEY (engineer_id, skill_id)
);
CREATE INDEX engineer_skills_skill_id_idx ON engineer_skills (skill_id);

-- Human ticket numbers per year: 2026-000123. One counter row per year.
CREATE TABLE ticket_numbers (
    year integer PRIMARY KEY,
    last integer NOT NULL
);

CREATE TABLE tickets (
    id                uuid PRIMARY KEY,
    number            text NOT NULL CHECK (number ~ '^[0-9]{4}-[0-9]{6,}$'),
    client_id         uuid NOT NULL REFERENCES clients (id),
    contract_id       uuid,
    site_id           uuid NOT NULL,
    asset_id          uuid,
    kind              text NOT NULL CHECK (kind IN ('incident', 'request', 'consultation', 'preventive')),
    priority          text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    status            text NOT NULL DEFAULT 'new' CHECK (status IN (
        'new', 'assigned', 'accepted', 'en_route', 'in_progress', 'waiting', 'resolved', 'closed', 'cancelled')),
    title             text NOT NULL CHECK (btrim(title) <> ''),
    description       text NOT NULL DEFAULT '',
    assignee_id       uuid REFERENCES engineers (id),
    reaction_due_at   timestamptz,
    resolution_due_at timestamptz,
    first_response_at timestamptz,
    resolved_at       timestamptz,
    closed_at         timestamptz,
    paused_minutes    integer NOT NULL DEFAULT 0 CHECK (paused_minutes >= 0),
    csat              smallint CHECK (csat BETWEEN 1 AND 5),
    version           integer NOT NULL DEFAULT 1,
    created_by        uuid REFERENCES users (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tickets_number_key UNIQUE (number),
    -- The contract and the site belong to the ticket's client, and the asset stands at the
    -- ticket's site.
    CONSTRAINT tickets_contract_id_fkey FOREIGN KEY (contract_id, client_id) REFERENCES contracts (id, client_id),
    CONSTRAINT tickets_site_id_fkey FOREIGN KEY (site_id, client_id) REFERENCES sites (id, client_id),
    CONSTRAINT tickets_asset_id_fkey FOREIGN KEY (asset_id, site_id) REFERENCES assets (id, site_id)
);
CREATE INDEX tickets_client_id_idx ON tickets (client_id, id);
CREATE INDEX tickets_site_id_idx ON tickets (site_id);
CREATE INDEX tickets_asset_id_idx ON tickets (asset_id) WHERE asset_id IS NOT NULL;
CREATE INDEX tickets_assignee_id_idx ON tickets (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX tickets_open_idx ON tickets (status) WHERE status NOT IN ('closed', 'cancelled');

CREATE TABLE ticket_skills (
    ticket_id uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    skill_id  uuid NOT NULL REFERENCES skills (id),
    PRIMARY KEY (ticket_id, skill_id)
);

-- Append-only history of every ticket: who did what, when, and the status it moved between.
CREATE TABLE ticket_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id   uuid NOT NULL REFERENCES tickets (id),
    actor_id    uuid REFERENCES users (id),
    kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z_.]*$'),
    from_status text,
    to_status   text,
    data        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_events_ticket_id_idx ON ticket_events (ticket_id, id);

-- +goose StatementBegin
CREATE FUNCTION ticket_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ticket_events is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER ticket_events_append_only BEFORE UPDATE OR DELETE ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION ticket_events_append_only();

CREATE TABLE comments (
    id         uuid PRIMARY KEY,
    ticket_id  uuid NOT NULL REFERENCES tickets (id),
    author_id  uuid NOT NULL REFERENCES users (id),
    visibility text NOT NULL CHECK (visibility IN ('public', 'internal')),
    body       text NOT NULL CHECK (btrim(body) <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comments_ticket_id_idx ON comments (ticket_id, created_at);

CREATE TRIGGER calendars_updated_at BEFORE UPDATE ON calendars FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER sla_policies_updated_at BEFORE UPDATE ON sla_policies FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER clients_updated_at BEFORE UPDATE ON clients FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER contracts_updated_at BEFORE UPDATE ON contracts FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER sites_updated_at BEFORE UPDATE ON sites FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER assets_updated_at BEFORE UPDATE ON assets FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER skills_updated_at BEFORE UPDATE ON skills FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER users_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER engineers_updated_at BEFORE UPDATE ON engineers FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER tickets_updated_at BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- +goose Down
DROP TABLE comments, ticket_events, ticket_skills, tickets, ticket_numbers, engineer_skills, engineers,
    refresh_tokens, users, skills, assets, sites, contracts, clients, sla_targets, sla_policies, calendars;
DROP FUNCTION ticket_events_append_only();
DROP FUNCTION set_updated_at();

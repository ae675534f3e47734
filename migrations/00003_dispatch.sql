-- Geo-dispatch: where engineers are, how busy they are, when they are off, and why each
-- ticket went to whom.

-- +goose Up

-- position is where dispatch measures from: the last location while it is fresh, the
-- home base otherwise (kept by the location endpoint and the staleness sweep). One
-- indexed column lets the nearest-engineer query walk a GiST index in distance order.
ALTER TABLE engineers
    ADD COLUMN position        geography(Point, 4326),
    ADD COLUMN open_jobs       integer NOT NULL DEFAULT 0 CHECK (open_jobs >= 0),
    -- A dispatcher can mark an engineer available outside their shift, until a time.
    ADD COLUMN available_until timestamptz;
UPDATE engineers SET position = coalesce(last_location, home_base);
ALTER TABLE engineers ALTER COLUMN position SET NOT NULL;
CREATE INDEX engineers_position_idx ON engineers USING gist (position);

-- A new engineer starts where they last reported or at home; a newer reported location
-- moves them (whoever writes it); moving the home base moves an engineer who is
-- dispatched from home.
-- +goose StatementBegin
CREATE FUNCTION engineers_default_position() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.position := coalesce(NEW.position, NEW.last_location, NEW.home_base);
    ELSIF NEW.last_location IS NOT NULL
        AND NOT (ST_Equals(NEW.last_location::geometry, OLD.last_location::geometry) IS TRUE)
        AND (OLD.last_location_at IS NULL OR NEW.last_location_at >= OLD.last_location_at) THEN
        NEW.position := NEW.last_location;
    ELSIF ST_Equals(OLD.position::geometry, OLD.home_base::geometry)
        AND NOT ST_Equals(NEW.home_base::geometry, OLD.home_base::geometry) THEN
        NEW.position := NEW.home_base;
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER engineers_default_position BEFORE INSERT OR UPDATE OF home_base, last_location ON engineers
    FOR EACH ROW EXECUTE FUNCTION engineers_default_position();

-- open_jobs counts the engineer's open work, whatever changes a ticket (the service,
-- dispatch, an import). Dispatch claims capacity with a conditional UPDATE of the
-- engineer row, so concurrent assignments serialise on that row and never overfill it.
-- +goose StatementBegin
CREATE FUNCTION tickets_count_open_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was uuid;
    now_on uuid;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.assignee_id IS NOT NULL
        AND OLD.status IN ('assigned', 'accepted', 'en_route', 'in_progress', 'waiting') THEN
        was := OLD.assignee_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.assignee_id IS NOT NULL
        AND NEW.status IN ('assigned', 'accepted', 'en_route', 'in_progress', 'waiting') THEN
        now_on := NEW.assignee_id;
    END IF;
    IF was IS DISTINCT FROM now_on THEN
        IF was IS NOT NULL THEN
            UPDATE engineers SET open_jobs = open_jobs - 1 WHERE id = was;
        END IF;
        IF now_on IS NOT NULL THEN
            UPDATE engineers SET open_jobs = open_jobs + 1 WHERE id = now_on;
        END IF;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER tickets_count_open_jobs AFTER INSERT OR UPDATE OF assignee_id, status OR DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_count_open_jobs();
UPDATE engineers e SET open_jobs = (SELECT count(*) FROM tickets t WHERE t.assignee_id = e.id
    AND t.status IN ('assigned', 'accepted', 'en_route', 'in_progress', 'waiting'));

-- An engineer's skills as an array on their row, kept by a trigger: the nearest-engineer
-- search tests "has every required skill" as it walks the position index (`@>`),
-- where a subquery per row would make the planner give up the index.
ALTER TABLE engineers ADD COLUMN skill_ids uuid[] NOT NULL DEFAULT '{}';
-- +goose StatementBegin
CREATE FUNCTION engineer_skills_denormalize() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE engineers e SET skill_ids = coalesce((SELECT array_agg(es.skill_id ORDER BY es.skill_id)
        FROM engineer_skills es WHERE es.engineer_id = e.id), '{}')
    WHERE e.id IN (SELECT engineer_id FROM changed);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER engineer_skills_insert AFTER INSERT ON engineer_skills REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION engineer_skills_denormalize();
CREATE TRIGGER engineer_skills_delete AFTER DELETE ON engineer_skills REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION engineer_skills_denormalize();
UPDATE engineers e SET skill_ids = coalesce((SELECT array_agg(es.skill_id ORDER BY es.skill_id)
    FROM engineer_skills es WHERE es.engineer_id = e.id), '{}');

CREATE TABLE engineer_time_off (
    id          uuid PRIMARY KEY,
    engineer_id uuid NOT NULL REFERENCES engineers (id),
    period      tstzrange NOT NULL CHECK (NOT isempty(period) AND lower(period) IS NOT NULL AND upper(period) IS NOT NULL),
    reason      text NOT NULL DEFAULT '',
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX engineer_time_off_engineer_idx ON engineer_time_off (engineer_id);

-- The trail of reported positions, kept for a limited time (see the location sweep).
CREATE TABLE engineer_locations (
    id          uuid PRIMARY KEY,
    engineer_id uuid NOT NULL REFERENCES engineers (id),
    location    geography(Point, 4326) NOT NULL,
    accuracy_m  real CHECK (accuracy_m >= 0),
    recorded_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX engineer_locations_engineer_idx ON engineer_locations (engineer_id, recorded_at DESC);
CREATE INDEX engineer_locations_received_idx ON engineer_locations (received_at);

ALTER TABLE contracts
    -- How far from a site an engineer may be sent; NULL is no limit.
    ADD COLUMN dispatch_radius_m integer CHECK (dispatch_radius_m > 0),
    -- auto assigns on filing, suggest only ranks, off leaves it to people; NULL follows the
    -- server's DISPATCH_MODE.
    ADD COLUMN dispatch_mode text CHECK (dispatch_mode IN ('auto', 'suggest', 'off'));

-- Why each assignment was made: a dispatcher can always see it.
CREATE TABLE ticket_assignments (
    id          uuid PRIMARY KEY,
    ticket_id   uuid NOT NULL REFERENCES tickets (id),
    engineer_id uuid NOT NULL REFERENCES engineers (id),
    mode        text NOT NULL CHECK (mode IN ('auto', 'manual', 'batch')),
    distance_m  double precision,
    eta_s       integer,
    load        integer,
    score       double precision,
    reasons     jsonb NOT NULL DEFAULT '{}',
    assigned_by uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_assignments_ticket_idx ON ticket_assignments (ticket_id, created_at);

CREATE INDEX tickets_unassigned_idx ON tickets (id) WHERE status = 'new' AND assignee_id IS NULL;

-- Tickets auto-dispatch could not place, and when it last tried: the sweep tries again
-- the longest-waiting first. Kept apart from tickets so that retrying does not make
-- every device fetch the ticket again.
CREATE TABLE dispatch_attempts (
    ticket_id uuid PRIMARY KEY REFERENCES tickets (id),
    tried_at  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE dispatch_attempts;
DROP INDEX tickets_unassigned_idx;
DROP TABLE ticket_assignments, engineer_locations, engineer_time_off;
ALTER TABLE contracts DROP COLUMN dispatch_mode, DROP COLUMN dispatch_radius_m;
DROP TRIGGER engineer_skills_insert ON engineer_skills;
DROP TRIGGER engineer_skills_delete ON engineer_skills;
DROP FUNCTION engineer_skills_denormalize();
DROP TRIGGER tickets_count_open_jobs ON tickets;
DROP FUNCTION tickets_count_open_jobs();
DROP TRIGGER engineers_default_position ON engineers;
DROP FUNCTION engineers_default_position();
ALTER TABLE engineers DROP COLUMN skill_ids, DROP COLUMN available_until, DROP COLUMN open_jobs, DROP COLUMN position;

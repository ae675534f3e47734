-- Push notifications: an outbox of messages to devices, filled by a trigger on
-- ticket_events in the transaction that writes the events (a rolled-back change announces
-- nothing), and emptied by the push workers (internal/push).
--
-- One row is one message to one device: each row is claimed, sent, retried and
-- dead-lettered on its own, so a device's failure never holds back another's, and a row
-- sent once is never sent again. The rows carry no foreign keys: the trigger reads device
-- and ticket ids from their tables, which never delete, and a key check would lock the
-- device row in every ticket transaction.

-- +goose Up

-- +goose StatementBegin
-- push_uuid_v7: a time-ordered UUID (RFC 9562 version 7), so outbox rows list in creation
-- order like the API's own ids.
CREATE FUNCTION push_uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
        52, 1), 53, 1), 'hex')::uuid
$$;

-- push_uuid: s as a uuid, or NULL when it is not one. Event data is free-form JSON, and a
-- failing cast would abort the transaction that wrote the event.
CREATE FUNCTION push_uuid(s text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN s ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' THEN s::uuid END
$$;
-- +goose StatementEnd

CREATE TABLE push_outbox (
    id              uuid PRIMARY KEY DEFAULT push_uuid_v7(),
    device_id       uuid NOT NULL,
    ticket_id       uuid NOT NULL,
    event_id        bigint NOT NULL,
    -- sync: a data-only "sync now" to an engineer's app; the others are notifications a
    -- person reads: status (of a ticket the client filed), reply (the service company
    -- answered the client), client_comment (to dispatchers), sla (at risk or breached).
    reason          text NOT NULL CHECK (reason IN ('sync', 'status', 'reply', 'client_comment', 'sla')),
    payload         jsonb NOT NULL,
    -- pending until sent; skipped when there was nothing to send it to (push is off, the
    -- device lost its token); dead after the last attempt failed.
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'skipped', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    -- When a pending row is due: at once ('-infinity') when new, the backoff after a
    -- failure, and while a worker sends it the end of that worker's lease.
    next_attempt_at timestamptz NOT NULL DEFAULT '-infinity',
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CONSTRAINT push_outbox_finished_at_check CHECK ((status = 'pending') = (finished_at IS NULL))
);
CREATE INDEX push_outbox_due_idx ON push_outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX push_outbox_finished_idx ON push_outbox (finished_at) WHERE status <> 'pending';
CREATE INDEX push_outbox_dead_idx ON push_outbox (id) WHERE status = 'dead';

-- Who can be reached: the devices with a token, by user; and the staff told about SLA
-- alarms, few among many users.
CREATE INDEX devices_push_idx ON devices (user_id) WHERE push_token IS NOT NULL AND revoked_at IS NULL;
CREATE INDEX users_push_staff_idx ON users (role) WHERE active AND role IN ('dispatcher', 'manager');

-- +goose StatementBegin
-- push_enqueue turns a statement's new events into outbox rows with one INSERT, however
-- many events the statement wrote (dispatch writes a whole batch at once). It reads the
-- ticket as it stands when the events are written: commands write their event before
-- they update the ticket, so an assignment's engineers come from the event's data.
--   - Engineers whose work someone else changed (assigned, unassigned, reassigned, edited,
--     commented, moved on by the desk or the SLA sweep) get one data-only "sync now" per
--     statement, however many of their tickets it touched.
--   - The client user who filed a ticket hears of its status changes and of answers from
--     the service company, unless they did it themselves.
--   - Dispatchers on duty (active, with a device registered for push) and managers hear of
--     SLA alarms; dispatchers also of what clients write.
-- A session plans this query once, for the size of the first statement it sees, and keeps
-- the plan. Every lookup is therefore a lateral index probe per row (OFFSET 0 keeps the
-- planner from turning it into a join it might hash over a whole table), and no two
-- scans of the events are joined: the cost grows with the events, from one to thousands.
CREATE FUNCTION push_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH e AS (
        SELECT n.id, n.ticket_id, n.actor_id, n.kind, t.assignee_id, t.created_by, a.role AS actor_role,
            push_uuid(n.data->>'engineer_id') AS engineer_id, push_uuid(n.data->>'previous_engineer_id') AS previous_id,
            n.kind LIKE 'sla.%' AS alarm, n.kind = 'commented' AND a.role = 'client' AS from_client,
            n.from_status <> n.to_status AS moved,
            jsonb_build_object('event', n.kind, 'number', t.number, 'title', t.title, 'from', n.from_status,
                'to', n.to_status) AS notice
        FROM new_events n
        CROSS JOIN LATERAL (SELECT number, title, assignee_id, created_by FROM tickets WHERE id = n.ticket_id OFFSET 0) t
        LEFT JOIN LATERAL (SELECT role FROM users WHERE id = n.actor_id OFFSET 0) a ON true
    ), recipients AS (
        (SELECT DISTINCT ON (g.user_id) e.id AS event_id, e.ticket_id, g.user_id, 'sync' AS reason,
            jsonb_build_object('event', e.kind) AS payload
        FROM e CROSS JOIN LATERAL (SELECT user_id FROM engineers
            WHERE id IN (e.assignee_id, e.engineer_id, e.previous_id) OFFSET 0) g
        WHERE g.user_id IS DISTINCT FROM e.actor_id
            AND e.kind NOT IN ('checklist_archived', 'dispatch_suggested', 'dispatch_failed')
        ORDER BY g.user_id, e.id DESC)
        UNION ALL
        SELECT e.id, e.ticket_id, e.created_by, CASE WHEN e.kind = 'commented' THEN 'reply' ELSE 'status' END, e.notice
        FROM e CROSS JOIN LATERAL (SELECT FROM users WHERE id = e.created_by AND role = 'client' AND active OFFSET 0) u
        WHERE e.created_by IS DISTINCT FROM e.actor_id
            AND (e.moved OR (e.kind = 'commented' AND e.actor_role IS DISTINCT FROM 'client'))
        UNION ALL
        SELECT e.id, e.ticket_id, s.id, CASE WHEN e.alarm THEN 'sla' ELSE 'client_comment' END, e.notice
        FROM e JOIN (SELECT id, role FROM users WHERE active AND role IN ('dispatcher', 'manager')) s
            ON e.alarm OR s.role = 'dispatcher'
        WHERE e.alarm OR e.from_client
    )
    INSERT INTO push_outbox (device_id, ticket_id, event_id, reason, payload)
    SELECT d.id, r.ticket_id, r.event_id, r.reason, r.payload
    FROM recipients r CROSS JOIN LATERAL (SELECT id FROM devices
        WHERE user_id = r.user_id AND push_token IS NOT NULL AND revoked_at IS NULL OFFSET 0) d;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER ticket_events_push AFTER INSERT ON ticket_events REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION push_enqueue();

-- +goose Down
DROP TRIGGER ticket_events_push ON ticket_events;
DROP FUNCTION push_enqueue();
DROP INDEX users_push_staff_idx, devices_push_idx;
DROP TABLE push_outbox;
DROP FUNCTION push_uuid(text), push_uuid_v7();

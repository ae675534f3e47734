-- Push: a client's account manager, and preventive work orders announced; a client user
-- moved to another company no longer hears of the tickets they filed at the old one.
--
-- SLA alarms went to every manager; now they go to the manager who looks after the
-- client (clients.account_manager_id), and to every manager only while a client has
-- nobody (or their account is off). The same managers hear of the preventive work orders
-- the maintenance scheduler files for their clients: one notification per manager per
-- statement ("planned"), however many work orders it filed, since a generator batch
-- files hundreds.

-- +goose Up
ALTER TABLE clients ADD COLUMN account_manager_id uuid REFERENCES users (id);

ALTER TABLE push_outbox DROP CONSTRAINT push_outbox_reason_check,
    ADD CONSTRAINT push_outbox_reason_check
        CHECK (reason IN ('sync', 'status', 'reply', 'client_comment', 'sla', 'planned'));

-- +goose StatementBegin
-- push_client_managers: who hears of a client's alarms and planned work.
CREATE FUNCTION push_client_managers(client uuid) RETURNS SETOF uuid LANGUAGE sql STABLE AS $$
    WITH account AS (
        SELECT u.id FROM clients c JOIN users u ON u.id = c.account_manager_id AND u.active AND u.role = 'manager'
        WHERE c.id = client
    )
    SELECT id FROM account
    UNION ALL
    SELECT id FROM users WHERE active AND role = 'manager' AND NOT EXISTS (SELECT FROM account)
$$;

-- push_enqueue: as in 00010, with the recipients above. A planned notice names the
-- statement's first work order due (its ticket) and how many there are.
CREATE OR REPLACE FUNCTION push_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH e AS (
        SELECT n.id, n.ticket_id, n.actor_id, n.kind, t.assignee_id, t.created_by, t.client_id, t.scheduled_for,
            a.role AS actor_role,
            push_uuid(n.data->>'engineer_id') AS engineer_id, push_uuid(n.data->>'previous_engineer_id') AS previous_id,
            n.kind LIKE 'sla.%' AS alarm, n.kind = 'commented' AND a.role = 'client' AS from_client,
            n.kind = 'created' AND t.kind = 'preventive' AS planned,
            n.from_status <> n.to_status AS moved,
            jsonb_build_object('event', n.kind, 'number', t.number, 'title', t.title, 'from', n.from_status,
                'to', n.to_status) AS notice
        FROM new_events n
        CROSS JOIN LATERAL (SELECT number, title, kind, client_id, scheduled_for, assignee_id, created_by
            FROM tickets WHERE id = n.ticket_id OFFSET 0) t
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
        FROM e CROSS JOIN LATERAL (SELECT FROM users WHERE id = e.created_by AND role = 'client' AND active
            AND client_id = e.client_id OFFSET 0) u
        WHERE e.created_by IS DISTINCT FROM e.actor_id
            AND (e.moved OR (e.kind = 'commented' AND e.actor_role IS DISTINCT FROM 'client'))
        UNION ALL
        SELECT e.id, e.ticket_id, s.id, CASE WHEN e.alarm THEN 'sla' ELSE 'client_comment' END, e.notice
        FROM e CROSS JOIN LATERAL (SELECT id FROM users WHERE active AND role = 'dispatcher' OFFSET 0) s
        WHERE (e.alarm OR e.from_client) AND s.id IS DISTINCT FROM e.actor_id
        UNION ALL
        SELECT e.id, e.ticket_id, m, 'sla', e.notice
        FROM e CROSS JOIN LATERAL push_client_managers(e.client_id) m
        WHERE e.alarm AND m IS DISTINCT FROM e.actor_id
        UNION ALL
        (SELECT DISTINCT ON (m) e.id, e.ticket_id, m, 'planned',
            e.notice || jsonb_build_object('count', count(*) OVER (PARTITION BY m))
        FROM e CROSS JOIN LATERAL push_client_managers(e.client_id) m
        WHERE e.planned AND m IS DISTINCT FROM e.actor_id
        ORDER BY m, e.scheduled_for, e.id)
    )
    INSERT INTO push_outbox (device_id, ticket_id, event_id, reason, payload)
    SELECT d.id, r.ticket_id, r.event_id, r.reason, r.payload
    FROM recipients r CROSS JOIN LATERAL (SELECT id FROM devices
        WHERE user_id = r.user_id AND push_token IS NOT NULL AND revoked_at IS NULL OFFSET 0) d;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION push_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP FUNCTION push_client_managers(uuid);
DELETE FROM push_outbox WHERE reason = 'planned';
ALTER TABLE push_outbox DROP CONSTRAINT push_outbox_reason_check,
    ADD CONSTRAINT push_outbox_reason_check CHECK (reason IN ('sync', 'status', 'reply', 'client_comment', 'sla'));
ALTER TABLE clients DROP COLUMN account_manager_id;

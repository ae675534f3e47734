package mobileapi

// table is one kind of record a device holds. Its statement selects, for engineer $1
// and the window [$2, $3) of transaction ids (decimal text; $2 = '0' on a first sync),
// the rows with id > $4 in id order, at most $5: the id, whether the row is present
// (false: the device must remove it), and the row as JSON (NULL when removed).
//
// Three kinds of statement: reference data every engineer gets; "scoped" rows (tickets,
// sites, assets) that sync_scope puts on or takes off the engineer's device; and a
// ticket's children (comments, time entries, checklists with their answers, attachment
// records), which follow their ticket — all of them
// when it arrives, each change while it stays — and leave with it.
type table struct {
	name string
	sql  string
}

// inWindow is the condition "stamp x lies in the window".
func inWindow(x string) string {
	return "(" + x + " >= $2::text::xid8 AND " + x + " < $3::text::xid8)"
}

// scoped is the statement for a table whose rows sync_scope tracks: rows that entered or
// left the scope in the window, and rows in scope that changed in it. Each branch walks
// its own index, so an empty window costs two empty index lookups, whatever the size of
// the scope. A first sync needs only the first branch and sends no removals: the device
// has nothing to remove.
func scoped(entity, from, json string) string {
	row := `SELECT s.row_id AS id, s.present, CASE WHEN s.present THEN ` + json + ` END AS body
		FROM sync_scope s JOIN ` + from + `
		WHERE s.engineer_id = $1 AND s.entity = '` + entity + `' AND s.row_id > $4 AND `
	return `SELECT id, present, body FROM (
			(` + row + inWindow("s.sync_xid") + ` AND (s.present OR $2::text <> '0') ORDER BY s.row_id LIMIT $5)
			UNION
			(` + row + `s.present AND $2::text <> '0' AND ` + inWindow("x.sync_xid") + ` ORDER BY s.row_id LIMIT $5)
		) changed ORDER BY id LIMIT $5`
}

// child is the statement for rows that belong to a ticket in scope: all of a ticket's
// rows when it enters the scope, and each row that changes while it stays.
func child(from, json string) string {
	row := `SELECT x.id, true AS present, ` + json + ` AS body
		FROM ` + from + ` JOIN sync_scope s ON s.engineer_id = $1 AND s.entity = 'ticket' AND s.row_id = x.ticket_id AND s.present
		WHERE x.id > $4 AND `
	return `SELECT id, present, body FROM (
			(` + row + inWindow("s.sync_xid") + ` ORDER BY x.id LIMIT $5)
			UNION
			(` + row + `$2::text <> '0' AND ` + inWindow("x.sync_xid") + ` ORDER BY x.id LIMIT $5)
		) changed ORDER BY id LIMIT $5`
}

const point = `jsonb_build_object('lat', ST_Y(x.location::geometry), 'lng', ST_X(x.location::geometry))`

// tables, in the order a page fills: what others refer to comes first.
var tables = []table{
	{"skills", `SELECT x.id, true, jsonb_build_object('id', x.id, 'code', x.code, 'name', x.name, 'active', x.active)
		FROM skills x WHERE ` + inWindow("x.sync_xid") + ` AND x.id > $4 AND $1::uuid IS NOT NULL
		ORDER BY x.id LIMIT $5`},
	{"sites", scoped("site", `sites x ON x.id = s.row_id JOIN clients c ON c.id = x.client_id`,
		`jsonb_build_object('id', x.id, 'client_id', x.client_id, 'client_name', c.name, 'client_phone', c.phone,
			'name', x.name, 'address', x.address, 'location', `+point+`, 'time_zone', x.time_zone,
			'contact_name', x.contact_name, 'contact_phone', x.contact_phone, 'active', x.active)`)},
	{"assets", scoped("asset", `assets x ON x.id = s.row_id`,
		`jsonb_build_object('id', x.id, 'site_id', x.site_id, 'asset_type', x.asset_type, 'manufacturer', x.manufacturer,
			'model', x.model, 'serial_number', x.serial_number, 'installed_on', x.installed_on,
			'warranty_until', x.warranty_until, 'active', x.active)`)},
	{"tickets", scoped("ticket", `tickets x ON x.id = s.row_id`,
		`jsonb_build_object('id', x.id, 'number', x.number, 'client_id', x.client_id, 'site_id', x.site_id,
			'asset_id', x.asset_id, 'kind', x.kind, 'priority', x.priority, 'status', x.status, 'waiting_on', x.waiting_on,
			'title', x.title, 'description', x.description, 'version', x.version,
			'required_skill_ids', (SELECT coalesce(jsonb_agg(ts.skill_id ORDER BY ts.skill_id), '[]') FROM ticket_skills ts WHERE ts.ticket_id = x.id),
			'scheduled_for', x.scheduled_for, 'reaction_due_at', x.reaction_due_at, 'resolution_due_at', x.resolution_due_at,
			'reaction_state', x.reaction_state, 'resolution_state', x.resolution_state,
			'resolution_note', x.resolution_note, 'created_at', x.created_at, 'updated_at', x.updated_at)`)},
	{"comments", child(`comments x JOIN users u ON u.id = x.author_id`,
		`jsonb_build_object('id', x.id, 'ticket_id', x.ticket_id, 'author_id', x.author_id, 'author_name', u.full_name,
			'author_role', u.role, 'visibility', x.visibility, 'body', x.body, 'created_at', x.created_at)`)},
	{"time_entries", child(`time_entries x`,
		`jsonb_build_object('id', x.id, 'ticket_id', x.ticket_id, 'engineer_id', x.engineer_id,
			'started_at', x.started_at, 'ended_at', x.ended_at, 'note', x.note)`)},
	// A checklist carries its template's items at the version the ticket got: versions
	// never change, so neither does the row.
	{"checklists", child(`ticket_checklists x JOIN checklist_templates t ON t.id = x.template_id
		JOIN checklist_template_versions v ON v.template_id = x.template_id AND v.version = x.template_version`,
		`jsonb_build_object('id', x.id, 'ticket_id', x.ticket_id, 'template_id', x.template_id,
			'template_version', x.template_version, 'name', t.name, 'items', v.items)`)},
	{"checklist_answers", child(`checklist_answers x`,
		`jsonb_build_object('id', x.id, 'ticket_id', x.ticket_id, 'checklist_id', x.checklist_id, 'item_id', x.item_id,
			'value', x.value, 'version', x.version, 'answered_by', x.answered_by, 'answered_at', x.answered_at)`)},
	{"attachments", child(`attachments x`,
		`jsonb_build_object('id', x.id, 'ticket_id', x.ticket_id, 'kind', x.kind, 'file_name', x.file_name,
			'content_type', x.content_type, 'size', x.size_bytes, 'sha256', encode(x.sha256, 'hex'), 'public', x.public,
			'status', x.status, 'uploaded_by', x.uploaded_by, 'created_at', x.created_at, 'confirmed_at', x.confirmed_at)`)},
}

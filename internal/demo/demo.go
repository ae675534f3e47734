// Package demo loads a deterministic demo data set that looks like a real service desk in
// Moscow: client companies (retail chains, banks, pharmacies, restaurants, business
// centres) with contracts and SLAs, their sites on real streets, the equipment there,
// engineers with skills and positions, and open tickets, all in Russian.
//
// The same seed and size always give the same rows. Ids are uuid.NewSHA1 over a fixed
// namespace of the seed, the record's kind and its ordinal (composite for sites — client
// and site within it — and for assets — client, site, asset within the site), and every
// record's content comes from its own random stream (math/rand/v2 PCG seeded with the
// seed and a hash of the same key; never the clock), so it does not depend on the size.
// Loading again inserts nothing, and loading another size only adds records: a site keeps
// its client and an asset its site whatever the size. The data is set at a fixed "now",
// 2026-11-20 09:00 UTC (Friday noon in Moscow): tickets were filed in the two days before
// it, engineers reported their positions in the hour before it.
//
// A database holds the demo data of one seed: the staff logins (admin@demo.fieldsvc.local
// …), skill codes and policy names are the same for every seed and are unique, so a second
// seed fails on them.
package demo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/postgres"
)

// Size says how much to generate.
type Size struct {
	Clients, Sites, Assets, Engineers, OpenTickets int
}

// Demo is the default: 20 client companies, 200 sites, 1,000 assets, 50 engineers and
// 40 open tickets.
var Demo = Size{Clients: 20, Sites: 200, Assets: 1000, Engineers: 50, OpenTickets: 40}

// DemoPassword is the password of every demo account. It is for demo data only and is
// printed with the logins; never load the demo set into a database that faces users.
const DemoPassword = "demo-password-1"

// Summary is the data set of one Load: how many of each record it consists of — all of
// which exist once Load returns, whether this call inserted them or an earlier one did —
// and the accounts to print. Users are the staff (1 admin, 2 dispatchers, 1 manager), one
// per engineer and one per client company. Tickets equals OpenTickets unless there are no
// sites to file them at.
type Summary struct {
	Clients, Sites, Assets, Engineers, Tickets, Users int
	Logins                                            []Login
}

// Login is a demo account to print: all of them use DemoPassword.
type Login struct {
	Role, Email, Password, Note string
}

// Load writes the data set for size and seed in one transaction, as a few multi-row
// inserts sent in pgx batches. Every insert is ON CONFLICT DO NOTHING, and the rows that
// hang off a record (SLA targets, engineer skills, ticket skills and events) go in only
// with a record this call creates, so running it again changes nothing and another size
// only adds. Ticket numbers (YYYY-NNNNNN from ticket_numbers) are taken only for tickets
// that do not exist yet, in the order they were filed, so a rerun burns none.
// passwordHash is the bcrypt hash of DemoPassword, which every demo user gets. Concurrent
// Loads are serialised by a transaction-scoped advisory lock.
func Load(ctx context.Context, pool *pgxpool.Pool, size Size, seed uint64, passwordHash string) (Summary, error) {
	if size.Clients < 0 || size.Sites < 0 || size.Assets < 0 || size.Engineers < 0 || size.OpenTickets < 0 {
		return Summary{}, fmt.Errorf("demo: load: negative size %+v", size)
	}
	if passwordHash == "" {
		return Summary{}, errors.New("demo: load: empty password hash")
	}
	ds := generate(size, seed)
	err := postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('fieldsvc.demo.Load'))`); err != nil {
			return fmt.Errorf("demo: lock: %w", err)
		}
		if err := writeCatalog(ctx, tx, ds, passwordHash); err != nil {
			return err
		}
		if err := writeTickets(ctx, tx, ds); err != nil {
			return err
		}
		if err := writeAssignments(ctx, tx, ds); err != nil {
			return err
		}
		if err := writeChecklists(ctx, tx, ds); err != nil {
			return err
		}
		return writePlans(ctx, tx)
	})
	if err != nil {
		return Summary{}, err
	}
	return ds.summary(), nil
}

func (ds *dataset) summary() Summary {
	s := Summary{
		Clients: len(ds.clients), Sites: len(ds.sites), Assets: len(ds.assets),
		Engineers: len(ds.engineers), Tickets: len(ds.tickets), Users: len(ds.users),
	}
	login := func(u userRow, note string) {
		s.Logins = append(s.Logins, Login{Role: u.role, Email: u.email, Password: DemoPassword, Note: note})
	}
	login(ds.users[0], "admin: users, clients, contracts, SLA policies, calendars, skills, engineers")
	login(ds.users[1], "dispatcher: open tickets and engineers on the map, assignment")
	login(ds.users[3], "manager: reports, preventive maintenance plans")
	byUser := map[uuid.UUID]userRow{}
	for _, u := range ds.users {
		byUser[u.id] = u
	}
	if len(ds.engineers) > 0 {
		e := ds.engineers[0] // the busiest engineer shows the most in the app
		for _, x := range ds.engineers {
			if x.assignedOpen > e.assignedOpen {
				e = x
			}
		}
		u := byUser[e.userID]
		login(u, fmt.Sprintf("engineer %s, skills %s, open tickets assigned: %d",
			u.fullName, strings.Join(e.skills, ", "), e.assignedOpen))
	}
	if len(ds.clients) > 0 {
		c := ds.clients[0]
		login(byUser[c.userID], fmt.Sprintf("client contact of %s (%d sites)", c.name, len(c.sites)))
	}
	return s
}

// statement is one query of a batch, named for error messages.
type statement struct {
	what string
	sql  string
	args []any
}

func sendBatch(ctx context.Context, tx pgx.Tx, stmts []statement) ([]int64, error) {
	b := &pgx.Batch{}
	for _, s := range stmts {
		b.Queue(s.sql, s.args...)
	}
	br := tx.SendBatch(ctx, b)
	affected := make([]int64, len(stmts))
	for i, s := range stmts {
		tag, err := br.Exec()
		if err != nil {
			_ = br.Close()
			return nil, fmt.Errorf("demo: insert %s: %w", s.what, postgres.MapError(err))
		}
		affected[i] = tag.RowsAffected()
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("demo: insert: %w", err)
	}
	return affected, nil
}

// writeCatalog inserts everything but the tickets: one multi-row INSERT … SELECT FROM
// unnest(…) per table, all sent as one batch.
func writeCatalog(ctx context.Context, tx pgx.Tx, ds *dataset, passwordHash string) error {
	var stmts []statement
	for _, c := range ds.calendars {
		stmts = append(stmts, statement{"calendars", `
			INSERT INTO calendars (id, name, time_zone, weekly_hours, holidays, working_days)
			VALUES ($1, $2, 'Europe/Moscow', $3::jsonb, $4::date[], $5::jsonb)
			ON CONFLICT (id) DO NOTHING`,
			[]any{c.id, c.name, string(c.weeklyHours), dates(c.holidays), string(c.workingDays)}})
	}
	var polTarget, polIDs []uuid.UUID
	var polNames, tgtPriority []string
	var tgtReaction, tgtResolution []int32
	for _, p := range ds.policies {
		polIDs = append(polIDs, p.id)
		polNames = append(polNames, p.name)
		for i, pr := range priorities {
			polTarget = append(polTarget, p.id)
			tgtPriority = append(tgtPriority, pr)
			tgtReaction = append(tgtReaction, int32(p.targets[i][0]))
			tgtResolution = append(tgtResolution, int32(p.targets[i][1]))
		}
	}
	// Targets go in only with a policy this call creates, so a rerun leaves an edited
	// policy alone.
	stmts = append(stmts, statement{"sla_policies", `
		WITH ins AS (
			INSERT INTO sla_policies (id, name)
			SELECT * FROM unnest($1::uuid[], $2::text[])
			ON CONFLICT (id) DO NOTHING
			RETURNING id)
		INSERT INTO sla_targets (policy_id, priority, reaction_minutes, resolution_minutes)
		SELECT t.* FROM unnest($3::uuid[], $4::text[], $5::int4[], $6::int4[]) AS t(policy_id, priority, reaction, resolution)
		JOIN ins ON ins.id = t.policy_id
		ON CONFLICT DO NOTHING`,
		[]any{polIDs, polNames, polTarget, tgtPriority, tgtReaction, tgtResolution}})

	var skIDs []uuid.UUID
	var skCodes, skNames []string
	skillID := map[string]uuid.UUID{}
	for _, s := range ds.skills {
		skIDs, skCodes, skNames = append(skIDs, s.id), append(skCodes, s.code), append(skNames, s.name)
		skillID[s.code] = s.id
	}
	stmts = append(stmts, statement{"skills", `
		INSERT INTO skills (id, code, name)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
		ON CONFLICT (id) DO NOTHING`,
		[]any{skIDs, skCodes, skNames}})

	n := len(ds.clients)
	cID, cContract, cPolicy, cCalendar := make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n)
	cName, cTax, cEmail, cPhone, cAddr, cNumber := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, c := range ds.clients {
		cID[i], cContract[i], cPolicy[i], cCalendar[i] = c.id, c.contractID, c.policyID, c.calendarID
		cName[i], cTax[i], cEmail[i], cPhone[i], cAddr[i], cNumber[i] = c.name, c.taxID, c.email, c.phone, c.addr, c.contractNo
	}
	stmts = append(stmts,
		statement{"clients", `
			INSERT INTO clients (id, name, tax_id, email, phone, address)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
			ON CONFLICT (id) DO NOTHING`,
			[]any{cID, cName, cTax, cEmail, cPhone, cAddr}},
		statement{"contracts", `
			INSERT INTO contracts (id, client_id, number, starts_on, sla_policy_id, calendar_id, default_priority)
			SELECT u.id, u.client_id, u.number, DATE '2026-01-01', u.policy_id, u.calendar_id, 'normal'
			FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::uuid[]) AS u(id, client_id, number, policy_id, calendar_id)
			ON CONFLICT (id) DO NOTHING`,
			[]any{cContract, cID, cNumber, cPolicy, cCalendar}},
	)

	n = len(ds.sites)
	sID, sClient := make([]uuid.UUID, n), make([]uuid.UUID, n)
	sName, sAddr, sContact, sPhone := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	sLat, sLng := make([]float64, n), make([]float64, n)
	for i, s := range ds.sites {
		sID[i], sClient[i], sName[i], sAddr[i], sContact[i], sPhone[i] = s.id, s.clientID, s.name, s.address, s.contactName, s.phone
		sLat[i], sLng[i] = s.loc.Lat, s.loc.Lng
	}
	stmts = append(stmts, statement{"sites", `
		INSERT INTO sites (id, client_id, name, address, location, time_zone, contact_name, contact_phone)
		SELECT u.id, u.client_id, u.name, u.address, ST_SetSRID(ST_MakePoint(u.lng, u.lat), 4326)::geography,
			'Europe/Moscow', u.contact_name, u.contact_phone
		FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::text[])
			AS u(id, client_id, name, address, lat, lng, contact_name, contact_phone)
		ON CONFLICT (id) DO NOTHING`,
		[]any{sID, sClient, sName, sAddr, sLat, sLng, sContact, sPhone}})

	n = len(ds.assets)
	aID, aSite := make([]uuid.UUID, n), make([]uuid.UUID, n)
	aType, aMaker, aModel, aSerial := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	aInstalled, aWarranty := make([]time.Time, n), make([]time.Time, n)
	for i, a := range ds.assets {
		aID[i], aSite[i], aType[i], aMaker[i], aModel[i], aSerial[i] = a.id, a.siteID, a.assetType, a.manufacturer, a.model, a.serial
		aInstalled[i], aWarranty[i] = a.installed, a.warranty
	}
	stmts = append(stmts, statement{"assets", `
		INSERT INTO assets (id, site_id, asset_type, manufacturer, model, serial_number, installed_on, warranty_until)
		SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::date[], $8::date[])
		ON CONFLICT (id) DO NOTHING`,
		[]any{aID, aSite, aType, aMaker, aModel, aSerial, aInstalled, aWarranty}})

	n = len(ds.users)
	uID, uClient := make([]uuid.UUID, n), make([]*uuid.UUID, n)
	uEmail, uName, uPhone, uRole := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, u := range ds.users {
		uID[i], uClient[i], uEmail[i], uName[i], uPhone[i], uRole[i] = u.id, u.clientID, u.email, u.fullName, u.phone, u.role
	}
	stmts = append(stmts, statement{"users", `
		INSERT INTO users (id, email, full_name, phone, role, client_id, password_hash)
		SELECT u.*, $7 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[])
			AS u(id, email, full_name, phone, role, client_id)
		ON CONFLICT (id) DO NOTHING`,
		[]any{uID, uEmail, uName, uPhone, uRole, uClient, passwordHash}},
		// The demo manager looks after every client that has nobody yet.
		statement{"account managers", `
			UPDATE clients SET account_manager_id = $1 WHERE id = ANY ($2) AND account_manager_id IS NULL`,
			[]any{ds.users[3].id, cID}})

	n = len(ds.engineers)
	eID, eUser := make([]uuid.UUID, n), make([]uuid.UUID, n)
	eLat, eLng, eCap := make([]float64, n), make([]float64, n), make([]int32, n)
	eCalendar := make([]uuid.UUID, n)
	eLastLat, eLastLng, eLastAt := make([]*float64, n), make([]*float64, n), make([]*time.Time, n)
	var esEngineer, esSkill []uuid.UUID
	for i, e := range ds.engineers {
		eID[i], eUser[i], eLat[i], eLng[i], eCap[i] = e.id, e.userID, e.home.Lat, e.home.Lng, int32(e.capacity)
		eCalendar[i] = e.calendarID
		if e.last != nil {
			eLastLat[i], eLastLng[i], eLastAt[i] = &e.last.Lat, &e.last.Lng, e.lastAt
		}
		for _, s := range e.skills {
			esEngineer, esSkill = append(esEngineer, e.id), append(esSkill, skillID[s])
		}
	}
	// Skills go in only with an engineer this call creates, like policy targets.
	stmts = append(stmts, statement{"engineers", `
		WITH ins AS (
			INSERT INTO engineers (id, user_id, home_base, calendar_id, capacity, last_location, last_location_at)
			SELECT u.id, u.user_id, ST_SetSRID(ST_MakePoint(u.lng, u.lat), 4326)::geography, u.calendar_id, u.capacity,
				ST_SetSRID(ST_MakePoint(u.last_lng, u.last_lat), 4326)::geography, u.last_at
			FROM unnest($1::uuid[], $2::uuid[], $3::float8[], $4::float8[], $5::int4[], $6::float8[], $7::float8[], $8::timestamptz[], $10::uuid[])
				AS u(id, user_id, lat, lng, capacity, last_lat, last_lng, last_at, calendar_id)
			ON CONFLICT (id) DO NOTHING
			RETURNING id)
		INSERT INTO engineer_skills (engineer_id, skill_id)
		SELECT s.engineer_id, s.skill_id FROM unnest($9::uuid[], $11::uuid[]) AS s(engineer_id, skill_id)
		JOIN ins ON ins.id = s.engineer_id
		ON CONFLICT DO NOTHING`,
		[]any{eID, eUser, eLat, eLng, eCap, eLastLat, eLastLng, eLastAt, esEngineer, eCalendar, esSkill}})

	_, err := sendBatch(ctx, tx, stmts)
	return err
}

func dates(ts []time.Time) []time.Time {
	if ts == nil {
		return []time.Time{}
	}
	return ts
}

// writeTickets inserts the tickets that do not exist yet, numbering them from the
// ticket_numbers counter in the order they were filed, with their skills and history.
// Existing tickets are left alone and burn no number.
func writeTickets(ctx context.Context, tx pgx.Tx, ds *dataset) error {
	if len(ds.tickets) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(ds.tickets))
	for i, t := range ds.tickets {
		ids[i] = t.id
	}
	rows, err := tx.Query(ctx, `SELECT id FROM tickets WHERE id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("demo: existing tickets: %w", err)
	}
	existing, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return fmt.Errorf("demo: existing tickets: %w", err)
	}
	exists := make(map[uuid.UUID]bool, len(existing))
	for _, id := range existing {
		exists[id] = true
	}
	var fresh []ticketRow
	for _, t := range ds.tickets {
		if !exists[t.id] {
			fresh = append(fresh, t)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	sort.SliceStable(fresh, func(a, b int) bool {
		if !fresh[a].createdAt.Equal(fresh[b].createdAt) {
			return fresh[a].createdAt.Before(fresh[b].createdAt)
		}
		return fresh[a].ordinal < fresh[b].ordinal
	})

	// One statement takes the whole block of numbers; the row lock it holds until commit
	// keeps other writers of the counter after it.
	year := refTime.Year()
	var last int
	err = tx.QueryRow(ctx, `
		INSERT INTO ticket_numbers (year, last) VALUES ($1, $2)
		ON CONFLICT (year) DO UPDATE SET last = ticket_numbers.last + EXCLUDED.last
		RETURNING last`, year, len(fresh)).Scan(&last)
	if err != nil {
		return fmt.Errorf("demo: allocate ticket numbers: %w", err)
	}
	first := last - len(fresh) + 1

	skillID := map[string]uuid.UUID{}
	for _, s := range ds.skills {
		skillID[s.code] = s.id
	}
	n := len(fresh)
	tID, tClient, tContract, tSite, tCreatedBy := make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n), make([]uuid.UUID, n)
	tAsset, tAssignee := make([]*uuid.UUID, n), make([]*uuid.UUID, n)
	tNumber, tKind, tPriority, tStatus, tTitle, tDesc := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	tVersion := make([]int32, n)
	tCreated, tUpdated := make([]time.Time, n), make([]time.Time, n)
	var tsTicket, tsSkill []uuid.UUID
	type event struct {
		ticket, actor    uuid.UUID
		kind, from, to   string
		data             []byte
		at               time.Time
		ordinal, ordered int
	}
	var events []event
	for i, t := range fresh {
		number := fmt.Sprintf("%d-%06d", year, first+i)
		tID[i], tClient[i], tContract[i], tSite[i], tCreatedBy[i] = t.id, t.clientID, t.contractID, t.siteID, t.createdBy
		tAsset[i], tAssignee[i] = t.assetID, t.assigneeID
		tNumber[i], tKind[i], tPriority[i], tStatus[i], tTitle[i], tDesc[i] = number, t.kind, t.priority, t.status, t.title, t.description
		tVersion[i], tCreated[i], tUpdated[i] = 1, t.createdAt, t.updatedAt
		for _, s := range t.skills {
			tsTicket, tsSkill = append(tsTicket, t.id), append(tsSkill, skillID[s])
		}
		events = append(events, event{
			ticket: t.id, actor: t.createdBy, kind: "created", to: "new", at: t.createdAt, ordinal: t.ordinal,
			data: mustJSON(map[string]any{"number": number, "kind": t.kind, "priority": t.priority}),
		})
		if t.assigneeID != nil {
			tVersion[i] = 2
			events = append(events, event{
				ticket: t.id, actor: t.assignedBy, kind: "assigned", from: "new", to: "assigned", at: t.assignedAt,
				ordinal: t.ordinal, ordered: 1,
				data: mustJSON(map[string]any{"assignee_id": t.assigneeID, "mode": "manual", "distance_m": t.assignDistanceM}),
			})
		}
	}
	// History in the order it happened, as the service would have appended it.
	sort.SliceStable(events, func(a, b int) bool {
		ea, eb := events[a], events[b]
		if !ea.at.Equal(eb.at) {
			return ea.at.Before(eb.at)
		}
		if ea.ordinal != eb.ordinal {
			return ea.ordinal < eb.ordinal
		}
		return ea.ordered < eb.ordered
	})
	m := len(events)
	evTicket, evActor := make([]uuid.UUID, m), make([]uuid.UUID, m)
	evKind, evFrom, evTo, evData := make([]string, m), make([]*string, m), make([]string, m), make([]string, m)
	evAt := make([]time.Time, m)
	for i, e := range events {
		evTicket[i], evActor[i], evKind[i], evTo[i], evData[i], evAt[i] = e.ticket, e.actor, e.kind, e.to, string(e.data), e.at
		if e.from != "" {
			from := e.from
			evFrom[i] = &from
		}
	}

	affected, err := sendBatch(ctx, tx, []statement{
		{"tickets", `
			INSERT INTO tickets (id, number, client_id, contract_id, site_id, asset_id, kind, priority, status,
				title, description, assignee_id, version, created_by, created_at, updated_at)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[],
				$8::text[], $9::text[], $10::text[], $11::text[], $12::uuid[], $13::int4[], $14::uuid[],
				$15::timestamptz[], $16::timestamptz[])
			ON CONFLICT (id) DO NOTHING`,
			[]any{tID, tNumber, tClient, tContract, tSite, tAsset, tKind, tPriority, tStatus, tTitle, tDesc,
				tAssignee, tVersion, tCreatedBy, tCreated, tUpdated}},
		{"ticket_skills", `
			INSERT INTO ticket_skills (ticket_id, skill_id)
			SELECT * FROM unnest($1::uuid[], $2::uuid[])
			ON CONFLICT DO NOTHING`,
			[]any{tsTicket, tsSkill}},
		{"ticket_events", `
			INSERT INTO ticket_events (ticket_id, actor_id, kind, from_status, to_status, data, created_at)
			SELECT u.ticket_id, u.actor_id, u.kind, u.from_status, u.to_status, u.data::jsonb, u.created_at
			FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
				WITH ORDINALITY AS u(ticket_id, actor_id, kind, from_status, to_status, data, created_at, ord)
			ORDER BY u.ord`,
			[]any{evTicket, evActor, evKind, evFrom, evTo, evData, evAt}},
	})
	if err != nil {
		return err
	}
	if affected[0] != int64(n) {
		// Under the advisory lock only a writer that bypasses Load can get here.
		return fmt.Errorf("demo: insert tickets: %d of %d inserted; tickets changed concurrently", affected[0], n)
	}
	return nil
}

// writeAssignments records why each assigned demo ticket went to its engineer, as a
// dispatcher's assignment would be: by whom and when (from its assign event) and how far.
func writeAssignments(ctx context.Context, tx pgx.Tx, ds *dataset) error {
	ids := make([]uuid.UUID, len(ds.tickets))
	for i, t := range ds.tickets {
		ids[i] = t.id
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO ticket_assignments (id, ticket_id, engineer_id, mode, distance_m, load, reasons, assigned_by, created_at)
		SELECT gen_random_uuid(), t.id, t.assignee_id, 'manual', ST_Distance(e.home_base, s.location, false), 0,
			'{"note": "demo data"}', ev.actor_id, coalesce(ev.created_at, t.created_at)
		FROM tickets t JOIN engineers e ON e.id = t.assignee_id JOIN sites s ON s.id = t.site_id
		LEFT JOIN LATERAL (SELECT actor_id, created_at FROM ticket_events
			WHERE ticket_id = t.id AND kind = 'assign' ORDER BY created_at DESC LIMIT 1) ev ON true
		WHERE t.id = ANY ($1) AND NOT EXISTS (SELECT 1 FROM ticket_assignments a WHERE a.ticket_id = t.id)`, ids)
	if err != nil {
		return fmt.Errorf("demo: assignments: %w", err)
	}
	return nil
}

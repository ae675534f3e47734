package demo

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"fieldsvc/internal/dbtest"
)

var small = Size{Clients: 6, Sites: 30, Assets: 120, Engineers: 15, OpenTickets: 25}

var hashOnce = sync.OnceValues(func() ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(DemoPassword), bcrypt.MinCost)
})

func mustHash(tb testing.TB) string {
	tb.Helper()
	h, err := hashOnce()
	if err != nil {
		tb.Fatal(err)
	}
	return string(h)
}

func mustLoad(tb testing.TB, pool *pgxpool.Pool, size Size, seed uint64) Summary {
	tb.Helper()
	s, err := Load(context.Background(), pool, size, seed, mustHash(tb))
	if err != nil {
		tb.Fatalf("Load(%+v, %d): %v", size, seed, err)
	}
	return s
}

func queryInt(tb testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	tb.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

var allTables = []string{
	"calendars", "sla_policies", "sla_targets", "skills", "clients", "contracts", "sites", "assets",
	"users", "engineers", "engineer_skills", "ticket_numbers", "tickets", "ticket_skills", "ticket_events",
	"pm_plans", "pm_plan_skills",
}

func tableCounts(tb testing.TB, pool *pgxpool.Pool) map[string]int {
	tb.Helper()
	out := map[string]int{}
	for _, t := range allTables {
		out[t] = queryInt(tb, pool, `SELECT count(*) FROM `+t)
	}
	out["ticket_numbers.last"] = queryInt(tb, pool, `SELECT coalesce(max(last), 0) FROM ticket_numbers`)
	return out
}

// fingerprints are md5 digests of each table's content that a seed decides (not the
// created_at/updated_at stamps the database fills in at load time).
func fingerprints(tb testing.TB, pool *pgxpool.Pool) map[string]string {
	tb.Helper()
	queries := map[string]string{
		"calendars":       `SELECT md5(string_agg(id::text || name || weekly_hours::text || holidays::text || working_days::text, ',' ORDER BY id)) FROM calendars`,
		"clients":         `SELECT md5(string_agg(id::text || name || tax_id || email || phone || address, ',' ORDER BY id)) FROM clients`,
		"contracts":       `SELECT md5(string_agg(id::text || client_id::text || number || sla_policy_id::text || calendar_id::text, ',' ORDER BY id)) FROM contracts`,
		"sites":           `SELECT md5(string_agg(id::text || name || address || ST_AsText(location) || contact_name, ',' ORDER BY id)) FROM sites`,
		"assets":          `SELECT md5(string_agg(id::text || site_id::text || asset_type || manufacturer || model || serial_number || installed_on::text || warranty_until::text, ',' ORDER BY id)) FROM assets`,
		"users":           `SELECT md5(string_agg(id::text || email || full_name || role || coalesce(client_id::text, ''), ',' ORDER BY id)) FROM users`,
		"engineers":       `SELECT md5(string_agg(id::text || ST_AsText(home_base) || capacity || coalesce(ST_AsText(last_location), '') || coalesce(last_location_at::text, ''), ',' ORDER BY id)) FROM engineers`,
		"engineer_skills": `SELECT md5(string_agg(engineer_id::text || skill_id::text, ',' ORDER BY engineer_id, skill_id)) FROM engineer_skills`,
		"tickets": `SELECT md5(string_agg(number || id::text || site_id::text || coalesce(asset_id::text, '') || kind || priority || status ||
			title || description || coalesce(assignee_id::text, '') || created_at::text, ',' ORDER BY number)) FROM tickets`,
		"ticket_events": `SELECT md5(string_agg(id || ticket_id::text || kind || coalesce(to_status, '') || data::text || created_at::text, ',' ORDER BY id)) FROM ticket_events`,
	}
	out := map[string]string{}
	for name, q := range queries {
		var s *string
		if err := pool.QueryRow(context.Background(), q).Scan(&s); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		if s == nil {
			tb.Fatalf("%s: empty table", name)
		}
		out[name] = *s
	}
	return out
}

func wantCounts(size Size) map[string]int {
	return map[string]int{
		"calendars": 5, "sla_policies": 3, "sla_targets": 12, "skills": 12,
		"clients": size.Clients, "contracts": size.Clients, "sites": size.Sites, "assets": size.Assets,
		"users": 4 + size.Engineers + size.Clients, "engineers": size.Engineers,
		"tickets": size.OpenTickets, "ticket_numbers.last": size.OpenTickets,
	}
}

func TestLoad(t *testing.T) {
	pool := dbtest.MustPool(t)
	ctx := context.Background()
	sum := mustLoad(t, pool, small, 42)

	got := Summary{Clients: sum.Clients, Sites: sum.Sites, Assets: sum.Assets, Engineers: sum.Engineers, Tickets: sum.Tickets, Users: sum.Users}
	want := Summary{Clients: 6, Sites: 30, Assets: 120, Engineers: 15, Tickets: 25, Users: 4 + 15 + 6}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary = %+v, want %+v", got, want)
	}
	counts := tableCounts(t, pool)
	for table, n := range wantCounts(small) {
		if counts[table] != n {
			t.Errorf("%s: %d rows, want %d", table, counts[table], n)
		}
	}
	assigned := queryInt(t, pool, `SELECT count(*) FROM tickets WHERE assignee_id IS NOT NULL`)
	if n := counts["ticket_events"]; n != small.OpenTickets+assigned {
		t.Errorf("ticket_events: %d rows, want %d created + %d assigned", n, small.OpenTickets, assigned)
	}

	checkInvariants(t, pool)
	checkCapacity(t, pool)

	if len(sum.Logins) != 5 {
		t.Fatalf("logins = %+v, want admin, dispatcher, manager, engineer, client", sum.Logins)
	}
	roles := []string{}
	for _, l := range sum.Logins {
		roles = append(roles, l.Role)
		if l.Password != DemoPassword || l.Note == "" {
			t.Errorf("login %+v: want DemoPassword and a note", l)
		}
		var hash string
		if err := pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE email = $1 AND role = $2 AND active`, l.Email, l.Role).Scan(&hash); err != nil {
			t.Errorf("login %s (%s): %v", l.Email, l.Role, err)
			continue
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(l.Password)) != nil {
			t.Errorf("login %s: password does not match the stored hash", l.Email)
		}
	}
	if strings.Join(roles, ",") != "admin,dispatcher,manager,engineer,client" {
		t.Errorf("login roles = %v", roles)
	}
	if sum.Logins[0].Email != "admin@demo.fieldsvc.local" {
		t.Errorf("admin login = %q", sum.Logins[0].Email)
	}

	// Loading again inserts nothing and takes no ticket number.
	before, fpBefore := tableCounts(t, pool), fingerprints(t, pool)
	again := mustLoad(t, pool, small, 42)
	if !reflect.DeepEqual(again, sum) {
		t.Errorf("second summary = %+v, want %+v", again, sum)
	}
	if after := tableCounts(t, pool); !reflect.DeepEqual(after, before) {
		t.Errorf("row counts changed on reload:\nbefore %v\nafter  %v", before, after)
	}
	if fpAfter := fingerprints(t, pool); !reflect.DeepEqual(fpAfter, fpBefore) {
		t.Errorf("content changed on reload")
	}
}

// checkCapacity asserts that no engineer has more open tickets than their capacity. It
// holds for one size's data set; tickets added by a bigger size after a smaller one are
// assigned without counting the earlier set's.
func checkCapacity(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if n := queryInt(t, pool, `SELECT count(*) FROM engineers e
		WHERE e.capacity < (SELECT count(*) FROM tickets t WHERE t.assignee_id = e.id)`); n != 0 {
		t.Errorf("%d engineers over capacity", n)
	}
}

// checkInvariants asserts what must hold for any loaded demo data.
func checkInvariants(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	zero := map[string]string{
		"site outside the Moscow box": `SELECT count(*) FROM sites
			WHERE NOT (ST_Y(location::geometry) BETWEEN 55.57 AND 55.91 AND ST_X(location::geometry) BETWEEN 37.37 AND 37.85)
			OR time_zone <> 'Europe/Moscow'`,
		"engineer based outside the Moscow box": `SELECT count(*) FROM engineers
			WHERE NOT (ST_Y(home_base::geometry) BETWEEN 55.57 AND 55.91 AND ST_X(home_base::geometry) BETWEEN 37.37 AND 37.85)
			OR NOT coalesce(ST_Y(last_location::geometry) BETWEEN 55.57 AND 55.91 AND ST_X(last_location::geometry) BETWEEN 37.37 AND 37.85, true)`,
		"stale or future engineer location": `SELECT count(*) FROM engineers
			WHERE last_location_at NOT BETWEEN TIMESTAMPTZ '2026-11-20T08:00:00Z' AND TIMESTAMPTZ '2026-11-20T09:00:00Z'`,
		"assignee lacking a required skill": `SELECT count(*) FROM tickets t JOIN ticket_skills ts ON ts.ticket_id = t.id
			WHERE t.assignee_id IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM engineer_skills es WHERE es.engineer_id = t.assignee_id AND es.skill_id = ts.skill_id)`,
		"status and assignee disagree": `SELECT count(*) FROM tickets WHERE (status = 'assigned') <> (assignee_id IS NOT NULL)
			OR status NOT IN ('new', 'assigned')`,
		"ticket without skills": `SELECT count(*) FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM ticket_skills ts WHERE ts.ticket_id = t.id)`,
		"maintenance plan without its skill or not due for generation": `SELECT count(*) FROM pm_plans p
			WHERE (SELECT count(*) FROM pm_plan_skills k WHERE k.plan_id = p.id) <> 1 OR p.generate_at > now()`,
		"ticket without exactly one created event": `SELECT count(*) FROM tickets t
			WHERE (SELECT count(*) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'created' AND e.to_status = 'new') <> 1`,
		"assigned ticket without its event": `SELECT count(*) FROM tickets t WHERE t.assignee_id IS NOT NULL AND NOT EXISTS (
			SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind = 'assigned' AND e.from_status = 'new'
				AND e.to_status = 'assigned' AND e.data->>'assignee_id' = t.assignee_id::text)`,
		"ticket with a wrong contract or filed outside the two days": `SELECT count(*) FROM tickets t
			WHERE t.contract_id IS NULL OR NOT EXISTS (SELECT 1 FROM contracts c WHERE c.id = t.contract_id AND c.client_id = t.client_id)
			OR t.created_at NOT BETWEEN TIMESTAMPTZ '2026-11-18T09:00:00Z' AND TIMESTAMPTZ '2026-11-20T09:00:00Z'
			OR t.reaction_due_at IS NOT NULL OR t.resolution_due_at IS NOT NULL
			OR t.number !~ '^2026-[0-9]{6}$'`,
		"ticket filed by someone else than its client's user or a dispatcher": `SELECT count(*) FROM tickets t JOIN users u ON u.id = t.created_by
			WHERE NOT (u.role = 'dispatcher' OR (u.role = 'client' AND u.client_id = t.client_id))`,
		"client without a site or a contract": `SELECT count(*) FROM clients c
			WHERE NOT EXISTS (SELECT 1 FROM sites s WHERE s.client_id = c.id)
			OR NOT EXISTS (SELECT 1 FROM contracts k WHERE k.client_id = c.id AND k.starts_on = DATE '2026-01-01')`,
		"client without exactly one client user": `SELECT count(*) FROM clients c
			WHERE (SELECT count(*) FROM users u WHERE u.client_id = c.id AND u.role = 'client') <> 1`,
		"site without an asset":    `SELECT count(*) FROM sites s WHERE NOT EXISTS (SELECT 1 FROM assets a WHERE a.site_id = s.id)`,
		"duplicate engineer email": `SELECT count(*) - count(DISTINCT lower(u.email)) FROM engineers e JOIN users u ON u.id = e.user_id`,
		"engineer with too few or many skills": `SELECT count(*) FROM engineers e
			WHERE (SELECT count(*) FROM engineer_skills es WHERE es.engineer_id = e.id) NOT BETWEEN 2 AND 4
			OR e.capacity NOT BETWEEN 4 AND 8`,
		"asset with odd dates": `SELECT count(*) FROM assets WHERE installed_on NOT BETWEEN DATE '2015-01-01' AND DATE '2025-12-31'
			OR warranty_until NOT BETWEEN installed_on + interval '2 years' AND installed_on + interval '5 years'`,
		"policy without four targets": `SELECT count(*) FROM sla_policies p WHERE (SELECT count(*) FROM sla_targets t WHERE t.policy_id = p.id) <> 4`,
	}
	for what, q := range zero {
		if n := queryInt(t, pool, q); n != 0 {
			t.Errorf("%s: %d", what, n)
		}
	}
	var taxIDs []string
	rows, err := pool.Query(context.Background(), `SELECT tax_id FROM clients`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		taxIDs = append(taxIDs, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, inn := range taxIDs {
		if len(inn) != 10 || innCheck(inn[:9]) != inn {
			t.Errorf("tax id %q is not a valid 10-digit ИНН", inn)
		}
	}
}

func TestLoadSameSeedSameData(t *testing.T) {
	a, b, c := dbtest.MustPool(t), dbtest.MustPool(t), dbtest.MustPool(t)
	mustLoad(t, a, small, 7)
	mustLoad(t, b, small, 7)
	mustLoad(t, c, small, 8)
	fa, fb, fc := fingerprints(t, a), fingerprints(t, b), fingerprints(t, c)
	for table := range fa {
		if fa[table] != fb[table] {
			t.Errorf("%s differs between two loads of seed 7", table)
		}
		if table != "calendars" && fa[table] == fc[table] {
			t.Errorf("%s is the same for seeds 7 and 8", table)
		}
	}
}

func TestLoadBiggerSizeOnlyAdds(t *testing.T) {
	pool := dbtest.MustPool(t)
	mustLoad(t, pool, small, 3)
	before := fingerprints(t, pool)
	ids := func(table string) map[string]bool {
		rows, err := pool.Query(context.Background(), `SELECT id::text FROM `+table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out[id] = true
		}
		return out
	}
	oldSites, oldTickets := ids("sites"), ids("tickets")

	bigger := Size{Clients: 8, Sites: 45, Assets: 200, Engineers: 20, OpenTickets: 35}
	mustLoad(t, pool, bigger, 3)
	newSites, newTickets := ids("sites"), ids("tickets")
	for id := range oldSites {
		if !newSites[id] {
			t.Errorf("site %s disappeared", id)
		}
	}
	for id := range oldTickets {
		if !newTickets[id] {
			t.Errorf("ticket %s disappeared", id)
		}
	}
	counts := tableCounts(t, pool)
	for _, table := range []string{"clients", "sites", "assets", "engineers", "tickets"} {
		if counts[table] < wantCounts(bigger)[table] {
			t.Errorf("%s: %d rows, want at least %d", table, counts[table], wantCounts(bigger)[table])
		}
	}
	if counts["ticket_numbers.last"] != counts["tickets"] {
		t.Errorf("ticket_numbers.last = %d for %d tickets: numbers burnt", counts["ticket_numbers.last"], counts["tickets"])
	}
	if after := fingerprints(t, pool); after["calendars"] != before["calendars"] {
		t.Errorf("reference data changed")
	}
	checkInvariants(t, pool)

	// The bigger set is now complete: loading it once more changes nothing.
	counts2 := tableCounts(t, pool)
	mustLoad(t, pool, bigger, 3)
	if after := tableCounts(t, pool); !reflect.DeepEqual(after, counts2) {
		t.Errorf("row counts changed on reload of the bigger size:\nbefore %v\nafter  %v", counts2, after)
	}
}

func TestLoadDemoSize(t *testing.T) {
	pool := dbtest.MustPool(t)
	start := time.Now()
	sum := mustLoad(t, pool, Demo, 1)
	t.Logf("Demo load: %v; summary %d clients, %d sites, %d assets, %d engineers, %d tickets, %d users",
		time.Since(start), sum.Clients, sum.Sites, sum.Assets, sum.Engineers, sum.Tickets, sum.Users)
	for _, l := range sum.Logins {
		t.Logf("login %-10s %-50s %s", l.Role, l.Email, l.Note)
	}
	counts := tableCounts(t, pool)
	for table, n := range wantCounts(Demo) {
		if counts[table] != n {
			t.Errorf("%s: %d rows, want %d", table, counts[table], n)
		}
	}
	checkInvariants(t, pool)
	checkCapacity(t, pool)
	if n := queryInt(t, pool, `SELECT count(*) FROM skills s
		WHERE (SELECT count(*) FROM engineer_skills es WHERE es.skill_id = s.id) < 4`); n != 0 {
		t.Errorf("%d skills held by fewer than 4 engineers", n)
	}
	// Someone is on shift at any hour: day, late and night shifts each have engineers.
	if n := queryInt(t, pool, `SELECT count(DISTINCT calendar_id) FROM engineers`); n != 3 {
		t.Errorf("engineers work %d different shift calendars, want 3", n)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets WHERE status = 'assigned'`); n < 3 || n > Demo.OpenTickets/2 {
		t.Errorf("%d assigned tickets, want a few", n)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM engineers WHERE last_location IS NOT NULL`); n < Demo.Engineers/3 || n == Demo.Engineers {
		t.Errorf("%d engineers with a last location, want some", n)
	}
	if n := queryInt(t, pool, `SELECT count(DISTINCT asset_type) FROM assets`); n < 8 {
		t.Errorf("%d asset types, want the whole catalogue", n)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets t WHERE t.assignee_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM ticket_assignments a WHERE a.ticket_id = t.id AND a.engineer_id = t.assignee_id)`); n != 0 {
		t.Errorf("%d assigned tickets without the record of their assignment", n)
	}
	// Open refrigeration faults and elevator tickets carry their checklists, as if filed now.
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets k JOIN assets a ON a.id = k.asset_id
		WHERE k.status NOT IN ('resolved', 'closed', 'cancelled') AND k.kind = 'incident' AND a.asset_type = 'refrigeration'
		AND NOT EXISTS (SELECT 1 FROM ticket_checklists c WHERE c.ticket_id = k.id)`); n != 0 {
		t.Errorf("%d open refrigeration incidents without their checklist", n)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_checklists`); n == 0 {
		t.Error("no demo ticket has a checklist")
	}
	// Banks have the most sites, business centres the fewest.
	if n := queryInt(t, pool, `SELECT count(*) FROM sites WHERE name LIKE 'БЦ %'`); n == 0 || n > 20 {
		t.Errorf("%d business-centre sites", n)
	}
}

// Generation alone: pure, fast, no database.

func TestGenerateDeterministic(t *testing.T) {
	a, b := generate(Demo, 5), generate(Demo, 5)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two generations of the same seed differ")
	}
	if c := generate(Demo, 6); c.sites[0].id == a.sites[0].id || c.sites[0].loc == a.sites[0].loc {
		t.Error("seed 6 gives the same first site as seed 5")
	}
}

// A record's content depends only on the seed and its ordinal, never on the size.
func TestGenerateStableAcrossSizes(t *testing.T) {
	a := generate(Demo, 9)
	b := generate(Size{Clients: 25, Sites: 310, Assets: 1700, Engineers: 80, OpenTickets: 10}, 9)
	sites := map[uuid.UUID]siteRow{}
	for _, s := range b.sites {
		s.assets = nil
		sites[s.id] = s
	}
	shared := 0
	for _, s := range a.sites {
		s.assets = nil
		if other, ok := sites[s.id]; ok {
			shared++
			if !reflect.DeepEqual(s, other) {
				t.Errorf("site %s differs:\n%+v\n%+v", s.id, s, other)
			}
		}
	}
	if shared < len(a.sites)*9/10 {
		t.Errorf("only %d of %d sites shared", shared, len(a.sites))
	}
	assets := map[uuid.UUID]assetRow{}
	for _, x := range b.assets {
		assets[x.id] = x
	}
	for _, x := range a.assets {
		if other, ok := assets[x.id]; ok && x != other {
			t.Errorf("asset %s differs:\n%+v\n%+v", x.id, x, other)
		}
	}
	users := map[uuid.UUID]string{}
	for _, u := range b.users {
		users[u.id] = u.email + u.fullName
	}
	for _, u := range a.users {
		if users[u.id] != u.email+u.fullName {
			t.Errorf("user %s: %q, bigger size %q", u.id, u.email+u.fullName, users[u.id])
		}
	}
	for i, e := range a.engineers {
		f := b.engineers[i]
		e.assignedOpen, f.assignedOpen = 0, 0
		if !reflect.DeepEqual(e, f) {
			t.Errorf("engineer %d differs", i)
		}
	}
}

func TestGenerateTenfold(t *testing.T) {
	size := Size{Clients: 200, Sites: 2000, Assets: 10000, Engineers: 500, OpenTickets: 400}
	ds := generate(size, 11)
	emails, serials, taxIDs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	email := regexp.MustCompile(`^[a-z0-9.-]+@[a-z0-9.-]+$`)
	for _, u := range ds.users {
		if emails[u.email] || !email.MatchString(u.email) {
			t.Errorf("email %q duplicate or malformed", u.email)
		}
		emails[u.email] = true
	}
	for _, a := range ds.assets {
		k := a.manufacturer + "/" + a.serial
		if serials[k] {
			t.Errorf("serial %s duplicate", k)
		}
		serials[k] = true
	}
	for _, c := range ds.clients {
		if taxIDs[c.taxID] {
			t.Errorf("tax id %s duplicate", c.taxID)
		}
		taxIDs[c.taxID] = true
	}
	if len(ds.sites) != size.Sites || len(ds.assets) != size.Assets || len(ds.tickets) != size.OpenTickets {
		t.Errorf("generated %d sites, %d assets, %d tickets", len(ds.sites), len(ds.assets), len(ds.tickets))
	}
	byPriority, byKind, byStatus := map[string]int{}, map[string]int{}, map[string]int{}
	for _, tk := range ds.tickets {
		byPriority[tk.priority]++
		byKind[tk.kind]++
		byStatus[tk.status]++
	}
	for _, p := range []string{"low", "high", "critical"} {
		if byPriority[p] == 0 || byPriority[p] >= byPriority["normal"] {
			t.Errorf("priorities %v: want normal the most and every one present", byPriority)
		}
	}
	if byKind["incident"]+byKind["request"] < len(ds.tickets)*9/10 || byKind["request"] == 0 {
		t.Errorf("kinds %v: want mostly incidents and requests", byKind)
	}
	if byStatus["new"] < len(ds.tickets)*2/3 || byStatus["assigned"] == 0 || len(byStatus) != 2 {
		t.Errorf("statuses %v: want mostly new and a few assigned", byStatus)
	}
}

func TestApportion(t *testing.T) {
	for _, tc := range []struct {
		total   int
		weights []float64
		want    []int
	}{
		{10, []float64{1, 1}, []int{5, 5}},
		{3, []float64{1, 1, 1, 1}, []int{1, 1, 1, 0}},
		{12, []float64{3, 1}, []int{9, 3}},
		{7, []float64{1, 1, 1}, []int{3, 2, 2}},
		{0, []float64{1}, []int{0}},
	} {
		got := apportion(tc.total, tc.weights)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("apportion(%d, %v) = %v, want %v", tc.total, tc.weights, got, tc.want)
		}
	}
}

func TestInnCheck(t *testing.T) {
	// 7707083893 is Sberbank's published ИНН.
	if got := innCheck("770708389"); got != "7707083893" {
		t.Errorf("innCheck = %s, want 7707083893", got)
	}
}

func TestLoadEmptySize(t *testing.T) {
	pool := dbtest.MustPool(t)
	sum := mustLoad(t, pool, Size{}, 1)
	if sum.Users != 4 || sum.Tickets != 0 || len(sum.Logins) != 3 {
		t.Errorf("summary = %+v, want the staff only", sum)
	}
	counts := tableCounts(t, pool)
	if counts["users"] != 4 || counts["skills"] != 12 || counts["ticket_numbers"] != 0 {
		t.Errorf("counts = %v, want reference data and staff only", counts)
	}
}

func TestLoadRejectsBadInput(t *testing.T) {
	if _, err := Load(context.Background(), nil, Size{Sites: -1}, 1, "x"); err == nil {
		t.Error("negative size accepted")
	}
	if _, err := Load(context.Background(), nil, small, 1, ""); err == nil {
		t.Error("empty hash accepted")
	}
}

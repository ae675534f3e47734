package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"fieldsvc/internal/demo"
)

func TestServeRefusesAnUnmigratedDatabase(t *testing.T) {
	env := testEnv(t)
	// testEnv's database is migrated; roll it back to version 0.
	runCommand(t, env, "migrate")
	pool := poolFor(t, env)
	if _, err := pool.Exec(context.Background(), `DELETE FROM goose_db_version WHERE version_id > 0`); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"serve"}, getenv(env), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "fieldsvc migrate") {
		t.Fatalf("serve on an old schema returned %v; want a refusal that names `fieldsvc migrate`", err)
	}
}

func TestBadConfigurationNamesEveryProblem(t *testing.T) {
	err := run(context.Background(), []string{"serve"}, getenv(map[string]string{"JWT_SECRET": "short"}), io.Discard, io.Discard)
	for _, want := range []string{"DATABASE_URL", "S3_ENDPOINT", "JWT_SECRET"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v does not mention %s", err, want)
		}
	}
}

var loginLine = regexp.MustCompile(`(?m)^\s+(admin|dispatcher|manager|engineer|client)\s+(\S+@\S+)\s+(\S+)`)

// TestNewUserWalkthrough follows the README: migrate, load the demo data, serve, sign
// in with a printed demo login, and set up a client with a site, an asset and an
// engineer through the admin API.
func TestNewUserWalkthrough(t *testing.T) {
	env := testEnv(t)
	if out := runCommand(t, env, "migrate"); !strings.Contains(out, "schema is at version") {
		t.Fatalf("migrate printed %q", out)
	}
	seeded := runCommand(t, env, "seed-demo")
	if again := runCommand(t, env, "seed-demo"); again != seeded {
		t.Fatalf("a second seed-demo differs:\n%s\nvs\n%s", seeded, again)
	}
	logins := demoLogins(t, seeded)

	anon := &client{t: t, base: startServer(t, env)}
	anon.must(http.StatusOK, "GET", "/healthz", nil)
	ready := anon.must(http.StatusOK, "GET", "/readyz", nil)
	for _, check := range []string{"database", "schema", "storage"} {
		if ready["checks"].(map[string]any)[check] != "ok" {
			t.Fatalf("readyz: %v", ready)
		}
	}
	if r := anon.do("GET", "/openapi.yaml", nil); r.Status != 200 || !bytes.Contains(r.Raw, []byte("openapi: 3")) {
		t.Fatalf("openapi.yaml: %d", r.Status)
	}
	if r := anon.do("GET", "/metrics", nil); r.Status != 200 || !bytes.Contains(r.Raw, []byte("http_requests_total")) {
		t.Fatalf("metrics: %d", r.Status)
	}
	problem(t, anon.do("GET", "/api/v1/admin/clients", nil), http.StatusUnauthorized, "")

	admin := anon.login(logins["admin"][0], logins["admin"][1])
	me := admin.must(http.StatusOK, "GET", "/api/v1/auth/me", nil)
	if me["role"] != "admin" {
		t.Fatalf("me: %v", me)
	}
	demoClients := admin.must(http.StatusOK, "GET", "/api/v1/admin/clients?limit=500", nil)["items"].([]any)
	if len(demoClients) != demo.Demo.Clients {
		t.Fatalf("demo has %d clients, want %d", len(demoClients), demo.Demo.Clients)
	}

	ids := mustCatalog(t, admin)
	site := admin.must(http.StatusOK, "GET", "/api/v1/admin/sites/"+ids["sites"], nil)
	if loc := site["location"].(map[string]any); loc["lat"] != 55.7522 || loc["lng"] != 37.6156 {
		t.Fatalf("site location came back as %v", loc)
	}
	eng := admin.must(http.StatusOK, "GET", "/api/v1/admin/engineers/"+ids["engineers"], nil)
	if skills := eng["skills"].([]any); len(skills) != 1 || skills[0].(map[string]any)["code"] != "walkthrough_hvac" {
		t.Fatalf("engineer skills: %v", eng["skills"])
	}
	// Deactivate and reactivate: records are never deleted.
	admin.must(http.StatusOK, "POST", "/api/v1/admin/assets/"+ids["assets"]+"/deactivate", nil)
	inactive := admin.must(http.StatusOK, "GET", "/api/v1/admin/assets?active=false&site_id="+ids["sites"], nil)["items"].([]any)
	if len(inactive) != 1 {
		t.Fatalf("inactive assets at the site: %v", inactive)
	}
	admin.must(http.StatusOK, "POST", "/api/v1/admin/assets/"+ids["assets"]+"/activate", nil)

	// The new client user signs in and is kept out of the admin API.
	clientUser := anon.login("walkthrough.client@example.com", "client password 1")
	problem(t, clientUser.do("GET", "/api/v1/admin/clients", nil), http.StatusForbidden, "")

	// A dispatcher reads the catalog but does not change it.
	dispatcher := anon.login(logins["dispatcher"][0], logins["dispatcher"][1])
	dispatcher.must(http.StatusOK, "GET", "/api/v1/admin/sites/"+ids["sites"], nil)
	problem(t, dispatcher.do("POST", "/api/v1/admin/skills", map[string]string{"code": "x_ray", "name": "X"}), http.StatusForbidden, "")
	problem(t, dispatcher.do("GET", "/api/v1/admin/users", nil), http.StatusForbidden, "")

	// Refresh rotates; presenting the spent token again signs the whole login out.
	tokens := anon.must(http.StatusOK, "POST", "/api/v1/auth/login",
		map[string]string{"email": logins["dispatcher"][0], "password": logins["dispatcher"][1]})
	rotated := anon.must(http.StatusOK, "POST", "/api/v1/auth/refresh", map[string]any{"refresh_token": tokens["refresh_token"]})
	problem(t, anon.do("POST", "/api/v1/auth/refresh", map[string]any{"refresh_token": tokens["refresh_token"]}), http.StatusUnauthorized, "")
	problem(t, anon.do("POST", "/api/v1/auth/refresh", map[string]any{"refresh_token": rotated["refresh_token"]}), http.StatusUnauthorized, "")
	problem(t, (&client{t: t, base: anon.base, token: "forged.token.value"}).do("GET", "/api/v1/auth/me", nil), http.StatusUnauthorized, "")
}

// mustCatalog creates one of every catalog record through the API, as an admin setting
// up a new client would, and returns their ids by resource.
func mustCatalog(t *testing.T, admin *client) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, step := range catalogSteps(ids) {
		created := admin.must(http.StatusCreated, "POST", "/api/v1/admin/"+step.resource, step.body())
		ids[step.resource] = created["id"].(string)
	}
	return ids
}

type catalogStep struct {
	resource string
	body     func() map[string]any
	// refs are fields holding ids of other records: an unknown id must be refused.
	refs []string
	// points are fields holding coordinates.
	points []string
}

// catalogSteps lists the admin resources in an order where each one's references exist.
func catalogSteps(ids map[string]string) []catalogStep {
	week := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		week[d] = []map[string]string{{"start": "09:00", "end": "13:00"}, {"start": "14:00", "end": "18:00"}}
	}
	target := func(r, s int) map[string]int { return map[string]int{"reaction_minutes": r, "resolution_minutes": s} }
	return []catalogStep{
		{resource: "calendars", body: func() map[string]any {
			return map[string]any{"name": "Walkthrough 5/2", "time_zone": "Europe/Moscow", "weekly_hours": week,
				"holidays": []string{"2026-12-31"}, "working_days": []any{}}
		}},
		{resource: "sla-policies", body: func() map[string]any {
			return map[string]any{"name": "Walkthrough SLA", "targets": map[string]any{
				"low": target(480, 4800), "normal": target(240, 2400), "high": target(60, 960), "critical": target(30, 240)}}
		}},
		{resource: "clients", body: func() map[string]any {
			return map[string]any{"name": "ООО «Проверка»", "tax_id": "7712345678", "email": "office@proverka.example"}
		}},
		{resource: "contracts", refs: []string{"client_id", "sla_policy_id", "calendar_id"}, body: func() map[string]any {
			return map[string]any{"client_id": ids["clients"], "number": "W-2026/1", "starts_on": "2026-01-01",
				"sla_policy_id": ids["sla-policies"], "calendar_id": ids["calendars"], "default_priority": "normal"}
		}},
		{resource: "sites", refs: []string{"client_id"}, points: []string{"location"}, body: func() map[string]any {
			return map[string]any{"client_id": ids["clients"], "name": "Магазин на Моховой", "address": "Москва, ул. Моховая, д. 1",
				"location": map[string]float64{"lat": 55.7522, "lng": 37.6156}, "time_zone": "Europe/Moscow"}
		}},
		{resource: "assets", refs: []string{"site_id"}, body: func() map[string]any {
			return map[string]any{"site_id": ids["sites"], "asset_type": "refrigeration", "manufacturer": "Carrier",
				"model": "Optimer", "serial_number": "WALK-0001", "installed_on": "2024-03-01", "warranty_until": "2027-03-01"}
		}},
		{resource: "skills", body: func() map[string]any {
			return map[string]any{"code": "walkthrough_hvac", "name": "Кондиционеры"}
		}},
		{resource: "users", refs: []string{"client_id"}, body: func() map[string]any {
			return map[string]any{"email": "walkthrough.client@example.com", "full_name": "Ирина Клиентова",
				"role": "client", "client_id": ids["clients"], "password": "client password 1"}
		}},
		{resource: "users", body: func() map[string]any {
			return map[string]any{"email": "walkthrough.engineer@example.com", "full_name": "Пётр Инженеров",
				"role": "engineer", "password": "engineer password 1"}
		}},
		{resource: "engineers", refs: []string{"user_id", "calendar_id"}, points: []string{"home_base"}, body: func() map[string]any {
			return map[string]any{"user_id": ids["users"], "skill_ids": []string{ids["skills"]},
				"home_base": map[string]float64{"lat": 55.70, "lng": 37.50}, "calendar_id": ids["calendars"], "capacity": 4}
		}},
	}
}

// TestAdminEndpointsRejectBadInput sends every kind of bad input to every admin
// resource and checks for a 4xx problem naming the field, and that nothing changed.
func TestAdminEndpointsRejectBadInput(t *testing.T) {
	env := testEnv(t)
	runCommand(t, env, "migrate")
	pool := poolFor(t, env)
	env["ADMIN_PASSWORD"] = "root password 1"
	if out := runCommand(t, env, "create-admin", "-email", "root@example.com", "-name", "Root Admin"); !strings.Contains(out, "created admin root@example.com") {
		t.Fatalf("create-admin printed %q", out)
	}
	delete(env, "ADMIN_PASSWORD")
	anon := &client{t: t, base: startServer(t, env)}
	admin := anon.login("root@example.com", "root password 1")

	ids := map[string]string{}
	for _, step := range catalogSteps(ids) {
		base := "/api/v1/admin/" + step.resource
		before := tableCounts(t, pool)
		bad := func(body any, status int, field string) {
			t.Helper()
			problem(t, admin.do("POST", base, body), status, field)
		}
		bad(`{"name": `, http.StatusBadRequest, "body")
		bad(`[]`, http.StatusBadRequest, "body")
		bad(with(step.body(), "surprise", true), http.StatusBadRequest, "surprise")
		if body := step.body(); body["name"] != nil {
			bad(with(body, "name", "a\u0000b"), http.StatusBadRequest, "name")
		}
		bad(map[string]any{}, http.StatusBadRequest, "")
		for _, ref := range step.refs {
			bad(with(step.body(), ref, uuid.NewString()), http.StatusBadRequest, ref)
			bad(with(step.body(), ref, "not-a-uuid"), http.StatusBadRequest, ref)
		}
		for _, field := range step.points {
			bad(with(step.body(), field, map[string]float64{"lat": 91, "lng": 37}), http.StatusBadRequest, field)
			bad(with(step.body(), field, map[string]float64{"lat": 55, "lng": -180.5}), http.StatusBadRequest, field)
			bad(with(step.body(), field, map[string]any{"lat": "55", "lng": 37}), http.StatusBadRequest, field+".lat")
			bad(with(step.body(), field, map[string]any{"lat": 55.7}), http.StatusBadRequest, field+".lng")
			bad(with(step.body(), field, map[string]any{"lat": nil, "lng": 37.6}), http.StatusBadRequest, field+".lat")
		}
		problem(t, admin.oversize(base, 2<<20), http.StatusRequestEntityTooLarge, "")
		if after := tableCounts(t, pool); after != before {
			t.Fatalf("%s: bad input changed stored rows: %v -> %v", step.resource, before, after)
		}

		created := admin.must(http.StatusCreated, "POST", base, step.body())
		id := created["id"].(string)
		ids[step.resource] = id
		problem(t, admin.do("GET", base+"/"+uuid.NewString(), nil), http.StatusNotFound, "")
		problem(t, admin.do("GET", base+"/not-a-uuid", nil), http.StatusNotFound, "")
		problem(t, admin.do("PUT", base+"/"+uuid.NewString(), step.body()), http.StatusNotFound, "")
		problem(t, admin.do("POST", base+"/"+uuid.NewString()+"/deactivate", nil), http.StatusNotFound, "")
		problem(t, admin.do("GET", base+"?limit=0", nil), http.StatusBadRequest, "limit")
		problem(t, admin.do("GET", base+"?cursor=abc", nil), http.StatusBadRequest, "cursor")
		problem(t, admin.do("GET", base+"?active=maybe", nil), http.StatusBadRequest, "active")
		problem(t, admin.do("GET", base+"?q=%00", nil), http.StatusBadRequest, "")
		for _, ref := range step.refs {
			problem(t, admin.do("PUT", base+"/"+id, with(step.body(), ref, uuid.NewString())), http.StatusBadRequest, ref)
		}
		if again := admin.must(http.StatusOK, "GET", base+"/"+id, nil); again["updated_at"] != created["updated_at"] {
			t.Fatalf("%s: a refused update changed the record: %v -> %v", step.resource, created, again)
		}
	}
	// Unique values answer 409 naming the field.
	problem(t, admin.do("POST", "/api/v1/admin/skills", map[string]string{"code": "walkthrough_hvac", "name": "Дубль"}),
		http.StatusConflict, "code")
	problem(t, admin.do("POST", "/api/v1/admin/users", map[string]string{"email": "ROOT@example.com",
		"full_name": "Дубль", "role": "admin", "password": "another password"}), http.StatusConflict, "email")
}

// with returns a copy of body with field set to value.
func with(body map[string]any, field string, value any) map[string]any {
	out := maps.Clone(body)
	out[field] = value
	return out
}

// tableCounts counts the rows of the tables the admin API writes.
func tableCounts(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	err := pool.QueryRow(context.Background(), `SELECT concat_ws(',',
		(SELECT count(*) FROM calendars), (SELECT count(*) FROM sla_policies), (SELECT count(*) FROM sla_targets),
		(SELECT count(*) FROM clients), (SELECT count(*) FROM contracts), (SELECT count(*) FROM sites),
		(SELECT count(*) FROM assets), (SELECT count(*) FROM skills), (SELECT count(*) FROM users),
		(SELECT count(*) FROM engineers), (SELECT count(*) FROM engineer_skills))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAccessEndsWithTheAccount checks that deactivating a user, changing their role or
// deactivating their company takes effect at their next request, not when their token
// expires, and that password guessing is slowed down.
func TestAccessEndsWithTheAccount(t *testing.T) {
	env := testEnv(t)
	runCommand(t, env, "migrate")
	env["ADMIN_PASSWORD"] = "root password 1"
	runCommand(t, env, "create-admin", "-email", "root@example.com", "-name", "Root Admin")
	anon := &client{t: t, base: startServer(t, env)}
	root := anon.login("root@example.com", "root password 1")

	second := root.must(http.StatusCreated, "POST", "/api/v1/admin/users", map[string]string{
		"email": "second@example.com", "full_name": "Second Admin", "role": "admin", "password": "second password"})
	other := anon.login("second@example.com", "second password")
	other.must(http.StatusOK, "GET", "/api/v1/auth/me", nil)
	root.must(http.StatusOK, "PUT", "/api/v1/admin/users/"+second["id"].(string), map[string]string{
		"email": "second@example.com", "full_name": "Second Admin", "role": "dispatcher"})
	problem(t, other.do("POST", "/api/v1/admin/skills", map[string]string{"code": "sneaky", "name": "X"}), http.StatusUnauthorized, "")

	company := root.must(http.StatusCreated, "POST", "/api/v1/admin/clients", map[string]string{"name": "ООО Уходящая"})
	root.must(http.StatusCreated, "POST", "/api/v1/admin/users", map[string]string{"email": "c@example.com",
		"full_name": "Client", "role": "client", "client_id": company["id"].(string), "password": "client password"})
	clientUser := anon.login("c@example.com", "client password")
	clientUser.must(http.StatusOK, "GET", "/api/v1/auth/me", nil)
	root.must(http.StatusOK, "POST", "/api/v1/admin/clients/"+company["id"].(string)+"/deactivate", nil)
	problem(t, clientUser.do("GET", "/api/v1/auth/me", nil), http.StatusUnauthorized, "")
	problem(t, anon.do("POST", "/api/v1/auth/login", map[string]string{"email": "c@example.com", "password": "client password"}),
		http.StatusUnauthorized, "")

	lowercase := &client{t: t, base: anon.base}
	r := lowercase.do("GET", "/api/v1/auth/me", nil)
	problem(t, r, http.StatusUnauthorized, "")

	var limited response
	for range 25 {
		limited = anon.do("POST", "/api/v1/auth/login", map[string]string{"email": "root@example.com", "password": "guess"})
		if limited.Status == http.StatusTooManyRequests {
			break
		}
	}
	problem(t, limited, http.StatusTooManyRequests, "")
	if limited.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

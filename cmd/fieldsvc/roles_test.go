package main

import (
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// TestOpenAPIRolesAreEnforced calls every operation as each role its x-roles leave out
// and expects 403, so a route whose guard is missing or looser than documented (or a
// description that promises a role the route refuses) fails here. Path parameters are
// fresh ids: the role is checked before anything is looked up.
func TestOpenAPIRolesAreEnforced(t *testing.T) {
	env := testEnv(t)
	runCommand(t, env, "migrate")
	logins := demoLogins(t, runCommand(t, env, "seed-demo"))
	anon := &client{t: t, base: startServer(t, env)}
	roles := []string{"admin", "dispatcher", "manager", "engineer", "client"}
	as := map[string]*client{}
	for _, role := range roles {
		as[role] = anon.login(logins[role][0], logins[role][1])
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	checked := 0
	for _, op := range openAPIOperations(t, loadOpenAPI(t)) {
		listed := mapValue(op.node, "x-roles")
		if listed == nil {
			continue
		}
		var allowed []string
		for _, r := range listed.Content {
			allowed = append(allowed, r.Value)
		}
		path := param.ReplaceAllStringFunc(op.path, func(string) string { return uuid.NewString() })
		for _, role := range roles {
			if slices.Contains(allowed, role) {
				continue
			}
			if r := as[role].do(op.method, path, map[string]any{}); r.Status != http.StatusForbidden {
				t.Errorf("%s as %s: %d, want 403 (x-roles %v): %s", op.key(), role, r.Status, allowed, r.Raw)
			}
			checked++
		}
	}
	if checked < 200 {
		t.Fatalf("only %d refusals checked: are x-roles still in docs/openapi.yaml?", checked)
	}
}

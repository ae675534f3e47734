package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"fieldsvc/docs"
	"fieldsvc/internal/config"
)

// TestOpenAPIMatchesRoutes builds the real app and checks that docs/openapi.yaml
// documents exactly the routes it registers, and that it serves that document.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	env := testEnv(t)
	cfg, err := config.Load(getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := newServices(context.Background(), cfg, slog.New(slog.DiscardHandler), poolFor(t, env))
	if err != nil {
		t.Fatal(err)
	}
	app, err := newApp(cfg, slog.New(slog.DiscardHandler), svc)
	if err != nil {
		t.Fatal(err)
	}

	registered := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == "USE" { // Fiber adds HEAD to every GET; USE is middleware
			continue
		}
		registered[r.Method+" "+openAPIPath(r.Path)] = true
	}
	documented := map[string]bool{}
	for _, op := range openAPIOperations(t, loadOpenAPI(t)) {
		documented[op.key()] = true
	}
	if missing := setMinus(registered, documented); len(missing) > 0 {
		t.Errorf("%d route(s) that newApp registers are missing from docs/openapi.yaml:\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
	if extra := setMinus(documented, registered); len(extra) > 0 {
		t.Errorf("%d operation(s) in docs/openapi.yaml are not registered by newApp:\n  %s",
			len(extra), strings.Join(extra, "\n  "))
	}

	res, err := app.Test(httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, docs.OpenAPI) {
		t.Errorf("GET /openapi.yaml: status %d, %d bytes; want 200 and the %d bytes of docs/openapi.yaml",
			res.StatusCode, len(body), len(docs.OpenAPI))
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("GET /openapi.yaml: Content-Type %q, want application/yaml", ct)
	}
}

// notProblemJSON lists the error responses that are deliberately not problem documents:
// /readyz answers 503 with the result of every check, for load balancers and people.
var notProblemJSON = map[string]bool{"GET /readyz 503": true}

// TestOpenAPIDocument checks the description on its own: version, a summary and a 2xx
// response on every operation, problem+json on every error response, and every $ref
// pointing at a component that exists.
func TestOpenAPIDocument(t *testing.T) {
	doc := loadOpenAPI(t)
	if v := mapValue(doc, "openapi"); v == nil || v.Value != "3.0.3" {
		t.Errorf("openapi version is %v, want 3.0.3", nodeText(v))
	}

	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	exceptionsUsed := map[string]bool{}
	for _, op := range openAPIOperations(t, doc) {
		if s := mapValue(op.node, "summary"); s == nil || strings.TrimSpace(s.Value) == "" {
			bad("%s: no summary", op.key())
		}
		responses := mapValue(op.node, "responses")
		if responses == nil || responses.Kind != yaml.MappingNode {
			bad("%s: no responses", op.key())
			continue
		}
		success := false
		for i := 0; i+1 < len(responses.Content); i += 2 {
			code, res := responses.Content[i].Value, responses.Content[i+1]
			if ref := mapValue(res, "$ref"); ref != nil {
				if res = resolveRef(doc, ref.Value); res == nil {
					continue // reported by the $ref check below
				}
			}
			switch code[0] {
			case '2':
				success = true
			case '4', '5':
				where := op.key() + " " + code
				if notProblemJSON[where] {
					exceptionsUsed[where] = true
					continue
				}
				if problem := problemContent(doc, res); problem != "" {
					bad("%s: %s", where, problem)
				}
			}
		}
		if !success {
			bad("%s: no 2xx response", op.key())
		}
	}
	for where := range notProblemJSON {
		if !exceptionsUsed[where] {
			bad("%s: listed in notProblemJSON but not documented; drop it from the list", where)
		}
	}

	for _, ref := range collectRefs(doc, "#") {
		if !strings.HasPrefix(ref.target, "#/components/") {
			bad("%s: $ref %q does not point into #/components/", ref.at, ref.target)
		} else if resolveRef(doc, ref.target) == nil {
			bad("%s: $ref %q names no component", ref.at, ref.target)
		}
	}

	if len(problems) > 0 {
		slices.Sort(problems)
		t.Errorf("docs/openapi.yaml has %d problem(s):\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
}

// problemContent says what is wrong with an error response's content, or "".
func problemContent(doc, res *yaml.Node) string {
	content := mapValue(res, "content")
	if content == nil || content.Kind != yaml.MappingNode || len(content.Content) == 0 {
		return "no content; want application/problem+json"
	}
	var types []string
	for i := 0; i < len(content.Content); i += 2 {
		types = append(types, content.Content[i].Value)
	}
	if len(types) != 1 || types[0] != "application/problem+json" {
		return fmt.Sprintf("content types %v; want only application/problem+json", types)
	}
	schema := mapValue(mapValue(content.Content[1], "schema"), "$ref")
	if schema == nil || schema.Value != "#/components/schemas/Problem" {
		return "application/problem+json without $ref: '#/components/schemas/Problem'"
	}
	return ""
}

// loadOpenAPI parses docs/openapi.yaml (the embedded copy the server serves).
func loadOpenAPI(t *testing.T) *yaml.Node {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(docs.OpenAPI, &root); err != nil {
		t.Fatalf("docs/openapi.yaml is not valid YAML: %v", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		t.Fatal("docs/openapi.yaml is not a YAML mapping")
	}
	return root.Content[0]
}

// openAPIOperation is one method of one path of the description.
type openAPIOperation struct {
	method, path string
	node         *yaml.Node
}

func (op openAPIOperation) key() string { return op.method + " " + op.path }

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIOperations lists every operation under paths.
func openAPIOperations(t *testing.T, doc *yaml.Node) []openAPIOperation {
	t.Helper()
	paths := mapValue(doc, "paths")
	if paths == nil || paths.Kind != yaml.MappingNode {
		t.Fatal("docs/openapi.yaml has no paths")
	}
	var ops []openAPIOperation
	for i := 0; i+1 < len(paths.Content); i += 2 {
		path, item := paths.Content[i].Value, paths.Content[i+1]
		for j := 0; j+1 < len(item.Content); j += 2 {
			if method := item.Content[j].Value; slices.Contains(openAPIMethods, method) {
				ops = append(ops, openAPIOperation{method: strings.ToUpper(method), path: path, node: item.Content[j+1]})
			}
		}
	}
	return ops
}

// fiberParam is a Fiber route parameter: :name, optionally constrained (<int>) or optional (?).
var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)(<[^>]*>)?\??`)

// openAPIPath writes a Fiber route path the OpenAPI way: /sites/:id becomes /sites/{id}.
func openAPIPath(fiberPath string) string { return fiberParam.ReplaceAllString(fiberPath, "{$1}") }

// mapValue returns the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func nodeText(n *yaml.Node) string {
	if n == nil {
		return "missing"
	}
	return fmt.Sprintf("%q", n.Value)
}

// resolveRef follows a local reference (#/a/b/c) through the document, or returns nil.
func resolveRef(doc *yaml.Node, ref string) *yaml.Node {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	n := doc
	for _, seg := range strings.Split(rest, "/") {
		seg = strings.NewReplacer("~1", "/", "~0", "~").Replace(seg)
		if n = mapValue(n, seg); n == nil {
			return nil
		}
	}
	return n
}

type openAPIRef struct{ at, target string }

// collectRefs finds every $ref under n; at is where it stands, as a JSON pointer.
func collectRefs(n *yaml.Node, at string) []openAPIRef {
	var refs []openAPIRef
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i].Value, n.Content[i+1]
			if key == "$ref" && value.Kind == yaml.ScalarNode {
				refs = append(refs, openAPIRef{at: at, target: value.Value})
				continue
			}
			refs = append(refs, collectRefs(value, at+"/"+strings.NewReplacer("~", "~0", "/", "~1").Replace(key))...)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			refs = append(refs, collectRefs(item, fmt.Sprintf("%s/%d", at, i))...)
		}
	}
	return refs
}

// setMinus returns the keys of a that are not in b, sorted.
func setMinus(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

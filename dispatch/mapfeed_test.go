package dispatch

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/prometheus/client_golang/prometheus"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/dbtest"
	"fieldsvc/internal/geo"
	"fieldsvc/internal/web"
)

// mfTrickyTitle is user text that must survive the hand-written JSON: quotes, a
// backslash, control characters, markup, Cyrillic and the JavaScript line separators.
const mfTrickyTitle = "Витрина \"Arctic\" \\ не морозит\n<script>alert('x')</script> & ещё\t\x01\x1f\u2028\u2029 — ёЁ"

// mfWorld is a small map: sites in Moscow, on both sides of the antimeridian (Fiji),
// on Svalbard and in St Petersburg, tickets in every kind of state, and four engineers.
type mfWorld struct {
	t    *testing.T
	pool *pgxpool.Pool
	s    *Service
	app  *fiber.App

	client, calendar                                 uuid.UUID
	moscow, fijiEast, fijiWest, svalbard, spb        uuid.UUID // sites
	tNew, tAssigned, tFijiEast, tFijiWest, tSvalbard uuid.UUID // open tickets
	tResolved, tClosed, tCancelled                   uuid.UUID
	eBusy, eFull, eIdle, eOff                        uuid.UUID // engineers
	busyUser                                         uuid.UUID
	busyName                                         string
	seenAt                                           time.Time
	moscowPt, fijiEastPoint, fijiWestPoint           geo.Point
	svalbardPt, spbPoint                             geo.Point
	busyAt, fullAt, offAt, idleHome                  geo.Point
	numbers                                          int
	sitePoints                                       map[uuid.UUID]geo.Point
	ticketSites                                      map[uuid.UUID]uuid.UUID
}

func mfNewWorld(t *testing.T) *mfWorld {
	t.Helper()
	pool := dbtest.MustPool(t)
	w := &mfWorld{t: t, pool: pool, s: NewService(pool, nil, Options{}),
		client: uuid.New(), calendar: uuid.New(),
		sitePoints: map[uuid.UUID]geo.Point{}, ticketSites: map[uuid.UUID]uuid.UUID{},
		seenAt:   time.Date(2026, 11, 23, 7, 0, 0, 123456000, time.UTC),
		busyName: `Иван "Ключ" Петров`,
	}
	w.app = mfApp(w.s)
	w.exec(`INSERT INTO calendars (id, name, time_zone, weekly_hours) VALUES ($1, '24x7', 'UTC', '{}')`, w.calendar)
	w.exec(`INSERT INTO clients (id, name) VALUES ($1, 'ООО Карта')`, w.client)

	w.moscowPt, w.fijiEastPoint, w.fijiWestPoint = geo.Point{Lat: 55.7558, Lng: 37.6173}, geo.Point{Lat: -16.5, Lng: 179.9}, geo.Point{Lat: -16.6, Lng: -179.9}
	w.svalbardPt, w.spbPoint = geo.Point{Lat: 78.2232, Lng: 15.6267}, geo.Point{Lat: 59.9386, Lng: 30.3141}
	w.moscow, w.fijiEast, w.fijiWest = w.site(w.moscowPt), w.site(w.fijiEastPoint), w.site(w.fijiWestPoint)
	w.svalbard, w.spb = w.site(w.svalbardPt), w.site(w.spbPoint)

	w.busyAt, w.fullAt, w.offAt, w.idleHome = geo.Point{Lat: 55.75, Lng: 37.62}, geo.Point{Lat: -16.55, Lng: 179.95},
		geo.Point{Lat: 78.2, Lng: 15.6}, geo.Point{Lat: 59.93, Lng: 30.33}
	w.eBusy, w.busyUser = w.engineer(w.busyName, w.busyAt, true, 3, true)
	w.eFull, _ = w.engineer("Пётр Сидоров", w.fullAt, true, 1, true)
	w.eIdle, _ = w.engineer("Анна Кузнецова", w.idleHome, false, 5, true)
	w.eOff, _ = w.engineer("Олег Уволенный", w.offAt, true, 5, false)

	// The open-jobs trigger counts these: eBusy 2 of 3 (busy), eFull 1 of 1 (full).
	w.tNew = w.ticket(w.moscow, "new", "high", mfTrickyTitle, uuid.Nil, "ok", "at_risk")
	w.tAssigned = w.ticket(w.moscow, "assigned", "normal", "Не печатает чек", w.eBusy, "breached", "ok")
	w.tFijiEast = w.ticket(w.fijiEast, "in_progress", "critical", "Генератор", w.eFull, "met", "ok")
	w.tFijiWest = w.ticket(w.fijiWest, "waiting", "low", "Ждём запчасть", w.eBusy, "met_late", "ok")
	w.tSvalbard = w.ticket(w.svalbard, "new", "normal", "Мороз", uuid.Nil, "none", "none")
	w.tResolved = w.ticket(w.spb, "resolved", "normal", "Сделано", w.eIdle, "met", "met")
	w.tClosed = w.ticket(w.spb, "closed", "low", "Закрыто", w.eIdle, "met", "met_late")
	w.tCancelled = w.ticket(w.moscow, "cancelled", "low", "Отменено", uuid.Nil, "none", "none")
	return w
}

func (w *mfWorld) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.pool.Exec(context.Background(), sql, args...); err != nil {
		w.t.Fatalf("%v\n%s", err, sql)
	}
}

func (w *mfWorld) site(p geo.Point) uuid.UUID {
	w.t.Helper()
	id := uuid.New()
	w.exec(`INSERT INTO sites (id, client_id, name, address, location, time_zone) VALUES ($1, $2, 'Объект', 'Адрес', $3, 'UTC')`,
		id, w.client, p)
	w.sitePoints[id] = p
	return id
}

// engineer adds an engineer at p: reporting from there when seen, else living there.
func (w *mfWorld) engineer(name string, p geo.Point, seen bool, capacity int, active bool) (id, user uuid.UUID) {
	w.t.Helper()
	id, user = uuid.New(), uuid.New()
	w.exec(`INSERT INTO users (id, email, full_name, role, password_hash) VALUES ($1, $2, $3, 'engineer', 'x')`,
		user, user.String()+"@example.com", name)
	var at *time.Time
	var last *geo.Point
	if seen {
		at, last = &w.seenAt, &p
	}
	w.exec(`INSERT INTO engineers (id, user_id, home_base, calendar_id, capacity, last_location, last_location_at, active)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, user, p, w.calendar, capacity, last, at, active)
	return id, user
}

func (w *mfWorld) ticket(site uuid.UUID, status, priority, title string, assignee uuid.UUID, reaction, resolution string) uuid.UUID {
	w.t.Helper()
	id := uuid.New()
	w.numbers++
	var a *uuid.UUID
	if assignee != uuid.Nil {
		a = &assignee
	}
	var waitingOn *string
	if status == "waiting" {
		parts := "parts"
		waitingOn = &parts
	}
	w.exec(`INSERT INTO tickets (id, number, client_id, site_id, kind, priority, status, title, assignee_id, waiting_on,
			reaction_state, resolution_state)
		VALUES ($1, $2, $3, $4, 'incident', $5, $6, $7, $8, $9, $10, $11)`,
		id, fmt.Sprintf("2026-%06d", w.numbers), w.client, site, priority, status, title, a, waitingOn, reaction, resolution)
	w.ticketSites[id] = site
	return id
}

// feed answers a layer directly through the Service.
func (w *mfWorld) feed(layer MapLayer, f MapFilter) (mfFC, string) {
	w.t.Helper()
	res, err := w.s.MapFeed(context.Background(), layer, f, nil, nil)
	if err != nil {
		w.t.Fatalf("MapFeed(%s, %+v): %v", layer, f, err)
	}
	return mfDecode(w.t, res.Body), res.Tag
}

// mfApp is the platform app with the map routes behind a fake authn: the X-Test-Role
// header becomes the caller's role.
func mfApp(s *Service) *fiber.App {
	app := web.New(web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RequestTimeout: 30 * time.Second,
		BodyLimit: 1 << 20, Registry: prometheus.NewRegistry()})
	authn := func(c *fiber.Ctx) error {
		if role := c.Get("X-Test-Role"); role != "" {
			c.SetUserContext(auth.WithPrincipal(c.UserContext(), auth.Principal{UserID: uuid.New(), Role: auth.Role(role)}))
		}
		return c.Next()
	}
	s.MapRoutes(app.Group("/api/v1"), authn)
	return app
}

type mfResponse struct {
	status int
	header http.Header
	body   []byte
}

// get calls the app as a dispatcher unless the headers name another X-Test-Role.
func (w *mfWorld) get(path string, headers ...string) mfResponse {
	w.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("X-Test-Role", string(auth.Dispatcher))
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := w.app.Test(req, -1)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return mfResponse{status: resp.StatusCode, header: resp.Header, body: body}
}

// mfFC is a decoded FeatureCollection.
type mfFC struct {
	Type     string      `json:"type"`
	BBox     []float64   `json:"bbox"`
	Features []mfFeature `json:"features"`
}

type mfFeature struct {
	Type     string `json:"type"`
	ID       string `json:"id"`
	Geometry struct {
		Type        string    `json:"type"`
		Coordinates []float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

// mfDecode checks that body is valid JSON and valid GeoJSON (for encoding/json with
// unknown members refused, and for orb/geojson) and returns it decoded.
func mfDecode(t *testing.T, body []byte) mfFC {
	t.Helper()
	if !json.Valid(body) {
		t.Fatalf("not valid JSON:\n%s", body)
	}
	var fc mfFC
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		t.Fatalf("decode: %v\n%s", err, body)
	}
	if fc.Type != "FeatureCollection" || fc.Features == nil {
		t.Fatalf("not a FeatureCollection: %s", body)
	}
	if fc.BBox != nil && len(fc.BBox) != 4 {
		t.Fatalf("bbox %v", fc.BBox)
	}
	for _, f := range fc.Features {
		c := f.Geometry.Coordinates
		if f.Type != "Feature" || f.Geometry.Type != "Point" || len(c) != 2 ||
			c[0] < -180 || c[0] > 180 || c[1] < -90 || c[1] > 90 || f.Properties["id"] != f.ID {
			t.Fatalf("bad feature %+v", f)
		}
	}
	ofc, err := geojson.UnmarshalFeatureCollection(body)
	if err != nil {
		t.Fatalf("orb/geojson: %v", err)
	}
	if len(ofc.Features) != len(fc.Features) {
		t.Fatalf("orb/geojson read %d features, encoding/json %d", len(ofc.Features), len(fc.Features))
	}
	for i, f := range ofc.Features {
		p, ok := f.Geometry.(orb.Point)
		if !ok || p[0] != fc.Features[i].Geometry.Coordinates[0] || p[1] != fc.Features[i].Geometry.Coordinates[1] ||
			f.ID != fc.Features[i].ID {
			t.Fatalf("orb/geojson read feature %d as %#v", i, f)
		}
	}
	if fc.BBox != nil && !slices.Equal([]float64(ofc.BBox), fc.BBox) {
		t.Fatalf("orb/geojson bbox %v", ofc.BBox)
	}
	return fc
}

func (fc mfFC) ids() []string {
	out := make([]string, 0, len(fc.Features))
	for _, f := range fc.Features {
		out = append(out, f.ID)
	}
	slices.Sort(out)
	return out
}

func (fc mfFC) feature(t *testing.T, id uuid.UUID) mfFeature {
	t.Helper()
	for _, f := range fc.Features {
		if f.ID == id.String() {
			return f
		}
	}
	t.Fatalf("no feature %s in %v", id, fc.ids())
	return mfFeature{}
}

func mfIDs(ids ...uuid.UUID) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, id.String())
	}
	slices.Sort(out)
	return out
}

func TestMapFeedTickets(t *testing.T) {
	w := mfNewWorld(t)
	fc, _ := w.feed(TicketLayer, MapFilter{})
	if got, want := fc.ids(), mfIDs(w.tNew, w.tAssigned, w.tFijiEast, w.tFijiWest, w.tSvalbard); !slices.Equal(got, want) {
		t.Fatalf("default (open) tickets: got %v, want %v", got, want)
	}
	if fc.BBox != nil {
		t.Errorf("bbox member without a bbox filter: %v", fc.BBox)
	}

	props := func(id uuid.UUID) map[string]any { return fc.feature(t, id).Properties }
	wantProps := map[uuid.UUID]map[string]any{
		w.tNew: {"id": w.tNew.String(), "number": "2026-000001", "title": mfTrickyTitle, "status": "new", "priority": "high",
			"sla_state": "at_risk", "assignee_id": nil, "assignee_name": nil},
		w.tAssigned: {"id": w.tAssigned.String(), "number": "2026-000002", "title": "Не печатает чек", "status": "assigned",
			"priority": "normal", "sla_state": "breached", "assignee_id": w.eBusy.String(), "assignee_name": w.busyName},
		w.tFijiEast: {"id": w.tFijiEast.String(), "number": "2026-000003", "title": "Генератор", "status": "in_progress",
			"priority": "critical", "sla_state": "ok", "assignee_id": w.eFull.String(), "assignee_name": "Пётр Сидоров"},
		// met_late is history; the running resolution clock is ok.
		w.tFijiWest: {"id": w.tFijiWest.String(), "number": "2026-000004", "title": "Ждём запчасть", "status": "waiting",
			"priority": "low", "sla_state": "ok", "assignee_id": w.eBusy.String(), "assignee_name": w.busyName},
		w.tSvalbard: {"id": w.tSvalbard.String(), "number": "2026-000005", "title": "Мороз", "status": "new",
			"priority": "normal", "sla_state": "none", "assignee_id": nil, "assignee_name": nil},
	}
	for id, want := range wantProps {
		if got := props(id); !reflect.DeepEqual(got, want) {
			t.Errorf("properties of %s:\n got %#v\nwant %#v", id, got, want)
		}
		p := w.sitePoints[w.ticketSites[id]]
		if got := fc.feature(t, id).Geometry.Coordinates; !slices.Equal(got, []float64{p.Lng, p.Lat}) {
			t.Errorf("coordinates of %s: got %v, want [%v %v]", id, got, p.Lng, p.Lat)
		}
	}

	box := func(minLng, minLat, maxLng, maxLat float64) *MapBBox { return &MapBBox{minLng, minLat, maxLng, maxLat} }
	for _, tc := range []struct {
		name     string
		f        MapFilter
		want     []uuid.UUID
		wantBBox []float64
	}{
		{"moscow", MapFilter{BBox: box(37, 55, 38, 56)}, []uuid.UUID{w.tNew, w.tAssigned}, []float64{37, 55, 38, 56}},
		{"across the antimeridian", MapFilter{BBox: box(179, -17, -179, -16)}, []uuid.UUID{w.tFijiEast, w.tFijiWest}, []float64{179, -17, -179, -16}},
		{"east of it only", MapFilter{BBox: box(179, -17, 180, -16)}, []uuid.UUID{w.tFijiEast}, nil},
		{"west of it only", MapFilter{BBox: box(-180, -17, -179, -16)}, []uuid.UUID{w.tFijiWest}, nil},
		{"across the antimeridian, wide", MapFilter{BBox: box(100, -60, -100, 60)}, []uuid.UUID{w.tFijiEast, w.tFijiWest}, nil},
		{"the other way round is the rest of the world", MapFilter{BBox: box(-179, -17, 179, -16)}, nil, nil},
		{"high latitude", MapFilter{BBox: box(15, 78, 16, 78.5)}, []uuid.UUID{w.tSvalbard}, nil},
		{"up to the pole", MapFilter{BBox: box(-180, 70, 180, 90)}, []uuid.UUID{w.tSvalbard}, nil},
		{"edges are in", MapFilter{BBox: box(15.6267, 78.2232, 16, 79)}, []uuid.UUID{w.tSvalbard}, nil},
		{"whole world", MapFilter{BBox: box(-180, -90, 180, 90)}, []uuid.UUID{w.tNew, w.tAssigned, w.tFijiEast, w.tFijiWest, w.tSvalbard}, nil},
		{"nothing there", MapFilter{BBox: box(-10, -10, 10, 10)}, nil, []float64{-10, -10, 10, 10}},
		{"status new", MapFilter{Statuses: []string{"new"}}, []uuid.UUID{w.tNew, w.tSvalbard}, nil},
		{"done", MapFilter{Statuses: []string{"resolved", "closed", "cancelled"}}, []uuid.UUID{w.tResolved, w.tClosed, w.tCancelled}, nil},
		{"status and box", MapFilter{BBox: box(37, 55, 38, 56), Statuses: []string{"cancelled", "assigned"}}, []uuid.UUID{w.tAssigned, w.tCancelled}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc, _ := w.feed(TicketLayer, tc.f)
			if got, want := fc.ids(), mfIDs(tc.want...); !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			if tc.f.BBox != nil && !slices.Equal(fc.BBox, []float64{tc.f.BBox.MinLng, tc.f.BBox.MinLat, tc.f.BBox.MaxLng, tc.f.BBox.MaxLat}) {
				t.Errorf("bbox member %v, want the filter's", fc.BBox)
			}
			if tc.wantBBox != nil && !slices.Equal(fc.BBox, tc.wantBBox) {
				t.Errorf("bbox member %v, want %v", fc.BBox, tc.wantBBox)
			}
		})
	}
	if _, err := w.s.MapFeed(context.Background(), TicketLayer, MapFilter{Statuses: []string{"lost"}}, nil, nil); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("unknown status: %v", err)
	}
}

func TestMapFeedEngineers(t *testing.T) {
	w := mfNewWorld(t)
	fc, _ := w.feed(EngineerLayer, MapFilter{})
	if got, want := fc.ids(), mfIDs(w.eBusy, w.eFull, w.eIdle); !slices.Equal(got, want) {
		t.Fatalf("default (active) engineers: got %v, want %v", got, want)
	}
	seen := w.seenAt.Format(time.RFC3339Nano)
	for id, want := range map[uuid.UUID]map[string]any{
		w.eBusy: {"id": w.eBusy.String(), "name": w.busyName, "status": "busy", "open_jobs": 2.0, "capacity": 3.0, "last_seen_at": seen},
		w.eFull: {"id": w.eFull.String(), "name": "Пётр Сидоров", "status": "full", "open_jobs": 1.0, "capacity": 1.0, "last_seen_at": seen},
		w.eIdle: {"id": w.eIdle.String(), "name": "Анна Кузнецова", "status": "available", "open_jobs": 0.0, "capacity": 5.0, "last_seen_at": nil},
	} {
		if got := fc.feature(t, id).Properties; !reflect.DeepEqual(got, want) {
			t.Errorf("properties of %s:\n got %#v\nwant %#v", id, got, want)
		}
	}
	if got := fc.feature(t, w.eFull).Geometry.Coordinates; !slices.Equal(got, []float64{w.fullAt.Lng, w.fullAt.Lat}) {
		t.Errorf("position of the full engineer: %v", got)
	}
	if got := fc.feature(t, w.eIdle).Geometry.Coordinates; !slices.Equal(got, []float64{w.idleHome.Lng, w.idleHome.Lat}) {
		t.Errorf("an engineer never seen is at home: %v", got)
	}
	for _, tc := range []struct {
		name string
		f    MapFilter
		want []uuid.UUID
	}{
		{"off", MapFilter{Statuses: []string{EngineerOff}}, []uuid.UUID{w.eOff}},
		{"full or available", MapFilter{Statuses: []string{EngineerFull, EngineerAvailable}}, []uuid.UUID{w.eFull, w.eIdle}},
		{"busy", MapFilter{Statuses: []string{EngineerBusy}}, []uuid.UUID{w.eBusy}},
		{"across the antimeridian", MapFilter{BBox: &MapBBox{179, -17, -179, -16}}, []uuid.UUID{w.eFull}},
		{"high latitude, every status", MapFilter{BBox: &MapBBox{15, 78, 16, 79}, Statuses: EngineerMapStatuses}, []uuid.UUID{w.eOff}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc, _ := w.feed(EngineerLayer, tc.f)
			if got, want := fc.ids(), mfIDs(tc.want...); !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// TestMapFeedBBoxMatchesBruteForce checks the box filter, including the index-assisted
// spherical cap that small boxes add, against a plain lng/lat test in Go, on random
// sites all over the world and random boxes (many across the antimeridian, some at the
// poles).
func TestMapFeedBBoxMatchesBruteForce(t *testing.T) {
	w := mfNewWorld(t)
	r := rand.New(rand.NewPCG(7, 7))
	w.exec(`UPDATE tickets SET status = 'cancelled', waiting_on = NULL WHERE status <> 'cancelled'`)
	type pt struct {
		id       uuid.UUID
		lng, lat float64
	}
	var pts []pt
	for range 400 {
		var p geo.Point
		switch r.IntN(4) {
		case 0: // near the antimeridian
			p = geo.Point{Lng: math.Mod(180+r.Float64()*10-5+540, 360) - 180, Lat: r.Float64()*160 - 80}
		case 1: // near a pole
			p = geo.Point{Lng: r.Float64()*360 - 180, Lat: math.Copysign(80+r.Float64()*10, r.Float64()-0.5)}
		default:
			p = geo.Point{Lng: r.Float64()*360 - 180, Lat: r.Float64()*180 - 90}
		}
		id := w.ticket(w.site(p), "new", "normal", "Точка", uuid.Nil, "none", "none")
		pts = append(pts, pt{id, p.Lng, p.Lat})
	}
	in := func(b MapBBox, lng, lat float64) bool {
		if lat < b.MinLat || lat > b.MaxLat {
			return false
		}
		if b.CrossesAntimeridian() {
			return lng >= b.MinLng || lng <= b.MaxLng
		}
		return lng >= b.MinLng && lng <= b.MaxLng
	}
	capped, matched := 0, 0
	for i := range 60 {
		// Half the boxes small enough for the cap, a third across the antimeridian.
		width := r.Float64() * 360
		if i%2 == 0 {
			width = 1 + r.Float64()*40
		}
		minLng := r.Float64()*360 - 180
		if i%3 == 0 {
			minLng = 180 - r.Float64()*width
		}
		maxLng := minLng + width
		if maxLng > 180 {
			maxLng -= 360
		}
		height := 1 + r.Float64()*60
		minLat := r.Float64()*(180-height) - 90
		b := MapBBox{MinLng: minLng, MinLat: minLat, MaxLng: maxLng, MaxLat: minLat + height}
		if _, _, _, ok := coveringCap(b); ok {
			capped++
		}
		var want []uuid.UUID
		for _, p := range pts {
			if in(b, p.lng, p.lat) {
				want = append(want, p.id)
			}
		}
		matched += len(want)
		fc, _ := w.feed(TicketLayer, MapFilter{BBox: &b})
		if got, want := fc.ids(), mfIDs(want...); !slices.Equal(got, want) {
			t.Errorf("box %+v: got %d tickets, want %d", b, len(got), len(want))
		}
	}
	if capped < 20 || matched < 400 {
		t.Errorf("a weak test: %d boxes used the cap, %d tickets matched in all", capped, matched)
	}
	t.Logf("%d boxes used the cap, %d tickets matched in all", capped, matched)
}

func TestMapFeedCoveringCapHoldsTheBox(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		width := r.Float64() * 180
		minLng := r.Float64()*360 - 180
		maxLng := minLng + width
		if maxLng > 180 {
			maxLng -= 360
		}
		minLat := r.Float64()*180 - 90
		maxLat := minLat + r.Float64()*(90-minLat)
		b := MapBBox{minLng, minLat, maxLng, maxLat}
		lng, lat, radius, ok := coveringCap(b)
		if !ok {
			continue
		}
		for range 50 {
			plng := minLng + r.Float64()*width
			if plng > 180 {
				plng -= 360
			}
			plat := minLat + r.Float64()*(maxLat-minLat)
			if d := capDistance(lng, lat, plng, plat); d > radius {
				t.Fatalf("box %+v: point (%v, %v) is %.0f m from the centre, radius %.0f", b, plng, plat, d, radius)
			}
		}
	}
}

func TestMapFeedETag(t *testing.T) {
	w := mfNewWorld(t)
	const tickets, engineers = "/api/v1/dispatch/map/tickets", "/api/v1/dispatch/map/engineers"

	first := w.get(tickets)
	if first.status != http.StatusOK {
		t.Fatalf("status %d: %s", first.status, first.body)
	}
	etag := first.header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("want a strong ETag, got %q", etag)
	}
	for name, want := range map[string]string{"Cache-Control": "private, no-cache", "Vary": "Accept-Encoding",
		"Content-Type": "application/geo+json"} {
		if got := first.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	mfDecode(t, first.body)

	notModified := func(path, inm string, more ...string) {
		t.Helper()
		r := w.get(path, append([]string{"If-None-Match", inm}, more...)...)
		if r.status != http.StatusNotModified || len(r.body) != 0 {
			t.Fatalf("If-None-Match %s on %s: status %d, %d bytes", inm, path, r.status, len(r.body))
		}
		if r.header.Get("ETag") == "" || r.header.Get("Cache-Control") == "" {
			t.Errorf("304 without validators: %v", r.header)
		}
	}
	changed := func(path, inm string) string {
		t.Helper()
		r := w.get(path, "If-None-Match", inm)
		if r.status != http.StatusOK || r.header.Get("ETag") == inm {
			t.Fatalf("If-None-Match %s on %s after a change: status %d, ETag %s", inm, path, r.status, r.header.Get("ETag"))
		}
		mfDecode(t, r.body)
		return r.header.Get("ETag")
	}

	notModified(tickets, etag)
	notModified(tickets, `"x", W/`+etag)
	notModified(tickets, "*")
	if again := w.get(tickets); again.header.Get("ETag") != etag || !bytes.Equal(again.body, first.body) {
		t.Errorf("unchanged data: ETag %s → %s, same body %v", etag, again.header.Get("ETag"), bytes.Equal(again.body, first.body))
	}
	if other := w.get(tickets + "?status=new"); other.header.Get("ETag") == etag {
		t.Errorf("another filter has the same ETag")
	}
	if other := w.get(tickets + "?status=new,assigned,accepted,en_route,in_progress,waiting"); other.header.Get("ETag") != etag {
		t.Errorf("the default statuses spelled out: ETag %s, want %s", other.header.Get("ETag"), etag)
	}

	// The gzipped representation has its own tag, and either tag validates.
	gz := w.get(tickets, "Accept-Encoding", "gzip")
	gzTag := gz.header.Get("ETag")
	if gzTag == etag || gz.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: ETag %s, Content-Encoding %q", gzTag, gz.header.Get("Content-Encoding"))
	}
	notModified(tickets, gzTag, "Accept-Encoding", "gzip")
	notModified(tickets, etag, "Accept-Encoding", "gzip")
	notModified(tickets, gzTag)

	engineerTag := w.get(engineers).header.Get("ETag")
	notModified(engineers, engineerTag)

	// An engineer moves: their layer changes, the tickets' does not.
	w.exec(`UPDATE engineers SET last_location = $2, last_location_at = $3, position = $2 WHERE id = $1`,
		w.eBusy, geo.Point{Lat: 55.8, Lng: 37.7}, w.seenAt.Add(time.Minute))
	engineerTag = changed(engineers, engineerTag)
	notModified(tickets, etag)
	fc := mfDecode(t, w.get(engineers).body)
	if got := fc.feature(t, w.eBusy).Geometry.Coordinates; !slices.Equal(got, []float64{37.7, 55.8}) {
		t.Errorf("moved engineer at %v", got)
	}

	// A ticket changes status: its layer changes.
	w.exec(`UPDATE tickets SET status = 'accepted' WHERE id = $1`, w.tAssigned)
	etag = changed(tickets, etag)
	fc = mfDecode(t, w.get(tickets).body)
	if got := fc.feature(t, w.tAssigned).Properties["status"]; got != "accepted" {
		t.Errorf("status after the change: %v", got)
	}
	notModified(tickets, etag)

	// So do changes to the rows a feature borrows from: the site moves, the assignee is
	// renamed; and a ticket leaving the filter.
	w.exec(`UPDATE sites SET location = $2 WHERE id = $1`, w.svalbard, geo.Point{Lat: 78.0, Lng: 15.0})
	etag = changed(tickets, etag)
	w.exec(`UPDATE users SET full_name = 'Иван Петров' WHERE id = $1`, w.busyUser)
	etag = changed(tickets, etag)
	engineerTag = changed(engineers, engineerTag)
	w.exec(`UPDATE tickets SET status = 'cancelled' WHERE id = $1`, w.tSvalbard)
	changed(tickets, etag)
	// Taking a job makes an engineer busier: the open-jobs trigger changes their row.
	w.exec(`UPDATE tickets SET assignee_id = $2, status = 'assigned' WHERE id = $1`, w.tNew, w.eIdle)
	changed(engineers, engineerTag)
}

func TestMapFeedGzip(t *testing.T) {
	w := mfNewWorld(t)
	const path = "/api/v1/dispatch/map/tickets?bbox=-180,-90,180,90"
	plain := w.get(path, "Accept-Encoding", "")
	if plain.status != http.StatusOK || plain.header.Get("Content-Encoding") != "" {
		t.Fatalf("identity: status %d, Content-Encoding %q", plain.status, plain.header.Get("Content-Encoding"))
	}
	for _, ae := range []string{"gzip", "br, gzip;q=0.5, deflate", "*", "GZIP"} {
		r := w.get(path, "Accept-Encoding", ae)
		if r.header.Get("Content-Encoding") != "gzip" || r.header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("Accept-Encoding %q: Content-Encoding %q, Vary %q", ae, r.header.Get("Content-Encoding"), r.header.Get("Vary"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, plain.body) {
			t.Fatalf("gunzipped body differs from the identity body")
		}
		mfDecode(t, body)
	}
	for _, ae := range []string{"gzip;q=0", "br", "identity"} {
		if r := w.get(path, "Accept-Encoding", ae); r.header.Get("Content-Encoding") != "" || !bytes.Equal(r.body, plain.body) {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q", ae, r.header.Get("Content-Encoding"))
		}
	}
}

func TestMapFeedRejectsBadInput(t *testing.T) {
	w := mfNewWorld(t)
	for _, tc := range []struct{ query, field string }{
		{"tickets?bbox=1,2,3", "bbox"},
		{"tickets?bbox=1,2,3,4,5", "bbox"},
		{"tickets?bbox=a,b,c,d", "bbox"},
		{"tickets?bbox=NaN,0,1,1", "bbox"},
		{"tickets?bbox=0,0,Inf,1", "bbox"},
		{"tickets?bbox=-181,0,1,1", "bbox"},
		{"tickets?bbox=0,-91,1,1", "bbox"},
		{"tickets?bbox=0,10,1,5", "bbox"},
		{"tickets?bbox=0,5,1,5", "bbox"},
		{"tickets?bbox=5,0,5,1", "bbox"},
		{"tickets?bbox=0,0,1,1&bbox=0,0,2,2", "bbox"},
		{"tickets?status=lost", "status"},
		{"tickets?status=new,available", "status"},
		{"engineers?status=new", "status"},
		{"engineers?bbox=0,0,1", "bbox"},
	} {
		r := w.get("/api/v1/dispatch/map/" + tc.query)
		var p web.Problem
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatalf("%s: %v: %s", tc.query, err, r.body)
		}
		if r.status != http.StatusBadRequest || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") ||
			len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
			t.Errorf("%s: status %d, %s: %s", tc.query, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	for _, q := range []string{"tickets?status=new&status=waiting", "tickets?bbox=%20179.5,%20-17,-179.5,-16", "engineers?status=off,busy"} {
		if r := w.get("/api/v1/dispatch/map/" + q); r.status != http.StatusOK {
			t.Errorf("%s: status %d: %s", q, r.status, r.body)
		}
	}
}

func TestMapFeedRoles(t *testing.T) {
	w := mfNewWorld(t)
	for _, layer := range []string{"tickets", "engineers"} {
		path := "/api/v1/dispatch/map/" + layer
		for role, want := range map[string]int{"dispatcher": 200, "admin": 200, "manager": 200, "engineer": 403, "client": 403, "": 401} {
			r := w.get(path, "X-Test-Role", role)
			if r.status != want {
				t.Errorf("%s as %q: status %d, want %d: %s", layer, role, r.status, want, r.body)
			}
		}
	}
}

func TestMapFeedParseBBox(t *testing.T) {
	for in, want := range map[string]*MapBBox{
		"":                            nil,
		"37.5,55.5,37.9,55.9":         {37.5, 55.5, 37.9, 55.9},
		" -180 , -90 , 180 , 90 ":     {-180, -90, 180, 90},
		"179.5,-17,-179.5,-16":        {179.5, -17, -179.5, -16},
		"1e1,0,2e1,1":                 {10, 0, 20, 1},
		"-0.0000001,0,0.0000001,1e-7": {-1e-7, 0, 1e-7, 1e-7},
	} {
		got, err := ParseMapBBox(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseMapBBox(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if b, _ := ParseMapBBox("179.5,-17,-179.5,-16"); !b.CrossesAntimeridian() {
		t.Error("179.5…-179.5 crosses the antimeridian")
	}
}

// TestMapFeedJSONString checks the hand-written string escaping against encoding/json:
// the output is valid JSON and reads back as what encoding/json reads from its own.
func TestMapFeedJSONString(t *testing.T) {
	cases := []string{"", "plain", mfTrickyTitle, `"\\/`, "\x00\x7f", "\xff\xfe invalid", "a\xc3", "\u2028\u2029",
		"emoji 🛠️ and 中文", strings.Repeat("ж", 100)}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		b := make([]byte, r.IntN(24))
		for i := range b {
			switch r.IntN(3) {
			case 0:
				b[i] = byte(r.IntN(0x20))
			case 1:
				b[i] = byte(r.IntN(0x100))
			default:
				const pick = "\"\\<>&абв"
				b[i] = pick[r.IntN(len(pick))]
			}
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		mfCheckJSONString(t, s)
	}
}

func FuzzMapFeedJSONString(f *testing.F) {
	for _, s := range []string{"", mfTrickyTitle, "\xff", "\u2028", `"\`} {
		f.Add(s)
	}
	f.Fuzz(mfCheckJSONString)
}

func mfCheckJSONString(t *testing.T, s string) {
	t.Helper()
	out := appendJSONString(nil, s)
	var got string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%q → %s: %v", s, out, err)
	}
	std, _ := json.Marshal(s)
	var want string
	_ = json.Unmarshal(std, &want)
	if got != want {
		t.Fatalf("%q: reads back as %q, encoding/json's as %q", s, got, want)
	}
	if utf8.ValidString(s) && got != s {
		t.Fatalf("valid %q reads back as %q", s, got)
	}
}

// TestMapFeedBuilderMatchesBaseline: the hand-written collection says what orb/geojson
// and encoding/json say, for the same rows.
func TestMapFeedBuilderMatchesBaseline(t *testing.T) {
	rows := mfSyntheticTickets(500, 9)
	rows[0].Title, rows[1].AssigneeName = mfTrickyTitle, mfTrickyTitle
	rows[2].Lng, rows[2].Lat = 179.99999999999997, -89.5
	rows[3].Lng, rows[3].Lat = -0.000001, 1e-9
	for _, bbox := range []*MapBBox{nil, {179, -17, -179, -16}, {-180, -90, 180, 90}} {
		own := appendTicketCollection(nil, bbox, rows)
		mfDecode(t, own)
		for name, build := range map[string]func(*MapBBox, []mapTicket) ([]byte, error){
			"geojson": mfBaselineGeoJSON, "structs": mfBaselineStructs,
		} {
			base, err := build(bbox, rows)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			if err := json.Unmarshal(own, &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(base, &b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("bbox %v: the hand-written collection differs from the %s baseline", bbox, name)
			}
		}
	}
	if got := string(appendTicketCollection(nil, nil, nil)); got != `{"type":"FeatureCollection","features":[]}` {
		t.Errorf("empty collection: %s", got)
	}
	eng := []mapEngineer{{ID: uuid.New(), Name: `О'Нил "Ш"`, Status: EngineerBusy, OpenJobs: 2, Capacity: 5,
		LastSeenAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("MSK", 3*3600)), Lng: 1, Lat: 2}}
	fc := mfDecode(t, appendEngineerCollection(nil, nil, eng))
	if got := fc.Features[0].Properties["last_seen_at"]; got != "2026-01-02T00:04:05Z" {
		t.Errorf("last_seen_at in UTC: %v", got)
	}
}

func TestMapFeedEngineerStatusMatchesSQL(t *testing.T) {
	pool := dbtest.MustPool(t)
	for _, active := range []bool{true, false} {
		for capacity := 1; capacity <= 3; capacity++ {
			for jobs := 0; jobs <= 4; jobs++ {
				var got string
				err := pool.QueryRow(context.Background(), `SELECT `+engineerStatusSQL+
					` FROM (SELECT $1::bool AS active, $2::int AS open_jobs, $3::int AS capacity) e`, active, jobs, capacity).Scan(&got)
				if err != nil {
					t.Fatal(err)
				}
				if want := mapEngineerStatus(active, jobs, capacity); got != want {
					t.Errorf("active %v, %d of %d: SQL %s, Go %s", active, jobs, capacity, got, want)
				}
			}
		}
	}
}

package dispatch

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"fieldsvc/internal/dbtest"
)

// The map feed's target (issue 4): the FeatureCollection of 10k tickets built in ≤ 10 ms
// before compression. BenchmarkMapFeed measures the build alone on rows in memory, each
// figure beside baselines built from the same rows in the same run; BenchmarkMapFeedDB
// measures a whole answer against PostGIS with 10k open tickets.
//
//	go test -run '^$' -bench MapFeed -benchtime 20x ./dispatch/

const mfBenchTickets = 10_000

// mfSyntheticTickets makes n ticket rows like a busy region's: Cyrillic titles with
// quotes, two in three assigned.
func mfSyntheticTickets(n int, seed uint64) []mapTicket {
	r := rand.New(rand.NewPCG(seed, 1))
	faults := []string{"Холодильная витрина не держит температуру", `Кассовый узел «Атол» не печатает чек`,
		`Кондиционер "Daikin" течёт`, "Заменить фильтр вентиляции", `Ошибка E4\E5 на котле`, "Не открывается шлагбаум"}
	engineers := make([]struct {
		id   uuid.UUID
		name string
	}, 200)
	for i := range engineers {
		engineers[i].id = mfUUID(r)
		engineers[i].name = fmt.Sprintf("Инженер %03d Петров", i)
	}
	rows := make([]mapTicket, n)
	for i := range rows {
		t := mapTicket{
			ID:       mfUUID(r),
			Number:   fmt.Sprintf("2026-%06d", i+1),
			Title:    fmt.Sprintf("%s, объект №%d", faults[r.IntN(len(faults))], r.IntN(5000)),
			Status:   defaultTicketStatuses[r.IntN(len(defaultTicketStatuses))],
			Priority: mapPriorities[r.IntN(len(mapPriorities))],
			SLAState: mapSLAStates[r.IntN(len(mapSLAStates))],
			Lng:      30 + r.Float64()*30,
			Lat:      50 + r.Float64()*10,
		}
		if r.IntN(3) > 0 {
			e := engineers[r.IntN(len(engineers))]
			t.AssigneeID, t.AssigneeName = e.id, e.name
		}
		rows[i] = t
	}
	return rows
}

func mfUUID(r *rand.Rand) uuid.UUID {
	var id uuid.UUID
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

// mfBaselineGeoJSON builds the same FeatureCollection the usual way: orb/geojson features
// with map properties, marshalled by encoding/json.
func mfBaselineGeoJSON(bbox *MapBBox, rows []mapTicket) ([]byte, error) {
	fc := geojson.NewFeatureCollection()
	if bbox != nil {
		fc.BBox = geojson.BBox{bbox.MinLng, bbox.MinLat, bbox.MaxLng, bbox.MaxLat}
	}
	for _, r := range rows {
		f := geojson.NewFeature(orb.Point{r.Lng, r.Lat})
		f.ID = r.ID.String()
		var assigneeID, assigneeName any
		if r.AssigneeID != uuid.Nil {
			assigneeID, assigneeName = r.AssigneeID.String(), r.AssigneeName
		}
		f.Properties = geojson.Properties{"id": r.ID.String(), "number": r.Number, "title": r.Title,
			"status": r.Status, "priority": r.Priority, "sla_state": r.SLAState,
			"assignee_id": assigneeID, "assignee_name": assigneeName}
		fc.Append(f)
	}
	return json.Marshal(fc)
}

// The second baseline: typed structs with JSON tags, marshalled by encoding/json.
type (
	mfBaseCollection struct {
		Type     string          `json:"type"`
		BBox     []float64       `json:"bbox,omitempty"`
		Features []mfBaseFeature `json:"features"`
	}
	mfBaseFeature struct {
		Type       string      `json:"type"`
		ID         uuid.UUID   `json:"id"`
		Geometry   mfBasePoint `json:"geometry"`
		Properties mfBaseProps `json:"properties"`
	}
	mfBasePoint struct {
		Type        string     `json:"type"`
		Coordinates [2]float64 `json:"coordinates"`
	}
	mfBaseProps struct {
		ID           uuid.UUID  `json:"id"`
		Number       string     `json:"number"`
		Title        string     `json:"title"`
		Status       string     `json:"status"`
		Priority     string     `json:"priority"`
		SLAState     string     `json:"sla_state"`
		AssigneeID   *uuid.UUID `json:"assignee_id"`
		AssigneeName *string    `json:"assignee_name"`
	}
)

func mfBaselineStructs(bbox *MapBBox, rows []mapTicket) ([]byte, error) {
	fc := mfBaseCollection{Type: "FeatureCollection", Features: make([]mfBaseFeature, 0, len(rows))}
	if bbox != nil {
		fc.BBox = []float64{bbox.MinLng, bbox.MinLat, bbox.MaxLng, bbox.MaxLat}
	}
	for _, r := range rows {
		p := mfBaseProps{ID: r.ID, Number: r.Number, Title: r.Title, Status: r.Status, Priority: r.Priority, SLAState: r.SLAState}
		if r.AssigneeID != uuid.Nil {
			id, name := r.AssigneeID, r.AssigneeName
			p.AssigneeID, p.AssigneeName = &id, &name
		}
		fc.Features = append(fc.Features, mfBaseFeature{Type: "Feature", ID: r.ID,
			Geometry: mfBasePoint{Type: "Point", Coordinates: [2]float64{r.Lng, r.Lat}}, Properties: p})
	}
	return json.Marshal(fc)
}

// mfRun runs fn as a sub-benchmark and returns its ns/op, for the ratio column.
func mfRun(b *testing.B, name string, fn func(b *testing.B)) (nsPerOp float64) {
	b.Run(name, func(b *testing.B) {
		fn(b)
		nsPerOp = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(nsPerOp/1e6, "ms/op")
	})
	return nsPerOp
}

// BenchmarkMapFeed is the build step alone, on 10k rows already in memory.
func BenchmarkMapFeed(b *testing.B) {
	rows := mfSyntheticTickets(mfBenchTickets, 42)
	bbox := &MapBBox{MinLng: 30, MinLat: 50, MaxLng: 60, MaxLat: 60}
	size := len(appendTicketCollection(nil, bbox, rows))
	name := fmt.Sprintf("build-%dk", mfBenchTickets/1000)

	geo := mfRun(b, name+"/baseline-geojson-marshal", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := mfBaselineGeoJSON(bbox, rows); err != nil {
				b.Fatal(err)
			}
		}
	})
	structs := mfRun(b, name+"/baseline-struct-marshal", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := mfBaselineStructs(bbox, rows); err != nil {
				b.Fatal(err)
			}
		}
	})
	mfRun(b, name+"/handwritten", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		buf := make([]byte, 0, size)
		for b.Loop() {
			buf = appendTicketCollection(buf[:0], bbox, rows)
		}
		own := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(geo/own, "x-vs-geojson")
		b.ReportMetric(structs/own, "x-vs-structs")
	})

	body := appendTicketCollection(nil, bbox, rows)
	gz := func(level int) func(b *testing.B) {
		return func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			var out bytes.Buffer
			w, _ := gzip.NewWriterLevel(&out, level)
			for b.Loop() {
				out.Reset()
				w.Reset(&out)
				_, _ = w.Write(body)
				_ = w.Close()
			}
			b.ReportMetric(float64(out.Len())/1024, "KiB-gzipped")
		}
	}
	def := mfRun(b, "gzip-"+name+"/baseline-default-level", gz(gzip.DefaultCompression))
	mfRun(b, "gzip-"+name+"/best-speed", func(b *testing.B) {
		gz(gzip.BestSpeed)(b)
		b.ReportMetric(def/(float64(b.Elapsed().Nanoseconds())/float64(b.N)), "x-vs-default")
	})
}

// BenchmarkMapFeedDB is a whole answer against PostGIS: 10k open tickets at 2,000 sites,
// 500 engineers, in a fresh database.
func BenchmarkMapFeedDB(b *testing.B) {
	pool := dbtest.MustPool(b)
	ctx := context.Background()
	start := time.Now()
	mfBenchWorld(b, pool, mfBenchTickets)
	b.Logf("fixture: %d tickets in %s", mfBenchTickets, time.Since(start).Round(time.Millisecond))
	s := NewService(pool, nil, Options{})
	name := fmt.Sprintf("query-build-%dk", mfBenchTickets/1000)
	all := MapFilter{}

	base := mfRun(b, name+"/baseline-geojson-marshal", func(b *testing.B) {
		f, _ := all.normalize(TicketLayer)
		w := mapWhere(TicketLayer, f)
		for b.Loop() {
			rows, err := queryMapTickets(ctx, pool, w, mfBenchTickets)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := mfBaselineGeoJSON(nil, rows); err != nil {
				b.Fatal(err)
			}
		}
	})
	var tag string
	mfRun(b, name+"/handwritten", func(b *testing.B) {
		buf := make([]byte, 0, 4<<20)
		for b.Loop() {
			res, err := s.MapFeed(ctx, TicketLayer, all, buf[:0], nil)
			if err != nil {
				b.Fatal(err)
			}
			if n := bytes.Count(res.Body, []byte(`"Feature"`)); n != mfBenchTickets {
				b.Fatalf("%d features", n)
			}
			tag = res.Tag
		}
		b.ReportMetric(base/(float64(b.Elapsed().Nanoseconds())/float64(b.N)), "x-vs-baseline")
	})
	mfRun(b, name+"/etag-304", func(b *testing.B) {
		for b.Loop() {
			res, err := s.MapFeed(ctx, TicketLayer, all, nil, func(t string) bool { return t == tag })
			if err != nil || !res.NotModified {
				b.Fatal(err, res.NotModified)
			}
		}
	})
	mfRun(b, "query-build-viewport/handwritten", func(b *testing.B) {
		// About 1/100 of the region: the small-box cap lets the site index find it.
		f := MapFilter{BBox: &MapBBox{MinLng: 44, MinLat: 54.5, MaxLng: 47, MaxLat: 55.5}}
		buf := make([]byte, 0, 1<<20)
		for b.Loop() {
			if _, err := s.MapFeed(ctx, TicketLayer, f, buf[:0], nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	mfRun(b, "engineers-500/handwritten", func(b *testing.B) {
		buf := make([]byte, 0, 1<<20)
		for b.Loop() {
			if _, err := s.MapFeed(ctx, EngineerLayer, MapFilter{}, buf[:0], nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// mfBenchWorld inserts n open tickets at 2,000 sites spread over 30–60°E, 50–60°N, all
// but the new ones assigned among 500 engineers, with INSERT … SELECT generate_series.
func mfBenchWorld(tb testing.TB, pool *pgxpool.Pool, n int) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Release()
	calendar, client := uuid.New(), uuid.New()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`SELECT setseed(0.42)`, nil},
		{`INSERT INTO calendars (id, name, time_zone, weekly_hours) VALUES ($1, 'bench', 'UTC', '{}')`, []any{calendar}},
		{`INSERT INTO clients (id, name) VALUES ($1, 'ООО Бенчмарк')`, []any{client}},
		{`INSERT INTO sites (id, client_id, name, address, location, time_zone)
			SELECT gen_random_uuid(), $1, 'Объект ' || i, 'Адрес ' || i,
				ST_SetSRID(ST_MakePoint(30 + random() * 30, 50 + random() * 10), 4326)::geography, 'UTC'
			FROM generate_series(1, 2000) i`, []any{client}},
		{`INSERT INTO users (id, email, full_name, role, password_hash)
			SELECT gen_random_uuid(), 'bench' || i || '@example.com', 'Инженер ' || i, 'engineer', 'x'
			FROM generate_series(1, 500) i`, nil},
		{`INSERT INTO engineers (id, user_id, home_base, calendar_id, capacity)
			SELECT gen_random_uuid(), u.id, ST_SetSRID(ST_MakePoint(30 + random() * 30, 50 + random() * 10), 4326)::geography, $1, 100
			FROM users u WHERE u.role = 'engineer'`, []any{calendar}},
		{`WITH s AS (SELECT array_agg(id ORDER BY id) AS a FROM sites), e AS (SELECT array_agg(id ORDER BY id) AS a FROM engineers)
			INSERT INTO tickets (id, number, client_id, site_id, kind, priority, status, title, assignee_id, waiting_on,
				reaction_state, resolution_state)
			SELECT gen_random_uuid(), '2026-' || lpad(i::text, 6, '0'), $1, s.a[1 + (i * 7919) % cardinality(s.a)], 'incident',
				(ARRAY['low', 'normal', 'high', 'critical'])[1 + i % 4], x.st,
				'Кондиционер "Daikin" течёт, объект №' || i,
				CASE WHEN x.st <> 'new' THEN e.a[1 + i % cardinality(e.a)] END,
				CASE WHEN x.st = 'waiting' THEN 'parts' END,
				(ARRAY['ok', 'at_risk', 'breached', 'met'])[1 + i % 4], (ARRAY['ok', 'ok', 'at_risk', 'breached', 'none'])[1 + i % 5]
			FROM generate_series(1, $2::int) i, s, e,
				LATERAL (SELECT (ARRAY['new', 'assigned', 'accepted', 'en_route', 'in_progress', 'waiting'])[1 + i % 6] AS st) x`,
			[]any{client, n}},
		{`ANALYZE`, nil},
	} {
		if _, err := conn.Exec(ctx, q.sql, q.args...); err != nil {
			tb.Fatalf("%v\n%s", err, q.sql)
		}
	}
}

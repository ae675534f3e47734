package dispatch

// The map feed: what a dispatcher's map shows, as GeoJSON FeatureCollections of tickets
// and of engineers, filtered by bounding box and status.
//
// A dispatcher's map polls, and most polls find nothing new. So each answer starts with a
// fingerprint of exactly the rows the filter selects (a hash over every row's id and
// version, see fingerprintSQL), taken in the same snapshot as the rows: the ETag. When
// the caller already holds it, the answer is a 304 and nothing is read, built or sent.
//
// The feed itself is written by hand with strconv-style appends into a pooled buffer
// (see appendTicketCollection): no maps, no reflection, one pass over rows scanned into a
// flat slice, no allocation. For 10k tickets that is ~30× faster than orb/geojson features
// through encoding/json and ~4× faster than encoding/json on tagged structs (see
// mapfeed_bench_test.go).

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/postgres"
	"fieldsvc/internal/ticket"
)

// MapLayer names what a map feed shows.
type MapLayer string

const (
	TicketLayer   MapLayer = "tickets"
	EngineerLayer MapLayer = "engineers"
)

// Engineer map statuses: available has no open work, busy has some and room for more,
// full is at capacity, off is deactivated. (Shifts are not considered: the map shows
// load; candidates decide who may be sent.)
const (
	EngineerAvailable = "available"
	EngineerBusy      = "busy"
	EngineerFull      = "full"
	EngineerOff       = "off"
)

// EngineerMapStatuses lists every engineer status on the map.
var EngineerMapStatuses = []string{EngineerAvailable, EngineerBusy, EngineerFull, EngineerOff}

var (
	defaultTicketStatuses   = []string{"new", "assigned", "accepted", "en_route", "in_progress", "waiting"}
	defaultEngineerStatuses = []string{EngineerAvailable, EngineerBusy, EngineerFull}
)

// MapBBox is a map viewport in degrees. MinLng > MaxLng is a box that crosses the
// antimeridian (RFC 7946 §5.2), from MinLng east through ±180 to MaxLng.
type MapBBox struct {
	MinLng, MinLat, MaxLng, MaxLat float64
}

// CrossesAntimeridian reports whether b spans ±180° longitude.
func (b MapBBox) CrossesAntimeridian() bool { return b.MinLng > b.MaxLng }

// MapFilter selects the features of a layer.
type MapFilter struct {
	// BBox limits features to a viewport (edges included); nil is the whole world.
	BBox *MapBBox
	// Statuses are ticket statuses (TicketLayer) or EngineerMapStatuses; empty takes
	// the default: open tickets, active engineers.
	Statuses []string
}

// ParseMapBBox reads "minLng,minLat,maxLng,maxLat". Empty is no box.
func ParseMapBBox(s string) (*MapBBox, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	const form = "must be minLng,minLat,maxLng,maxLat in degrees"
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return nil, apperr.Field("bbox", form)
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, apperr.Field("bbox", form+": four numbers")
		}
		v[i] = f
	}
	b := MapBBox{MinLng: v[0], MinLat: v[1], MaxLng: v[2], MaxLat: v[3]}
	switch {
	case b.MinLng < -180 || b.MinLng > 180 || b.MaxLng < -180 || b.MaxLng > 180:
		return nil, apperr.Field("bbox", "longitudes must be between -180 and 180")
	case b.MinLat < -90 || b.MinLat > 90 || b.MaxLat < -90 || b.MaxLat > 90:
		return nil, apperr.Field("bbox", "latitudes must be between -90 and 90")
	case b.MinLat >= b.MaxLat:
		return nil, apperr.Field("bbox", "minLat must be below maxLat")
	case b.MinLng == b.MaxLng:
		return nil, apperr.Field("bbox", "minLng and maxLng must differ (minLng > maxLng crosses the antimeridian)")
	}
	return &b, nil
}

// normalize checks the statuses for layer, drops repeats, puts them in a fixed order and
// fills in the default, so equal filters have equal fingerprints.
func (f MapFilter) normalize(layer MapLayer) (MapFilter, error) {
	all, def := ticket.Statuses, defaultTicketStatuses
	if layer == EngineerLayer {
		all, def = EngineerMapStatuses, defaultEngineerStatuses
	} else if layer != TicketLayer {
		return f, fmt.Errorf("dispatch: map: unknown layer %q", layer)
	}
	if len(f.Statuses) == 0 {
		f.Statuses = def
		return f, nil
	}
	out := make([]string, 0, len(f.Statuses))
	for _, st := range all {
		if slices.Contains(f.Statuses, st) {
			out = append(out, st)
		}
	}
	for _, st := range f.Statuses {
		if !slices.Contains(all, st) {
			return f, apperr.Field("status", "must be one of "+strings.Join(all, ", "))
		}
	}
	f.Statuses = out
	return f, nil
}

// key is the normalised filter as text, hashed into the ETag.
func (f MapFilter) key(layer MapLayer) []byte {
	k := append([]byte(nil), layer...)
	if b := f.BBox; b != nil {
		k = append(k, "|bbox="...)
		for i, v := range [4]float64{b.MinLng, b.MinLat, b.MaxLng, b.MaxLat} {
			if i > 0 {
				k = append(k, ',')
			}
			k = strconv.AppendFloat(k, v, 'g', -1, 64)
		}
	}
	k = append(k, "|status="...)
	return append(k, strings.Join(f.Statuses, ",")...)
}

// MapResult is one answer of a map layer.
type MapResult struct {
	// Tag identifies this version of the layer under this filter (hex, unquoted).
	Tag string
	// Body is the FeatureCollection, appended to the buffer the caller gave; nil when
	// NotModified.
	Body        []byte
	NotModified bool
}

// MapFeed answers one map layer. It fingerprints the rows f selects first; when held(tag)
// says the caller already has this version, it returns NotModified without reading the
// rows. Otherwise it appends the FeatureCollection to dst. Both happen in one snapshot,
// so the tag always describes the body.
func (s *Service) MapFeed(ctx context.Context, layer MapLayer, f MapFilter, dst []byte, held func(tag string) bool) (MapResult, error) {
	f, err := f.normalize(layer)
	if err != nil {
		return MapResult{}, err
	}
	w := mapWhere(layer, f)
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return MapResult{}, fmt.Errorf("dispatch: map %s: %w", layer, postgres.MapError(err))
	}
	// Read-only: rolling back is how it ends, and its error changes nothing.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	var count, sum int64
	if err := tx.QueryRow(ctx, fingerprintSQL[layer]+w.sql, w.args...).Scan(&count, &sum); err != nil {
		return MapResult{}, fmt.Errorf("dispatch: map %s: fingerprint: %w", layer, postgres.MapError(err))
	}
	res := MapResult{Tag: mapTag(f.key(layer), count, sum)}
	if held != nil && held(res.Tag) {
		res.NotModified = true
		return res, nil
	}
	switch layer {
	case TicketLayer:
		rows, err := queryMapTickets(ctx, tx, w, int(count))
		if err != nil {
			return MapResult{}, err
		}
		res.Body = appendTicketCollection(dst, f.BBox, rows)
	case EngineerLayer:
		rows, err := queryMapEngineers(ctx, tx, w, int(count))
		if err != nil {
			return MapResult{}, err
		}
		res.Body = appendEngineerCollection(dst, f.BBox, rows)
	}
	return res, nil
}

// mapFeedVersion changes whenever the feed's JSON shape changes, so no client keeps a
// body of the old shape under a matching ETag.
const mapFeedVersion = "mapfeed/1"

func mapTag(key []byte, count, sum int64) string {
	h := sha256.New()
	h.Write([]byte(mapFeedVersion))
	h.Write([]byte{0})
	h.Write(key)
	var n [16]byte
	binary.BigEndian.PutUint64(n[:8], uint64(count))
	binary.BigEndian.PutUint64(n[8:], uint64(sum))
	h.Write(n[:])
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ---- SQL ----

// The fingerprint is the count and the XOR of one hash per selected row. Each row's hash
// covers the ids and the xmin (the version: it changes on every UPDATE, whoever makes
// it, and unlike max(updated_at) it cannot miss a change committed out of order) of every
// row the feature is made of: the ticket, its site and its assignee's user, or the
// engineer and their user. XOR would cancel a site shared by two tickets, so the parts
// are chained into one hash per row before they are XORed.
var fingerprintSQL = map[MapLayer]string{
	TicketLayer: `SELECT count(*), coalesce(bit_xor(uuid_hash_extended(t.id,
		hashint8extended(t.xmin::text::int8 | (s.xmin::text::int8 << 32),
			coalesce(uuid_hash_extended(u.id, u.xmin::text::int8), 0)))), 0)` + ticketFrom,
	EngineerLayer: `SELECT count(*), coalesce(bit_xor(uuid_hash_extended(e.id,
		e.xmin::text::int8 | (u.xmin::text::int8 << 32))), 0)` + engineerFrom,
}

const (
	ticketFrom = `
	FROM tickets t
	JOIN sites s ON s.id = t.site_id
	LEFT JOIN engineers e ON e.id = t.assignee_id
	LEFT JOIN users u ON u.id = e.user_id`
	engineerFrom = `
	FROM engineers e
	JOIN users u ON u.id = e.user_id`
	// engineerStatusSQL is mapEngineerStatus in SQL, for the status filter.
	engineerStatusSQL = `CASE WHEN NOT e.active THEN 'off' WHEN e.open_jobs = 0 THEN 'available'
		WHEN e.open_jobs < e.capacity THEN 'busy' ELSE 'full' END`
)

// Enumerations come back as their position in these lists (array_position), so scanning
// a row allocates only for the text a person wrote.
var (
	mapPriorities = []string{"low", "normal", "high", "critical"}
	// mapSLAStates is in order of concern: a ticket shows the worse of its two clocks.
	mapSLAStates = []string{"none", "met", "met_late", "ok", "at_risk", "breached"}
)

var ticketSelectSQL = `SELECT t.id, t.number, t.title,
	coalesce(array_position(` + sqlTextArray(ticket.Statuses) + `, t.status), 0),
	coalesce(array_position(` + sqlTextArray(mapPriorities) + `, t.priority), 0),
	coalesce(greatest(array_position(` + sqlTextArray(mapSLAStates) + `, t.reaction_state),
		array_position(` + sqlTextArray(mapSLAStates) + `, t.resolution_state)), 0),
	t.assignee_id, u.full_name, ST_X(s.location::geometry), ST_Y(s.location::geometry)` + ticketFrom

const engineerSelectSQL = `SELECT e.id, u.full_name, e.active, e.open_jobs, e.capacity, e.last_location_at,
	ST_X(e.position::geometry), ST_Y(e.position::geometry)` + engineerFrom

func sqlTextArray(list []string) string {
	return "'{" + strings.Join(list, ",") + "}'::text[]"
}

type mapSQL struct {
	sql  string
	args []any
}

// Sphere radius PostGIS uses for geography with use_spheroid = false.
const capSphereRadiusM = 6371008.771415059

// mapWhere is the WHERE clause both the fingerprint and the rows use.
//
// The box is tested on geometry, in plain lng/lat (a point is in when its coordinates
// are, edges included; && compares float4 boxes, so "on the edge" is good to well under
// a metre), twice for a box across the antimeridian. That test cannot use the GiST
// index on the geography column (an index on (location::geometry) would serve it as
// written), so a small box also gets ST_DWithin of a spherical cap around it, which
// can: with the box at most 180° wide, its point farthest from its centre is a corner,
// so the cap through the farthest corner, plus a margin, holds the whole box.
func mapWhere(layer MapLayer, f MapFilter) mapSQL {
	var w mapSQL
	arg := func(v any) string {
		w.args = append(w.args, v)
		return "$" + strconv.Itoa(len(w.args))
	}
	col := "s.location"
	if layer == EngineerLayer {
		col = "e.position"
		w.sql = "\n\tWHERE " + engineerStatusSQL + " = ANY(" + arg(f.Statuses) + ")"
	} else {
		w.sql = "\n\tWHERE t.status = ANY(" + arg(f.Statuses) + ")"
	}
	b := f.BBox
	if b == nil {
		return w
	}
	minLat, maxLat := arg(b.MinLat), arg(b.MaxLat)
	env := func(minLng, maxLng string) string {
		return col + "::geometry && ST_MakeEnvelope(" + minLng + ", " + minLat + ", " + maxLng + ", " + maxLat + ", 4326)"
	}
	if b.CrossesAntimeridian() {
		w.sql += "\n\tAND (" + env(arg(b.MinLng), "180") + " OR " + env("-180", arg(b.MaxLng)) + ")"
	} else {
		w.sql += "\n\tAND " + env(arg(b.MinLng), arg(b.MaxLng))
	}
	if lng, lat, r, ok := coveringCap(*b); ok {
		w.sql += "\n\tAND ST_DWithin(" + col + ", ST_SetSRID(ST_MakePoint(" + arg(lng) + ", " + arg(lat) + "), 4326)::geography, " +
			arg(r) + ", false)"
	}
	return w
}

// coveringCap returns a spherical cap (centre and radius in metres) holding all of b,
// when b is small enough for the cap to be worth an index scan.
func coveringCap(b MapBBox) (lng, lat, radius float64, ok bool) {
	width := b.MaxLng - b.MinLng
	if b.CrossesAntimeridian() {
		width += 360
	}
	if width > 180 {
		return 0, 0, 0, false
	}
	lng = b.MinLng + width/2
	if lng > 180 {
		lng -= 360
	}
	lat = (b.MinLat + b.MaxLat) / 2
	for _, c := range [4][2]float64{{b.MinLng, b.MinLat}, {b.MinLng, b.MaxLat}, {b.MaxLng, b.MinLat}, {b.MaxLng, b.MaxLat}} {
		radius = max(radius, capDistance(lng, lat, c[0], c[1]))
	}
	const maxCapM = 3_000_000 // a wider view selects most rows anyway: scan them
	if radius > maxCapM {
		return 0, 0, 0, false
	}
	return lng, lat, radius*1.001 + 10, true
}

// capDistance is the great-circle distance in metres (haversine).
func capDistance(lng1, lat1, lng2, lat2 float64) float64 {
	const rad = math.Pi / 180
	dLat, dLng := (lat2-lat1)*rad, (lng2-lng1)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * capSphereRadiusM * math.Asin(math.Min(1, math.Sqrt(h)))
}

// ---- rows ----

// mapTicket is one ticket on the map.
type mapTicket struct {
	ID           uuid.UUID
	Number       string
	Title        string
	Status       string
	Priority     string
	SLAState     string
	AssigneeID   uuid.UUID // uuid.Nil: unassigned
	AssigneeName string
	Lng, Lat     float64
}

// mapEngineer is one engineer on the map.
type mapEngineer struct {
	ID         uuid.UUID
	Name       string
	Status     string
	OpenJobs   int
	Capacity   int
	LastSeenAt time.Time // zero: never reported
	Lng, Lat   float64
}

// queryMapTickets reads the tickets w selects, ordered by id so that one version of the
// data is always the same bytes (a strong ETag promises that).
func queryMapTickets(ctx context.Context, q postgres.Querier, w mapSQL, sizeHint int) ([]mapTicket, error) {
	rows, err := q.Query(ctx, ticketSelectSQL+w.sql+"\n\tORDER BY t.id", w.args...)
	if err != nil {
		return nil, fmt.Errorf("dispatch: map tickets: %w", postgres.MapError(err))
	}
	defer rows.Close()
	out := make([]mapTicket, 0, sizeHint)
	var (
		id, assignee          pgtype.UUID
		status, priority, sla int32
		assigneeName          pgtype.Text
		r                     mapTicket
		dest                  = []any{&id, &r.Number, &r.Title, &status, &priority, &sla, &assignee, &assigneeName, &r.Lng, &r.Lat}
	)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("dispatch: map tickets: %w", err)
		}
		r.ID = id.Bytes
		r.Status = enumAt(ticket.Statuses, status)
		r.Priority = enumAt(mapPriorities, priority)
		r.SLAState = enumAt(mapSLAStates, sla)
		r.AssigneeID, r.AssigneeName = uuid.Nil, ""
		if assignee.Valid {
			r.AssigneeID = assignee.Bytes
			r.AssigneeName = assigneeName.String
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dispatch: map tickets: %w", postgres.MapError(err))
	}
	return out, nil
}

func queryMapEngineers(ctx context.Context, q postgres.Querier, w mapSQL, sizeHint int) ([]mapEngineer, error) {
	rows, err := q.Query(ctx, engineerSelectSQL+w.sql+"\n\tORDER BY e.id", w.args...)
	if err != nil {
		return nil, fmt.Errorf("dispatch: map engineers: %w", postgres.MapError(err))
	}
	defer rows.Close()
	out := make([]mapEngineer, 0, sizeHint)
	var (
		id       pgtype.UUID
		active   bool
		openJobs int32
		capacity int32
		seen     pgtype.Timestamptz
		r        mapEngineer
		dest     = []any{&id, &r.Name, &active, &openJobs, &capacity, &seen, &r.Lng, &r.Lat}
	)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("dispatch: map engineers: %w", err)
		}
		r.ID = id.Bytes
		r.OpenJobs, r.Capacity = int(openJobs), int(capacity)
		r.Status = mapEngineerStatus(active, r.OpenJobs, r.Capacity)
		r.LastSeenAt = time.Time{}
		if seen.Valid {
			r.LastSeenAt = seen.Time.UTC()
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dispatch: map engineers: %w", postgres.MapError(err))
	}
	return out, nil
}

// mapEngineerStatus is engineerStatusSQL in Go.
func mapEngineerStatus(active bool, openJobs, capacity int) string {
	switch {
	case !active:
		return EngineerOff
	case openJobs == 0:
		return EngineerAvailable
	case openJobs < capacity:
		return EngineerBusy
	}
	return EngineerFull
}

// enumAt is list[pos-1] for a 1-based array_position, "unknown" for a value the list
// does not know (a status added to the schema but not here).
func enumAt(list []string, pos int32) string {
	if pos < 1 || int(pos) > len(list) {
		return "unknown"
	}
	return list[pos-1]
}

// ---- JSON ----

// appendTicketCollection appends the GeoJSON FeatureCollection of rows to dst.
func appendTicketCollection(dst []byte, bbox *MapBBox, rows []mapTicket) []byte {
	dst = appendCollectionStart(dst, bbox)
	first := true
	for i := range rows {
		r := &rows[i]
		if !validLngLat(r.Lng, r.Lat) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendFeatureStart(dst, r.ID, r.Lng, r.Lat)
		dst = append(dst, `"number":`...)
		dst = appendJSONString(dst, r.Number)
		dst = append(dst, `,"title":`...)
		dst = appendJSONString(dst, r.Title)
		dst = append(dst, `,"status":`...)
		dst = appendJSONString(dst, r.Status)
		dst = append(dst, `,"priority":`...)
		dst = appendJSONString(dst, r.Priority)
		dst = append(dst, `,"sla_state":`...)
		dst = appendJSONString(dst, r.SLAState)
		if r.AssigneeID == uuid.Nil {
			dst = append(dst, `,"assignee_id":null,"assignee_name":null}}`...)
			continue
		}
		dst = append(dst, `,"assignee_id":"`...)
		dst = appendUUID(dst, r.AssigneeID)
		dst = append(dst, `","assignee_name":`...)
		dst = appendJSONString(dst, r.AssigneeName)
		dst = append(dst, "}}"...)
	}
	return append(dst, "]}"...)
}

// appendEngineerCollection appends the GeoJSON FeatureCollection of rows to dst.
func appendEngineerCollection(dst []byte, bbox *MapBBox, rows []mapEngineer) []byte {
	dst = appendCollectionStart(dst, bbox)
	first := true
	for i := range rows {
		r := &rows[i]
		if !validLngLat(r.Lng, r.Lat) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendFeatureStart(dst, r.ID, r.Lng, r.Lat)
		dst = append(dst, `"name":`...)
		dst = appendJSONString(dst, r.Name)
		dst = append(dst, `,"status":`...)
		dst = appendJSONString(dst, r.Status)
		dst = append(dst, `,"open_jobs":`...)
		dst = strconv.AppendInt(dst, int64(r.OpenJobs), 10)
		dst = append(dst, `,"capacity":`...)
		dst = strconv.AppendInt(dst, int64(r.Capacity), 10)
		if r.LastSeenAt.IsZero() {
			dst = append(dst, `,"last_seen_at":null}}`...)
			continue
		}
		dst = append(dst, `,"last_seen_at":"`...)
		dst = r.LastSeenAt.UTC().AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, `"}}`...)
	}
	return append(dst, "]}"...)
}

func appendCollectionStart(dst []byte, bbox *MapBBox) []byte {
	dst = append(dst, `{"type":"FeatureCollection",`...)
	if bbox != nil {
		dst = append(dst, `"bbox":[`...)
		dst = appendCoord(dst, bbox.MinLng)
		dst = append(dst, ',')
		dst = appendCoord(dst, bbox.MinLat)
		dst = append(dst, ',')
		dst = appendCoord(dst, bbox.MaxLng)
		dst = append(dst, ',')
		dst = appendCoord(dst, bbox.MaxLat)
		dst = append(dst, "],"...)
	}
	return append(dst, `"features":[`...)
}

// appendFeatureStart writes a Point feature up to the opening of its properties, which
// repeat the id.
func appendFeatureStart(dst []byte, id uuid.UUID, lng, lat float64) []byte {
	dst = append(dst, `{"type":"Feature","id":"`...)
	dst = appendUUID(dst, id)
	dst = append(dst, `","geometry":{"type":"Point","coordinates":[`...)
	dst = appendCoord(dst, lng)
	dst = append(dst, ',')
	dst = appendCoord(dst, lat)
	dst = append(dst, `]},"properties":{"id":"`...)
	dst = appendUUID(dst, id)
	return append(dst, `",`...)
}

// validLngLat guards the output: NaN or ±Inf would make the whole body invalid JSON.
func validLngLat(lng, lat float64) bool {
	return !math.IsNaN(lng) && !math.IsInf(lng, 0) && !math.IsNaN(lat) && !math.IsInf(lat, 0)
}

// appendCoord writes the shortest decimal that reads back as v (never an exponent
// within ±180).
func appendCoord(dst []byte, v float64) []byte {
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

const jsonHexDigits = "0123456789abcdef"

// appendUUID writes id in its canonical 36-character form, without quotes.
func appendUUID(dst []byte, id uuid.UUID) []byte {
	var b [36]byte
	j := 0
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = jsonHexDigits[c>>4], jsonHexDigits[c&0x0f]
		j += 2
	}
	return append(dst, b[:]...)
}

// jsonPlain marks the ASCII bytes a JSON string holds as they are.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString writes s as a JSON string: quotes and backslashes escaped, control
// characters as \n, \r, \t or \u00XX, U+2028 and U+2029 escaped (JavaScript reads them
// as line ends), and invalid UTF-8 replaced by U+FFFD — as encoding/json does, without
// its HTML escaping, which a JSON API does not need.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', jsonHexDigits[c>>4], jsonHexDigits[c&0x0f])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', jsonHexDigits[r&0x0f])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// ---- HTTP ----

// etagOf quotes tag as a strong ETag. The gzipped body is another representation, with
// other bytes, so it carries another tag.
func etagOf(tag string, gzipped bool) string {
	if gzipped {
		return `"` + tag + `-gzip"`
	}
	return `"` + tag + `"`
}

// etagMatches applies If-None-Match (weak comparison, RFC 9110 §13.1.2) to the current
// tag, whichever encoding the client's copy came in.
func etagMatches(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		t = strings.TrimPrefix(t, "W/")
		t = strings.TrimSuffix(strings.TrimPrefix(t, `"`), `"`)
		t = strings.TrimSuffix(t, "-gzip")
		if t == tag && tag != "" {
			return true
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding: gzip (or x-gzip, or *) with a nonzero q.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}

const maxPooledBuffer = 32 << 20

var (
	mapBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
	// gzip writers at BestSpeed: a map of 10k tickets shrinks about 6× at a fraction of
	// the default level's time. Writers hold large tables, hence the pool.
	gzipWriters = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a constant, valid level
		return w
	}}
)

// gzipTo writes body to w gzipped. No name or time goes in the header, so equal bodies
// give equal bytes.
func gzipTo(w io.Writer, body []byte) error {
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(w)
	_, err := zw.Write(body)
	err = errors.Join(err, zw.Close())
	if err != nil {
		return fmt.Errorf("dispatch: map: gzip: %w", err)
	}
	return nil
}

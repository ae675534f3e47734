package postgres

import (
	"context"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"

	"fieldsvc/internal/geo"
)

// registerGeometry teaches a connection PostGIS's geometry and geography types, so a
// geo.Point (or any go-geom geometry) goes in as a parameter and comes out of a Scan as
// EWKB, without ST_X/ST_Y in every query. Before the postgis extension exists (a fresh
// database about to be migrated) there is nothing to register.
func registerGeometry(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT typname, oid FROM pg_type WHERE typname IN ('geometry', 'geography')`)
	if err != nil {
		return fmt.Errorf("postgres: look up geometry types: %w", err)
	}
	var name string
	var oid uint32
	_, err = pgx.ForEachRow(rows, []any{&name, &oid}, func() error {
		conn.TypeMap().RegisterType(&pgtype.Type{Name: name, OID: oid, Codec: geometryCodec{}})
		return nil
	})
	return err
}

// geometryCodec encodes geo.Point and geom.T as EWKB and scans into *geo.Point or *geom.T.
type geometryCodec struct{}

func (geometryCodec) FormatSupported(format int16) bool {
	return format == pgtype.BinaryFormatCode || format == pgtype.TextFormatCode
}

func (geometryCodec) PreferredFormat() int16 { return pgtype.BinaryFormatCode }

func (geometryCodec) PlanEncode(_ *pgtype.Map, _ uint32, format int16, value any) pgtype.EncodePlan {
	switch value.(type) {
	case geo.Point, geom.T:
		return encodePlan{text: format == pgtype.TextFormatCode}
	}
	return nil
}

func (geometryCodec) PlanScan(_ *pgtype.Map, _ uint32, format int16, target any) pgtype.ScanPlan {
	switch target.(type) {
	case *geo.Point, *geom.T:
		return scanPlan{text: format == pgtype.TextFormatCode}
	}
	return nil
}

func (geometryCodec) DecodeDatabaseSQLValue(*pgtype.Map, uint32, int16, []byte) (driver.Value, error) {
	return nil, errors.ErrUnsupported
}

func (geometryCodec) DecodeValue(_ *pgtype.Map, _ uint32, format int16, src []byte) (any, error) {
	if src == nil {
		return nil, nil
	}
	return decodeEWKB(src, format == pgtype.TextFormatCode)
}

type encodePlan struct{ text bool }

func (p encodePlan) Encode(value any, buf []byte) ([]byte, error) {
	g, ok := value.(geom.T)
	if pt, isPoint := value.(geo.Point); isPoint {
		g, ok = pt.Geom(), true
	}
	if !ok {
		return buf, errors.ErrUnsupported
	}
	data, err := ewkb.Marshal(g, binary.LittleEndian)
	if err != nil {
		return buf, err
	}
	if p.text {
		return hex.AppendEncode(buf, data), nil
	}
	return append(buf, data...), nil
}

type scanPlan struct{ text bool }

func (p scanPlan) Scan(src []byte, target any) error {
	if src == nil {
		return errors.New("postgres: cannot scan NULL geometry into a non-pointer target")
	}
	g, err := decodeEWKB(src, p.text)
	if err != nil {
		return err
	}
	switch t := target.(type) {
	case *geom.T:
		*t = g
	case *geo.Point:
		pt, ok := g.(*geom.Point)
		if !ok {
			return fmt.Errorf("postgres: scan %T into geo.Point", g)
		}
		*t = geo.FromGeom(pt)
	default:
		return errors.ErrUnsupported
	}
	return nil
}

func decodeEWKB(src []byte, text bool) (geom.T, error) {
	if text {
		var err error
		if src, err = hex.DecodeString(string(src)); err != nil {
			return nil, err
		}
	}
	return ewkb.Unmarshal(src)
}

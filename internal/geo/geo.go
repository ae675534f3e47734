// Package geo is the point type the API speaks ({"lat": …, "lng": …}) and its conversions
// to the geometry libraries: go-geom for PostGIS EWKB and orb for work in Go.
package geo

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
)

// SRID is WGS 84, the only spatial reference the service stores.
const SRID = 4326

// Point is a WGS 84 position.
type Point struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Input is a position as a request sends it: a missing or null coordinate stays nil
// instead of becoming 0 (a point in the Gulf of Guinea).
type Input struct {
	Lat *float64 `json:"lat"`
	Lng *float64 `json:"lng"`
}

// Problem says what is wrong with p, or "" when it is a valid position.
func (p Point) Problem() string {
	switch {
	case math.IsNaN(p.Lat) || math.IsNaN(p.Lng):
		return "must be a number"
	case p.Lat < -90 || p.Lat > 90:
		return "latitude must be between -90 and 90"
	case p.Lng < -180 || p.Lng > 180:
		return "longitude must be between -180 and 180"
	}
	return ""
}

// Geom returns p as a go-geom point with SRID 4326 (x = longitude, y = latitude).
func (p Point) Geom() *geom.Point {
	return geom.NewPointFlat(geom.XY, []float64{p.Lng, p.Lat}).SetSRID(SRID)
}

// Orb returns p as an orb point ([lng, lat], as in GeoJSON).
func (p Point) Orb() orb.Point { return orb.Point{p.Lng, p.Lat} }

// FromGeom converts a go-geom point to a Point.
func FromGeom(g *geom.Point) Point { return Point{Lat: g.Y(), Lng: g.X()} }

// Input returns p as request input.
func (p Point) Input() *Input { return &Input{Lat: &p.Lat, Lng: &p.Lng} }

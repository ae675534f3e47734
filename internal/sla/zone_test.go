package sla

import (
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata"
)

// firstReaching is the definition zone.instant implements, by search: the first instant
// at which the clock in loc shows local seconds or later.
func firstReaching(loc *time.Location, local int64) int64 {
	wall := func(u int64) int64 {
		_, off := time.Unix(u, 0).In(loc).Zone()
		return u + int64(off)
	}
	const step = 15 * 60
	u := local - 26*3600
	for wall(u) >= local {
		u -= step
	}
	for wall(u+step) < local {
		u += step
	}
	for wall(u) < local {
		u++
	}
	return u
}

// TestZoneInstant checks the conversion of wall-clock times around every offset change of
// a few zones, with a fresh cache and with one warmed on a time days before or after.
func TestZoneInstant(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo", "Pacific/Apia", "Pacific/Chatham", "UTC"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		var switches []int64
		for u := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC); u.Year() < 2013; {
			_, end := u.In(loc).ZoneBounds()
			if end.IsZero() {
				break
			}
			switches = append(switches, end.Unix())
			u = end
		}
		if len(switches) == 0 {
			switches = []int64{time.Date(2011, 6, 1, 0, 0, 0, 0, time.UTC).Unix()}
		}
		for _, sw := range switches {
			for range 20 {
				_, off := time.Unix(sw, 0).In(loc).Zone()
				local := sw + int64(off) + r.Int64N(4*3600) - 2*3600
				if r.IntN(2) == 0 {
					local -= local % 60
				}
				want := firstReaching(loc, local)
				fresh := zone{loc: loc}
				if got := fresh.instant(local); got != want {
					t.Fatalf("%s: local %s: fresh instant %s, want %s", name, time.Unix(local, 0).UTC(), time.Unix(got, 0).In(loc), time.Unix(want, 0).In(loc))
				}
				warm := zone{loc: loc}
				warm.instant(local + r.Int64N(6*secondsPerDay) - 3*secondsPerDay)
				if got := warm.instant(local); got != want {
					t.Fatalf("%s: local %s: warmed instant %s, want %s", name, time.Unix(local, 0).UTC(), time.Unix(got, 0).In(loc), time.Unix(want, 0).In(loc))
				}
			}
		}
	}
}

package maintenance

import (
	"strings"
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// occurrences lists the rule's occurrences after from, n of them, as RFC 3339 in loc.
func occurrences(t *testing.T, expr string, from time.Time, loc *time.Location, n int) []string {
	t.Helper()
	r, err := parseRule(expr)
	if err != nil {
		t.Fatalf("parse %q: %v", expr, err)
	}
	var out []string
	for at := from; len(out) < n; {
		at = r.next(at, loc)
		if at.IsZero() {
			break
		}
		out = append(out, at.In(loc).Format(time.RFC3339))
	}
	return out
}

func TestDailyAt0230OnTheNightsTheClocksChange(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	// Clocks go forward at 02:00 on 28 March 2027: 02:30 does not exist that night, and
	// the work is due at 03:30, once.
	got := occurrences(t, "30 2 * * *", time.Date(2027, 3, 26, 12, 0, 0, 0, berlin), berlin, 4)
	want := []string{"2027-03-27T02:30:00+01:00", "2027-03-28T03:30:00+02:00", "2027-03-29T02:30:00+02:00", "2027-03-30T02:30:00+02:00"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("spring forward:\n got %v\nwant %v", got, want)
	}
	// Clocks go back at 03:00 on 31 October 2027: 02:30 comes twice, and the work is due
	// at the first, once.
	got = occurrences(t, "30 2 * * *", time.Date(2027, 10, 29, 12, 0, 0, 0, berlin), berlin, 3)
	want = []string{"2027-10-30T02:30:00+02:00", "2027-10-31T02:30:00+02:00", "2027-11-01T02:30:00+01:00"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("fall back:\n got %v\nwant %v", got, want)
	}
	// Starting between the two 02:30s of that night does not make a second one.
	first := time.Date(2027, 10, 31, 0, 30, 0, 0, time.UTC) // 02:30 CEST
	got = occurrences(t, "30 2 * * *", first, berlin, 1)
	if got[0] != "2027-11-01T02:30:00+01:00" {
		t.Fatalf("after the first 02:30 of the night the clocks go back: %v", got)
	}
}

func TestHourlyRuleAcrossTheSkippedHourIsNotDoubled(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	got := occurrences(t, "0 1-4 * * *", time.Date(2027, 3, 28, 0, 0, 0, 0, berlin), berlin, 3)
	want := []string{"2027-03-28T01:00:00+01:00", "2027-03-28T03:00:00+02:00", "2027-03-28T04:00:00+02:00"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestEndOfMonthSchedules(t *testing.T) {
	utc := time.UTC
	from := time.Date(2027, 1, 1, 0, 0, 0, 0, utc)
	cases := map[string][]string{
		// The 31st exists in seven months only: cron skips the others.
		"0 9 31 * *": {"2027-01-31T09:00:00Z", "2027-03-31T09:00:00Z", "2027-05-31T09:00:00Z", "2027-07-31T09:00:00Z"},
		// "L" is the last day of every month, February included (2028 is a leap year).
		"0 9 L * *":  {"2027-01-31T09:00:00Z", "2027-02-28T09:00:00Z", "2027-03-31T09:00:00Z", "2027-04-30T09:00:00Z"},
		"@monthly":   {"2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z", "2027-05-01T00:00:00Z"},
		"0 8 29 2 *": {"2028-02-29T08:00:00Z", "2032-02-29T08:00:00Z"},
	}
	for expr, want := range cases {
		if got := occurrences(t, expr, from, utc, len(want)); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s:\n got %v\nwant %v", expr, got, want)
		}
	}
	leap := occurrences(t, "0 9 L 2 *", time.Date(2027, 6, 1, 0, 0, 0, 0, utc), utc, 2)
	if strings.Join(leap, " ") != "2028-02-29T09:00:00Z 2029-02-28T09:00:00Z" {
		t.Errorf("last day of February: %v", leap)
	}
}

func TestRulesThatAreRefused(t *testing.T) {
	for expr, want := range map[string]string{
		"* * * * *":                       "often",
		"*/30 9 * * *":                    "often",
		"@every 24h":                      "interval_days",
		"CRON_TZ=Europe/Berlin 0 9 * * *": "time zone",
		"0 9 30 2 *":                      "never",
		"0 9 * *":                         "expected exactly 5 fields",
		"61 9 * * *":                      "above maximum",
	} {
		_, err := parseRule(expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error saying %q", expr, err, want)
		}
	}
}

func TestIntervalDueTimesKeepTheWallClock(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	done := time.Date(2027, 3, 20, 16, 45, 0, 0, berlin) // a Saturday afternoon in winter time
	got := afterDays(done, 10, 9*60, berlin)
	if want := time.Date(2027, 3, 30, 9, 0, 0, 0, berlin); !got.Equal(want) || got.In(berlin).Hour() != 9 {
		t.Fatalf("10 days after: got %v, want %v", got.In(berlin), want)
	}
	// Done late in the evening UTC, already the next day in the site's zone.
	tokyo := mustZone(t, "Asia/Tokyo")
	got = afterDays(time.Date(2027, 5, 1, 20, 0, 0, 0, time.UTC), 1, 8*60, tokyo)
	if want := "2027-05-03T08:00:00+09:00"; got.In(tokyo).Format(time.RFC3339) != want {
		t.Fatalf("by the site's date: got %v, want %v", got.In(tokyo), want)
	}
}

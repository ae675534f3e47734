package demo

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"fieldsvc/internal/geo"
)

// namespace makes demo ids a family of their own: uuid.NewSHA1(namespace, "<seed>/<kind>/<ordinal>…").
var namespace = uuid.MustParse("0d6a3c4e-52f1-4b8e-a7c9-3e1f6b2d9a70")

// streamConst separates the demo's random streams from other users of the same seed.
const streamConst = 0x9e3779b97f4a7c15

// The in-memory data set. Every record is generated from its own random stream, keyed by
// the seed and the record's kind and ordinal (composite for sites and assets), so a
// record's content does not depend on how many others are generated: the same (seed,
// ordinal) gives the same row at any size. Tickets are the exception: they pick their
// site among all generated ones, so ticket n of another size may differ, and Load skips
// a ticket whose id exists.
type dataset struct {
	calendars []calendarRow
	policies  []policyRow
	skills    []skillRow
	clients   []clientRow
	sites     []siteRow
	assets    []assetRow
	users     []userRow
	engineers []engineerRow
	tickets   []ticketRow
}

type span struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type workingDay struct {
	Date  string `json:"date"`
	Hours []span `json:"hours"`
}

type calendarRow struct {
	id          uuid.UUID
	name        string
	weeklyHours []byte // JSON
	holidays    []time.Time
	workingDays []byte // JSON
}

type policyRow struct {
	id      uuid.UUID
	name    string
	targets [4][2]int // reaction, resolution minutes for low, normal, high, critical
}

var priorities = [4]string{"low", "normal", "high", "critical"}

type skillRow struct {
	id         uuid.UUID
	code, name string
}

type clientRow struct {
	id                         uuid.UUID
	name, slug                 string
	business                   business
	taxID, email, phone, addr  string
	contractID                 uuid.UUID
	contractNo                 string
	policyID, calendarID       uuid.UUID
	userID                     uuid.UUID // the client contact who files tickets
	sites                      []int     // indexes into dataset.sites
	siteNoun                   string
	contactName, contactMobile string
}

type siteRow struct {
	id, clientID       uuid.UUID
	client, ordinal    int // the client's index and the site's ordinal within it
	name, address      string
	loc                geo.Point
	contactName, phone string
	assets             []int // indexes into dataset.assets
}

type assetRow struct {
	id, siteID          uuid.UUID
	assetType           string
	manufacturer, model string
	serial              string
	installed, warranty time.Time
}

type userRow struct {
	id              uuid.UUID
	email, fullName string
	phone           string
	role            string
	clientID        *uuid.UUID
}

type engineerRow struct {
	id, userID   uuid.UUID
	calendarID   uuid.UUID // the engineer's shifts
	home         geo.Point
	capacity     int
	skills       []string
	last         *geo.Point
	lastAt       *time.Time
	assignedOpen int // tickets this data set assigns to the engineer
}

type ticketRow struct {
	ordinal                int
	id                     uuid.UUID
	clientID, contractID   uuid.UUID
	siteID                 uuid.UUID
	assetID                *uuid.UUID
	kind, priority, status string
	title, description     string
	skills                 []string
	assigneeID             *uuid.UUID
	assignDistanceM        int
	createdBy              uuid.UUID
	createdAt, updatedAt   time.Time
	assignedAt             time.Time
	assignedBy             uuid.UUID
}

type gen struct {
	seed uint64
	ds   dataset
}

func (g *gen) id(kind string, ord ...int) uuid.UUID {
	b := strconv.AppendUint(nil, g.seed, 10)
	b = append(b, '/')
	b = append(b, kind...)
	for _, o := range ord {
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(o), 10)
	}
	return uuid.NewSHA1(namespace, b)
}

// rng is the record's own random stream.
func (g *gen) rng(kind string, ord ...int) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(kind))
	var buf [8]byte
	for _, o := range ord {
		binary.LittleEndian.PutUint64(buf[:], uint64(o))
		h.Write(buf[:])
	}
	return rand.New(rand.NewPCG(g.seed, g.seed^streamConst^h.Sum64()))
}

func generate(size Size, seed uint64) *dataset {
	g := &gen{seed: seed}
	g.reference()
	g.staff()
	g.clients(size.Clients)
	g.sites(size.Sites)
	g.assets(size.Assets)
	g.engineers(size.Engineers)
	g.tickets(size.OpenTickets)
	return &g.ds
}

// ---- reference data ----

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// holidays2026 are the non-working days of the Russian production calendar for 2026:
// New Year holidays with Jan 3 and 4 moved to Jan 9 and Dec 31, Defender of the Fatherland
// Day, Women's Day (Sunday Mar 8 moved to Monday Mar 9), Spring and Labour Day, Victory
// Day (Saturday May 9 moved to Monday May 11), Russia Day, Unity Day.
var holidays2026 = []time.Time{
	date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 4), date(2026, 1, 5),
	date(2026, 1, 6), date(2026, 1, 7), date(2026, 1, 8), date(2026, 1, 9),
	date(2026, 2, 23), date(2026, 3, 9), date(2026, 5, 1), date(2026, 5, 11),
	date(2026, 6, 12), date(2026, 11, 4), date(2026, 12, 31),
}

// shortened2026 are the pre-holiday working days, one hour shorter. 2026 moves no
// Saturday into a working day, so these are the calendar's only working-day overrides.
var shortened2026 = []time.Time{date(2026, 4, 30), date(2026, 5, 8), date(2026, 6, 11), date(2026, 11, 3)}

func (g *gen) reference() {
	office := []span{{"09:00", "13:00"}, {"14:00", "18:00"}}
	week := map[string][]span{"mon": office, "tue": office, "wed": office, "thu": office, "fri": office}
	var shortDays []workingDay
	for _, d := range shortened2026 {
		shortDays = append(shortDays, workingDay{d.Format(time.DateOnly), []span{{"09:00", "13:00"}, {"14:00", "17:00"}}})
	}
	allDay := []span{{"00:00", "24:00"}}
	always, dayShift, lateShift, nightShift := map[string][]span{}, map[string][]span{}, map[string][]span{}, map[string][]span{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		always[d] = allDay
		lateShift[d] = []span{{"14:00", "23:00"}}
		nightShift[d] = []span{{"00:00", "08:00"}, {"20:00", "24:00"}}
		if d != "sun" {
			dayShift[d] = []span{{"08:00", "20:00"}}
		}
	}
	g.ds.calendars = []calendarRow{
		{g.id("calendar", 0), "Москва, пятидневка 09:00–18:00", mustJSON(week), holidays2026, mustJSON(shortDays)},
		{g.id("calendar", 1), "Круглосуточно 24×7", mustJSON(always), nil, []byte("[]")},
		{g.id("calendar", 2), "Дневная смена, пн–сб 08:00–20:00", mustJSON(dayShift), nil, []byte("[]")},
		{g.id("calendar", 3), "Вечерняя смена, пн–вс 14:00–23:00", mustJSON(lateShift), nil, []byte("[]")},
		{g.id("calendar", 4), "Ночное дежурство, пн–вс 20:00–08:00", mustJSON(nightShift), nil, []byte("[]")},
	}
	g.ds.policies = []policyRow{
		{g.id("sla_policy", 0), "Стандарт", [4][2]int{{480, 2400}, {240, 960}, {120, 480}, {60, 240}}},
		{g.id("sla_policy", 1), "Бизнес", [4][2]int{{240, 1440}, {120, 480}, {60, 240}, {30, 120}}},
		{g.id("sla_policy", 2), "Премиум 24×7", [4][2]int{{120, 1440}, {60, 480}, {30, 240}, {15, 120}}},
	}
	for i, s := range skillDefs {
		g.ds.skills = append(g.ds.skills, skillRow{g.id("skill", i), s.code, s.name})
	}
}

// ---- people ----

type person struct{ surname, name, patronymic string }

func (p person) full() string  { return p.surname + " " + p.name + " " + p.patronymic }
func (p person) short() string { return p.surname + " " + p.name }

func femaleSurname(s string) string {
	switch {
	case strings.HasSuffix(s, "ий"):
		return strings.TrimSuffix(s, "ий") + "ая"
	case strings.HasSuffix(s, "ов"), strings.HasSuffix(s, "ев"), strings.HasSuffix(s, "ёв"),
		strings.HasSuffix(s, "ин"), strings.HasSuffix(s, "ын"):
		return s + "а"
	}
	return s
}

func randomPerson(r *rand.Rand, femaleShare float64) person {
	s := maleSurnames[r.IntN(len(maleSurnames))]
	if r.Float64() < femaleShare {
		return person{femaleSurname(s), femaleNames[r.IntN(len(femaleNames))], femalePatronymics[r.IntN(len(femalePatronymics))]}
	}
	return person{s, maleNames[r.IntN(len(maleNames))], malePatronymics[r.IntN(len(malePatronymics))]}
}

func translit(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if t, ok := translitTable[c]; ok {
			b.WriteString(t)
		} else if c < 128 {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// emailLocal is "ivanov.a": the transliterated surname and the first letter of the name.
func emailLocal(p person) string {
	return translit(p.surname) + "." + translit(p.name)[:1]
}

func mobile(r *rand.Rand) string {
	codes := []int{903, 905, 915, 916, 925, 926, 977, 985, 999}
	return fmt.Sprintf("+7 %d %03d-%02d-%02d", codes[r.IntN(len(codes))], r.IntN(1000), r.IntN(100), r.IntN(100))
}

func landline(r *rand.Rand) string {
	code := 495
	if r.IntN(4) == 0 {
		code = 499
	}
	return fmt.Sprintf("+7 %d %03d-%02d-%02d", code, 100+r.IntN(900), r.IntN(100), r.IntN(100))
}

const emailDomain = "demo.fieldsvc.local"

// Staff accounts. Their ordinals are fixed: 0 admin, 1–2 dispatchers, 3 manager.
func (g *gen) staff() {
	add := func(ord int, role, email string) {
		r := g.rng("user", ord)
		p := randomPerson(r, 0.5)
		g.ds.users = append(g.ds.users, userRow{
			id: g.id("user", ord), email: email, fullName: p.full(), phone: mobile(r), role: role,
		})
	}
	add(0, "admin", "admin@"+emailDomain)
	add(1, "dispatcher", "dispatcher1@"+emailDomain)
	add(2, "dispatcher", "dispatcher2@"+emailDomain)
	add(3, "manager", "manager@"+emailDomain)
}

func (g *gen) dispatchers() []uuid.UUID { return []uuid.UUID{g.ds.users[1].id, g.ds.users[2].id} }

// ---- clients ----

// innCheck appends the control digit of a 10-digit Russian taxpayer number (ИНН).
func innCheck(nine string) string {
	weights := [9]int{2, 4, 10, 3, 5, 9, 4, 6, 8}
	sum := 0
	for i, c := range nine {
		sum += int(c-'0') * weights[i]
	}
	return nine + strconv.Itoa(sum%11%10)
}

func (g *gen) clients(n int) {
	// A bijection of the ordinal onto five digits keeps tax ids unique for 100,000 clients.
	offset := int(g.seed % 100000)
	for j := range n {
		t := clientTemplates[j%len(clientTemplates)]
		name, slug := t.name, t.slug
		if round := j / len(clientTemplates); round > 0 {
			name = strings.TrimSuffix(name, `"`) + fmt.Sprintf(` %d"`, round+1)
			slug = fmt.Sprintf("%s-%d", slug, round+1)
		}
		r := g.rng("client", j)
		p := profiles[t.business]
		d := pickDistrict(r, [3]float64{6, 3, 1})
		inn := innCheck(fmt.Sprintf("77%02d%05d", 1+r.IntN(51), (j*7919+offset)%100000))
		contact := randomPerson(r, 0.6)
		c := clientRow{
			id: g.id("client", j), name: name, slug: slug, business: t.business,
			taxID: inn, email: "office@" + slug + "." + emailDomain, phone: landline(r),
			addr:       address(r, d),
			contractID: g.id("contract", j), contractNo: fmt.Sprintf("СО-2026/%03d", j+1),
			policyID: g.ds.policies[p.policy].id, calendarID: g.ds.calendars[p.calendar].id,
			userID: g.id("user-client", j), siteNoun: t.site,
			contactName: contact.full(), contactMobile: mobile(r),
		}
		g.ds.clients = append(g.ds.clients, c)
		clientID := c.id
		g.ds.users = append(g.ds.users, userRow{
			id: c.userID, email: emailLocal(contact) + "@" + slug + "." + emailDomain,
			fullName: contact.full(), phone: c.contactMobile, role: "client", clientID: &clientID,
		})
	}
}

func pickWeighted(r *rand.Rand, ws []weighted) string {
	total := 0.0
	for _, w := range ws {
		total += w.weight
	}
	x := r.Float64() * total
	for _, w := range ws {
		if x < w.weight {
			return w.value
		}
		x -= w.weight
	}
	return ws[len(ws)-1].value
}

func pickDistrict(r *rand.Rand, zoneWeights [3]float64) district {
	total := 0.0
	for _, d := range districts {
		total += zoneWeights[d.zone]
	}
	x := r.Float64() * total
	for _, d := range districts {
		if x < zoneWeights[d.zone] {
			return d
		}
		x -= zoneWeights[d.zone]
	}
	return districts[len(districts)-1]
}

// near draws a point around the district's centre (σ ≈ 0.9 km), kept inside the box.
func near(r *rand.Rand, lat, lng, sigmaKm float64) geo.Point {
	la := lat + r.NormFloat64()*sigmaKm/111.2
	ln := lng + r.NormFloat64()*sigmaKm/(111.2*math.Cos(lat*math.Pi/180))
	return geo.Point{
		Lat: round6(min(max(la, minLat+0.005), maxLat-0.005)),
		Lng: round6(min(max(ln, minLng+0.005), maxLng-0.005)),
	}
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func house(r *rand.Rand) string {
	h := "д. " + strconv.Itoa(1+r.IntN(120))
	switch r.IntN(6) {
	case 0:
		h += ", корп. " + strconv.Itoa(1+r.IntN(4))
	case 1:
		h += ", стр. " + strconv.Itoa(1+r.IntN(3))
	}
	return h
}

func address(r *rand.Rand, d district) string {
	return "Москва, " + d.streets[r.IntN(len(d.streets))] + ", " + house(r)
}

// apportion splits total into len(weights) parts proportional to the weights, each at
// least one when total allows, by largest remainder (ties to the lower index).
func apportion(total int, weights []float64) []int {
	n := len(weights)
	out := make([]int, n)
	if n == 0 || total <= 0 {
		return out
	}
	if total < n {
		for i := range total {
			out[i] = 1
		}
		return out
	}
	for i := range out {
		out[i] = 1
	}
	rest := total - n
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	type rem struct {
		i int
		f float64
	}
	rems := make([]rem, n)
	given := 0
	for i, w := range weights {
		share := float64(rest) * w / sum
		out[i] += int(share)
		given += int(share)
		rems[i] = rem{i, share - math.Floor(share)}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].f > rems[b].f })
	for k := 0; given < rest; k++ {
		out[rems[k%n].i]++
		given++
	}
	return out
}

var roman = []string{"", " II", " III", " IV", " V", " VI", " VII", " VIII", " IX", " X"}

// ---- sites ----

func (g *gen) sites(total int) {
	weights := make([]float64, len(g.ds.clients))
	for j, c := range g.ds.clients {
		// Chains differ in size: ±30 % around their business's typical share.
		weights[j] = profiles[c.business].siteWeight * (0.7 + 0.6*g.rng("client-size", j).Float64())
	}
	counts := apportion(total, weights)
	g.ds.sites = make([]siteRow, 0, total)
	for j := range g.ds.clients {
		c := &g.ds.clients[j]
		p := profiles[c.business]
		for k := range counts[j] {
			r := g.rng("site", j, k)
			d := pickDistrict(r, p.zones)
			street := d.streets[r.IntN(len(d.streets))]
			var name string
			switch {
			case c.business == businessCentre:
				suffix := roman[k%len(roman)]
				if k >= len(roman) {
					suffix = " " + strconv.Itoa(k+1)
				}
				name = "БЦ «" + c.siteNoun + suffix + "», " + street
			case c.business == bank && k == 0:
				name = "Головной офис, " + street
			default:
				name = fmt.Sprintf("%s №%d, %s", c.siteNoun, k+1, street)
			}
			contact := randomPerson(r, 0.6)
			s := siteRow{
				id: g.id("site", j, k), clientID: c.id, client: j, ordinal: k, name: name,
				address: "Москва, " + street + ", " + house(r),
				loc:     near(r, d.lat, d.lng, 0.9), contactName: contact.short(), phone: mobile(r),
			}
			c.sites = append(c.sites, len(g.ds.sites))
			g.ds.sites = append(g.ds.sites, s)
		}
	}
}

// ---- assets ----

func (g *gen) assets(total int) {
	weights := make([]float64, len(g.ds.sites))
	for i, s := range g.ds.sites {
		// A flagship store holds more than a corner shop: ±40 % around the typical count.
		weights[i] = profiles[g.ds.clients[s.client].business].assetWeight * (0.6 + 0.8*g.rng("site-size", s.client, s.ordinal).Float64())
	}
	counts := apportion(total, weights)
	g.ds.assets = make([]assetRow, 0, total)
	// Serial numbers come from a hash of the id, so they agree across sizes; the set only
	// guards against the rare collision within one load.
	seen := map[string]bool{}
	for i := range g.ds.sites {
		s := &g.ds.sites[i]
		k := s.ordinal
		biz := g.ds.clients[s.client].business
		p := profiles[biz]
		for m := range counts[i] {
			r := g.rng("asset", s.client, k, m)
			typ := ""
			if m < len(p.core) {
				typ = p.core[m]
			} else {
				typ = pickWeighted(r, p.mix)
			}
			md := pick(r, catalog[typ], func(m model) bool { return fits(m.only, biz) })
			installed := date(2015, 1, 1).AddDate(0, 0, r.IntN(4017)) // through 2025-12-31
			warranty := installed.AddDate(2+r.IntN(4), 0, 0)
			id := g.id("asset", s.client, k, m)
			h := fnv.New64a()
			h.Write(id[:])
			num := h.Sum64()
			serial := fmt.Sprintf("%s%02d%010d", md.serialPrefix, installed.Year()%100, num%1e10)
			for seen[md.manufacturer+"\x00"+serial] {
				num = num*6364136223846793005 + 1442695040888963407
				serial = fmt.Sprintf("%s%02d%010d", md.serialPrefix, installed.Year()%100, num%1e10)
			}
			seen[md.manufacturer+"\x00"+serial] = true
			s.assets = append(s.assets, len(g.ds.assets))
			g.ds.assets = append(g.ds.assets, assetRow{
				id: id, siteID: s.id, assetType: typ, manufacturer: md.manufacturer, model: md.model,
				serial: serial, installed: installed, warranty: warranty,
			})
		}
	}
}

// ---- engineers ----

// refTime is the fixed "now" of the demo data: tickets were filed in the two days before
// it and engineers reported their positions in the hour before it (Friday, 12:00 in Moscow).
// Never time.Now: the same seed must give the same rows.
var refTime = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func (g *gen) engineers(n int) {
	used := map[string]int{}
	for i := range n {
		r := g.rng("engineer", i)
		p := randomPerson(r, 0.08)
		local := emailLocal(p)
		used[local]++
		if k := used[local]; k > 1 {
			local += strconv.Itoa(k)
		}
		userID := g.id("user-engineer", i)
		g.ds.users = append(g.ds.users, userRow{
			id: userID, email: local + "@" + emailDomain, fullName: p.full(), phone: mobile(r), role: "engineer",
		})
		// Every skill is some engineers' main one, so all are covered by several people;
		// the rest come mostly from the skills that go with it.
		primary := skillDefs[i%len(skillDefs)].code
		skills := []string{primary}
		want := 2 + r.IntN(3)
		rel := append([]string(nil), related[primary]...)
		r.Shuffle(len(rel), func(a, b int) { rel[a], rel[b] = rel[b], rel[a] })
		for _, s := range rel {
			if len(skills) < want && r.IntN(5) > 0 {
				skills = append(skills, s)
			}
		}
		for len(skills) < want {
			s := skillDefs[r.IntN(len(skillDefs))].code
			if !contains(skills, s) {
				skills = append(skills, s)
			}
		}
		d := pickDistrict(r, [3]float64{0.5, 2, 5})
		e := engineerRow{
			id: g.id("engineer", i), userID: userID, home: near(r, d.lat, d.lng, 1.2),
			capacity: 4 + r.IntN(5), skills: skills, calendarID: g.ds.calendars[shiftOf(i)].id,
		}
		if r.IntN(10) < 7 { // on shift and reporting: somewhere on the way within the last hour
			last := near(r, e.home.Lat, e.home.Lng, 2.5)
			at := refTime.Add(-time.Duration(1+r.IntN(59)) * time.Minute).Add(-time.Duration(r.IntN(60)) * time.Second)
			e.last, e.lastAt = &last, &at
		}
		g.ds.engineers = append(g.ds.engineers, e)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ---- tickets ----

// pick draws one of the items that pass ok (all of them when none does).
func pick[T any](r *rand.Rand, items []T, ok func(T) bool) T {
	var fit []T
	for _, it := range items {
		if ok(it) {
			fit = append(fit, it)
		}
	}
	if len(fit) == 0 {
		fit = items
	}
	return fit[r.IntN(len(fit))]
}

// distanceM is the great-circle distance in metres.
func distanceM(a, b geo.Point) float64 {
	const earth = 6371008.8
	la1, la2 := a.Lat*math.Pi/180, b.Lat*math.Pi/180
	dla, dln := la2-la1, (b.Lng-a.Lng)*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dln/2)*math.Sin(dln/2)
	return 2 * earth * math.Asin(math.Sqrt(h))
}

func (g *gen) tickets(n int) {
	if len(g.ds.sites) == 0 {
		return
	}
	for t := range n {
		r := g.rng("ticket", t)
		s := g.ds.sites[r.IntN(len(g.ds.sites))]
		c := g.ds.clients[s.client]
		var assetID *uuid.UUID
		var pr problem
		detail := ""
		if len(s.assets) > 0 && r.IntN(100) < 85 {
			a := g.ds.assets[s.assets[r.IntN(len(s.assets))]]
			pr = pick(r, problems[a.assetType], func(p problem) bool { return fits(p.only, c.business) })
			assetID = &a.id
			detail = fmt.Sprintf("\nОборудование: %s %s, зав. № %s.", a.manufacturer, a.model, a.serial)
		} else {
			pr = pick(r, problems[""], func(p problem) bool { return fits(p.only, c.business) })
		}
		priority := pickWeighted(r, severities[pr.severity])
		created := refTime.Add(-time.Duration(10+r.IntN(48*60-10)) * time.Minute).Add(-time.Duration(r.IntN(60)) * time.Second)
		createdBy := c.userID
		if r.IntN(10) < 3 { // phoned in and entered by a dispatcher
			createdBy = g.dispatchers()[r.IntN(2)]
		}
		tk := ticketRow{
			ordinal: t, id: g.id("ticket", t), clientID: c.id, contractID: c.contractID, siteID: s.id, assetID: assetID,
			kind: pr.kind, priority: priority, status: "new", title: pr.title,
			description: pr.description + detail + "\nКонтакт на объекте: " + s.contactName + ", " + s.phone + ".",
			skills:      pr.skills, createdBy: createdBy, createdAt: created, updatedAt: created,
		}
		if r.IntN(100) < 20 {
			g.assign(r, &tk, s)
		}
		g.ds.tickets = append(g.ds.tickets, tk)
	}
}

// assign gives the ticket to the nearest engineer who holds every required skill and has
// room in their capacity, the way a dispatcher would; without one it stays new.
func (g *gen) assign(r *rand.Rand, tk *ticketRow, s siteRow) {
	best, bestD := -1, math.Inf(1)
	for i := range g.ds.engineers {
		e := &g.ds.engineers[i]
		if e.assignedOpen >= e.capacity || !hasAll(e.skills, tk.skills) {
			continue
		}
		from := e.home
		if e.last != nil {
			from = *e.last
		}
		if d := distanceM(from, s.loc); d < bestD {
			best, bestD = i, d
		}
	}
	if best < 0 {
		return
	}
	e := &g.ds.engineers[best]
	e.assignedOpen++
	at := tk.createdAt.Add(time.Duration(3+r.IntN(40)) * time.Minute)
	if at.After(refTime) {
		at = refTime.Add(-time.Minute)
	}
	tk.status, tk.assigneeID, tk.assignDistanceM = "assigned", &e.id, int(bestD)
	tk.assignedAt, tk.assignedBy, tk.updatedAt = at, g.dispatchers()[r.IntN(2)], at
}

func hasAll(have, need []string) bool {
	for _, s := range need {
		if !contains(have, s) {
			return false
		}
	}
	return true
}

// shiftOf spreads engineers over the shift calendars: most work days, a fifth the late
// shift and a fifth the night duty, so someone is on shift at any hour.
func shiftOf(engineer int) int {
	switch engineer % 5 {
	case 3:
		return 3
	case 4:
		return 4
	}
	return 2
}

package dispatch

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var optInf = Unassignable

// optCheckPlan verifies that p is a valid matching for cost: one column per row at most,
// every match feasible, and Total and Assigned consistent with Match.
func optCheckPlan(t *testing.T, name string, cost [][]float64, p Plan) {
	t.Helper()
	if len(p.Match) != len(cost) {
		t.Fatalf("%s: len(Match) = %d, want %d", name, len(p.Match), len(cost))
	}
	used := map[int]int{}
	total, assigned := 0.0, 0
	for i, j := range p.Match {
		if j == -1 {
			continue
		}
		if j < 0 || j >= len(cost[i]) {
			t.Fatalf("%s: row %d matched to column %d out of range", name, i, j)
		}
		if math.IsInf(cost[i][j], 1) {
			t.Fatalf("%s: row %d matched to unassignable column %d", name, i, j)
		}
		if r, ok := used[j]; ok {
			t.Fatalf("%s: column %d matched to rows %d and %d", name, j, r, i)
		}
		used[j] = i
		total += cost[i][j]
		assigned++
	}
	if assigned != p.Assigned || total != p.Total {
		t.Fatalf("%s: plan says %d/%v, match gives %d/%v", name, p.Assigned, p.Total, assigned, total)
	}
}

// optBrute returns the best (max cardinality, then min total) over every partial
// assignment of rows to distinct feasible columns.
func optBrute(cost [][]float64) (bestN int, bestT float64) {
	m := 0
	for _, r := range cost {
		m = max(m, len(r))
	}
	used := make([]bool, m)
	bestT = math.Inf(1)
	var rec func(i, n int, t float64)
	rec = func(i, n int, t float64) {
		if i == len(cost) {
			if n > bestN || (n == bestN && t < bestT) {
				bestN, bestT = n, t
			}
			return
		}
		rec(i+1, n, t) // row i unmatched
		for j, x := range cost[i] {
			if !used[j] && !math.IsInf(x, 1) {
				used[j] = true
				rec(i+1, n+1, t+x)
				used[j] = false
			}
		}
	}
	rec(0, 0, 0)
	if bestN == 0 {
		bestT = 0
	}
	return bestN, bestT
}

// optRandomMatrix returns an n×m matrix of integer metres in [0, hi) with each entry
// Unassignable with probability pInf. Integer values keep float sums exact.
func optRandomMatrix(r *rand.Rand, n, m int, hi int64, pInf float64) [][]float64 {
	c := make([][]float64, n)
	for i := range c {
		c[i] = make([]float64, m)
		for j := range c[i] {
			if r.Float64() < pInf {
				c[i][j] = optInf
			} else {
				c[i][j] = float64(r.Int64N(hi))
			}
		}
	}
	return c
}

func TestOptimizeMinCostTable(t *testing.T) {
	cases := []struct {
		name     string
		cost     [][]float64
		assigned int
		total    float64
		match    []int // nil: don't check the exact match
	}{
		{"nil", nil, 0, 0, []int{}},
		{"empty", [][]float64{}, 0, 0, []int{}},
		{"zero columns", [][]float64{{}, {}}, 0, 0, []int{-1, -1}},
		{"one", [][]float64{{7}}, 1, 7, []int{0}},
		{"greedy trap", [][]float64{{1, 2}, {2, 100}}, 2, 4, []int{1, 0}},
		{"all unassignable", [][]float64{{optInf, optInf}, {optInf, optInf}, {optInf, optInf}}, 0, 0, []int{-1, -1, -1}},
		{"row all unassignable", [][]float64{{optInf, optInf}, {5, 1}}, 1, 1, []int{-1, 1}},
		{"more rows", [][]float64{{3}, {1}, {2}}, 1, 1, []int{-1, 0, -1}},
		{"more columns", [][]float64{{3, 1, 2}}, 1, 1, []int{1}},
		// Cardinality first: matching row 0 to its cheap column 0 would strand row 1.
		{"cardinality first", [][]float64{{1, 1000}, {50, optInf}}, 2, 1050, []int{1, 0}},
		// A cheaper single match does not beat two matches.
		{"two over one", [][]float64{{0, 40_000_000}, {40_000_000, optInf}}, 2, 80_000_000, []int{1, 0}},
		// The row that goes unmatched is the one whose match costs the most.
		{"drop the expensive", [][]float64{{10}, {1}, {optInf}}, 1, 1, []int{-1, 0, -1}},
		{"negative costs", [][]float64{{-5, 0}, {0, -5}}, 2, -10, []int{0, 1}},
		{"NaN is unassignable", [][]float64{{math.NaN(), 1}, {2, math.NaN()}}, 2, 3, []int{1, 0}},
		{"ragged", [][]float64{{4}, {1, 3}}, 2, 7, []int{0, 1}},
		// Off by one metre at 40,000 km of total: still resolved exactly.
		{"large metres", [][]float64{
			{40_000_000, 40_000_001},
			{40_000_001, 40_000_003},
		}, 2, 80_000_002, []int{1, 0}},
		{"ties deterministic", [][]float64{{1, 1}, {1, 1}}, 2, 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := MinCost(tc.cost)
			optCheckPlan(t, tc.name, tc.cost, p)
			if p.Assigned != tc.assigned || p.Total != tc.total {
				t.Fatalf("got %d/%v, want %d/%v (match %v)", p.Assigned, p.Total, tc.assigned, tc.total, p.Match)
			}
			if tc.match != nil && !slices.Equal(p.Match, tc.match) {
				t.Fatalf("match %v, want %v", p.Match, tc.match)
			}
			if p.Match == nil {
				t.Fatal("Match is nil, want empty slice")
			}
		})
	}
}

func TestOptimizeGreedy(t *testing.T) {
	// The classic trap: greedy takes the 1, then is left with the 100.
	c := [][]float64{{1, 2}, {2, 100}}
	g := Greedy(c)
	optCheckPlan(t, "greedy", c, g)
	if g.Total != 101 || g.Assigned != 2 || !slices.Equal(g.Match, []int{0, 1}) {
		t.Fatalf("greedy = %+v, want [0 1] total 101", g)
	}
	if o := MinCost(c); o.Total != 4 {
		t.Fatalf("optimum = %+v, want total 4", o)
	}

	// Greedy can also lose cardinality: taking (0,0) strands row 1.
	c = [][]float64{{1, 1000}, {50, optInf}}
	g = Greedy(c)
	optCheckPlan(t, "greedy", c, g)
	if g.Assigned != 1 || g.Match[1] != -1 {
		t.Fatalf("greedy = %+v, want row 1 left unmatched", g)
	}
	if o := MinCost(c); o.Assigned != 2 {
		t.Fatalf("optimum = %+v, want 2 assigned", o)
	}

	for _, c := range [][][]float64{nil, {}, {{}, {}}, {{optInf, optInf}, {optInf, optInf}}} {
		g := Greedy(c)
		optCheckPlan(t, "greedy empty", c, g)
		if g.Assigned != 0 || g.Total != 0 {
			t.Fatalf("Greedy(%v) = %+v", c, g)
		}
	}
}

// optBetter reports whether plan a beats plan b: more rows matched, or as many for less.
func optBetter(a, b Plan) bool {
	return a.Assigned > b.Assigned || (a.Assigned == b.Assigned && a.Total < b.Total)
}

func TestOptimizeMinCostBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := [][2]int{{1, 1}, {2, 3}, {3, 2}, {4, 4}, {4, 7}, {7, 4}, {5, 6}, {6, 5}, {7, 7}}
	for _, sh := range shapes {
		iters := 300
		if sh[0]*sh[1] >= 36 {
			iters = 60 // 7×7 brute force is ~10^5 leaves
		}
		for it := range iters {
			pInf := []float64{0, 0.2, 0.5, 0.8}[it%4]
			hi := []int64{3, 100, 40_000_000}[it%3] // small ranges force ties
			c := optRandomMatrix(r, sh[0], sh[1], hi, pInf)
			wantN, wantT := optBrute(c)
			p := MinCost(c)
			optCheckPlan(t, "MinCost", c, p)
			if p.Assigned != wantN || p.Total != wantT {
				t.Fatalf("%dx%d %v: MinCost %d/%v, brute force %d/%v (match %v)",
					sh[0], sh[1], c, p.Assigned, p.Total, wantN, wantT, p.Match)
			}
			g := Greedy(c)
			optCheckPlan(t, "Greedy", c, g)
			if optBetter(g, p) {
				t.Fatalf("%v: Greedy %+v beats MinCost %+v", c, g, p)
			}
		}
	}
}

// optReference is a deliberately plain solver for matrices too big to brute force:
// successive shortest paths found with Bellman–Ford on the residual graph (no
// potentials, no seeding shortcuts), exact in int64. It returns (assigned, total).
func optReference(cost [][]float64) (int, int64) {
	n, m := len(cost), 0
	for _, r := range cost {
		m = max(m, len(r))
	}
	rowOf, colOf := make([]int, m), make([]int, n)
	for j := range rowOf {
		rowOf[j] = -1
	}
	for i := range colOf {
		colOf[i] = -1
	}
	const unreached = math.MaxInt64
	assigned, total := 0, int64(0)
	for {
		// dist over rows and columns; free rows are sources at 0.
		dr, dc := make([]int64, n), make([]int64, m)
		from := make([]int, m) // row that reaches column j on the best path
		for i := range dr {
			dr[i] = unreached
			if colOf[i] == -1 {
				dr[i] = 0
			}
		}
		for j := range dc {
			dc[j] = unreached
		}
		for changed := true; changed; {
			changed = false
			for i, row := range cost {
				if dr[i] == unreached {
					continue
				}
				for j, x := range row {
					if math.IsInf(x, 1) || colOf[i] == j {
						continue
					}
					if d := dr[i] + int64(x); d < dc[j] {
						dc[j], from[j], changed = d, i, true
					}
				}
			}
			for j, i := range rowOf {
				if i >= 0 && dc[j] != unreached {
					if d := dc[j] - int64(cost[i][j]); d < dr[i] {
						dr[i], changed = d, true
					}
				}
			}
		}
		best := -1
		for j := range dc {
			if rowOf[j] == -1 && dc[j] != unreached && (best < 0 || dc[j] < dc[best]) {
				best = j
			}
		}
		if best < 0 {
			return assigned, total
		}
		total += dc[best]
		assigned++
		for j := best; ; {
			i := from[j]
			next := colOf[i]
			colOf[i], rowOf[j] = j, i
			if next == -1 {
				break
			}
			j = next
		}
	}
}

// Each column buffers its cheapest free rows; here column 0's cheapest rows (1..k)
// all get matched to their private columns first, so the one row that needs column
// 0 is found only if the column rescans.
func TestOptimizeMinCostRescan(t *testing.T) {
	const k = 3*candK + 5
	c := make([][]float64, k+1)
	for i := range c {
		c[i] = make([]float64, k+1)
		for j := range c[i] {
			c[i][j] = optInf
		}
	}
	for i := 1; i <= k; i++ {
		c[i][0] = float64(i)
		c[i][i] = 0
	}
	c[0][0] = 1000
	want := make([]int, k+1)
	for i := range want {
		want[i] = i
	}
	p := MinCost(c)
	optCheckPlan(t, "MinCost", c, p)
	if p.Assigned != k+1 || p.Total != 1000 || !slices.Equal(p.Match, want) {
		t.Fatalf("got %d/%v %v, want all %d assigned for 1000", p.Assigned, p.Total, p.Match, k+1)
	}
}

// Sizes past the 16-row candidate buffer and the brute-force range, against the
// reference solver (itself checked against brute force below 8×8).
func TestOptimizeMinCostReference(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	shapes := [][2]int{{5, 5}, {7, 6}, {20, 25}, {25, 20}, {30, 30}, {40, 12}, {12, 40}}
	for _, sh := range shapes {
		for it := range 40 {
			pInf := []float64{0, 0.3, 0.7, 0.9}[it%4]
			hi := []int64{2, 5, 1000, 40_000_000}[it/4%4]
			c := optRandomMatrix(r, sh[0], sh[1], hi, pInf)
			wantN, wantT := optReference(c)
			if sh[0] <= 7 && sh[1] <= 7 {
				if bn, bt := optBrute(c); bn != wantN || bt != float64(wantT) {
					t.Fatalf("reference %d/%d, brute force %d/%v", wantN, wantT, bn, bt)
				}
			}
			p := MinCost(c)
			optCheckPlan(t, "MinCost", c, p)
			if p.Assigned != wantN || p.Total != float64(wantT) {
				t.Fatalf("%dx%d it %d: MinCost %d/%v, reference %d/%d",
					sh[0], sh[1], it, p.Assigned, p.Total, wantN, wantT)
			}
		}
	}
}

// Fractional costs: sums are no longer exact, so compare with a relative tolerance.
func TestOptimizeMinCostBruteForceFractional(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for it := range 400 {
		n, m := 1+r.IntN(6), 1+r.IntN(6)
		c := make([][]float64, n)
		for i := range c {
			c[i] = make([]float64, m)
			for j := range c[i] {
				if r.Float64() < 0.3 {
					c[i][j] = optInf
				} else {
					c[i][j] = r.Float64() * 40_000_000
				}
			}
		}
		wantN, wantT := optBrute(c)
		p := MinCost(c)
		optCheckPlan(t, "MinCost", c, p)
		if p.Assigned != wantN || math.Abs(p.Total-wantT) > 1e-9*max(1, math.Abs(wantT)) {
			t.Fatalf("it %d %v: MinCost %d/%v, brute force %d/%v", it, c, p.Assigned, p.Total, wantN, wantT)
		}
	}
}

func TestOptimizeMinCostDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range [][][]float64{
		optRandomMatrix(r, 40, 60, 3, 0.3), // many ties
		optRandomMatrix(r, 60, 40, 3, 0.3),
		optRandomMatrix(r, 50, 50, 1, 0), // all zero: every perfect matching ties
	} {
		a, b := MinCost(c), MinCost(c)
		if !slices.Equal(a.Match, b.Match) || a.Total != b.Total || a.Assigned != b.Assigned {
			t.Fatalf("MinCost not deterministic: %+v vs %+v", a, b)
		}
		a, b = Greedy(c), Greedy(c)
		if !slices.Equal(a.Match, b.Match) || a.Total != b.Total {
			t.Fatalf("Greedy not deterministic: %+v vs %+v", a, b)
		}
	}
}

func TestOptimizeMinCostDoesNotModifyInput(t *testing.T) {
	c := [][]float64{{1, optInf, math.NaN()}, {2, 3, 4}}
	orig := [][]float64{slices.Clone(c[0]), slices.Clone(c[1])}
	MinCost(c)
	Greedy(c)
	for i := range c {
		for j := range c[i] {
			if c[i][j] != orig[i][j] && !(math.IsNaN(c[i][j]) && math.IsNaN(orig[i][j])) {
				t.Fatalf("input changed at %d,%d", i, j)
			}
		}
	}
}

// optDispatchMatrix builds a realistic case: tickets and engineers scattered over a
// 40 km square, each engineer repeated once per free slot (1–3), cost the straight
// line distance in metres. With filters, a pair beyond the 25 km radius or missing
// the ticket's skill is Unassignable (and a quarter of tickets need a skill nobody has).
func optDispatchMatrix(r *rand.Rand, tickets, slots int, filters bool) [][]float64 {
	type pt struct{ x, y float64 }
	const side, radius = 40_000.0, 25_000.0
	var slot []pt
	var skills []uint8
	for len(slot) < slots {
		e := pt{r.Float64() * side, r.Float64() * side}
		sk := uint8(r.IntN(8)) | 1
		for range min(1+r.IntN(3), slots-len(slot)) {
			slot = append(slot, e)
			skills = append(skills, sk)
		}
	}
	c := make([][]float64, tickets)
	for i := range c {
		tk := pt{r.Float64() * side, r.Float64() * side}
		need := uint8(1) << r.IntN(4) // skills 1, 2, 4, 8; 8 nobody has
		c[i] = make([]float64, slots)
		for j, s := range slot {
			d := math.Round(math.Hypot(tk.x-s.x, tk.y-s.y))
			if filters && (d > radius || skills[j]&need == 0) {
				c[i][j] = optInf
			} else {
				c[i][j] = d
			}
		}
	}
	return c
}

func TestOptimizeMinCostLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, sh := range [][2]int{{300, 600}, {600, 300}, {300, 300}} {
		c := optDispatchMatrix(r, sh[0], sh[1], true)
		start := time.Now()
		p := MinCost(c)
		el := time.Since(start)
		optCheckPlan(t, "MinCost", c, p)
		g := Greedy(c)
		optCheckPlan(t, "Greedy", c, g)
		if optBetter(g, p) {
			t.Fatalf("Greedy %d/%v beats MinCost %d/%v", g.Assigned, g.Total, p.Assigned, p.Total)
		}
		t.Logf("%dx%d: MinCost %v, %d assigned, %.0f m; Greedy %d assigned, %.0f m",
			sh[0], sh[1], el, p.Assigned, p.Total, g.Assigned, g.Total)
	}
}

// Scarce engineers, every ticket reachable: Greedy matches as many tickets, and the
// saving is pure distance.
func TestOptimizeMinCostBeatsGreedyWhenScarce(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, sh := range [][2]int{{100, 100}, {100, 110}, {200, 250}} {
		c := optDispatchMatrix(r, sh[0], sh[1], false)
		p, g := MinCost(c), Greedy(c)
		if p.Assigned != sh[0] || g.Assigned != sh[0] {
			t.Fatalf("assigned %d and %d, want %d", p.Assigned, g.Assigned, sh[0])
		}
		if !(p.Total < g.Total) {
			t.Fatalf("MinCost %v not below Greedy %v", p.Total, g.Total)
		}
		t.Logf("%dx%d: MinCost %.0f m, Greedy %.0f m (%.1f%% less)",
			sh[0], sh[1], p.Total, g.Total, 100*(1-p.Total/g.Total))
	}
}

func optBenchMatrix() [][]float64 {
	return optDispatchMatrix(rand.New(rand.NewPCG(11, 12)), 200, 400, true)
}

func BenchmarkMinCost(b *testing.B) {
	c := optBenchMatrix()
	for b.Loop() {
		MinCost(c)
	}
}

func BenchmarkGreedy(b *testing.B) {
	c := optBenchMatrix()
	for b.Loop() {
		Greedy(c)
	}
}
